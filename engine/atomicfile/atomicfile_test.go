package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteReplacesAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	for _, s := range []string{"first", "second"} {
		if err := WriteFile(p, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != s {
			t.Fatalf("got %q, want %q", b, s)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("%d entries left in the folder", len(ents))
	}
}

func TestFailedWriteKeepsOldContent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	if err := WriteFile(p, []byte("keep me")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(p, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "keep me" {
		t.Fatalf("old content lost: %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary file left behind: %d entries", len(ents))
	}
}

func TestWriteMakesTheFolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a", "b", "f.txt")
	if err := WriteFile(p, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "x" {
		t.Fatalf("got %q", b)
	}
}

// Errors name the file the caller asked for, never the temporary file.
func TestErrorsNameTheDestination(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("keep"), 0o644)
	folder := filepath.Join(dir, "folder")
	os.Mkdir(folder, 0o755)
	for _, p := range []string{folder, filepath.Join(file, "x.png")} {
		err := WriteFile(p, []byte("new"))
		if err == nil || strings.Contains(err.Error(), ".tmp-") || !strings.Contains(err.Error(), p) && !strings.Contains(err.Error(), file) {
			t.Errorf("%s: %v", p, err)
		}
		if err := Check(p); err == nil || strings.Contains(err.Error(), ".parascope-check") || !strings.Contains(err.Error(), p) {
			t.Errorf("Check(%s): %v", p, err)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Fatalf("a failed write changed a file: %q", b)
	}
	for _, p := range []string{filepath.Join(dir, "new.txt"), file, filepath.Join(dir, "a", "b", "new.txt")} {
		if err := Check(p); err != nil {
			t.Errorf("Check(%s): %v", p, err)
		}
	}
	if err := CheckFolder(filepath.Join(file, "sub")); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("a folder under a file: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("Check left %d entries", len(ents))
	}
	if os.Getuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		if err := Check(filepath.Join(ro, "x")); err == nil || !strings.Contains(err.Error(), filepath.Join(ro, "x")) {
			t.Errorf("a read-only folder: %v", err)
		}
		if err := WriteFile(filepath.Join(ro, "x"), nil); err == nil || strings.Contains(err.Error(), ".tmp-") {
			t.Errorf("a read-only folder: %v", err)
		}
	}
}

// A write removes the temporary files of killed writes of the same file,
// and only those: old ones whose writer is gone.
func TestWriteRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no process to outlive:", err)
	}
	gone := cmd.ProcessState.Pid()
	old := time.Now().Add(-2 * StaleAge)
	temp := func(name string, mtime time.Time) string {
		q := filepath.Join(dir, name)
		os.WriteFile(q, []byte("partial"), 0o644)
		os.Chtimes(q, mtime, mtime)
		return q
	}
	removed := []string{
		temp(fmt.Sprintf(".f.txt.tmp-%d-123", gone), old), // killed writer
		temp(".f.txt.tmp-2804378506", old),                // an older release's name
	}
	kept := []string{
		temp(fmt.Sprintf(".f.txt.tmp-%d-456", gone), time.Now()), // recent: may be another machine's
		temp(fmt.Sprintf(".f.txt.tmp-%d-789", os.Getpid()), old), // its writer runs
		temp(fmt.Sprintf(".g.txt.tmp-%d-123", gone), old),        // another file's
	}
	if err := WriteFile(p, []byte("done")); err != nil {
		t.Fatal(err)
	}
	for _, q := range removed {
		if _, err := os.Stat(q); !os.IsNotExist(err) {
			t.Errorf("%s was not removed", filepath.Base(q))
		}
	}
	for _, q := range kept {
		if _, err := os.Stat(q); err != nil {
			t.Errorf("%s was removed", filepath.Base(q))
		}
	}
}
