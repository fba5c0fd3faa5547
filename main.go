// Command parascope is a terminal microscope for parallel multimodal
// diffusion: one model that denoises a reasoning text and an image
// together. With no arguments it will open the interactive viewer; the
// subcommands do the headless work.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"maps"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"parascope/engine/atomicfile"
	"parascope/engine/bench"
	"parascope/engine/casedir"
	"parascope/engine/clip"
	"parascope/engine/judge"
	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/safetensors"
	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/train"
	"parascope/engine/vq"
	"parascope/engine/world"
	"parascope/gpu"
	"parascope/tui"
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
		{"train", "sft|clip|pararl --config FILE [--resume CKPT] [--out DIR] | reward --clip CKPT | promote MODEL | vq [flags]", "fit the model (SFT, then ParaRL) or the CLIP scorer, make a trained model the embedded default, or learn the image tokenizer's codebook", runTrain},
		{"version", "", "print the version", runVersion},
		{"sample", "[--config FILE] (--case DIR | --prompt TEXT | --instruction TEXT --input PNG) [flags]", "denoise one answer step by step and export it (trace, GIF, PNG, judge folder)", runSample},
		{"bench", "[--model CKPT] [--mode parallel|sequential] [--cases N] [--seed S] [--config FILE] [--json] [--results FILE]", "run ParaBench-mini: sample held-out cases and judge them", runBench},
		{"replay", "TRACE [--gif FILE] [--png FILE] [--strip FILE [--strip-steps LIST]] [--text FILE]", "replay a saved trajectory without a model, and export it", runReplay},
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
	args, err := takeBackendFlag(args)
	if err != nil {
		return err
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "-help" && args[0] != "--help" {
		return runView(args)
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
	fmt.Fprintf(w, "  parascope [--config FILE] [--preview auto|sixel|kitty|blocks] [--color auto|truecolor|256|16|none] [--case DIR | --prompt TEXT | --instruction TEXT --input PNG]\n      open the viewer (keys: ? inside it)\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  parascope %-8s %s\n      %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'parascope COMMAND -h' for a command's flags.\n")
}

// ---- the compute backend --------------------------------------------------

// backendName is --backend: auto, cpu or cuda, for every command that runs
// a model.
var backendName = "auto"

// takeBackendFlag removes --backend NAME (or --backend=NAME) from anywhere
// on the command line.
func takeBackendFlag(args []string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := strings.TrimPrefix(args[i], "-")
		switch {
		case a == "-backend" || a == "backend":
			if i+1 == len(args) {
				return nil, usageError{"--backend needs a value: auto, " + strings.Join(nn.Names(), ", ")}
			}
			backendName = args[i+1]
			i++
		case strings.HasPrefix(a, "-backend=") || strings.HasPrefix(a, "backend="):
			backendName = a[strings.Index(a, "=")+1:]
		default:
			rest = append(rest, args[i])
		}
	}
	if backendName != "auto" && !slices.Contains(nn.Names(), backendName) {
		return nil, usageError{fmt.Sprintf("--backend %q: want auto, %s", backendName, strings.Join(nn.Names(), ", "))}
	}
	return rest, nil
}

// engine opens the backend on first use: auto takes CUDA when this build
// has it and a device answers, else the CPU.
var engine = sync.OnceValue(func() nn.Backend {
	if backendName == "auto" {
		be, err := nn.Open("cuda")
		if err == nil {
			return be
		}
		if !errors.Is(err, gpu.ErrNotBuilt) {
			fmt.Fprintf(os.Stderr, "parascope: cuda: %v; running on the CPU\n", err)
		}
		return nn.CPU{}
	}
	be, err := nn.Open(backendName)
	if err != nil {
		fmt.Fprintf(os.Stderr, "parascope: --backend %s: %v\n", backendName, err)
		os.Exit(1)
	}
	return be
})

// usageError marks a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

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
	be := engine()
	desc := be.Name()
	if d, ok := be.(interface{ Describe() string }); ok {
		desc += ": " + d.Describe()
	}
	fmt.Printf("backend: %s (--backend %s)\n", desc, backendName)
	return nil
}

// ---- the viewer -----------------------------------------------------------

