package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"parascope/engine/checkpoint"
	"parascope/engine/safetensors"
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

// checkReplace refuses, before any work, to write a file of kind want
// over path (named by flag) when path holds anything else: a model where
// a codebook was to go, a text file, a scorer over a promoted model. A
// file of the same kind is written over only with force (replace says
// it, for commands whose purpose is to replace one); a path with nothing
// there is left to checkOutputs.
func checkReplace(cmd, flag, path string, want checkpoint.Kind, force bool) error {
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	f, err := safetensors.Read(path)
	if err != nil {
		return fmt.Errorf("%s: %s %w; it is not written over: choose another %s, or move it away first", cmd, flag, err, flag)
	}
	have, err := checkpoint.Of(f)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %s %s: %w; it is not written over: choose another %s", cmd, flag, path, err, flag)
	case have != want:
		what := have.String()
		if have == "" {
			what = "no file Parascope writes"
		}
		return fmt.Errorf("%s: %s %s is %s, not %s; it is not written over: choose another %s", cmd, flag, path, what, want, flag)
	case !force:
		return fmt.Errorf("%s: %s %s already holds %s; write over it with --force, or choose another %s", cmd, flag, path, want, flag)
	}
	return nil
}
