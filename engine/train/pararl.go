package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"parascope/engine/atomicfile"
	"parascope/engine/bench"
	"parascope/engine/checkpoint"
	"parascope/engine/memory"
	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/tomlconf"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// ParaRL is diffusion GRPO with rewards along the denoising trajectory.
// Each batch: for every prompt, G rollouts with the sampler at a
// temperature above zero, all stepped together (one model call a step);
// per prompt, s steps chosen at random and shared by its G rollouts, each
// scored by the reward (the normalised CLIP score of that step's partial
// text and picture); the trajectory's reward is their mean and its
// advantage that reward standardised within its group. The loss, over the
// tokens decoded at each chosen step (one forward on the state just before
// it), is PPO's clipped surrogate of their likelihood ratios plus β·KL to
// the frozen starting model, minimised with AdamW for a few epochs per
// batch.
//
// A token's likelihood is the sampler's own: sample.Policy at its
// position, softmax(l/τ) over the tokens the position may take, so the
// rollouts come from exactly the policy being trained. Two settings would
// break that and are refused: guidance, whose unconditional pass changes
// the distribution a token is drawn from, and τ = 0, an argmax with no
// likelihood to move. The rest of the sampler's rules (the remasking rank,
// EndLast's hold-back of the text's end, MaskGIT's remask noise) choose
// which positions' proposals commit at a step, not what a position
// proposes; like diffusion GRPO, the loss scores each committed token under
// the distribution it was drawn from and leaves that choice out.

// ParaRLConfig holds every knob of a ParaRL run.
type ParaRLConfig struct {
	Seed    uint64 `toml:"seed" json:"seed"`
	Steps   int    `toml:"steps" json:"steps"`     // batches of rollouts
	Prompts int    `toml:"prompts" json:"prompts"` // prompts a batch
	Group   int    `toml:"group" json:"group"`     // G: rollouts a prompt
	// RewardSteps is s, the steps scored per trajectory, chosen uniformly
	// without replacement, once per prompt; OutputOnly scores the final
	// step alone.
	RewardSteps int  `toml:"reward_steps" json:"reward_steps"`
	OutputOnly  bool `toml:"output_only" json:"output_only"`
	// Credit is which tokens a trajectory's advantage trains: "scored",
	// those decoded at its scored steps (the paper's sparse objective);
	// "all", those of every step — every choice the trajectory made; or
	// "differing", those of every step at the positions where the group's
	// final outputs differ.
	Credit string `toml:"credit" json:"credit,omitempty"`
	// Reward is what scores a step: "clip", the learned scorer of
	// sampler.clip (the paper's premise), or "judge", the exact judge's
	// output alignment of what the step has committed — the oracle control,
	// which says what the optimisation can do with a perfect reward.
	Reward string `toml:"reward" json:"reward"`
	// Informative keeps only groups whose rewards differ: a group whose
	// rollouts all score alike has zero advantages and teaches nothing, so
	// it is dropped and another prompt drawn in its place (DAPO's dynamic
	// sampling), up to Draws prompts a batch in all.
	Informative bool `toml:"informative" json:"informative,omitempty"`
	// Repeat makes every batch draw the first batch's prompts (fresh
	// rollouts of the same cases): the check that the optimisation can
	// fit a handful of prompts, apart from whether what it learns
	// carries over to others.
	Repeat  bool    `toml:"repeat" json:"repeat,omitempty"`
	Draws   int     `toml:"draws" json:"draws,omitempty"`
	ClipEps float64 `toml:"clip_eps" json:"clip_eps"` // PPO's ε
	// Trust bounds how far (in nats) an update may move any decoded
	// token's log-likelihood from the rollout policy: a step that goes
	// further is halved until it does not (0: no bound).
	Trust  float64 `toml:"trust" json:"trust,omitempty"`
	KL     float64 `toml:"kl" json:"kl"`         // β
	Epochs int     `toml:"epochs" json:"epochs"` // optimiser steps per batch
	Tasks
	Optim
	CheckpointEvery int `toml:"checkpoint_every" json:"checkpoint_every"`
	// EvalEvery batches (0: never), and after the last, the policy
	// samples EvalCases held-out cases of bench.Suite(EvalSeed) with the
	// viewer's defaults, and the judge's mean output alignment is reported.
	EvalEvery int    `toml:"eval_every" json:"eval_every,omitempty"`
	EvalCases int    `toml:"eval_cases" json:"eval_cases,omitempty"`
	EvalSeed  uint64 `toml:"eval_seed" json:"eval_seed,omitempty"`
	// Sampler makes the rollouts. Its model is the starting policy and the
	// KL reference; its clip is the reward's scorer, with the reward
	// normaliser (reward.json) beside it.
	Sampler sample.Config `toml:"sampler" json:"sampler"`
}