func runView(args []string) error {
	fs := flag.NewFlagSet("parascope", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "sampler config (TOML); defaults when empty")
	preview := fs.String("preview", "auto", "picture protocol: auto (ask the terminal), sixel, kitty or blocks")
	colors := fs.String("color", "auto", "colours: auto (the terminal's and NO_COLOR), truecolor, 256, 16 or none")
	caseDir := fs.String("case", "", "open on a case folder written by 'parascope world'")
	prompt := fs.String("prompt", "", "open on a thinkgen prompt")
	instruction := fs.String("instruction", "", "open on a thinkedit instruction (with --input)")
	input := fs.String("input", "", "the input picture of an edit (48×48 PNG)")
	exportDir := fs.String("export", "exports", "folder the x key writes into")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q (see parascope help)", pos[0])}
	}
	switch *preview {
	case "auto", "sixel", "kitty", "blocks":
	default:
		return usageError{fmt.Sprintf("--preview %q: want auto, sixel, kitty or blocks", *preview)}
	}
	if !isTerminal(os.Stdout) || !isTerminal(os.Stdin) {
		return errors.New("the viewer needs a terminal; for headless work use 'parascope sample' (see 'parascope help')")
	}
	cfg := sample.Defaults()
	if *cfgPath != "" {
		if cfg, err = sample.LoadConfig(*cfgPath); err != nil {
			return err
		}
	}
	cb := vq.Default()
	if cfg.Codebook != "" {
		if cb, err = vq.Load(cfg.Codebook); err != nil {
			return err
		}
	}
	vocab := token.New(cb.K())
	modelName, spec := cfg.Model, cfg.Model
	if spec == "" {
		modelName = "default (embedded)"
	}
	m, err := model.Open(cfg.Model, engine(), vocab.Size())
	if errors.Is(err, model.ErrNoDefault) {
		// A build without embedded weights: show the machinery on an untrained model.
		modelName, spec = "untrained (random:1)", "random:1"
		m, err = model.Open(spec, engine(), vocab.Size())
	}
	if err != nil {
		return err
	}
	var p sample.Prompt
	var truth *world.Case
	if *caseDir == "" && *prompt == "" && *instruction == "" {
		c := world.Generate(cfg.Seed, 0, world.MixEdit)
		truth = &c
		if p, err = sample.PromptOf(c, cb); err != nil {
			return err
		}
	} else if p, truth, err = samplePrompt(cb, *caseDir, *prompt, *instruction, *input); err != nil {
		return err
	}
	var inputScene *world.Scene
	if truth != nil {
		inputScene = &truth.Input
	}
	aligner, err := openAligner(cfg.Clip, vocab, cb)
	if err != nil {
		return fmt.Errorf("clip: %w", err)
	}
	return tui.Run(tui.Options{Aligner: aligner,
		Model: m, ModelName: modelName, ModelSpec: spec, Vocab: vocab, Codebook: cb, Config: cfg, Prompt: p, Input: inputScene,
		SFT: func(ctx context.Context, init string, kinds []string, steps int, progress func(tui.JobProgress)) (string, error) {
			return viewerSFT(ctx, cb, init, kinds, steps, progress)
		},
		ParaRL: func(ctx context.Context, init string, batches int, progress func(tui.JobProgress)) (string, error) {
			return viewerParaRL(ctx, cb, init, cfg.Clip, batches, progress)
		},
		Open: func(path string) (sample.Model, error) {
			m, err := model.Open(path, engine(), vocab.Size())
			if err != nil {
				return nil, err
			}
			return m, nil
		},
		Preview: *preview, Color: *colors, ExportDir: *exportDir,
		Export: func(frames []sample.Frame, cfg sample.Config, dir string) ([]string, error) {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			stamp := time.Now().Format("20060102-150405")
			trace := filepath.Join(dir, "trajectory-"+stamp+".jsonl")
			gifPath := filepath.Join(dir, "trajectory-"+stamp+".gif")
			strip := filepath.Join(dir, "strip-"+stamp+".png")
			err := atomicfile.Write(trace, func(w io.Writer) error {
				return sample.WriteTrace(w, sample.HeaderFor(cfg, vocab, p, frames[len(frames)-1].Step, modelName, truth), frames)
			})
			if err != nil {
				return nil, err
			}
			if err := exportFrames(frames, vocab, cb, gifPath, "", strip, ""); err != nil {
				return nil, err
			}
			return []string{trace, gifPath, strip}, nil
		},
	})
}

// viewerSFT is the viewer's fine-tuning job: a short, gentle SFT run from
// the live model's weights into runs/viewer-sft-TIME.
func viewerSFT(ctx context.Context, cb *vq.Codebook, init string, kinds []string, steps int, progress func(tui.JobProgress)) (string, error) {
	cfg := train.DefaultSFT()
	cfg.Init, cfg.EditKinds, cfg.Steps, cfg.Batch = init, kinds, steps, 16
	cfg.LR, cfg.MinLR, cfg.Warmup, cfg.CheckpointEvery = 3e-4, 3e-5, min(20, steps/5), max(steps/4, 1)
	out := filepath.Join("runs", "viewer-sft-"+time.Now().Format("20060102-150405"))
	run, err := train.NewSFT(cfg, engine(), cb, out)
	if err != nil {
		return "", err
	}
	err = run.Run(ctx, func(p train.Progress) {
		progress(tui.JobProgress{Step: p.Step, Steps: p.Steps, Loss: p.Loss, Rate: p.TokensPerSec, ETA: p.ETA})
	})
	return filepath.Join(out, train.ModelFile), err
}

