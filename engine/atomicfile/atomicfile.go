// Package atomicfile writes files so that a reader sees either the old
// content or the new, never a torn file: write a temporary file beside the
// target, fsync it, rename it over the target, fsync the directory.
//
// The temporary file is named .NAME.tmp-PID-RANDOM, so that a write killed
// half-way (a temp left behind) can be recognised and removed by a later
// write of the same NAME; see removeStale.
//
// Lock guards a folder that one command at a time may write in.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Write replaces path with what write produces, creating its folder if
// need be. On any error the target is left as it was and the temporary
// file is removed; errors name path, not the temporary file.
func Write(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, tempPrefix(path)+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return rename(err, "", path)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = rename(err, tmp.Name(), path)
		}
	}()
	buf := bufio.NewWriter(tmp)
	if err = write(buf); err != nil {
		return err
	}
	if err = buf.Flush(); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	removeStale(path, time.Now())
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	return d.Sync()
}

// WriteFile replaces path with data.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error { _, err := w.Write(data); return err })
}

// tempPrefix is how the temporary files of path begin.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// rename makes an error about the temporary file tmp (or, with tmp empty,
// any file in path's folder that is not path itself) name path instead:
// the user asked for path and has never heard of the temporary file.
func rename(err error, tmp, path string) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return &os.PathError{Op: le.Op, Path: path, Err: le.Err}
	}
	var pe *os.PathError
	if errors.As(err, &pe) && (pe.Path == tmp || tmp == "" && strings.HasPrefix(filepath.Base(pe.Path), tempPrefix(path))) {
		pe.Path = path
	}
	return err
}

// StaleAge is how long a temporary file must have gone unmodified before
// a later write may remove it.
const StaleAge = 15 * time.Minute

// removeStale removes the temporary files that earlier, killed writes of
// path left behind. A temporary file is removed only when both hold:
//   - it has not been modified for StaleAge, and
//   - the process its name records is not running (an older temp, named
//     without a PID, counts as having no running writer).
//
// It is safe because a write in progress is always one of: this process
// (running), another process on this machine (running, so kept), or a
// process elsewhere sharing the folder (whose PID means nothing here, but
// whose temp file grows as it writes, so its age stays under StaleAge
// unless it has stalled for that long). Errors are ignored: tidying up
// must never fail a write that succeeded.
func removeStale(path string, now time.Time) {
	dir, prefix := filepath.Dir(path), tempPrefix(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < StaleAge {
			continue
		}
		if pid, ok := writerPID(name[len(prefix):]); ok && running(pid) {
			continue
		}
		os.Remove(filepath.Join(dir, name))
	}
}

// writerPID reads the PID from the tail of a temporary file's name,
// "PID-RANDOM"; older names hold only "RANDOM".
func writerPID(tail string) (int, bool) {
	pidText, _, ok := strings.Cut(tail, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(pidText)
	return pid, err == nil && pid > 0
}

// running reports whether a process with this PID exists here. A process
// we may not signal still exists; where signal 0 is not supported the
// answer is no, and the age rule alone decides.
func running(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return (err == nil || errors.Is(err, syscall.EPERM)) && !zombie(pid)
}

// zombie reports whether the process has ended and waits only to be
// reaped (Linux's /proc says so): just after a kill -9 it still answers
// signal 0, but holds nothing.
func zombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// "PID (COMMAND) STATE …": the command may hold spaces and brackets.
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

// Check reports whether Write could replace path, without writing it: the
// path is not a folder or a device, and its folder exists or can be made
// and takes new files. Commands call it before long work, so that a
// mistyped output path fails at once rather than after the work.
func Check(path string) error {
	info, err := os.Stat(path)
	switch {
	case err == nil && info.IsDir():
		return fmt.Errorf("%s is a folder", path)
	case err == nil && !info.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", path)
	case err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
		return err
	}
	if err := CheckFolder(filepath.Dir(path)); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// CheckFolder reports whether files can be written in dir: it is a folder
// that takes new files, or the nearest folder above it that exists does
// (and dir can be made there). It leaves nothing behind.
func CheckFolder(dir string) error {
	d := dir
	for {
		info, err := os.Stat(d)
		if err == nil {
			if !info.IsDir() {
				return fmt.Errorf("%s is not a folder", d)
			}
			break
		}
		// Under a file, stat says "not a directory"; the walk up finds
		// the file and says so.
		if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return err
		}
		up := filepath.Dir(d)
		if up == d {
			return err
		}
		d = up
	}
	f, err := os.CreateTemp(d, ".parascope-check-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot write in %s: %w", d, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}
