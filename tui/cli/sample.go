package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"parascope/engine/casedir"
	"parascope/engine/sample"
	"parascope/engine/session"
	"parascope/engine/world"
	"parascope/viz/export"
)

// Sample denoises one answer step by step and exports it.
func (e *Env) Sample(args []string) error {
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "sampler config (TOML); defaults when empty")
	modelSpec, preset := modelFlags(fs)
	var src promptFlags
	src.add(fs)
	seed := fs.String("seed", "", "seed, overriding the config")
	mode := fs.String("mode", "", "parallel or sequential, overriding the config")
	tracePath := fs.String("trace", "", "write the trajectory as JSON Lines")
	gifPath := fs.String("gif", "", "write an animated GIF of the run")
	pngPath := fs.String("png", "", "write the final picture")
	stripPath := fs.String("strip", "", "write a PNG strip of the picture at --strip-steps")
	stripSteps := fs.String("strip-steps", "", "comma-separated steps for --strip (default: five evenly spaced)")
	outDir := fs.String("out", "", "write output.txt and output.png (and the case's files) for 'parascope judge'")
	force := fs.Bool("force", false, "write into an --out folder that already holds other files (another case's, or an earlier answer)")
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) > 0 {
		return usagef("sample: unexpected argument %q", pos[0])
	}
	cfg, err := loadConfig(*cfgPath, *modelSpec, *preset)
	if err != nil {
		return err
	}
	if *seed != "" {
		if cfg.Seed, err = strconv.ParseUint(*seed, 10, 64); err != nil {
			return usagef("sample: --seed %q: want a whole number from 0 to %d", *seed, uint64(math.MaxUint64))
		}
	}
	if *mode != "" {
		cfg.Mode = *mode
	}
	if err := cfg.Validate(); err != nil {
		return UsageError{"sample: " + err.Error()}
	}
	if err := src.check(); err != nil {
		return err
	}
	outputs := []named{{"--trace", *tracePath}, {"--gif", *gifPath}, {"--png", *pngPath}, {"--strip", *stripPath}}
	if *outDir != "" {
		for _, name := range src.caseFolderFiles(*outDir) {
			outputs = append(outputs, named{"--out", filepath.Join(*outDir, name)})
		}
	}
	if err := checkDistinct("sample", src.inputs(*cfgPath), outputs); err != nil {
		return err
	}
	if err := checkStrip("sample", *stripPath, *stripSteps); err != nil {
		return err
	}
	if err := checkOutputs("sample", *tracePath, *gifPath, *pngPath, *stripPath); err != nil {
		return err
	}
	if *outDir != "" {
		if err := checkOutputFolder("sample", *outDir); err != nil {
			return err
		}
		if err := src.checkAnswerFolder(*outDir, *force); err != nil {
			return err
		}
	}
	if err := src.load(session.IsRealModel(cfg.Model)); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	sess, err := e.open(cfg)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	p, truth, err := src.prompt(sess)
	if err != nil {
		return err
	}
	st, err := sess.NewStepper(cfg, p)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	// A mistake in --strip-steps is found before the work, not after it.
	steps, err := parseSteps("sample", *stripSteps, st.Steps())
	if err != nil {
		return err
	}
	ctx, stop := untilInterrupt()
	defer stop()
	vocab := sess.Template
	live := isTerminal(os.Stdout)
	began := time.Now()
	var stepErr error
	for !st.Done() {
		f, err := st.Step(ctx)
		if err != nil {
			stepErr = err
			break
		}
		align := ""
		if f.Alignment != nil {
			align = fmt.Sprintf("  align %+.3f", *f.Alignment)
		}
		line := fmt.Sprintf("step %2d/%d  image %2d/%d%s  %s", f.Step, st.Steps(), f.Image.Actual, f.Image.Total, align, maskedLine(f, vocab))
		if live {
			fmt.Printf("\r\x1b[K%s", truncate(line, 120))
		} else {
			fmt.Println(line)
		}
	}
	if live {
		fmt.Println()
	}
	elapsed := time.Since(began)
	t := export.Trajectory{Header: sample.NewHeader(st, sess.ModelName, truth), Frames: st.History(), Vocab: vocab, Codebook: sess.Images}
	last := t.Frames[len(t.Frames)-1]
	t.Header.Stopped = !st.Done()
	// What there is gets written even when the run was stopped.
	if err := t.Write(export.Files{Trace: *tracePath, GIF: *gifPath, PNG: *pngPath, Strip: *stripPath, StripSteps: steps}); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	if *outDir != "" {
		if err := t.CaseFolder(*outDir, src.caseDir); err != nil {
			return fmt.Errorf("sample: %w", err)
		}
	}
	if errors.Is(stepErr, context.Canceled) {
		msg := fmt.Sprintf("sample: stopped at step %d of %d", last.Step, st.Steps())
		if *tracePath != "" || *gifPath != "" || *pngPath != "" || *stripPath != "" || *outDir != "" {
			msg += "; the outputs hold the steps so far"
		}
		return Interrupted{msg}
	}
	if stepErr != nil {
		return fmt.Errorf("sample: stopped at step %d: %w", last.Step, stepErr)
	}
	fmt.Printf("%s\n%d steps in %.2f s (%.1f steps/s)\n", last.Reasoning(vocab), last.Step, elapsed.Seconds(), float64(last.Step)/elapsed.Seconds())
	return nil
}

