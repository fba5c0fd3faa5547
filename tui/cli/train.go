package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"parascope/engine/atomicfile"
	"parascope/engine/checkpoint"
	"parascope/engine/clip"
	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/safetensors"
	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/tomlconf"
	"parascope/engine/train"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// trainJob is one job of 'parascope train': its name, its arguments as
// the synopsis shows them, and what it does.
type trainJob struct {
	name, args, summary string
	run                 func(e *Env, args []string) error
}

var trainJobs = []trainJob{
	{"sft", "[--config FILE | --resume CKPT] [--out DIR] [--force]", "fit the diffusion model on ShapeWorld cases (supervised)", (*Env).trainSFT},
	{"clip", "[--config FILE | --resume CKPT] [--out DIR] [--force] [--eval N]", "fit the CLIP scorer that rewards ParaRL and the viewer's alignment line", (*Env).trainCLIP},
	{"pararl", "[--config FILE | --resume CKPT] [--out DIR] [--force]", "ParaRL: diffusion GRPO with CLIP rewards along the trajectory", (*Env).trainParaRL},
	{"reward", "--clip CKPT [--model CKPT] [--rollouts N] [--z Z]", "estimate ParaRL's reward normaliser, written as reward.json beside the scorer", (*Env).reward},
	{"promote", "MODEL [--to DIR]", "make a trained model (or CLIP scorer) the embedded default", (*Env).promote},
	{"vq", "[--seed S] [--cases N] [--codes K] [--iters N] [--out FILE] [--force] [--eval N] [--eval-seed S]", "learn the image tokenizer's codebook", (*Env).trainVQ},
}

// TrainJobs lists the jobs' names.
func TrainJobs() []string {
	var names []string
	for _, j := range trainJobs {
		names = append(names, j.name)
	}
	return names
}

// Train runs a training job: sft, clip, pararl, reward, promote or vq.
func (e *Env) Train(args []string) error {
	want := "sft, clip, pararl, reward, promote or vq (parascope train -h lists them)"
	if len(args) == 0 {
		return UsageError{"train: want a job: " + want}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Println("usage: parascope train JOB [flags]\n\njobs:")
		for _, j := range trainJobs {
			fmt.Printf("  parascope train %s %s\n      %s\n", j.name, j.args, j.summary)
		}
		fmt.Println("\nRun 'parascope train JOB -h' for a job's flags.")
		return nil
	}
	for _, j := range trainJobs {
		if j.name == args[0] {
			e.Usage = "parascope train " + j.name + " " + j.args
			return j.run(e, args[1:])
		}
	}
	return UsageError{fmt.Sprintf("train: unknown job %q: want %s", args[0], want)}
}

