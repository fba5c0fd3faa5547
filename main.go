// Command parascope is a terminal microscope for parallel multimodal
// diffusion: one model that denoises a reasoning text and an image
// together. With no arguments it will open the interactive viewer; the
// subcommands do the headless work.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"parascope/engine/atomicfile"
	"parascope/engine/casedir"
	"parascope/engine/judge"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
	"parascope/viz"
)

const version = "0.1.0"

type command struct {
	name, args, summary string
	run                 func(args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"world", "--seed S --n N [--task thinkgen|thinkedit|mixed] --out DIR [--sheet FILE]", "write ShapeWorld cases, one folder each", runWorld},
		{"judge", "DIR [--json]", "score the case folders in DIR with the exact judge (ParaBench-mini metrics)", runJudge},
		{"train", "vq [flags]", "learn the image tokenizer's codebook (sft, pararl and clip are not available yet)", runTrain},
		{"version", "", "print the version", runVersion},
		{"sample", "", "not available yet: run the sampler headless", notYet("sample")},
		{"bench", "", "not available yet: run ParaBench-mini on a model", notYet("bench")},
		{"replay", "", "not available yet: replay a saved trajectory", notYet("replay")},
	}
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "parascope:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		// The interactive viewer is not built yet; until it is, the bare
		// command shows what there is.
		usage(os.Stdout)
		return nil
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(os.Stdout)
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:])
		}
	}
	usage(os.Stderr)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "parascope %s: watch a model denoise reasoning text and an image together.\n\nUsage:\n", version)
	for _, c := range commands {
		fmt.Fprintf(w, "  parascope %-8s %s\n      %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'parascope COMMAND -h' for a command's flags.\n")
}

// usageError marks a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func notYet(name string) func([]string) error {
	return func([]string) error {
		return fmt.Errorf("%s: not available in this version yet", name)
	}
}

// parseFlags parses flags that may come before or after the positional
// arguments and returns the positionals.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(os.Stdout)
				fs.PrintDefaults()
				return nil, errHelpShown
			}
			return nil, usageError{fmt.Sprintf("%s: %v", fs.Name(), err)}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// errHelpShown ends a command after -h printed its flags.
var errHelpShown = errors.New("help shown")

