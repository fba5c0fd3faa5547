//go:build cudaemu

package gpu

import (
	"os"
	"syscall"
	"testing"
)

// TestMain restarts the tests with OpenMP's passive waiting: the emulator's
// blocks are 256 threads on a few cores, and spinning at each barrier makes
// the suite many times slower. libgomp reads the setting only at start.
func TestMain(m *testing.M) {
	if os.Getenv("OMP_WAIT_POLICY") == "" {
		os.Setenv("OMP_WAIT_POLICY", "passive")
		if exe, err := os.Executable(); err == nil {
			syscall.Exec(exe, os.Args, os.Environ())
		}
	}
	os.Exit(m.Run())
}