func (e *Env) trainParaRL(args []string) error {
	fs, jf := newJobFlags("pararl")
	be, unlock, err := e.job(fs, jf, args)
	if err != nil {
		return helpOK(err)
	}
	defer unlock()
	cfgPath, resume, out, cb := jf.config, jf.resume, jf.out, vq.Default()
	deps := train.OpenDeps(be, cb)
	var run *train.ParaRL
	if *resume != "" {
		if run, err = train.ResumeParaRL(*resume, be, cb, *out, deps); err != nil {
			return err
		}
		fmt.Printf("resuming %s at batch %d of %d\n", *resume, run.Step(), run.Config().Steps)
	} else {
		var cfg train.ParaRLConfig
		if cfg, err = loadParaRL(*cfgPath); err != nil {
			return err
		}
		if run, err = train.StartParaRL(cfg, be, cb, *out, deps); err != nil {
			return err
		}
		what := fmt.Sprintf("s = %d scored steps", cfg.RewardSteps)
		if cfg.OutputOnly {
			what = "the final output scored"
		}
		fmt.Printf("ParaRL: %d batches of %d prompts × G = %d rollouts, %s, ε %g, β %g, into %s\n",
			cfg.Steps, cfg.Prompts, cfg.Group, what, cfg.ClipEps, cfg.KL, *out)
	}
	ctx, stop := untilInterrupt()
	defer stop()
	pp := newProgressPrinter(5)
	var split train.TimeSplit
	err = run.Run(ctx, func(p train.RLProgress) {
		split.Add(p.TimeSplit)
		if p.Step == 0 { // the starting policy's held-out check, before any batch
			pp.note(fmt.Sprintf("  before batch 1: held-out output alignment %.1f%s", *p.HeldOut, byKind(p.HeldOutKinds)))
			return
		}
		trust := ""
		if run.Config().Trust > 0 {
			trust = fmt.Sprintf("  moved %.2f nats (step kept %.2g)", p.Shift, p.StepKept)
		}
		pp.print(p.Step, p.Checkpoint, fmt.Sprintf("%s batch %d/%d  reward %.3f ± %.3f  final %.3f  informative %.2f  KL %.4f  clipped %.2f  |g| %.2f%s  %.2f traj/s  ETA %s",
			bar(p.Step, p.Steps, 20), p.Step, p.Steps, p.Reward, p.RewardStd, p.FinalReward, p.Informative, p.KL, p.ClipFrac, p.GradNorm, trust,
			p.TrajectoriesPerSec, p.ETA.Round(time.Second)))
		if p.HeldOut != nil {
			pp.note(fmt.Sprintf("  after batch %d: held-out output alignment %.1f%s", p.Step, *p.HeldOut, byKind(p.HeldOutKinds)))
		}
	})
	pp.done()
	if sampling, scoring, update, ok := split.Percent(); ok {
		fmt.Printf("time: sampling rollouts %.0f%%, scoring them %.0f%%, likelihoods and updates %.0f%%\n", sampling, scoring, update)
	}
	if errors.Is(err, context.Canceled) {
		return Interrupted{fmt.Sprintf("train pararl: stopped at batch %d; resume with: parascope train pararl --resume %s", run.Step(), filepath.Join(*out, train.CheckpointFile))}
	}
	return err
}

// jobFlags are the flags every training job takes: a config for a new run
// or a checkpoint to resume, the folder to write into, and leave to write
// over a run already there.
type jobFlags struct {
	job                 string
	config, resume, out *string
	force               *bool
}

func newJobFlags(job string) (*flag.FlagSet, jobFlags) {
	fs := flag.NewFlagSet("train "+job, flag.ContinueOnError)
	return fs, jobFlags{job: job,
		config: fs.String("config", "", "the job's config (TOML); defaults when empty"),
		resume: fs.String("resume", "", "continue the run saved in this checkpoint"),
		out:    fs.String("out", "", "folder for checkpoint.safetensors and model.safetensors (default: runs/"+job+", or the resumed checkpoint's folder)"),
		force:  fs.Bool("force", false, "write over the run already in --out (without it, only --resume of that run continues there)"),
	}
}

