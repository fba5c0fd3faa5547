package cli

import (
	"os"
	"path/filepath"
)

// A named is a path as a flag gave it, so that a refusal can say which
// flag named it.
type named struct{ flag, path string }

// samePath reports whether a and b are one file: the same cleaned
// absolute path, or, where both exist, the same file by another name (a
// link, "./x" against "x" through a symlinked folder).
func samePath(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	infoA, errA := os.Stat(a)
	infoB, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(infoA, infoB)
}

// checkDistinct refuses, before any work, an output that is one of the
// inputs (writing it would destroy what is being read) or that another
// output names too (one would silently replace the other). Empty paths
// are flags not given.
func checkDistinct(cmd string, inputs, outputs []named) error {
	for i, out := range outputs {
		if out.path == "" {
			continue
		}
		for _, in := range inputs {
			if in.path != "" && samePath(out.path, in.path) {
				return usagef("%s: %s and %s both name %s; an output may not overwrite an input", cmd, out.flag, in.flag, out.path)
			}
		}
		for _, other := range outputs[:i] {
			if other.path != "" && samePath(out.path, other.path) {
				return usagef("%s: %s and %s both name %s; give each output its own file", cmd, other.flag, out.flag, out.path)
			}
		}
	}
	return nil
}
