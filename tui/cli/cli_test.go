//go:build unix

package cli

import (
	"syscall"
	"testing"
	"time"
)

// SIGTERM stops a command as Ctrl-C does, and its exit status says so.
func TestSIGTERMStopsLikeCtrlC(t *testing.T) {
	if InterruptStatus() != 130 {
		t.Fatalf("before any signal: status %d, want 130", InterruptStatus())
	}
	ctx, stop := untilInterrupt()
	defer stop()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Skip("cannot signal this process:", err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGTERM did not stop the command")
	}
	if got := InterruptStatus(); got != 143 {
		t.Errorf("status %d after SIGTERM, want 143", got)
	}
}