// parse reads the command line, fills in the output folder and takes it
// for this run alone; after -h it returns errHelpShown. unlock gives the
// folder back.
func (j jobFlags) parse(e *Env, fs *flag.FlagSet, args []string) (unlock func(), err error) {
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	switch {
	case len(pos) > 0:
		return nil, UsageError{fmt.Sprintf("train %s: unexpected argument %q", j.job, pos[0])}
	case *j.resume != "" && *j.config != "":
		return nil, UsageError{fmt.Sprintf("train %s: --resume continues with the checkpoint's own config; drop --config", j.job)}
	case *j.out == "" && *j.resume != "":
		*j.out = filepath.Dir(*j.resume)
	case *j.out == "":
		*j.out = filepath.Join("runs", j.job)
	}
	if err := checkOutputFolder("train "+j.job, *j.out); err != nil {
		return nil, err
	}
	// The lock comes before the check of what the folder holds: two runs
	// started together would otherwise both find it empty.
	if unlock, err = atomicfile.Lock(*j.out); err != nil {
		return nil, fmt.Errorf("train %s: %w", j.job, err)
	}
	if err := j.checkRunFolder(); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// checkRunFolder refuses, before any work, to write over the run already
// in the output folder: only resuming that run, or --force, may.
func (j jobFlags) checkRunFolder() error {
	if *j.force {
		return nil
	}
	state := filepath.Join(*j.out, train.CheckpointFile)
	_, stateErr := os.Stat(state)
	_, modelErr := os.Stat(filepath.Join(*j.out, train.ModelFile))
	if stateErr != nil && modelErr != nil {
		return nil
	}
	if *j.resume != "" && samePath(filepath.Dir(*j.resume), *j.out) {
		return j.checkResumeFolder()
	}
	if stateErr != nil {
		return fmt.Errorf("train %s: %s already holds a model; write over it with --force, or choose another --out", j.job, *j.out)
	}
	return fmt.Errorf("train %s: %s already holds a run; continue it with --resume %s, or write over it with --force", j.job, *j.out, state)
}

// checkResumeFolder refuses to resume into the checkpoint's own folder
// when resuming would write over what is not this run's: the folder's
// model or checkpoint is another run's (the checkpoint was renamed or
// copied beside them), or its checkpoint is later than the one resumed.
// The weights file may be a save ahead of the checkpoint (a run killed
// between the two writes), so only its run is compared.
func (j jobFlags) checkResumeFolder() error {
	run, step, err := train.RunOf(*j.resume)
	if err != nil || run == "" {
		return nil // resuming says what is wrong with the checkpoint
	}
	for _, name := range []string{train.CheckpointFile, train.ModelFile} {
		path := filepath.Join(*j.out, name)
		if _, err := os.Stat(path); err != nil || samePath(path, *j.resume) {
			continue
		}
		have, haveStep, err := train.RunOf(path)
		switch {
		case err != nil || have != run:
			return fmt.Errorf("train %s: %s is not of the run in %s, and resuming there would write over it; resume with --out a folder of its own, or write over it with --force", j.job, path, *j.resume)
		case name == train.CheckpointFile && haveStep > step:
			return fmt.Errorf("train %s: %s is a later checkpoint of this run (step %d, not %d); resume from it, or write over it with --force", j.job, path, haveStep, step)
		}
	}
	return nil
}

// job parses a training job's command line, takes its output folder and
// opens the backend it runs on. unlock, to be deferred, gives the folder
// back.
func (e *Env) job(fs *flag.FlagSet, jf jobFlags, args []string) (be nn.Backend, unlock func(), err error) {
	if unlock, err = jf.parse(e, fs, args); err != nil {
		return nil, nil, err
	}
	if be, err = e.Backend(); err != nil {
		unlock()
		return nil, nil, err
	}
	return be, unlock, nil
}

func (e *Env) trainSFT(args []string) error {
	fs, jf := newJobFlags("sft")
	be, unlock, err := e.job(fs, jf, args)
	if err != nil {
		return helpOK(err)
	}
	defer unlock()
	cfgPath, resume, out, cb := jf.config, jf.resume, jf.out, vq.Default()
	var run *train.SFT
	if *resume != "" {
		if run, err = train.ResumeSFT(*resume, be, cb, *out); err != nil {
			return err
		}
		fmt.Printf("resuming %s at step %d of %d\n", *resume, run.Step(), run.Config().Steps)
	} else {
		cfg := train.DefaultSFT()
		if *cfgPath != "" {
			if cfg, err = train.LoadSFT(*cfgPath); err != nil {
				return err
			}
			if err := tomlconf.CheckInputs(*cfgPath, cfg); err != nil {
				return err
			}
		}
		if run, err = train.NewSFT(cfg, be, cb, *out); err != nil {
			return err
		}
		m := run.Model()
		fmt.Printf("training a %d-layer model, d_model %d, %d heads, MLP %d: %.2fM weights; %d steps of %d sequences into %s\n",
			m.Layers, m.DModel, m.Heads, m.MLP, float64(m.Params())/1e6, cfg.Steps, cfg.Batch, *out)
	}
	ctx, stop := untilInterrupt()
	defer stop()
	pp := newProgressPrinter(10)
	err = run.Run(ctx, func(p train.Progress) {
		pp.print(p.Step, p.Checkpoint, fmt.Sprintf("%s step %d/%d  loss %.4f (image %.4f, text %.4f)  |g| %.2f  lr %.2g  %.0f tokens/s  ETA %s",
			bar(p.Step, p.Steps, 20), p.Step, p.Steps, p.Loss, p.ImageLoss, p.TextLoss, p.GradNorm, p.LR, p.TokensPerSec, p.ETA.Round(time.Second)))
	})
	pp.done()
	if errors.Is(err, context.Canceled) {
		return Interrupted{fmt.Sprintf("train sft: stopped at step %d; resume with: parascope train sft --resume %s", run.Step(), filepath.Join(*out, train.CheckpointFile))}
	}
	return err
}

// maxCLIPEval bounds train clip --eval: its pairs are all made at once,
// after the training, where running out of memory would lose the figures.
const maxCLIPEval = 10_000

func (e *Env) trainCLIP(args []string) error {
	fs, jf := newJobFlags("clip")
	evalN := fs.Int("eval", 300, "held-out pairs the retrieval and ranking figures are measured on at the end (0: none; retrieval is among 100)")
	be, unlock, err := e.job(fs, jf, args)
	if err != nil {
		return helpOK(err)
	}
	defer unlock()
	if *evalN != 0 && (*evalN < 100 || *evalN > maxCLIPEval) {
		return usagef("train clip: --eval %d: want 0 (no measurement) or 100 to %d", *evalN, maxCLIPEval)
	}
	cfgPath, resume, out, cb := jf.config, jf.resume, jf.out, vq.Default()
	var run *train.CLIP
	if *resume != "" {
		run, err = train.ResumeCLIP(*resume, be, cb, *out)
	} else {
		cfg := train.DefaultCLIP()
		if *cfgPath != "" {
			if cfg, err = train.LoadCLIP(*cfgPath); err != nil {
				return err
			}
			if err := tomlconf.CheckInputs(*cfgPath, cfg); err != nil {
				return err
			}
		}
		// A key's error (init's) gets the config's line; others, such as
		// an --out folder that cannot be made, are not the config's.
		var ke tomlconf.KeyError
		if run, err = train.NewCLIP(cfg, be, cb, *out); errors.As(err, &ke) && *cfgPath != "" {
			err = tomlconf.LocateIn(*cfgPath, err)
		}
	}
	if err != nil {
		return err
	}
	ctx, stop := untilInterrupt()
	defer stop()
	pp := newProgressPrinter(25)
	err = run.Run(ctx, func(p train.Progress) {
		pp.print(p.Step, p.Checkpoint, fmt.Sprintf("%s step %d/%d  loss %.4f  |g| %.2f  lr %.2g  %.0f tokens/s  ETA %s",
			bar(p.Step, p.Steps, 20), p.Step, p.Steps, p.Loss, p.GradNorm, p.LR, p.TokensPerSec, p.ETA.Round(time.Second)))
	})
	pp.done()
	if errors.Is(err, context.Canceled) {
		return Interrupted{fmt.Sprintf("train clip: stopped at step %d; resume with: parascope train clip --resume %s", run.Step(), filepath.Join(*out, train.CheckpointFile))}
	}
	if err != nil || *evalN == 0 {
		return err
	}
	q, err := clip.Evaluate(run.Model(), token.New(cb.K()), *evalN)
	if err != nil {
		return err
	}
	fmt.Printf("held-out: picture → text retrieval among 100, top-1 %.1f%%; the truth above a text with a fact changed %.1f%%, "+
		"a text that changes the wrong object %.1f%%, a picture with a mistake %.1f%%; a misread text beside what it describes %.1f%%\n",
		q.Retrieval, q.Ranking, q.WrongObject, q.Misdrawn, q.Misread)
	return nil
}

// reward estimates ParaRL's reward normaliser: the CLIP score's μ and
// σ over the steps of rollouts of training cases, written beside the
// scorer.
func (e *Env) reward(args []string) error {
	fs := flag.NewFlagSet("train reward", flag.ContinueOnError)
	modelSpec := fs.String("model", "", "the policy that makes the rollouts (default: the embedded model)")
	clipPath := fs.String("clip", "", "the CLIP checkpoint (required); reward.json is written beside it")
	rollouts := fs.Int("rollouts", 64, "rollouts to sample")
	zSigmas := floatFlag(fs, "z", clip.DefaultZSigmas, "`Z` in units of σ: reward = clip(½ + (s − μ)/(2Z), 0, 1)")
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	switch {
	case len(pos) > 0:
		return usagef("train reward: unexpected argument %q", pos[0])
	case *clipPath == "" || *clipPath == "none":
		return UsageError{"train reward: --clip CKPT is required (the scorer whose scores are normalised)"}
	case *rollouts < 1:
		return usagef("train reward: --rollouts %d: want at least 1", *rollouts)
	case *zSigmas <= 0:
		return usagef("train reward: --z %g: want a number above 0", *zSigmas)
	}
	out := filepath.Join(filepath.Dir(*clipPath), "reward.json")
	if err := checkOutputs("train reward", out); err != nil {
		return err
	}
	cfg := sample.Defaults()
	cfg.Model, cfg.Clip = *modelSpec, *clipPath
	cfg.Text.Temperature = 0.7 // rollouts explore, as ParaRL's do
	sess, err := e.open(cfg)
	if err != nil {
		return err
	}
	if sess.Aligner == nil {
		return fmt.Errorf("train reward: %s: no CLIP scorer", *clipPath)
	}
	ctx, stop := untilInterrupt()
	defer stop()
	var scores []float64
	for i, n := 0, 0; n < *rollouts; i++ {
		c := world.Generate(1, i, world.MixBoth)
		if c.HeldOut() {
			continue
		}
		n++
		p, err := sess.PromptOf(c)
		if err != nil {
			return err
		}
		cfg.Seed = uint64(i)
		st, err := sess.NewStepper(cfg, p)
		if err != nil {
			return err
		}
		for !st.Done() {
			f, err := st.Step(ctx)
			if errors.Is(err, context.Canceled) {
				fmt.Fprintln(os.Stderr)
				return Interrupted{fmt.Sprintf("train reward: stopped in rollout %d of %d; nothing written", n, *rollouts)}
			}
			if err != nil {
				return err
			}
			if f.Alignment == nil {
				return fmt.Errorf("train reward: %s scored no step", *clipPath)
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
	if err := norm.Save(out); err != nil {
		return err
	}
	fmt.Printf("μ %.4f σ %.4f over %d scored steps (Z = %g σ); wrote %s\n", norm.Mu, norm.Sigma, norm.Samples, norm.ZSigmas, out)
	return nil
}

// promote makes a trained model the embedded default: its weights in
// bf16 to engine/model/weights/default.safetensors, and how it was made to
// default.json beside it. Rebuild to embed them.
func (e *Env) promote(args []string) error {
	fs := flag.NewFlagSet("train promote", flag.ContinueOnError)
	dir := fs.String("to", "", "the folder the binary embeds (default: engine/model/weights, or engine/clip/weights for a CLIP scorer)")
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) != 1 {
		return UsageError{"train promote: want the model.safetensors of a training run"}
	}
	be, err := e.Backend()
	if err != nil {
		return err
	}
	f, err := safetensors.Read(pos[0])
	if err != nil {
		return err
	}
	// A scorer, or its run's state, is promoted as a scorer; anything
	// else as a model.
	kind, _ := checkpoint.Of(f)
	isCLIP := kind == checkpoint.CLIP || kind == checkpoint.CLIPTraining
	want := checkpoint.Model
	if isCLIP {
		want = checkpoint.CLIP
	}
	if err := checkpoint.Check(pos[0], f, want); err != nil {
		return err
	}
	want.Mark(f) // files written before kinds say theirs from now on
	if isCLIP {
		_, err = clip.FromFile(f, be)
	} else {
		_, err = model.FromFile(f, be)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *dir == "" {
		*dir = filepath.Join("engine", "model", "weights")
		if isCLIP {
			*dir = filepath.Join("engine", "clip", "weights")
		}
		// The embedded folder is the source tree's: made anywhere else it
		// would be a stray copy that no rebuild embeds.
		if fi, err := os.Stat(*dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("train promote: no %s here: run it in the source tree's root (where go.mod is), or give --to DIR", *dir)
		}
	}
	if err := checkOutputFolder("train promote", *dir); err != nil {
		return err
	}
	// Promoting replaces the default of the same kind (that is what it
	// is for, and git keeps the old one), never a file of another kind.
	if err := checkReplace("train promote", "--to", filepath.Join(*dir, "default.safetensors"), want, true); err != nil {
		return err
	}
	job := "sft"
	if isCLIP {
		job = "clip"
	}
	record := train.Provenance(pos[0], f.Metadata)
	record["reproduce"] = "parascope train " + job + " --config FILE (FILE holding the train config below) runs to the step below; the run's checkpoint at that step is these weights, stored here in bf16. A run with init starts from the model recorded under init, made the same way"
	js, err := json.MarshalIndent(record, "", "  ")
	if err != nil {
		return err
	}
	// A scorer's reward normaliser travels with it; it is checked before
	// anything is written.
	var reward *clip.Normaliser
	if isCLIP {
		// Without one, the folder would keep the old scorer's, which does
		// not fit this one.
		n, err := clip.LoadNormaliser(filepath.Join(filepath.Dir(pos[0]), "reward.json"))
		switch {
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("train promote: %s has no reward.json beside it: run parascope train reward --clip %s first", pos[0], pos[0])
		case err != nil:
			return err
		}
		reward = &n
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
	if reward != nil {
		if err := reward.Save(filepath.Join(*dir, "reward.json")); err != nil {
			return err
		}
	}
	fmt.Printf("promoted %s (step %s) to %s; rebuild to embed it\n", pos[0], f.Metadata["step"], *dir)
	return nil
}

func (e *Env) trainVQ(args []string) error {
	fs := flag.NewFlagSet("train vq", flag.ContinueOnError)
	seed := fs.Uint64("seed", vq.DefaultSeed, "seed of the cases whose images are sampled")
	cases := fs.Int("cases", vq.DefaultCases, "number of cases sampled (input and target images each)")
	codes := fs.Int("codes", vq.DefaultK, "codebook size k; codes that end up unused are dropped")
	iters := fs.Int("iters", vq.DefaultIters, "k-means iterations at most")
	out := fs.String("out", "codebook.safetensors", "where to write the codebook (engine/vq/codebook.safetensors is the embedded one)")
	force := fs.Bool("force", false, "write over the codebook already at --out")
	evalSeed := fs.Uint64("eval-seed", 99, "seed of the fresh cases the round trip is measured on")
	evalN := fs.Int("eval", 1000, "number of fresh scenes the round trip is measured on (0: none)")
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	switch {
	case len(pos) > 0:
		return UsageError{fmt.Sprintf("train vq: unexpected argument %q", pos[0])}
	case *cases < 1:
		return usagef("train vq: --cases %d: want at least 1", *cases)
	case *codes < 1:
		return usagef("train vq: --codes %d: want at least 1", *codes)
	case *iters < 0:
		return usagef("train vq: --iters %d: want 0 or more", *iters)
	case *evalN < 0:
		return usagef("train vq: --eval %d: want 0 (no measurement) or more", *evalN)
	}
	if err := checkOutputs("train vq", *out); err != nil {
		return err
	}
	if err := checkReplace("train vq", "--out", *out, checkpoint.Codebook, *force); err != nil {
		return err
	}
	ctx, stop := untilInterrupt()
	defer stop()
	cb, err := vq.LearnWorld(ctx, *seed, *cases, *codes, *iters)
	if errors.Is(err, context.Canceled) {
		return Interrupted{"train vq: stopped before the codebook was learned; nothing written"}
	}
	if err != nil {
		return fmt.Errorf("train vq: %w", err)
	}
	if err := cb.Save(*out); err != nil {
		return fmt.Errorf("train vq: %w", err)
	}
	fmt.Printf("wrote %s: %d codes of %d×%d patches, learned from %d cases (seed %d)\n", *out, cb.K(), cb.PatchSize(), cb.PatchSize(), *cases, *seed)
	if *evalN == 0 {
		return nil
	}
	rt := vq.MeasureRoundTrip(cb, *evalSeed, *evalN)
	fmt.Printf("round trip on %d fresh scenes (seed %d): %s\n", *evalN, *evalSeed, rt)
	return nil
}

// byKind lists figures kind by kind, in the order of the kinds' names:
// " (add 100, move 82.5, …)".
func byKind(m map[string]float64) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %.3g", k, m[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// loadParaRL reads a ParaRL config over the defaults (the defaults for
// path ""), with the files it names checked.
func loadParaRL(path string) (train.ParaRLConfig, error) {
	if path == "" {
		return train.DefaultParaRL(), nil
	}
	cfg, err := train.LoadParaRL(path)
	if err != nil {
		return cfg, err
	}
	return cfg, tomlconf.CheckInputs(path, cfg)
}