// viewerParaRL is the viewer's ParaRL job: examples/pararl.toml's recipe
// from the live model's weights, rewarded by the viewer's CLIP scorer,
// into runs/viewer-pararl-TIME.
func viewerParaRL(ctx context.Context, cb *vq.Codebook, init, scorer string, batches int, progress func(tui.JobProgress)) (string, error) {
	cfg := train.DefaultParaRL()
	cfg.Sampler.Model, cfg.Sampler.Clip, cfg.Steps = init, scorer, batches
	out := filepath.Join("runs", "viewer-pararl-"+time.Now().Format("20060102-150405"))
	run, err := train.StartParaRL(cfg, engine(), cb, out, paraRLDeps(cb))
	if err != nil {
		return "", err
	}
	err = run.Run(ctx, func(p train.RLProgress) {
		progress(tui.JobProgress{Step: p.Step, Steps: p.Steps, Reward: p.Reward, KL: p.KL, Rate: p.TrajectoriesPerSec, ETA: p.ETA})
	})
	return filepath.Join(out, train.ModelFile), err
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
	case "sft":
		return runTrainSFT(args[1:])
	case "promote":
		return runPromote(args[1:])
	case "clip":
		return runTrainCLIP(args[1:])
	case "reward":
		return runReward(args[1:])
	case "pararl":
		return runTrainParaRL(args[1:])
	}
	return usageError{fmt.Sprintf("train: unknown job %q (want sft, clip, pararl, reward, promote or vq)", args[0])}
}

// progressPrinter shows a job's progress: redrawn in place on a terminal,
// otherwise one line every few steps and at each checkpoint.
type progressPrinter struct {
	live  bool
	every int
}

func newProgressPrinter(every int) progressPrinter {
	return progressPrinter{live: isTerminal(os.Stdout), every: every}
}

func (pp progressPrinter) print(step int, checkpoint, line string) {
	switch {
	case pp.live:
		fmt.Printf("\r\x1b[K%s", line)
		if checkpoint != "" {
			fmt.Printf("\n  saved %s\n", checkpoint)
		}
	case step%pp.every == 0 || checkpoint != "":
		fmt.Println(line)
		if checkpoint != "" {
			fmt.Printf("  saved %s\n", checkpoint)
		}
	}
}

func (pp progressPrinter) done() {
	if pp.live {
		fmt.Println()
	}
}

// paraRLDeps opens a ParaRL run's reference (the starting policy, frozen)
// and its reward (the scorer's alignment through its normaliser).
func paraRLDeps(cb *vq.Codebook) train.RLDeps {
	vocab := token.New(cb.K())
	return func(cfg train.ParaRLConfig) (*model.Model, train.Rewarder, error) {
		scorer, err := clip.Open(cfg.Sampler.Clip, engine())
		if err != nil {
			return nil, nil, fmt.Errorf("the reward's scorer (sampler.clip): %w", err)
		}
		norm, err := clip.NormaliserFor(cfg.Sampler.Clip)
		if err != nil {
			return nil, nil, err
		}
		ref, err := model.Open(cfg.Sampler.Model, engine(), vocab.Size())
		if err != nil {
			return nil, nil, fmt.Errorf("the starting policy (sampler.model): %w", err)
		}
		return ref, clip.Reward{Scorer: clip.Scorer{Model: scorer, Vocab: vocab, Codebook: cb}, Norm: norm}, nil
	}
}

func runTrainParaRL(args []string) error {
	fs, jf := newJobFlags("pararl")
	if err := jf.parse(fs, args); err != nil {
		return helpOK(err)
	}
	cfgPath, resume, out := jf.config, jf.resume, jf.out
	var err error
	cb := vq.Default()
	deps := paraRLDeps(cb)
	var run *train.ParaRL
	if *resume != "" {
		if run, err = train.ResumeParaRL(*resume, engine(), cb, *out, deps); err != nil {
			return err
		}
		fmt.Printf("resuming %s at batch %d of %d\n", *resume, run.Step(), run.Config().Steps)
	} else {
		cfg := train.DefaultParaRL()
		if *cfgPath != "" {
			if cfg, err = train.LoadParaRL(*cfgPath); err != nil {
				return err
			}
		}
		if run, err = train.StartParaRL(cfg, engine(), cb, *out, deps); err != nil {
			return err
		}
		what := fmt.Sprintf("s = %d scored steps", cfg.RewardSteps)
		if cfg.OutputOnly {
			what = "the final output scored"
		}
		fmt.Printf("ParaRL: %d batches of %d prompts × G = %d rollouts, %s, ε %g, β %g, into %s\n",
			cfg.Steps, cfg.Prompts, cfg.Group, what, cfg.ClipEps, cfg.KL, *out)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pp := newProgressPrinter(5)
	var split train.TimeSplit
	err = run.Run(ctx, func(p train.RLProgress) {
		split.Add(p.TimeSplit)
		pp.print(p.Step, p.Checkpoint, fmt.Sprintf("%s batch %d/%d  reward %.3f ± %.3f  final %.3f  KL %.4f  clipped %.2f  |g| %.2f  %.2f traj/s  ETA %s",
			bar(p.Step, p.Steps, 20), p.Step, p.Steps, p.Reward, p.RewardStd, p.FinalReward, p.KL, p.ClipFrac, p.GradNorm,
			p.TrajectoriesPerSec, p.ETA.Round(time.Second)))
	})
	pp.done()
	if sampling, scoring, update, ok := split.Percent(); ok {
		fmt.Printf("time: sampling rollouts %.0f%%, scoring them %.0f%%, likelihoods and updates %.0f%%\n", sampling, scoring, update)
	}
	if errors.Is(err, context.Canceled) {
		fmt.Printf("stopped at batch %d; resume with: parascope train pararl --resume %s\n", run.Step(), filepath.Join(*out, train.CheckpointFile))
		return nil
	}
	return err
}

// jobFlags are the flags every training job takes: a config for a new run
// or a checkpoint to resume, and the folder to write into.
type jobFlags struct {
	job                 string
	config, resume, out *string
}

func newJobFlags(job string) (*flag.FlagSet, jobFlags) {
	fs := flag.NewFlagSet("train "+job, flag.ContinueOnError)
	return fs, jobFlags{job: job,
		config: fs.String("config", "", "the job's config (TOML); defaults when empty"),
		resume: fs.String("resume", "", "continue the run saved in this checkpoint"),
		out:    fs.String("out", "", "folder for checkpoint.safetensors and model.safetensors (default: runs/"+job+", or the resumed checkpoint's folder)"),
	}
}

// parse reads the command line and fills in the output folder; after -h
// it returns errHelpShown.
func (j jobFlags) parse(fs *flag.FlagSet, args []string) error {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageError{fmt.Sprintf("train %s: unexpected argument %q", j.job, pos[0])}
	case *j.resume != "" && *j.config != "":
		return usageError{fmt.Sprintf("train %s: --resume continues with the checkpoint's own config; drop --config", j.job)}
	case *j.out == "" && *j.resume != "":
		*j.out = filepath.Dir(*j.resume)
	case *j.out == "":
		*j.out = filepath.Join("runs", j.job)
	}
	return nil
}