// DefaultParaRL is the recipe examples/pararl.toml spells out: the paper's
// G = 8, s = 3, ε = 0.2, β = 0.04.
func DefaultParaRL() ParaRLConfig {
	sc := sample.Defaults()
	// Rollouts explore: a text temperature above zero and the image's at 1;
	// 20 steps, half the viewer's, because sampling is half of the cost.
	sc.Steps, sc.Text.Temperature, sc.Image.Temperature = 20, 0.7, 1
	return ParaRLConfig{
		Seed: 1, Steps: 100, Prompts: 2, Group: 8, RewardSteps: 3, Reward: RewardCLIP, Credit: CreditScored, Draws: 8, ClipEps: 0.2, KL: 0.04, Epochs: 2,
		Tasks:           Tasks{GenEvery: 3},
		Optim:           Optim{LR: 1e-4, MinLR: 1e-5, Warmup: 5, WeightDecay: 0, Beta1: 0.9, Beta2: 0.95, Clip: 1},
		CheckpointEvery: 10,
		EvalCases:       100, EvalSeed: 777,
		Sampler: sc,
	}
}

// Validate reports every setting that cannot work.
func (c ParaRLConfig) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, tomlconf.KeyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	for key, v := range map[string]int{"steps": c.Steps, "prompts": c.Prompts, "group": c.Group, "reward_steps": c.RewardSteps,
		"epochs": c.Epochs, "gen_every": c.GenEvery, "checkpoint_every": c.CheckpointEvery} {
		if v < 1 {
			bad(key, "%d, want at least 1", v)
		}
	}
	if c.Informative && c.Draws < c.Prompts {
		bad("draws", "%d, fewer than the %d prompts a batch needs", c.Draws, c.Prompts)
	}
	if c.EvalEvery < 0 {
		bad("eval_every", "%d, want 0 (never) or more", c.EvalEvery)
	}
	if c.EvalEvery > 0 && c.EvalCases < 1 {
		bad("eval_cases", "%d, want at least 1", c.EvalCases)
	}
	if c.Group < 2 {
		bad("group", "%d: an advantage needs a group of at least 2", c.Group)
	}
	if !(c.ClipEps > 0 && c.ClipEps < 1) {
		bad("clip_eps", "%g, want 0 < ε < 1", c.ClipEps)
	}
	if !(c.Trust >= 0) || math.IsInf(c.Trust, 0) {
		bad("trust", "%g, want 0 (no bound) or a number of nats above 0", c.Trust)
	}
	if !(c.KL >= 0) {
		bad("kl", "%g, want ≥ 0", c.KL)
	}
	c.Optim.validate(c.Steps, bad)
	if _, err := c.kinds(); err != nil {
		bad("edit_kinds", "%v", err)
	}
	// The rollouts use ShapeWorld's layout, whatever the codebook.
	layout := token.New(0)
	if err := c.Sampler.ValidateFor(layout); err != nil {
		errs = append(errs, tomlconf.Prefix("sampler.", err))
	} else {
		if run := c.Sampler.RunSteps(); !c.OutputOnly && c.RewardSteps > run {
			bad("reward_steps", "%d, more than the %d steps of a rollout (sampler.steps)", c.RewardSteps, run)
		}
		rollouts := memory.Mul(c.Prompts, c.Group)
		need := memory.Mul(rollouts, c.Sampler.TrajectoryBytes(layout.ImageLen()+layout.ReasoningLen()))
		if err := memory.Check(need, fmt.Sprintf("recording the frames of %d × %d rollouts", c.Prompts, c.Group)); err != nil {
			bad("group", "%d: %v", c.Group, err)
		}
	}
	for _, m := range []struct {
		name string
		m    sample.Modality
	}{{"text", c.Sampler.Text}, {"image", c.Sampler.Image}} {
		if m.m.Temperature <= 0 {
			bad("sampler."+m.name+".temperature", "%g: rollouts need a temperature above 0 (at 0 the sampler takes the argmax, with no likelihood to train)", m.m.Temperature)
		}
		if m.m.CFG != 0 {
			bad("sampler."+m.name+".cfg", "%g: the likelihood ParaRL trains is the unguided policy's, so rollouts need cfg = 0", m.m.CFG)
		}
	}
	if c.Credit != CreditScored && c.Credit != CreditAll && c.Credit != CreditDiffering {
		bad("credit", "%q, want %q, %q or %q", c.Credit, CreditScored, CreditAll, CreditDiffering)
	}
	switch c.Reward {
	case RewardCLIP:
		if c.Sampler.Clip == "none" {
			bad("sampler.clip", `"none": the reward "clip" is a CLIP scorer's score; name a scorer's checkpoint, or "" for the embedded one`)
		}
	case RewardJudge:
	default:
		bad("reward", "%q, want %q or %q", c.Reward, RewardCLIP, RewardJudge)
	}
	return errors.Join(errs...)
}