func runVersion(args []string) error {
	rev := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value[:min(12, len(s.Value))]
			}
		}
	}
	fmt.Printf("parascope %s (commit %s, %s %s/%s)\n", version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// ---- world ----------------------------------------------------------------

func runWorld(args []string) error {
	fs := flag.NewFlagSet("world", flag.ContinueOnError)
	seed := fs.Uint64("seed", 1, "seed of the case stream")
	n := fs.Int("n", 50, "number of cases")
	task := fs.String("task", "mixed", "thinkgen, thinkedit or mixed (two edits per generation)")
	out := fs.String("out", "", "folder to write the case folders into (required)")
	sheet := fs.String("sheet", "", "also write a contact sheet of the first 24 cases (input, target) to this PNG")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	mix, err := world.ParseMix(*task)
	switch {
	case err != nil:
		return usageError{"world: " + err.Error()}
	case len(pos) > 0:
		return usageError{fmt.Sprintf("world: unexpected argument %q", pos[0])}
	case *out == "":
		return usageError{"world: --out DIR is required"}
	case *n < 1:
		return usageError{"world: --n must be at least 1"}
	}
	cb := vq.Default()
	vocab := token.New(cb.K())
	counts := map[world.Task]int{}
	var tiles []image.Image
	for i := range *n {
		c := world.Generate(*seed, i, mix)
		seq, err := buildSequence(vocab, cb, c)
		if err != nil {
			return fmt.Errorf("world: case %d: %w", i, err)
		}
		if err := casedir.Write(filepath.Join(*out, casedir.Name(i, c)), casedir.Meta{Seed: *seed, Index: i, Case: c, Tokens: &seq}); err != nil {
			return fmt.Errorf("world: %w", err)
		}
		counts[c.Task]++
		if i < 24 {
			var in image.Image
			if c.Task == world.ThinkEdit {
				in = world.Render(c.Input)
			}
			tiles = append(tiles, in, world.Render(c.Target))
		}
	}
	fmt.Printf("wrote %d cases to %s (%d thinkgen, %d thinkedit)\n", *n, *out, counts[world.ThinkGen], counts[world.ThinkEdit])
	if *sheet != "" {
		img := viz.Grid(tiles, 8, 4, 4, color.RGBA{60, 60, 70, 255})
		if err := atomicfile.Write(*sheet, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
			return fmt.Errorf("world: sheet: %w", err)
		}
	}
	return nil
}

// buildSequence tokenizes a case with the codebook and vocabulary.
func buildSequence(vocab *token.Vocab, cb *vq.Codebook, c world.Case) (token.Sequence, error) {
	p := token.Parts{Task: c.Task, Instruction: c.Instruction, Reasoning: c.Reasoning}
	var err error
	if c.Task == world.ThinkEdit {
		if p.Input, err = cb.Encode(world.Render(c.Input)); err != nil {
			return token.Sequence{}, err
		}
	}
	if p.Output, err = cb.Encode(world.Render(c.Target)); err != nil {
		return token.Sequence{}, err
	}
	return vocab.Build(p)
}

func helpOK(err error) error {
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

// ---- judge ----------------------------------------------------------------

func runJudge(args []string) error {
	fs := flag.NewFlagSet("judge", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) != 1 {
		return usageError{"judge: want exactly one folder of case folders"}
	}
	dirs, err := casedir.List(pos[0])
	if err != nil {
		return fmt.Errorf("judge: %w", err)
	}
	var tally judge.Tally
	outputs := 0
	for _, d := range dirs {
		l, err := casedir.Read(d)
		if err != nil {
			return fmt.Errorf("judge: %w", err)
		}
		s, err := judge.Score(l.Meta.Case, l.Text, l.Image)
		if err != nil {
			return fmt.Errorf("judge: %s: %w", d, err)
		}
		tally.Add(l.Meta.Case, s)
		if l.HasOutput {
			outputs++
		}
	}
	r := tally.Report()
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Printf("judged %d cases in %s: %d model outputs, %d ground-truth targets\n\n", len(dirs), pos[0], outputs, len(dirs)-outputs)
	return r.WriteTable(os.Stdout)
}

// ---- train ----------------------------------------------------------------

func runTrain(args []string) error {
	if len(args) == 0 {
		return usageError{"train: want a job: vq"}
	}
	switch args[0] {
	case "vq":
		return runTrainVQ(args[1:])
	case "sft", "pararl", "clip":
		return fmt.Errorf("train %s: not available in this version yet", args[0])
	}
	return usageError{fmt.Sprintf("train: unknown job %q (want vq)", args[0])}
}

func runTrainVQ(args []string) error {
	fs := flag.NewFlagSet("train vq", flag.ContinueOnError)
	seed := fs.Uint64("seed", vq.DefaultSeed, "seed of the cases whose images are sampled")
	cases := fs.Int("cases", vq.DefaultCases, "number of cases sampled (input and target images each)")
	codes := fs.Int("codes", vq.DefaultK, "codebook size k; codes that end up unused are dropped")
	iters := fs.Int("iters", vq.DefaultIters, "k-means iterations at most")
	out := fs.String("out", "codebook.safetensors", "where to write the codebook (engine/vq/codebook.safetensors is the embedded one)")
	evalSeed := fs.Uint64("eval-seed", 99, "seed of the fresh cases the round trip is measured on")
	evalN := fs.Int("eval", 1000, "number of fresh scenes the round trip is measured on")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("train vq: unexpected argument %q", pos[0])}
	}
	cb, err := vq.LearnWorld(*seed, *cases, *codes, *iters)
	if err != nil {
		return fmt.Errorf("train vq: %w", err)
	}
	if err := cb.Save(*out); err != nil {
		return fmt.Errorf("train vq: %w", err)
	}
	fmt.Printf("wrote %s: %d codes of %d×%d patches, learned from %d cases (seed %d)\n", *out, cb.K(), cb.PatchSize(), cb.PatchSize(), *cases, *seed)
	rt := measureRoundTrip(cb, *evalSeed, *evalN)
	fmt.Printf("round trip on %d fresh scenes (seed %d): %s\n", *evalN, *evalSeed, rt)
	return nil
}

// roundTrip measures the image tokenizer on fresh scenes.
type roundTrip struct {
	scenes, exact, sceneOK int
	psnrSum                float64 // over the images that are not pixel-exact
}

func (r roundTrip) String() string {
	psnr := "inf dB (every image pixel-exact)"
	if lossy := r.scenes - r.exact; lossy > 0 {
		psnr = fmt.Sprintf("%.2f dB over the %d lossy images", r.psnrSum/float64(lossy), lossy)
	}
	return fmt.Sprintf("scene round trip %.2f%%, pixel-exact %.2f%%, mean PSNR %s",
		100*float64(r.sceneOK)/float64(r.scenes), 100*float64(r.exact)/float64(r.scenes), psnr)
}

// measureRoundTrip encodes and decodes the target scenes of n fresh cases
// and asks the judge whether it recovers the same objects.
func measureRoundTrip(cb *vq.Codebook, seed uint64, n int) roundTrip {
	r := roundTrip{scenes: n}
	for i := range n {
		s := world.Generate(seed, i, world.MixBoth).Target
		img := world.Render(s)
		codes, err := cb.Encode(img)
		if err != nil {
			continue
		}
		back, err := cb.Decode(codes)
		if err != nil {
			continue
		}
		if p := vq.PSNR(img, back); math.IsInf(p, 1) {
			r.exact++
		} else {
			r.psnrSum += p
		}
		if got, err := judge.ParseImage(back); err == nil && got.Scene.Equal(s) {
			r.sceneOK++
		}
	}
	return r
}