func runTrainSFT(args []string) error {
	fs, jf := newJobFlags("sft")
	if err := jf.parse(fs, args); err != nil {
		return helpOK(err)
	}
	cfgPath, resume, out := jf.config, jf.resume, jf.out
	var err error
	cb := vq.Default()
	var run *train.SFT
	if *resume != "" {
		if run, err = train.ResumeSFT(*resume, engine(), cb, *out); err != nil {
			return err
		}
		fmt.Printf("resuming %s at step %d of %d\n", *resume, run.Step(), run.Config().Steps)
	} else {
		cfg := train.DefaultSFT()
		if *cfgPath != "" {
			if cfg, err = train.LoadSFT(*cfgPath); err != nil {
				return err
			}
		}
		if run, err = train.NewSFT(cfg, engine(), cb, *out); err != nil {
			return err
		}
		m := run.Model()
		fmt.Printf("training a %d-layer model, d_model %d, %d heads, MLP %d: %.2fM weights; %d steps of %d sequences into %s\n",
			m.Layers, m.DModel, m.Heads, m.MLP, float64(m.Params())/1e6, cfg.Steps, cfg.Batch, *out)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pp := newProgressPrinter(10)
	err = run.Run(ctx, func(p train.Progress) {
		pp.print(p.Step, p.Checkpoint, fmt.Sprintf("%s step %d/%d  loss %.4f (image %.4f, text %.4f)  |g| %.2f  lr %.2g  %.0f tokens/s  ETA %s",
			bar(p.Step, p.Steps, 20), p.Step, p.Steps, p.Loss, p.ImageLoss, p.TextLoss, p.GradNorm, p.LR, p.TokensPerSec, p.ETA.Round(time.Second)))
	})
	pp.done()
	if errors.Is(err, context.Canceled) {
		fmt.Printf("stopped at step %d; resume with: parascope train sft --resume %s\n", run.Step(), filepath.Join(*out, train.CheckpointFile))
		return nil
	}
	return err
}

func runTrainCLIP(args []string) error {
	fs, jf := newJobFlags("clip")
	evalN := fs.Int("eval", 300, "held-out pairs the retrieval and fact-ranking figures are measured on at the end")
	if err := jf.parse(fs, args); err != nil {
		return helpOK(err)
	}
	cfgPath, resume, out := jf.config, jf.resume, jf.out
	var err error
	cb := vq.Default()
	var run *train.CLIP
	if *resume != "" {
		run, err = train.ResumeCLIP(*resume, engine(), cb, *out)
	} else {
		cfg := train.DefaultCLIP()
		if *cfgPath != "" {
			if cfg, err = train.LoadCLIP(*cfgPath); err != nil {
				return err
			}
		}
		run, err = train.NewCLIP(cfg, engine(), cb, *out)
	}
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pp := newProgressPrinter(25)
	err = run.Run(ctx, func(p train.Progress) {
		pp.print(p.Step, p.Checkpoint, fmt.Sprintf("%s step %d/%d  loss %.4f  |g| %.2f  lr %.2g  %.0f tokens/s  ETA %s",
			bar(p.Step, p.Steps, 20), p.Step, p.Steps, p.Loss, p.GradNorm, p.LR, p.TokensPerSec, p.ETA.Round(time.Second)))
	})
	pp.done()
	if errors.Is(err, context.Canceled) {
		fmt.Printf("stopped at step %d; resume with: parascope train clip --resume %s\n", run.Step(), filepath.Join(*out, train.CheckpointFile))
		return nil
	}
	if err != nil {
		return err
	}
	q, err := clip.Evaluate(run.Model(), token.New(cb.K()), *evalN)
	if err != nil {
		return err
	}
	fmt.Printf("held-out: picture → text retrieval among 100, top-1 %.1f%%; true text above one with a fact changed %.1f%%\n", q.Retrieval, q.Ranking)
	return nil
}

// runReward estimates ParaRL's reward normaliser: the CLIP score's μ and
// σ over the steps of rollouts of training cases, written beside the
// scorer.
func runReward(args []string) error {
	fs := flag.NewFlagSet("train reward", flag.ContinueOnError)
	modelSpec := fs.String("model", "", "the policy that makes the rollouts (default: the embedded model)")
	clipPath := fs.String("clip", "", "the CLIP checkpoint (required); reward.json is written beside it")
	rollouts := fs.Int("rollouts", 64, "rollouts to sample")
	zSigmas := fs.Float64("z", clip.DefaultZSigmas, "Z in units of σ: reward = clip(½ + (s − μ)/(2Z), 0, 1)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) > 0 || *clipPath == "" || *rollouts < 1 {
		return usageError{"train reward: want --clip CKPT and at least one rollout"}
	}
	cb := vq.Default()
	vocab := token.New(cb.K())
	m, err := model.Open(*modelSpec, engine(), vocab.Size())
	if err != nil {
		return err
	}
	aligner, err := openAligner(*clipPath, vocab, cb)
	if err != nil {
		return err
	}
	cfg := sample.Defaults()
	cfg.Text.Temperature = 0.7 // rollouts explore, as ParaRL's do
	var scores []float64
	for i, n := 0, 0; n < *rollouts; i++ {
		c := world.Generate(1, i, world.MixBoth)
		if c.HeldOut() {
			continue
		}
		n++
		p, err := sample.PromptOf(c, cb)
		if err != nil {
			return err
		}
		cfg.Seed = uint64(i)
		st, err := sample.New(m, vocab, cfg, p)
		if err != nil {
			return err
		}
		if err := st.SetAligner(aligner); err != nil {
			return err
		}
		for !st.Done() {
			f, err := st.Step(context.Background())
			if err != nil {
				return err
			}
			scores = append(scores, *f.Alignment)
		}
		fmt.Fprintf(os.Stderr, "\r%s %d/%d rollouts", bar(n, *rollouts, 20), n, *rollouts)
	}
	fmt.Fprintln(os.Stderr)
	norm, err := clip.Estimate(scores, *zSigmas)
	if err != nil {
		return err
	}
	out := filepath.Join(filepath.Dir(*clipPath), "reward.json")
	if err := norm.Save(out); err != nil {
		return err
	}
	fmt.Printf("μ %.4f σ %.4f over %d scored steps (Z = %g σ); wrote %s\n", norm.Mu, norm.Sigma, norm.Samples, norm.ZSigmas, out)
	return nil
}

// runPromote makes a trained model the embedded default: its weights in
// bf16 to engine/model/weights/default.safetensors, and how it was made to
// default.json beside it. Rebuild to embed them.
func runPromote(args []string) error {
	fs := flag.NewFlagSet("train promote", flag.ContinueOnError)
	dir := fs.String("to", "", "the folder the binary embeds (default: engine/model/weights, or engine/clip/weights for a CLIP scorer)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) != 1 {
		return usageError{"train promote: want the model.safetensors of a training run"}
	}
	f, err := safetensors.Read(pos[0])
	if err != nil {
		return err
	}
	_, isCLIP := f.Metadata["clip"]
	if isCLIP {
		_, err = clip.FromFile(f, engine())
	} else {
		_, err = model.FromFile(f, engine())
	}
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *dir == "" {
		*dir = filepath.Join("engine", "model", "weights")
		if isCLIP {
			*dir = filepath.Join("engine", "clip", "weights")
		}
	}
	job := "sft"
	if isCLIP {
		job = "clip"
	}
	record := provenance(pos[0], f.Metadata)
	record["reproduce"] = "parascope train " + job + " --config FILE (FILE holding the train config below) runs to the step below; the run's checkpoint at that step is these weights, stored here in bf16. A run with init starts from the model recorded under init, made the same way"
	js, err := json.MarshalIndent(record, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	if err := safetensors.Write(filepath.Join(*dir, "default.safetensors"), f, safetensors.BF16); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(*dir, "default.json"), append(js, '\n')); err != nil {
		return err
	}
	// A scorer's reward normaliser travels with it.
	if reward, err := os.ReadFile(filepath.Join(filepath.Dir(pos[0]), "reward.json")); err == nil && isCLIP {
		if err := atomicfile.WriteFile(filepath.Join(*dir, "reward.json"), reward); err != nil {
			return err
		}
	}
	fmt.Printf("promoted %s (step %s) to %s; rebuild to embed it\n", pos[0], f.Metadata["step"], *dir)
	return nil
}

// provenance is how a checkpoint was made: its file name and metadata and,
// for a fine-tune, the same of the model it started from, so a promoted
// record reproduces every stage. Paths are kept to their base names: the
// record is embedded and must not carry this machine's folders.
func provenance(path string, meta map[string]string) map[string]any {
	record := map[string]any{"source": filepath.Base(path), "metadata": meta}
	var train map[string]json.RawMessage
	var init string
	if json.Unmarshal([]byte(meta["train"]), &train) != nil || json.Unmarshal(train["init"], &init) != nil || init == "" {
		return record
	}
	train["init"], _ = json.Marshal(filepath.Base(init))
	js, _ := json.Marshal(train)
	meta = maps.Clone(meta)
	meta["train"] = string(js)
	record["metadata"] = meta
	if f, err := safetensors.Read(init); err == nil {
		record["init"] = provenance(init, f.Metadata)
	} else {
		record["init"] = map[string]any{"source": filepath.Base(init), "missing": "not readable when this was promoted"}
	}
	return record
}

// bar draws a progress bar of the given width.
func bar(done, total, width int) string {
	n := width * done / max(total, 1)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
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

// ---- sample ---------------------------------------------------------------

func runSample(args []string) error {
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "sampler config (TOML); defaults when empty")
	caseDir := fs.String("case", "", "a case folder written by 'parascope world'")
	prompt := fs.String("prompt", "", "a thinkgen prompt, e.g. \"draw a big red circle at the top left\"")
	instruction := fs.String("instruction", "", "a thinkedit instruction (with --input)")
	input := fs.String("input", "", "the input picture of an edit (48×48 PNG)")
	seed := fs.String("seed", "", "seed, overriding the config")
	mode := fs.String("mode", "", "parallel or sequential, overriding the config")
	tracePath := fs.String("trace", "", "write the trajectory as JSON Lines")
	gifPath := fs.String("gif", "", "write an animated GIF of the run")
	pngPath := fs.String("png", "", "write the final picture")
	stripPath := fs.String("strip", "", "write a PNG strip of the picture at --strip-steps")
	stripSteps := fs.String("strip-steps", "", "comma-separated steps for --strip (default: five evenly spaced)")
	outDir := fs.String("out", "", "write output.txt and output.png (and the case's files) for 'parascope judge'")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("sample: unexpected argument %q", pos[0])}
	}
	cfg := sample.Defaults()
	if *cfgPath != "" {
		if cfg, err = sample.LoadConfig(*cfgPath); err != nil {
			return err
		}
	}
	if *seed != "" {
		if cfg.Seed, err = strconv.ParseUint(*seed, 10, 64); err != nil {
			return usageError{fmt.Sprintf("sample: --seed %q is not a whole number", *seed)}
		}
	}
	if *mode != "" {
		cfg.Mode = *mode
	}
	if err := cfg.Validate(); err != nil {
		return usageError{"sample: " + err.Error()}
	}
	cb := vq.Default()
	if cfg.Codebook != "" {
		if cb, err = vq.Load(cfg.Codebook); err != nil {
			return err
		}
	}
	vocab := token.New(cb.K())
	p, truth, err := samplePrompt(cb, *caseDir, *prompt, *instruction, *input)
	if err != nil {
		return err
	}
	m, err := model.Open(cfg.Model, engine(), vocab.Size())
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	st, err := sample.New(m, vocab, cfg, p)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	aligner, err := openAligner(cfg.Clip, vocab, cb)
	if err != nil {
		return fmt.Errorf("sample: clip: %w", err)
	}
	if aligner != nil {
		if err := st.SetAligner(aligner); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
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
		line := fmt.Sprintf("step %2d/%d  image %2d/%d%s  %s", f.Step, st.Steps(), f.Image.Actual, f.Image.Total, align, f.MaskedText(vocab, "___"))
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
	frames := st.History()
	last := frames[len(frames)-1]
	// What there is gets written even when the run was stopped.
	if err := writeSampleOutputs(st, cfg, truth, cb, vocab, *tracePath, *gifPath, *pngPath, *stripPath, *stripSteps, *outDir, *caseDir); err != nil {
		return err
	}
	if stepErr != nil {
		return fmt.Errorf("sample: stopped at step %d: %w", last.Step, stepErr)
	}
	fmt.Printf("%s\n%d steps in %.2f s (%.1f steps/s)\n", last.Reasoning(vocab), last.Step, elapsed.Seconds(), float64(last.Step)/elapsed.Seconds())
	return nil
}