// LoadParaRL reads a TOML file over the defaults.
// InputFiles names the sampler's files under "sampler.", for
// tomlconf.CheckInputs.
func (c ParaRLConfig) InputFiles() map[string]string {
	files := map[string]string{}
	for key, path := range c.Sampler.InputFiles() {
		files["sampler."+key] = path
	}
	return files
}

func LoadParaRL(path string) (ParaRLConfig, error) {
	c := DefaultParaRL()
	return c, tomlconf.Load(path, &c)
}

// The tokens a trajectory's advantage may credit.
const (
	CreditScored    = "scored"
	CreditAll       = "all"
	CreditDiffering = "differing"
)

// The rewards a run may use.
const (
	RewardCLIP  = "clip"
	RewardJudge = "judge"
)

// Rewarder scores a step of a trajectory of case c, sampled from its
// prompt p, in [0, 1].
type Rewarder interface {
	Reward(c world.Case, p sample.Prompt, f sample.Frame) (float64, error)
}

// RLProgress is reported after every batch.
type RLProgress struct {
	Step, Steps       int
	Reward, RewardStd float64 // over the batch's trajectories
	FinalReward       float64 // the reward of the final outputs alone
	// Informative is the share of the batch's prompts drawn whose
	// rollouts' rewards differed (with informative, only those train).
	Informative float64
	// HeldOut is the judge's mean output alignment (0–100) of the policy on
	// the held-out cases, after the batches that evaluate (eval_every);
	// nil after the others.
	HeldOut *float64 `json:",omitempty"`
	// HeldOutKinds is the same, case kind by case kind (bench.Kind): where
	// the policy gained or lost.
	HeldOutKinds map[string]float64 `json:",omitempty"`
	KL           float64            // mean per decoded token, before the batch's updates
	ClipFrac     float64            // tokens whose ratio the clip held, in the last epoch
	// Shift is the largest move of a decoded token's log-likelihood from
	// the rollout policy after the batch's updates, with a trust bound;
	// StepKept the smallest share of an optimiser step the bound kept (1:
	// every step whole).
	Shift, StepKept    float64
	GradNorm, LR       float64
	TrajectoriesPerSec float64
	ETA                time.Duration
	Checkpoint         string
	TimeSplit          // where the batch's time went
}

// TimeSplit is where ParaRL's time goes: sampling the rollouts, scoring
// them, and the likelihood passes and updates.
type TimeSplit struct {
	Sampling, Scoring, Update time.Duration
}

// Add counts another batch's time.
func (t *TimeSplit) Add(o TimeSplit) {
	t.Sampling, t.Scoring, t.Update = t.Sampling+o.Sampling, t.Scoring+o.Scoring, t.Update+o.Update
}

// Percent returns each part's share of the whole; ok is false while there
// is no time to share.
func (t TimeSplit) Percent() (sampling, scoring, update float64, ok bool) {
	total := (t.Sampling + t.Scoring + t.Update).Seconds()
	if total <= 0 {
		return 0, 0, 0, false
	}
	return 100 * t.Sampling.Seconds() / total, 100 * t.Scoring.Seconds() / total, 100 * t.Update.Seconds() / total, true
}

// ParaRL is a run.
type ParaRL struct {
	cfg     ParaRLConfig
	m, ref  *model.Model
	reward  Rewarder
	vocab   *token.Vocab
	cb      *vq.Codebook
	kinds   []world.EditKind
	step    int // batches done
	out     string
	elapsed time.Duration
	chunk   int // sequences a forward of the update holds (trainChunk)
}