// promptFlags say what to sample: a case folder, a generation prompt, or
// an edit instruction with its input picture.
type promptFlags struct {
	caseDir, text, instruction, input string
	// What load read from the files the flags name.
	loaded  casedir.Loaded
	picture image.Image
}

func (f *promptFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.caseDir, "case", "", "a case folder written by 'parascope world'")
	fs.StringVar(&f.text, "prompt", "", "a thinkgen prompt, e.g. \"draw a big red circle at the top left\"")
	fs.StringVar(&f.instruction, "instruction", "", "a thinkedit instruction (with --input)")
	fs.StringVar(&f.input, "input", "", "the input picture of an edit (PNG: 48×48 for ShapeWorld, any size for a published model)")
}

func (f promptFlags) given() bool { return f.caseDir != "" || f.text != "" || f.instruction != "" }

// inputs are the files the flags (and --config) read.
func (f promptFlags) inputs(config string) []named {
	in := []named{{"--config", config}, {"--input", f.input}}
	if f.caseDir != "" {
		for _, name := range []string{casedir.CaseJSON, casedir.InputPNG, casedir.TargetPNG, casedir.TargetTxt} {
			in = append(in, named{"--case", filepath.Join(f.caseDir, name)})
		}
	}
	return in
}

// caseFolderFiles are the files sample --out writes in dir: the answer,
// and the case's own files when they are copied from another folder.
func (f promptFlags) caseFolderFiles(dir string) []string {
	names := []string{casedir.OutputText, casedir.OutputPNG}
	if f.caseDir != "" && !samePath(f.caseDir, dir) {
		names = append(names, casedir.CaseJSON, casedir.InputPNG, casedir.TargetPNG, casedir.TargetTxt)
	}
	return names
}

// checkAnswerFolder refuses, before any work, an --out folder that holds
// files this sample did not write: another case's folder, an earlier
// answer, anything of the user's. The --case folder itself, or a copy of
// the same case (an earlier sample of it), takes the new answer.
func (f promptFlags) checkAnswerFolder(dir string, force bool) error {
	ents, err := os.ReadDir(dir)
	if force || err != nil || len(ents) == 0 { // a folder not there yet is made
		return nil
	}
	if f.caseDir != "" {
		if samePath(f.caseDir, dir) {
			return nil
		}
		want, err1 := os.ReadFile(filepath.Join(f.caseDir, casedir.CaseJSON))
		have, err2 := os.ReadFile(filepath.Join(dir, casedir.CaseJSON))
		if err1 == nil && err2 == nil && bytes.Equal(want, have) {
			return nil
		}
	}
	what := "files"
	if _, err := os.Stat(filepath.Join(dir, casedir.CaseJSON)); err == nil {
		what = "another case"
	}
	return fmt.Errorf("sample: %s already holds %s; write over it with --force, or choose another --out", dir, what)
}