// openAligner returns the alignment scorer a config names, or nil when
// there is none to use.
func openAligner(spec string, vocab *token.Vocab, cb *vq.Codebook) (sample.Aligner, error) {
	if spec == "none" {
		return nil, nil
	}
	m, err := clip.Open(spec, engine())
	if spec == "" && errors.Is(err, clip.ErrNoDefault) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return clip.Scorer{Model: m, Vocab: vocab, Codebook: cb}, nil
}

// samplePrompt turns the command line into a prompt, with the case's
// ground truth when there is one.
func samplePrompt(cb *vq.Codebook, caseDir, prompt, instruction, input string) (sample.Prompt, *world.Case, error) {
	given := 0
	for _, s := range []string{caseDir, prompt, instruction} {
		if s != "" {
			given++
		}
	}
	if given != 1 || (instruction != "") != (input != "") {
		return sample.Prompt{}, nil, usageError{"sample: give one of --case DIR, --prompt TEXT, or --instruction TEXT with --input PNG"}
	}
	switch {
	case caseDir != "":
		l, err := casedir.Read(caseDir)
		if err != nil {
			return sample.Prompt{}, nil, err
		}
		c := l.Meta.Case
		p, err := sample.PromptOf(c, cb)
		return p, &c, err
	case prompt != "":
		return sample.Prompt{Task: world.ThinkGen, Instruction: prompt}, nil, nil
	}
	img, err := casedir.ReadPNG(input)
	if err != nil {
		return sample.Prompt{}, nil, err
	}
	codes, err := cb.Encode(img)
	return sample.Prompt{Task: world.ThinkEdit, Instruction: instruction, Input: codes}, nil, err
}