// NewParaRL starts a run of policy m against reference ref (a frozen copy
// of the starting weights), writing into out.
func NewParaRL(cfg ParaRLConfig, m, ref *model.Model, reward Rewarder, cb *vq.Codebook, out string) (*ParaRL, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	kinds, err := cfg.kinds()
	if err != nil {
		return nil, err
	}
	// Each batch trains on a sequence for every scored step of every
	// rollout; the model's size is known only now.
	scored := cfg.RewardSteps
	if cfg.OutputOnly {
		scored = 1
	}
	if cfg.Credit != CreditScored {
		scored = cfg.Sampler.RunSteps()
	}
	seqs := min(memory.Mul(cfg.Prompts, cfg.Group, scored), trainChunk)
	if err := memory.Check(m.TrainingBytes(seqs, m.MaxLen), fmt.Sprintf("training on %d sequences a batch", seqs)); err != nil {
		return nil, fmt.Errorf("prompts %d × group %d × %d scored steps: %w", cfg.Prompts, cfg.Group, scored, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	return &ParaRL{cfg: cfg, m: m, ref: ref, reward: reward, vocab: token.New(cb.K()), cb: cb, kinds: kinds, out: out, chunk: trainChunk}, nil
}

// RLDeps opens what a run needs besides its policy, from its config: the
// reference model (the starting weights, frozen) and the reward.
type RLDeps func(cfg ParaRLConfig) (ref *model.Model, reward Rewarder, err error)

// StartParaRL begins a run from cfg: deps opens the reference and the
// reward, and the policy starts as a copy of the reference.
func StartParaRL(cfg ParaRLConfig, be nn.Backend, cb *vq.Codebook, out string, deps RLDeps) (*ParaRL, error) {
	ref, reward, err := deps(cfg)
	if err != nil {
		return nil, err
	}
	if ref.ReadOnly() {
		return nil, fmt.Errorf("sampler.model %s: %w", cfg.Sampler.Model, model.ErrReadOnly)
	}
	m, err := model.New(ref.Config, be)
	if err != nil {
		return nil, err
	}
	m.SetWeights(ref.Weights())
	return NewParaRL(cfg, m, ref, reward, cb, out)
}

// ResumeParaRL continues a run from its checkpoint: the policy's weights
// and optimiser state, with the reference and reward deps opens.
func ResumeParaRL(path string, be nn.Backend, cb *vq.Codebook, out string, deps RLDeps) (*ParaRL, error) {
	var cfg ParaRLConfig
	m, st, err := resumeModel(path, checkpoint.ParaRL, &cfg, token.New(cb.K()), be)
	if err != nil {
		return nil, err
	}
	ref, reward, err := deps(cfg)
	if err != nil {
		return nil, err
	}
	r, err := NewParaRL(cfg, m, ref, reward, cb, out)
	if err != nil {
		return nil, err
	}
	r.step, r.elapsed = st.step, st.elapsed
	return r, nil
}

// Model is the policy being trained.
func (r *ParaRL) Model() *model.Model { return r.m }

// Config is the run's config.
func (r *ParaRL) Config() ParaRLConfig { return r.cfg }

// Step is the number of batches done.
func (r *ParaRL) Step() int { return r.step }

// Run trains until the configured number of batches, checkpointing every
// checkpoint_every batches, at the end, and when ctx is cancelled.
func (r *ParaRL) Run(ctx context.Context, progress func(RLProgress)) error {
	log, lines, err := r.openLog()
	if err != nil {
		return err
	}
	defer log.Close()
	enc := json.NewEncoder(log)
	if lines == 0 && r.cfg.EvalEvery > 0 { // the starting policy, for the curve's first point
		p := RLProgress{Steps: r.cfg.Steps}
		if p.HeldOut, p.HeldOutKinds, err = r.evaluate(ctx); err != nil {
			return err
		}
		if err := enc.Encode(p); err != nil {
			return err
		}
		if progress != nil {
			progress(p)
		}
	}
	return runSteps(ctx, &r.step, r.cfg.Steps, r.cfg.CheckpointEvery, &r.elapsed, r.Checkpoint, func() (func(stepTiming), error) {
		p, err := r.batch(ctx)
		if err != nil {
			return nil, fmt.Errorf("pararl batch %d: %w", r.step+1, err)
		}
		p.Step, p.Steps = r.step+1, r.cfg.Steps
		if r.cfg.EvalEvery > 0 && (p.Step%r.cfg.EvalEvery == 0 || p.Step == r.cfg.Steps) {
			if p.HeldOut, p.HeldOutKinds, err = r.evaluate(ctx); err != nil {
				return nil, fmt.Errorf("pararl batch %d: held-out check: %w", p.Step, err)
			}
		}
		if err := enc.Encode(p); err != nil {
			return nil, fmt.Errorf("pararl batch %d: %w", p.Step, err)
		}
		return func(t stepTiming) {
			p.ETA, p.Checkpoint = t.eta, t.checkpoint
			p.TrajectoriesPerSec = float64(t.done*r.cfg.Prompts*r.cfg.Group) / t.elapsed.Seconds()
			if progress != nil {
				progress(p)
			}
		}, nil
	})
}

// LogFile is the run's progress, one JSON object (RLProgress) a batch,
// in its output folder: what a plot of its curves reads.
const LogFile = "progress.jsonl"

// openLog opens the run's log for appending, first dropping the lines of
// batches after r.step: a resumed run redoes them. It says how many lines
// it kept.
func (r *ParaRL) openLog() (*os.File, int, error) {
	path := filepath.Join(r.out, LogFile)
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, 0, err
	}
	var keep []byte
	lines := 0
	for line := range bytes.Lines(old) {
		var p struct{ Step int }
		if json.Unmarshal(line, &p) == nil && p.Step <= r.step && bytes.HasSuffix(line, []byte("\n")) {
			keep = append(keep, line...)
			lines++
		}
	}
	if err := atomicfile.WriteFile(path, keep); err != nil {
		return nil, 0, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	return f, lines, err
}

// evaluate samples the held-out cases with the viewer's defaults and
// returns the judge's mean output alignment, over all and kind by kind.
func (r *ParaRL) evaluate(ctx context.Context) (*float64, map[string]float64, error) {
	cfg := sample.Defaults()
	cfg.Clip = "none"
	rep, _, err := bench.Run(ctx, r.m, nil, r.vocab, r.cb, cfg, bench.Suite(r.cfg.EvalSeed, r.cfg.EvalCases), nil)
	if err != nil {
		return nil, nil, err
	}
	// The kinds bench.Kind names: every edit kind, and generation.
	kinds := map[string]float64{}
	for k, m := range rep.Edits {
		kinds[k] = m.OutputAlignment
	}
	if m, ok := rep.Tasks[world.ThinkGen.String()]; ok {
		kinds[world.ThinkGen.String()] = m.OutputAlignment
	}
	return &rep.OutputAlignment, kinds, nil
}

// Checkpoint writes the run's state and the policy's weights, each
// atomically, and returns the state's path.
func (r *ParaRL) Checkpoint() (string, error) {
	meta, err := stateMeta(r.cfg, r.step, r.elapsed, r.vocab)
	if err != nil {
		return "", err
	}
	f, err := r.m.File(meta)
	if err != nil {
		return "", err
	}
	return saveState(r.out, f, r.m.ParamSet, checkpoint.ParaRL)
}

// trajectory is one rollout and what the update needs of it.
type trajectory struct {
	st        *sample.Stepper
	steps     []int     // the scored steps, 1-based
	rewards   []float64 // R_t at each
	reward    float64   // their mean
	final     float64   // the reward of the final output
	advantage float64
	// credited marks the output positions whose decoded tokens the
	// advantage trains (nil: all).
	credited []bool
}

// batch runs batch r.step: rollouts, rewards, advantages, then the epochs
// of updates.
func (r *ParaRL) batch(ctx context.Context) (p RLProgress, err error) {
	trajs, drawn, err := r.rollouts(ctx, &p)
	if err != nil {
		return p, err
	}
	began := time.Now()
	defer func() { p.Update = time.Since(began) }()
	// The rewards of every rollout drawn, informative or not: what the
	// policy earns, not what it trains on.
	rewards, finals := make([]float64, len(drawn)), make([]float64, len(drawn))
	for i, t := range drawn {
		rewards[i], finals[i] = t.reward, t.final
	}
	p.Reward, p.RewardStd = meanStd(rewards)
	p.FinalReward, _ = meanStd(finals)
	r.setAdvantages(trajs)
	if len(trajs) == 0 {
		return p, nil // no prompt of the batch could teach: no update
	}
	return p, r.update(trajs, &p)
}

// setAdvantages standardises each group's rewards into its trajectories'
// advantages.
func (r *ParaRL) setAdvantages(trajs []*trajectory) {
	for g := range len(trajs) / r.cfg.Group {
		group := trajs[g*r.cfg.Group : (g+1)*r.cfg.Group]
		scores := make([]float64, len(group))
		for i, t := range group {
			scores[i] = t.reward
		}
		for i, a := range advantages(scores) {
			group[i].advantage = a
		}
		if r.cfg.Credit == CreditDiffering {
			creditDiffering(group)
		}
	}
}

// creditDiffering limits a group's credit to the output positions where
// its final outputs differ. Where every rollout ended with the same token
// the choice did not tell them apart; its gradients, each taken in its
// own rollout's partial state, do not cancel as an autoregressive model's
// shared prefix does, and would only add noise.
func creditDiffering(group []*trajectory) {
	first := group[0].st.Last().Tokens
	differ := make([]bool, len(first))
	for _, t := range group[1:] {
		for o, id := range t.st.Last().Tokens {
			differ[o] = differ[o] || id != first[o]
		}
	}
	for _, t := range group {
		t.credited = differ
	}
}

// update runs the batch's epochs of AdamW steps on trajectories whose
// advantages are set, reporting in p. With a trust bound, each step is
// cut back until no decoded token of the batch has moved further than it
// from the rollout policy.
func (r *ParaRL) update(trajs []*trajectory, p *RLProgress) error {
	terms, ids, sel, seq := lossInputs(trajs, r.cfg.Credit != CreditScored)
	switch {
	case len(terms) == 0 && r.cfg.Credit == CreditDiffering:
		return nil // the groups' outputs are alike wherever they were decoded: nothing to credit
	case len(terms) == 0:
		return errors.New("no decoded tokens at the scored steps")
	}
	n := len(ids) / seq
	v := r.vocab.Size()
	ref, err := r.ref.Logits(ids, n, seq, sel) // frozen: no backward follows
	if err != nil {
		return err
	}
	for i := range terms {
		t := &terms[i]
		t.ref, _ = logProb(ref[t.row*v:(t.row+1)*v], t)
	}
	p.StepKept = 1
	for e := range r.cfg.Epochs {
		// A chunk of sequences at a time holds activations for its
		// backward; the gradients add up over the chunks.
		r.m.ZeroGrad()
		clipped := 0.0
		for a := 0; a < n; a += r.chunk {
			b := min(a+r.chunk, n)
			// Every selected row is one term, in the order of the
			// sequences: the chunk's are a run of both.
			r0, r1 := rowsIn(sel, seq, a), rowsIn(sel, seq, b)
			part := slices.Clone(terms[r0:r1])
			rows := make([]int32, r1-r0)
			for i := range part {
				part[i].row -= r0
				rows[i] = sel[r0+i] - int32(a*seq)
			}
			host, err := r.logits(r.m, ids[a*seq:b*seq], b-a, seq, rows)
			if err != nil {
				return err
			}
			if e == 0 { // the rollout policy: the weights before this batch's updates
				for i := range part {
					t := &part[i]
					t.old, _ = logProb(host[t.row*v:(t.row+1)*v], t)
					terms[r0+i].old = t.old
					d := t.ref - t.old
					p.KL += (math.Exp(d) - d - 1) / float64(len(terms))
				}
			}
			_, grad, stats := grpoObjective(part, host, v, r.cfg.ClipEps, r.cfg.KL)
			clipped += stats.clipFrac * float64(len(part))
			be := r.m.Backend()
			dl := be.Alloc(len(grad))
			be.Upload(dl, grad)
			if err := r.m.Backward(dl); err != nil {
				return err
			}
		}
		p.ClipFrac = clipped / float64(len(terms))
		p.GradNorm = r.m.ClipGradients(r.cfg.Clip)
		k := r.step*r.cfg.Epochs + e
		h := r.cfg.adamW(k, r.cfg.Steps*r.cfg.Epochs)
		p.LR = float64(h.LR)
		var before []float32
		if r.cfg.Trust > 0 {
			before = r.m.Weights()
		}
		r.m.Step(h)
		if r.cfg.Trust > 0 {
			kept, shift, err := r.keepInTrust(before, terms, ids, sel, seq)
			if err != nil {
				return err
			}
			p.StepKept, p.Shift = min(p.StepKept, kept), shift
		}
	}
	return nil
}

// trustCuts is how many times a step may be halved before it is dropped.
const trustCuts = 8

// keepInTrust cuts the step just taken from weights before, halving it
// until no term's log-likelihood lies further than the trust bound from
// the rollout policy's (dropping it after trustCuts halvings). AdamW
// sizes every weight's step alike however weak its gradient, so a step
// dominated by a few unlikely tokens can move them by many nats at once,
// far outside the region PPO's clip assumes. It returns the share of the
// step kept and the largest move that remains.
func (r *ParaRL) keepInTrust(before []float32, terms []term, ids, sel []int32, seq int) (kept, shift float64, err error) {
	if shift, err = r.largestShift(terms, ids, sel, seq); err != nil || shift <= r.cfg.Trust {
		return 1, shift, err
	}
	after := r.m.Weights()
	w := make([]float32, len(after))
	for kept = 1; shift > r.cfg.Trust; {
		kept /= 2
		if kept < 1.0/(1<<trustCuts) {
			kept = 0
		}
		for i := range w {
			w[i] = before[i] + float32(kept)*(after[i]-before[i])
		}
		r.m.SetWeights(w)
		if shift, err = r.largestShift(terms, ids, sel, seq); err != nil || kept == 0 {
			return kept, shift, err
		}
	}
	return kept, shift, nil
}

// largestShift is the largest |log π(token) − log π_old(token)| over the
// terms, under the policy's current weights.
func (r *ParaRL) largestShift(terms []term, ids, sel []int32, seq int) (float64, error) {
	l, err := r.m.Logits(ids, len(ids)/seq, seq, sel)
	if err != nil {
		return 0, err
	}
	v, worst := r.vocab.Size(), 0.0
	for i := range terms {
		t := &terms[i]
		lp, _ := logProb(l[t.row*v:(t.row+1)*v], t)
		worst = max(worst, math.Abs(lp-t.old))
	}
	return worst, nil
}

// trainChunk is how many sequences one forward of the update holds
// activations for.
const trainChunk = 32

// rowsIn counts the selected rows (flat positions, sequence by sequence)
// that lie in the first k sequences of seq tokens.
func rowsIn(sel []int32, seq, k int) int {
	i, _ := slices.BinarySearch(sel, int32(k*seq))
	return i
}

// rollouts samples G trajectories for each of the batch's prompts and
// scores each at its chosen steps, timing both in p. With informative, a
// prompt whose rollouts all score alike is dropped and more are drawn, a
// round at a time, until the batch has its prompts or draws prompts have
// been tried; p.Informative is the share of those drawn that differed.
func (r *ParaRL) rollouts(ctx context.Context, p *RLProgress) (kept, all []*trajectory, err error) {
	G := r.cfg.Group
	drawn, informative := 0, 0
	for {
		need := r.cfg.Prompts - len(kept)/G
		if r.cfg.Informative {
			need = min(need, r.cfg.Draws-drawn)
		}
		if need <= 0 || !r.cfg.Informative && drawn > 0 {
			break
		}
		trajs, err := r.sampleGroups(ctx, drawn, need, p)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, trajs...)
		drawn += need
		for g := range need {
			group := trajs[g*G : (g+1)*G]
			differ := slices.ContainsFunc(group, func(t *trajectory) bool { return t.reward != group[0].reward })
			if differ {
				informative++
			}
			if differ || !r.cfg.Informative {
				kept = append(kept, group...)
			}
		}
	}
	p.Informative = float64(informative) / float64(drawn)
	return kept, all, nil
}

// sampleGroups samples G trajectories for each of n prompts, the
// batch's prompts from the first'th on, all stepped together (one model
// call a step), and scores each at its chosen steps.
func (r *ParaRL) sampleGroups(ctx context.Context, first, n int, p *RLProgress) ([]*trajectory, error) {
	began := time.Now()
	// The prompts of a batch are the stream's from batch·stride on.
	batch := r.step
	if r.cfg.Repeat {
		batch = 0
	}
	task := r.cfg.task(batch)
	stride := r.cfg.Prompts
	if r.cfg.Informative {
		stride = r.cfg.Draws
	}
	var trajs []*trajectory
	var steppers []*sample.Stepper
	cases, prompts := make([]world.Case, n), make([]sample.Prompt, n)
	for k := range n {
		d := first + k
		cases[k] = trainingCase(r.cfg.Seed, batch*stride+d, task, r.kinds)
		pr, err := sample.PromptOf(cases[k], r.cb)
		if err != nil {
			return nil, err
		}
		prompts[k] = pr
		for i := range r.cfg.Group {
			sc := r.cfg.Sampler
			sc.Seed = rolloutSeed(r.cfg.Seed, r.step, d*r.cfg.Group+i)
			st, err := sample.New(r.m, r.vocab, sc, pr)
			if err != nil {
				return nil, err
			}
			steppers = append(steppers, st)
			trajs = append(trajs, &trajectory{st: st})
		}
	}
	for !steppers[0].Done() {
		if _, err := sample.StepTogether(ctx, r.m, steppers); err != nil {
			return nil, err
		}
	}
	p.Sampling += time.Since(began)
	began = time.Now()
	defer func() { p.Scoring += time.Since(began) }()
	for i, t := range trajs {
		// One draw of steps per group: a partial output's score rises with
		// its step, so rollouts scored at different steps would be ranked
		// by when they were scored, not by how well they agree.
		k := i / r.cfg.Group
		rnd := rand.New(rand.NewPCG(rolloutSeed(r.cfg.Seed, r.step, first+k), 0x5eed))
		t.steps = chooseSteps(rnd, t.st.Steps(), r.cfg.RewardSteps, r.cfg.OutputOnly)
		hist := t.st.History()
		for _, s := range t.steps {
			v, err := r.reward.Reward(cases[k], prompts[k], hist[s])
			if err != nil {
				return nil, err
			}
			t.rewards = append(t.rewards, v)
		}
		t.reward, _ = meanStd(t.rewards)
		var err error
		if t.final, err = r.reward.Reward(cases[k], prompts[k], t.st.Last()); err != nil {
			return nil, err
		}
	}
	return trajs, nil
}

// rolloutSeed separates the randomness of every rollout of every batch.
func rolloutSeed(seed uint64, step, i int) uint64 {
	return seed*0x9e3779b97f4a7c15 + uint64(step)<<20 + uint64(i)
}

// chooseSteps picks s of the steps 1..total, uniformly without
// replacement, in order; output-only picks the last step.
func chooseSteps(r *rand.Rand, total, s int, outputOnly bool) []int {
	if outputOnly {
		return []int{total}
	}
	picked := r.Perm(total)[:min(s, total)]
	for i := range picked {
		picked[i]++
	}
	slices.Sort(picked)
	return picked
}

// advantages standardises rewards within a group; a group whose rewards
// are all equal teaches nothing and gets zeros.
func advantages(rewards []float64) []float64 {
	mean, std := meanStd(rewards)
	out := make([]float64, len(rewards))
	if std < 1e-8 {
		return out
	}
	for i, x := range rewards {
		out[i] = (x - mean) / std
	}
	return out
}

// meanStd is the mean and the population standard deviation.
func meanStd(x []float64) (mean, std float64) {
	if len(x) == 0 {
		return 0, 0
	}
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		std += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(std / float64(len(x)))
}

// term is one decoded token of one scored step: where its logits are, the
// policy its position drew from, what was chosen, and its share of the
// loss.
type term struct {
	row       int // its row among the selected positions
	policy    sample.Policy
	target    int32
	advantage float64
	weight    float64 // 1 / (trajectories · scored steps · decoded tokens)
	old, ref  float64 // log-likelihoods under the rollout policy and the reference
}

// lossInputs builds one model input per (trajectory, scored step), or
// per (trajectory, step) with everyStep: the state just before the step,
// with the positions it decoded selected (those credited, where the
// trajectory says).
func lossInputs(trajs []*trajectory, everyStep bool) (terms []term, ids, sel []int32, seq int) {
	n := 0
	for _, t := range trajs {
		hist := t.st.History()
		seq = t.st.SeqLen()
		steps := t.steps
		if everyStep {
			steps = make([]int, len(hist)-1)
			for i := range steps {
				steps[i] = i + 1
			}
		}
		for _, s := range steps {
			before, after := hist[s-1], hist[s]
			var decoded []int
			for o, at := range after.RevealedAt {
				if int(at) == s && before.Tokens[o] == token.Mask {
					decoded = append(decoded, o)
				}
			}
			// A step's weight is shared by all it decoded, credited or not.
			w := 1 / (float64(len(trajs)) * float64(len(steps)) * float64(len(decoded)))
			if t.credited != nil {
				decoded = slices.DeleteFunc(decoded, func(o int) bool { return !t.credited[o] })
			}
			if len(decoded) == 0 {
				continue
			}
			ids = append(ids, t.st.Input(before.Tokens)...)
			for _, o := range decoded {
				terms = append(terms, term{row: len(sel), policy: t.st.Policy(o), target: after.Tokens[o],
					advantage: t.advantage, weight: w})
				sel = append(sel, int32(n*seq+t.st.Position(o)))
			}
			n++
		}
	}
	return terms, ids, sel, seq
}

// logits runs m on the inputs (keeping its activations for a backward)
// and returns the logits on the host.
func (r *ParaRL) logits(m *model.Model, ids []int32, n, seq int, sel []int32) ([]float32, error) {
	buf, err := m.Forward(ids, n, seq, sel)
	if err != nil {
		return nil, err
	}
	host := make([]float32, buf.Len())
	m.Backend().Download(host, buf)
	return host, nil
}

// logProb is the log-likelihood of the term's target under its policy,
// given the conditional logits l (the config refuses guidance), and the
// policy's distribution (in the order of its choices).
func logProb(l []float32, t *term) (float64, []float64) {
	p := t.policy.Probs(t.policy.Logits(l, nil))
	at := slices.Index(t.policy.Choices, t.target)
	if at < 0 {
		return math.Inf(-1), p
	}
	return math.Log(p[at]), p
}

// objectiveStats describes one evaluation of the objective.
type objectiveStats struct {
	clipFrac float64 // tokens where the clipped term was the smaller
}

// grpoObjective is the loss Σ w·[−min(ρA, clip(ρ, 1−ε, 1+ε)A) + β·KL] over
// the terms, with ρ = exp(lp − lp_old) and the KL estimated per token as
// exp(lp_ref − lp) − (lp_ref − lp) − 1 (non-negative, zero where the
// policy equals the reference), and its gradient with respect to the
// logits ([rows, v], zero outside the terms' rows and choices).
func grpoObjective(terms []term, logits []float32, v int, eps, beta float64) (float64, []float32, objectiveStats) {
	grad := make([]float32, len(logits))
	loss, clipped := 0.0, 0
	for i := range terms {
		t := &terms[i]
		row := logits[t.row*v : (t.row+1)*v]
		lp, p := logProb(row, t)
		rho := math.Exp(lp - t.old)
		a := t.advantage
		surrogate, dSurrogate := rho*a, rho*a // d(ρA)/d lp = ρA
		if c := min(max(rho, 1-eps), 1+eps); c*a < rho*a {
			surrogate, dSurrogate = c*a, 0
			clipped++
		}
		d := t.ref - lp
		kl := math.Exp(d) - d - 1
		loss += t.weight * (-surrogate + beta*kl)
		dlp := t.weight * (-dSurrogate + beta*(1-math.Exp(d)))
		// d lp / d l_j = (1[j = target] − p_j) / τ over the choices.
		g := grad[t.row*v : (t.row+1)*v]
		for k, id := range t.policy.Choices {
			ind := 0.0
			if id == t.target {
				ind = 1
			}
			g[id] += float32(dlp * (ind - p[k]) / t.policy.Temperature)
		}
	}
	return loss, grad, objectiveStats{clipFrac: float64(clipped) / float64(max(len(terms), 1))}
}
