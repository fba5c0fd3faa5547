// Package export writes a trajectory's files: the trace (JSON Lines), an
// animated GIF, the final picture, a strip of pictures at chosen steps, the
// final text, and a case folder the judge reads. The command line and the
// viewer both export through it. Every file is written atomically.
package export

import (
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"time"

	"parascope/engine/atomicfile"
	"parascope/engine/casedir"
	"parascope/engine/infile"
	"parascope/engine/sample"
	"parascope/viz"
)

// Trajectory is what is exported: the frames, the header that describes
// them, and the tokenizers that turn them into words and pictures.
type Trajectory struct {
	Header   sample.Header
	Frames   []sample.Frame
	Vocab    sample.Vocabulary
	Codebook sample.ImageTokenizer
}

func (t Trajectory) last() sample.Frame { return t.Frames[len(t.Frames)-1] }

// Files names what to write; an empty path is skipped.
type Files struct {
	Trace, GIF, PNG, Strip, Text string
	// StripSteps are the strip's steps; nil gives five from start to end.
	StripSteps []int
}

// Write writes the files asked for.
func (t Trajectory) Write(f Files) error {
	if len(t.Frames) == 0 {
		return errors.New("export: no frames")
	}
	if f.Trace != "" {
		err := atomicfile.Write(f.Trace, func(w io.Writer) error { return sample.WriteTrace(w, t.Header, t.Frames) })
		if err != nil {
			return fmt.Errorf("trace: %w", err)
		}
	}
	if f.GIF != "" {
		anim, err := viz.Animation(t.Frames, t.Vocab, t.Codebook, viz.AnimOptions{Caption: t.caption()})
		if err != nil {
			return err
		}
		if err := atomicfile.Write(f.GIF, func(w io.Writer) error { return gif.EncodeAll(w, anim) }); err != nil {
			return fmt.Errorf("gif: %w", err)
		}
	}
	if f.PNG != "" {
		final, err := viz.Picture(t.last(), t.Vocab, t.Codebook, false)
		if err != nil {
			return err
		}
		if err := writePNG(f.PNG, final); err != nil {
			return fmt.Errorf("png: %w", err)
		}
	}
	if f.Strip != "" {
		steps := f.StripSteps
		if steps == nil {
			last := t.last().Step
			steps = []int{0, last / 4, last / 2, 3 * last / 4, last}
		}
		img, err := viz.Strip(t.Frames, steps, t.Vocab, t.Codebook, 3, t.caption()...)
		if err != nil {
			return fmt.Errorf("strip: %w", err)
		}
		if err := writePNG(f.Strip, img); err != nil {
			return fmt.Errorf("strip: %w", err)
		}
	}
	if f.Text != "" {
		if err := atomicfile.WriteFile(f.Text, []byte(t.last().Reasoning(t.Vocab)+"\n")); err != nil {
			return fmt.Errorf("text: %w", err)
		}
	}
	return nil
}

// caption says what made the run, for each frame of the GIF and under
// the strip.
func (t Trajectory) caption() []string {
	h := t.Header
	model := h.Model
	if model == "" {
		model = "the embedded model"
	}
	return []string{fmt.Sprintf("%s: %s", h.Task, h.Prompt.Instruction),
		fmt.Sprintf("%s · seed %d · %s", h.Config.Mode, h.Seed, model)}
}

func writePNG(path string, img image.Image) error {
	return atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, img) })
}

// CaseFolder writes the final answer as output.txt and output.png into
// dir for the judge, with the case's own files copied from caseDir when
// the trajectory was sampled from a case folder.
func (t Trajectory) CaseFolder(dir, caseDir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if caseDir == "" || filepath.Clean(caseDir) != filepath.Clean(dir) {
		for _, name := range []string{casedir.CaseJSON, casedir.InputPNG, casedir.TargetPNG, casedir.TargetTxt} {
			data, err := []byte(nil), os.ErrNotExist
			if caseDir != "" {
				data, err = infile.Read(filepath.Join(caseDir, name), 1<<20, "a case file")
			}
			if errors.Is(err, os.ErrNotExist) {
				// A file the case lacks (a generation has no input.png;
				// an answer to a prompt has no case at all) is not left
				// from a case written here before, to be judged against.
				if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			if err := atomicfile.WriteFile(filepath.Join(dir, name), data); err != nil {
				return err
			}
		}
	}
	return t.Write(Files{Text: filepath.Join(dir, casedir.OutputText), PNG: filepath.Join(dir, casedir.OutputPNG)})
}

// Snapshot writes the trace, the GIF and the strip into dir under names
// stamped with the time, and returns their paths: the viewer's export.
// It never overwrites: a second export in the same second takes the
// stamp with -2 (then -3, …) after it.
func (t Trajectory) Snapshot(dir string, at time.Time) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	stamp := at.Format("20060102-150405")
	for n := 1; n <= 1000; n++ {
		s := stamp
		if n > 1 {
			s = fmt.Sprintf("%s-%d", stamp, n)
		}
		f := Files{
			Trace: filepath.Join(dir, "trajectory-"+s+".jsonl"),
			GIF:   filepath.Join(dir, "trajectory-"+s+".gif"),
			Strip: filepath.Join(dir, "strip-"+s+".png"),
		}
		taken, err := reserve(f.Trace, f.GIF, f.Strip)
		if err != nil {
			return nil, err
		}
		if taken {
			continue
		}
		if err := t.Write(f); err != nil {
			return nil, err
		}
		return []string{f.Trace, f.GIF, f.Strip}, nil
	}
	return nil, fmt.Errorf("%s: a thousand exports stamped %s already", dir, stamp)
}

// reserve claims the first path by creating it empty, so that no other
// export takes the same names; taken says one of them exists already.
func reserve(first string, others ...string) (taken bool, err error) {
	for _, p := range others {
		if _, err := os.Lstat(p); err == nil {
			return true, nil
		}
	}
	f, err := os.OpenFile(first, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, f.Close()
}