func writeSampleOutputs(st *sample.Stepper, cfg sample.Config, truth *world.Case, cb *vq.Codebook, vocab *token.Vocab,
	tracePath, gifPath, pngPath, stripPath, stripSteps, outDir, caseDir string) error {
	frames := st.History()
	modelName := cfg.Model
	if modelName == "" {
		modelName = "embedded"
	}
	if tracePath != "" {
		err := atomicfile.Write(tracePath, func(w io.Writer) error {
			return sample.WriteTrace(w, sample.NewHeader(st, modelName, truth), frames)
		})
		if err != nil {
			return fmt.Errorf("sample: trace: %w", err)
		}
	}
	if err := exportFrames(frames, vocab, cb, gifPath, pngPath, stripPath, stripSteps); err != nil {
		return err
	}
	if outDir == "" {
		return nil
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	if caseDir != "" && filepath.Clean(caseDir) != filepath.Clean(outDir) {
		for _, name := range []string{casedir.CaseJSON, casedir.InputPNG, casedir.TargetPNG, casedir.TargetTxt} {
			data, err := os.ReadFile(filepath.Join(caseDir, name))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if err := atomicfile.WriteFile(filepath.Join(outDir, name), data); err != nil {
				return err
			}
		}
	}
	last := frames[len(frames)-1]
	if err := atomicfile.WriteFile(filepath.Join(outDir, casedir.OutputText), []byte(last.Reasoning(vocab)+"\n")); err != nil {
		return err
	}
	return exportFrames(frames, vocab, cb, "", filepath.Join(outDir, casedir.OutputPNG), "", "")
}

// exportFrames writes the pictures of a trajectory: an animated GIF, the
// final picture, and a strip at chosen steps; empty paths are skipped.
func exportFrames(frames []sample.Frame, vocab *token.Vocab, cb *vq.Codebook, gifPath, pngPath, stripPath, stripSteps string) error {
	writePNG := func(path string, img image.Image) error {
		return atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, img) })
	}
	if gifPath != "" {
		anim, err := viz.Animation(frames, vocab, cb, viz.AnimOptions{})
		if err != nil {
			return err
		}
		if err := atomicfile.Write(gifPath, func(w io.Writer) error { return gif.EncodeAll(w, anim) }); err != nil {
			return fmt.Errorf("gif: %w", err)
		}
	}
	last := frames[len(frames)-1]
	if pngPath != "" {
		final, err := viz.Picture(last, vocab, cb, false)
		if err != nil {
			return err
		}
		if err := writePNG(pngPath, final); err != nil {
			return fmt.Errorf("png: %w", err)
		}
	}
	if stripPath != "" {
		steps, err := parseSteps(stripSteps, last.Step)
		if err != nil {
			return err
		}
		img, err := viz.Strip(frames, steps, vocab, cb, 3)
		if err != nil {
			return fmt.Errorf("strip: %w", err)
		}
		if err := writePNG(stripPath, img); err != nil {
			return fmt.Errorf("strip: %w", err)
		}
	}
	return nil
}

