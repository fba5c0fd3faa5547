package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockFile is the file Lock holds in a folder: the PID of its holder.
const LockFile = ".lock"

// Locked is the error of a Lock on a folder another process holds.
type Locked struct {
	Dir string
	PID int
}

func (l *Locked) Error() string {
	return fmt.Sprintf("%s is in use by process %d (%s); if no such process is at work there, remove that file", l.Dir, l.PID, filepath.Join(l.Dir, LockFile))
}

// Lock takes dir for this process alone, making it if need be, so that
// two commands writing the same folder cannot both pass the checks made
// before the work and then write over each other. The lock is a file,
// created only if absent, that holds the PID; a lock whose process is
// no longer running (one killed before it could unlock) is taken over.
// unlock removes the lock, and the folders Lock made when they are still
// empty.
func Lock(dir string) (unlock func(), err error) {
	made := missing(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	release := func() {
		for _, d := range made {
			os.Remove(d) // only if empty
		}
	}
	path := filepath.Join(dir, LockFile)
	for range 2 {
		err := create(path)
		if err == nil {
			return func() { os.Remove(path); release() }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			release()
			return nil, err
		}
		if pid, ok := holder(path); ok {
			release()
			return nil, &Locked{Dir: dir, PID: pid}
		}
		// Stale: its process is gone. (Two takeovers racing in the same
		// instant could both succeed; that window is the one left.)
		os.Remove(path)
	}
	release()
	return nil, fmt.Errorf("%s: could not take %s", dir, LockFile)
}

// missing lists dir and the folders above it that do not exist, dir
// first: those MkdirAll makes.
func missing(dir string) []string {
	var out []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) {
			return out
		}
		out = append(out, d)
		if filepath.Dir(d) == d {
			return out
		}
	}
}

// create makes the lock file holding this process's PID, atomically: the
// PID is written to a temporary file that is then linked into place,
// which fails if the lock exists; so no other process can see the lock
// empty and take it for stale.
func create(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), tempPrefix(path)+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = fmt.Fprintf(tmp, "%d\n", os.Getpid())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Link(tmp.Name(), path)
}

// holder returns the PID in the lock at path, and whether that process
// is running. A lock that cannot be read as a PID has no holder.
func holder(path string) (int, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		// Gone since: it was unlocked; try again.
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, running(pid)
}
