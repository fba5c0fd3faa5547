package atomicfile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A second Lock on a held folder fails naming the folder and the holder;
// after unlock the folder can be taken again, and a folder Lock made is
// removed with the lock when nothing else was written there.
func TestLockIsExclusive(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "sft")
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(dir)
	var l *Locked
	if !errors.As(err, &l) || l.PID != os.Getpid() {
		t.Fatalf("second Lock: %v, want Locked by %d", err, os.Getpid())
	}
	if msg := err.Error(); !strings.Contains(msg, dir) || !strings.Contains(msg, strconv.Itoa(os.Getpid())) {
		t.Errorf("message %q names not the folder and the PID", msg)
	}
	unlock()
	if _, err := os.Stat(filepath.Dir(dir)); !os.IsNotExist(err) {
		t.Errorf("the folders Lock made are still there: %v", err)
	}

	// A folder that was there stays, with what was written in it.
	os.MkdirAll(dir, 0o755)
	unlock, err = Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	ents, _ := os.ReadDir(dir)
	if _, err := os.Stat(dir); err != nil || len(ents) != 0 {
		t.Errorf("after unlock: %v, %d entries, want the empty folder", err, len(ents))
	}
}

// A lock left by a process that is gone, or holding no PID, is taken over.
func TestLockTakesOverAStaleLock(t *testing.T) {
	for _, content := range []string{"999999999\n", "", "garbage"} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, LockFile), []byte(content), 0o644)
		unlock, err := Lock(dir)
		if err != nil {
			t.Fatalf("lock holding %q: %v", content, err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, LockFile))
		if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
			t.Errorf("lock holds %q, want this PID", b)
		}
		unlock()
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("left %d files", len(ents))
		}
	}
}

// A lock held by a process that has ended but is not yet reaped (a
// zombie, as just after kill -9) is stale too.
func TestLockTakesOverAZombiesLock(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here to tell a zombie by")
	}
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer cmd.Wait()
	pid := cmd.Process.Pid
	for !zombie(pid) { // it ends at once, and stays until Wait reaps it
		time.Sleep(time.Millisecond)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, LockFile), []byte(strconv.Itoa(pid)+"\n"), 0o644)
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatalf("a zombie's lock: %v", err)
	}
	unlock()
}