// ---- bench ----------------------------------------------------------------

func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	modelSpec := fs.String("model", "", "checkpoint (or random:SEED); default: the config's model")
	mode := fs.String("mode", "", "parallel or sequential, overriding the config")
	n := fs.Int("cases", bench.DefaultCases, "number of suite cases (two edits for each generation)")
	seed := fs.Uint64("seed", bench.DefaultSeed, "seed of the suite")
	cfgPath := fs.String("config", "", "sampler config (TOML); defaults when empty")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	resultsPath := fs.String("results", "", "also write each case (instruction, true and sampled reasoning, scores) to this file, one JSON object a line")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) > 0 || *n < 1 {
		return usageError{"bench: takes only flags, and --cases must be at least 1"}
	}
	cfg := sample.Defaults()
	if *cfgPath != "" {
		if cfg, err = sample.LoadConfig(*cfgPath); err != nil {
			return err
		}
	}
	if *modelSpec != "" {
		cfg.Model = *modelSpec
	}
	if *mode != "" {
		cfg.Mode = *mode
	}
	if err := cfg.Validate(); err != nil {
		return usageError{"bench: " + err.Error()}
	}
	cb := vq.Default()
	if cfg.Codebook != "" {
		if cb, err = vq.Load(cfg.Codebook); err != nil {
			return err
		}
	}
	vocab := token.New(cb.K())
	m, err := model.Open(cfg.Model, engine(), vocab.Size())
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	began := time.Now()
	live := isTerminal(os.Stderr)
	aligner, err := openAligner(cfg.Clip, vocab, cb)
	if err != nil {
		return fmt.Errorf("bench: clip: %w", err)
	}
	r, results, err := bench.Run(ctx, m, aligner, vocab, cb, cfg, bench.Suite(*seed, *n), func(done, total int) {
		if live || done == total || done%25 == 0 {
			elapsed := time.Since(began)
			eta := time.Duration(float64(elapsed) / float64(done) * float64(total-done)).Round(time.Second)
			end := "\n"
			if live {
				end = ""
				fmt.Fprint(os.Stderr, "\r\x1b[K")
			}
			fmt.Fprintf(os.Stderr, "%s %d/%d cases  %.1f cases/s  ETA %s%s", bar(done, total, 20), done, total, float64(done)/elapsed.Seconds(), eta, end)
		}
	})
	if live {
		fmt.Fprintln(os.Stderr)
	}
	// Ctrl-C: report the cases judged so far.
	interrupted := errors.Is(err, context.Canceled) && len(results) > 0
	if err != nil && !interrupted {
		return fmt.Errorf("bench: %w", err)
	}
	if interrupted {
		fmt.Fprintf(os.Stderr, "bench: interrupted after %d of %d cases; what follows covers those\n", len(results), *n)
	}
	if *resultsPath != "" {
		if err := atomicfile.Write(*resultsPath, func(w io.Writer) error { return bench.WriteResults(w, results) }); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	name := cfg.Model
	if name == "" {
		name = "the embedded default"
	}
	fmt.Printf("ParaBench-mini: %d cases (seed %d), model %s, %s mode, %d steps\n\n", r.Cases, *seed, name, cfg.Mode, cfg.Steps)
	if err := r.WriteTable(os.Stdout); err != nil {
		return err
	}
	if r.ClipFinal != nil {
		fmt.Printf("\nclip_final %.3f (mean CLIP score of the final outputs)\n", *r.ClipFinal)
	}
	if r.ClipJudgeCorr != nil {
		fmt.Printf("clip_judge_corr %.3f (Pearson correlation of the final CLIP score with the judge's output_alignment)\n", *r.ClipJudgeCorr)
	}
	return nil
}