// check reports a command line that does not say exactly one thing.
func (f promptFlags) check() error {
	given := 0
	for _, s := range []string{f.caseDir, f.text, f.instruction} {
		if s != "" {
			given++
		}
	}
	if given != 1 || (f.instruction != "") != (f.input != "") {
		return UsageError{"give one of --case DIR, --prompt TEXT, or --instruction TEXT with --input PNG"}
	}
	// Only spaces would be sampled as an empty prompt.
	for flag, s := range map[string]string{"--prompt": f.text, "--instruction": f.instruction} {
		if s != "" && strings.TrimSpace(s) == "" {
			return usagef("%s holds only spaces; give the words to answer", flag)
		}
	}
	return nil
}

// load reads and checks the case folder or input picture the flags name,
// so that a bad file is reported before a model opens or the viewer
// starts. A published model's input is any picture; ShapeWorld's is a
// canvas.
func (f *promptFlags) load(published bool) error {
	var err error
	switch {
	case f.caseDir != "":
		if f.loaded, err = casedir.Read(f.caseDir); err != nil {
			return fmt.Errorf("--case: %w", err)
		}
	case f.input != "" && published:
		if f.picture, err = readPicture(f.input); err != nil {
			return fmt.Errorf("--input: %w", err)
		}
	case f.input != "":
		if f.picture, err = casedir.ReadPNG(f.input); err != nil {
			return fmt.Errorf("--input: %w", err)
		}
	}
	return nil
}

// prompt is what the flags name, as load read it, with the case's ground
// truth when there is one.
func (f *promptFlags) prompt(sess *session.Session) (sample.Prompt, *world.Case, error) {
	switch {
	case f.caseDir != "":
		c := f.loaded.Meta.Case
		p, err := sess.PromptOf(c)
		return p, &c, err
	case f.text != "":
		return sample.Prompt{Task: world.ThinkGen, Instruction: f.text}, nil, nil
	}
	codes, err := sess.Images.Encode(f.picture)
	return sample.Prompt{Task: world.ThinkEdit, Instruction: f.instruction, Input: codes}, nil, err
}

// maskedLine is a frame's text on one line for the progress lines: a
// masked word "___", a masked piece of a published model's text "_".
func maskedLine(f sample.Frame, v sample.Vocabulary) string {
	if _, pieced := f.TextPieces(v); pieced {
		return f.MaskedText(v, "_")
	}
	return f.MaskedText(v, "___")
}

// maxStripSteps bounds --strip-steps: the strip is one row of pictures,
// and a hundred of them is already some 15,000 pixels wide.
const maxStripSteps = 100

// checkStrip refuses, before any work, --strip-steps that would not be
// used (no --strip) or that name more pictures than a strip holds.
func checkStrip(cmd, strip, steps string) error {
	switch {
	case steps != "" && strip == "":
		return usagef("%s: --strip-steps without --strip FILE: the steps would be ignored", cmd)
	case strings.Count(steps, ",")+1 > maxStripSteps:
		return usagef("%s: --strip-steps: %d steps, want at most %d", cmd, strings.Count(steps, ",")+1, maxStripSteps)
	}
	return nil
}

// parseSteps reads cmd's "0,5,10"; empty gives nil (the export's default).
func parseSteps(cmd, s string, last int) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 0 || n > last {
			return nil, usagef("%s: --strip-steps: %q is not a step from 0 to %d", cmd, part, last)
		}
		out = append(out, n)
	}
	return out, nil
}