// ---- replay ---------------------------------------------------------------

func runReplay(args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	gifPath := fs.String("gif", "", "write an animated GIF of the run")
	pngPath := fs.String("png", "", "write the final picture")
	stripPath := fs.String("strip", "", "write a PNG strip of the picture at --strip-steps")
	stripSteps := fs.String("strip-steps", "", "comma-separated steps for --strip (default: five evenly spaced)")
	textPath := fs.String("text", "", "write the final reasoning text")
	preview := fs.String("preview", "auto", "picture protocol in the viewer: auto, sixel, kitty or blocks")
	colors := fs.String("color", "auto", "colours in the viewer: auto, truecolor, 256, 16 or none")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) != 1 {
		return usageError{"replay: want one trace file"}
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	cb := vq.Default()
	vocab := token.New(cb.K())
	h, frames, err := sample.ReadTrace(f, pos[0], nil)
	if err != nil {
		return err
	}
	if h.Config.Codebook != "" {
		if cb, err = vq.Load(h.Config.Codebook); err != nil {
			return fmt.Errorf("replay: the trace's codebook: %w", err)
		}
		vocab = token.New(cb.K())
	}
	if h.VocabHash != vocab.Hash() {
		return fmt.Errorf("%s: made with vocabulary %s, this build has %s", pos[0], h.VocabHash, vocab.Hash())
	}
	if *gifPath == "" && *pngPath == "" && *stripPath == "" && *textPath == "" && isTerminal(os.Stdout) {
		var input *world.Scene
		if h.Case != nil {
			input = &h.Case.Input
		}
		return tui.Run(tui.Options{ModelName: h.Model + " (replay)", Vocab: vocab, Codebook: cb, Config: h.Config,
			Prompt: sample.Prompt{Task: h.Task, Instruction: h.Prompt.Instruction, Input: h.Prompt.Input},
			Input:  input, Frames: frames, Steps: h.Steps, Preview: *preview, Color: *colors})
	}
	for _, fr := range frames {
		fmt.Printf("step %2d/%d  image %2d/%d  %s\n", fr.Step, h.Steps, fr.Image.Actual, fr.Image.Total, fr.MaskedText(vocab, "___"))
	}
	if *textPath != "" {
		if err := atomicfile.WriteFile(*textPath, []byte(frames[len(frames)-1].Reasoning(vocab)+"\n")); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
	}
	return exportFrames(frames, vocab, cb, *gifPath, *pngPath, *stripPath, *stripSteps)
}

// parseSteps reads "0,5,10"; empty gives five steps from start to end.
func parseSteps(s string, last int) ([]int, error) {
	if s == "" {
		return []int{0, last / 4, last / 2, 3 * last / 4, last}, nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 0 || n > last {
			return nil, usageError{fmt.Sprintf("sample: --strip-steps: %q is not a step from 0 to %d", part, last)}
		}
		out = append(out, n)
	}
	return out, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// isTerminal reports whether f is a character device, as a terminal is.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
