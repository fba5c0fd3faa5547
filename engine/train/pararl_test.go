package train

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"parascope/engine/bench"
	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/partial"
	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

func TestChooseSteps(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		got := chooseSteps(r, 20, 3, false)
		if len(got) != 3 || !slices.IsSorted(got) || got[0] < 1 || got[2] > 20 || got[0] == got[1] || got[1] == got[2] {
			t.Fatalf("chooseSteps(20, 3) = %v", got)
		}
	}
	if got := chooseSteps(r, 20, 3, true); !slices.Equal(got, []int{20}) {
		t.Errorf("output only: %v, want [20]", got)
	}
	if got := chooseSteps(r, 4, 9, false); !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Errorf("s above the step count: %v, want every step", got)
	}
	// Uniform: over many draws every step is picked about s/total of the time.
	counts := make([]int, 11)
	for range 20000 {
		for _, s := range chooseSteps(r, 10, 3, false) {
			counts[s]++
		}
	}
	for s := 1; s <= 10; s++ {
		if f := float64(counts[s]) / 20000; math.Abs(f-0.3) > 0.02 {
			t.Errorf("step %d chosen %.3f of the time, want 0.3", s, f)
		}
	}
}

func TestAdvantages(t *testing.T) {
	// mean 0.5, population σ = √0.05
	got := advantages([]float64{0.2, 0.4, 0.6, 0.8})
	s := math.Sqrt(0.05)
	want := []float64{-0.3 / s, -0.1 / s, 0.1 / s, 0.3 / s}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("advantages = %v, want %v", got, want)
		}
	}
	if got := advantages([]float64{0.7, 0.7, 0.7}); !slices.Equal(got, []float64{0, 0, 0}) {
		t.Errorf("equal rewards: %v, want zeros", got)
	}
	// A trajectory's reward is the mean of its steps' rewards.
	if m, _ := meanStd([]float64{0.1, 0.5, 0.9}); math.Abs(m-0.5) > 1e-15 {
		t.Errorf("mean %v", m)
	}
}

// The objective's gradient with respect to the logits against central
// differences, with advantages of both signs, ratios inside and outside
// the clip, and the KL term on.
func TestObjectiveGradient(t *testing.T) {
	const v, rows = 9, 6
	r := rand.New(rand.NewPCG(3, 3))
	logits := make([]float32, v*rows)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 2)
	}
	var terms []term
	for j := range rows {
		choices := []int32{1, 2, 4, 5, 7}
		if j%2 == 1 {
			choices = []int32{0, 3, 6, 8}
		}
		tm := term{row: j, policy: sample.Policy{Choices: choices, Temperature: 0.5 + 0.25*float64(j%3)}, target: choices[j%len(choices)],
			advantage: []float64{1.3, -0.8, 0.4, -1.7, 2.1, -0.2}[j], weight: 1 / float64(rows)}
		lp, _ := logProb(logits[j*v:(j+1)*v], &tm)
		// ratios from well inside to well outside [1−ε, 1+ε]
		tm.old = lp - []float64{0, 0.1, -0.4, -0.5, 0.4, 0.3}[j]
		tm.ref = lp + r.NormFloat64()*0.3
		terms = append(terms, tm)
	}
	const eps, beta = 0.2, 0.04
	loss, grad, stats := grpoObjective(terms, logits, v, eps, beta)
	if stats.clipFrac == 0 || stats.clipFrac == 1 {
		t.Fatalf("clip fraction %v: the test should hold clipped and unclipped tokens", stats.clipFrac)
	}
	const h = 1e-3
	maxDiff, maxRef := 0.0, 0.0
	for i := range logits {
		keep := logits[i]
		logits[i] = keep + h
		plus, _, _ := grpoObjective(terms, logits, v, eps, beta)
		logits[i] = keep - h
		minus, _, _ := grpoObjective(terms, logits, v, eps, beta)
		logits[i] = keep
		num := (plus - minus) / (float64(float32(keep+h)) - float64(float32(keep-h)))
		maxDiff = math.Max(maxDiff, math.Abs(num-float64(grad[i])))
		maxRef = math.Max(maxRef, math.Abs(num))
	}
	t.Logf("loss %.5f, clip fraction %.2f, max |analytic − numeric| %.2g of %.2g", loss, stats.clipFrac, maxDiff, maxRef)
	if maxDiff > 1e-3*maxRef {
		t.Fatalf("gradient differs from finite differences by %.3g (scale %.3g)", maxDiff, maxRef)
	}
}

// At the start the policy is the reference: the KL term and its gradient
// vanish, and the ratio is 1, so the gradient is the plain policy
// gradient −w·A·∇lp.
func TestKLIsZeroAtTheStart(t *testing.T) {
	logits := []float32{0.3, -1.2, 2.0, 0.7}
	tm := term{row: 0, policy: sample.Policy{Choices: []int32{0, 1, 2, 3}, Temperature: 1}, target: 2, advantage: 0.5, weight: 1}
	lp, p := logProb(logits, &tm)
	tm.old, tm.ref = lp, lp
	loss, grad, _ := grpoObjective([]term{tm}, logits, 4, 0.2, 0.04)
	if math.Abs(loss+0.5) > 1e-12 {
		t.Errorf("loss %v, want −A = −0.5 (ratio 1, KL 0)", loss)
	}
	for j := range grad {
		ind := 0.0
		if j == 2 {
			ind = 1
		}
		if want := -0.5 * (ind - p[j]); math.Abs(float64(grad[j])-want) > 1e-7 {
			t.Errorf("grad[%d] = %v, want %v", j, grad[j], want)
		}
	}
}

// codeShare rewards the share of the picture's revealed tokens that are
// among the first few codes: a known reward the policy can learn.
type codeShare struct{ vocab *token.Vocab }

func (c codeShare) Reward(_ world.Case, _ sample.Prompt, f sample.Frame) (float64, error) {
	hit, seen := 0, 0
	for _, id := range f.Tokens[:token.ImageTokens] {
		if id == token.Mask {
			continue
		}
		seen++
		if int(id)-c.vocab.ImageOffset() < 32 {
			hit++
		}
	}
	if seen == 0 {
		return 0, nil
	}
	return float64(hit) / float64(seen), nil
}

func tinyRL(t *testing.T) (ParaRLConfig, *model.Model, *model.Model, *vq.Codebook) {
	t.Helper()
	cb := vq.Default()
	vocab := token.New(cb.K())
	cfg := DefaultParaRL()
	cfg.Steps, cfg.Prompts, cfg.Group, cfg.CheckpointEvery = 30, 2, 8, 100
	cfg.Sampler.Steps = 6
	cfg.LR, cfg.MinLR, cfg.Warmup = 3e-3, 3e-3, 0
	shape := model.Config{Layers: 1, DModel: 32, Heads: 2, MLP: 64, Vocab: vocab.Size(), RopeTheta: 10000, NormEps: 1e-5, MaxLen: 160}
	m, err := model.New(shape, nn.CPU{})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(5)
	ref, _ := model.New(shape, nn.CPU{})
	ref.SetWeights(m.Weights())
	return cfg, m, ref, cb
}

// meanReward samples fresh rollouts (seeds no batch uses) and averages
// their final rewards.
func meanReward(t *testing.T, r *ParaRL, n int) float64 {
	t.Helper()
	total := 0.0
	for i := range n {
		c := trainingCase(99, i, r.cfg.task(0), r.kinds)
		p, err := sample.PromptOf(c, r.cb)
		if err != nil {
			t.Fatal(err)
		}
		sc := r.cfg.Sampler
		sc.Seed = 1_000_000 + uint64(i)
		st, err := sample.New(r.m, r.vocab, sc, p)
		if err != nil {
			t.Fatal(err)
		}
		for !st.Done() {
			if _, err := st.Step(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		v, _ := r.reward.Reward(world.Case{}, sample.Prompt{}, st.Last())
		total += v
	}
	return total / float64(n)
}

// A toy with a known reward: the policy must move toward it, and the KL to
// the reference starts at zero and grows.
func TestPolicyMovesTowardTheReward(t *testing.T) {
	cfg, m, ref, cb := tinyRL(t)
	r, err := NewParaRL(cfg, m, ref, codeShare{token.New(cb.K())}, cb, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	before := meanReward(t, r, 16)
	var first, last RLProgress
	err = r.Run(context.Background(), func(p RLProgress) {
		if p.Step == 1 {
			first = p
		}
		last = p
	})
	if err != nil {
		t.Fatal(err)
	}
	after := meanReward(t, r, 16)
	t.Logf("reward on fresh rollouts %.3f → %.3f; batch reward %.3f → %.3f; KL %.2g → %.2g; clip fraction %.2f",
		before, after, first.Reward, last.Reward, first.KL, last.KL, last.ClipFrac)
	if first.KL != 0 {
		t.Errorf("KL before any update is %v, want 0", first.KL)
	}
	if last.KL <= 0 {
		t.Errorf("KL after training is %v, want > 0", last.KL)
	}
	if after < before+0.1 {
		t.Errorf("the reward moved from %.3f to %.3f: the policy did not learn it", before, after)
	}
}

// A run killed after a checkpoint and resumed ends with the same weights
// as one that ran through.
func TestParaRLResumesExactly(t *testing.T) {
	cfg, m, ref, cb := tinyRL(t)
	cfg.Steps, cfg.CheckpointEvery = 3, 1
	start := m.Weights()
	reward := codeShare{token.New(cb.K())}
	throughDir := t.TempDir()
	through, _ := NewParaRL(cfg, m, ref, reward, cb, throughDir)
	if err := through.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}

	_, m2, _, _ := tinyRL(t)
	m2.SetWeights(start)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	first, _ := NewParaRL(cfg, m2, ref, reward, cb, dir)
	first.Run(ctx, func(p RLProgress) {
		if p.Step == 2 {
			cancel()
		}
	})
	// A batch done after the last checkpoint is redone on resume: its
	// line in the log goes.
	log, _ := os.OpenFile(filepath.Join(dir, LogFile), os.O_WRONLY|os.O_APPEND, 0)
	log.WriteString(`{"Step":3,"Reward":-1}` + "\n")
	log.Close()
	resumed, err := ResumeParaRL(dir+"/"+CheckpointFile, nn.CPU{}, cb, dir, func(ParaRLConfig) (*model.Model, Rewarder, error) {
		return ref, reward, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Step() != 2 {
		t.Fatalf("resumed at batch %d, want 2", resumed.Step())
	}
	if err := resumed.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(resumed.Model().Weights(), through.Model().Weights()) {
		t.Fatal("the resumed run's weights differ from the uninterrupted run's")
	}
	if a, b := readLog(t, throughDir), readLog(t, dir); !slices.Equal(a, b) || len(a) != 3 {
		t.Fatalf("logs of the run and of the resumed run:\n%v\n%v", a, b)
	}
}

// readLog is a run's log, each batch's step, reward and KL.
func readLog(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for line := range strings.Lines(string(b)) {
		var p RLProgress
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		out = append(out, fmt.Sprint(p.Step, p.Reward, p.KL))
	}
	return out
}

// BenchmarkParaRLBatch times whole batches (2 prompts × G = 8 rollouts of
// 20 steps, s = 3, two epochs) on the SFT recipe's model shape, and where
// the time goes. The reward here is cheap; CLIP scoring adds about 1–2 ms
// a scored step (clip.BenchmarkScore).
func BenchmarkParaRLBatch(b *testing.B) {
	cb := vq.Default()
	vocab := token.New(cb.K())
	shape := model.DefaultConfig(vocab.Size())
	sft := DefaultSFT().Model
	shape.Layers, shape.DModel, shape.Heads, shape.MLP = sft.Layers, sft.DModel, sft.Heads, sft.MLP
	m, _ := model.New(shape, nn.CPU{})
	m.Init(1)
	ref, _ := model.New(shape, nn.CPU{})
	ref.SetWeights(m.Weights())
	cfg := DefaultParaRL()
	cfg.Steps, cfg.CheckpointEvery = b.N, b.N
	r, err := NewParaRL(cfg, m, ref, codeShare{vocab}, cb, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	var split TimeSplit
	b.ResetTimer()
	err = r.Run(context.Background(), func(p RLProgress) { split.Add(p.TimeSplit) })
	if err != nil {
		b.Fatal(err)
	}
	sampling, scoring, update, _ := split.Percent()
	b.ReportMetric(float64(b.N*cfg.Prompts*cfg.Group)/b.Elapsed().Seconds(), "traj/s")
	b.ReportMetric(sampling, "%sampling")
	b.ReportMetric(scoring, "%scoring")
	b.ReportMetric(update, "%update")
}

// The rollouts of one prompt are scored at the same steps (a partial
// output's score depends on its step), and different prompts draw anew.
func TestGroupSharesScoredSteps(t *testing.T) {
	cfg, m, ref, cb := tinyRL(t)
	cfg.Prompts, cfg.Group, cfg.Sampler.Steps = 3, 4, 20
	r, err := NewParaRL(cfg, m, ref, codeShare{token.New(cb.K())}, cb, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	trajs, _, err := r.rollouts(context.Background(), &RLProgress{})
	if err != nil {
		t.Fatal(err)
	}
	var drawn [][]int
	for g := range cfg.Prompts {
		first := trajs[g*cfg.Group].steps
		for _, tr := range trajs[g*cfg.Group : (g+1)*cfg.Group] {
			if !slices.Equal(tr.steps, first) {
				t.Fatalf("group %d scores steps %v and %v", g, first, tr.steps)
			}
		}
		drawn = append(drawn, first)
	}
	if slices.EqualFunc(drawn[1:], drawn[:len(drawn)-1], slices.Equal) {
		t.Errorf("every group drew the steps %v", drawn[0])
	}
}

// halfConstant rewards the prompts with an instruction of even length
// alike, whatever their rollouts do, and the others by codeShare.
type halfConstant struct{ codeShare }

func (h halfConstant) Reward(c world.Case, p sample.Prompt, f sample.Frame) (float64, error) {
	if len(c.Instruction)%2 == 0 {
		return 0.5, nil
	}
	return h.codeShare.Reward(c, p, f)
}

// With informative, groups whose rollouts all score alike are dropped
// and more prompts drawn, up to draws; the share of informative ones is
// reported over all drawn, and without it every group trains.
func TestInformativeGroupsOnly(t *testing.T) {
	cfg, m, ref, cb := tinyRL(t)
	cfg.Prompts, cfg.Group, cfg.Draws, cfg.Informative = 2, 4, 6, true
	r, err := NewParaRL(cfg, m, ref, halfConstant{codeShare{token.New(cb.K())}}, cb, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var p RLProgress
	kept, all, err := r.rollouts(context.Background(), &p)
	if err != nil {
		t.Fatal(err)
	}
	informative := 0
	for g := range len(all) / cfg.Group {
		group := all[g*cfg.Group : (g+1)*cfg.Group]
		if slices.ContainsFunc(group, func(t *trajectory) bool { return t.reward != group[0].reward }) {
			informative++
		} else if slices.Contains(kept, group[0]) {
			t.Errorf("group %d scores alike and was kept", g)
		}
	}
	drawn := len(all) / cfg.Group
	if informative == 0 || informative == drawn {
		t.Fatalf("%d of %d groups informative: the test needs both kinds", informative, drawn)
	}
	if len(kept) != min(informative, cfg.Prompts)*cfg.Group || drawn > cfg.Draws || (informative < cfg.Prompts) != (drawn == cfg.Draws) {
		t.Errorf("kept %d rollouts of %d groups drawn, %d informative", len(kept), drawn, informative)
	}
	if want := float64(informative) / float64(drawn); p.Informative != want {
		t.Errorf("informative share %g, want %g", p.Informative, want)
	}

	cfg.Informative = false
	r, _ = NewParaRL(cfg, m, ref, halfConstant{codeShare{token.New(cb.K())}}, cb, t.TempDir())
	kept, all, err = r.rollouts(context.Background(), &p)
	if err != nil || len(kept) != cfg.Prompts*cfg.Group || len(all) != len(kept) {
		t.Fatalf("without informative: kept %d of %d, %v", len(kept), len(all), err)
	}
}

// An update over chunks of sequences is the update over all at once, and
// credit = "all" trains the tokens of every step.
func TestUpdateInChunks(t *testing.T) {
	cfg, m, ref, cb := tinyRL(t)
	cfg.Prompts, cfg.Group, cfg.Sampler.Steps, cfg.Credit, cfg.Epochs = 2, 4, 8, CreditAll, 1
	start := m.Weights()
	reward := codeShare{token.New(cb.K())}
	var grads [][]float32
	for _, chunk := range []int{1000, 5} {
		m.SetWeights(start)
		r, err := NewParaRL(cfg, m, ref, reward, cb, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		r.chunk = chunk
		trajs, _, err := r.rollouts(context.Background(), &RLProgress{})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, seq := lossInputs(trajs, true); seq == 0 {
			t.Fatal("no inputs")
		}
		if _, ids, _, seq := lossInputs(trajs, true); len(ids)/seq != cfg.Prompts*cfg.Group*cfg.Sampler.RunSteps() {
			t.Fatalf("%d sequences, want one a step of every rollout", len(ids)/seq)
		}
		p, err := r.batch(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if p.Update <= 0 || p.Sampling <= 0 {
			t.Fatalf("a batch's time split %+v: the update is not counted", p.TimeSplit)
		}
		grads = append(grads, m.Gradients()) // Adam's first step is their signs: compare the gradients
	}
	worst, scale := 0.0, 0.0
	for i := range grads[0] {
		worst = max(worst, math.Abs(float64(grads[0][i]-grads[1][i])))
		scale = max(scale, math.Abs(float64(grads[0][i])))
	}
	if worst > 1e-5*scale || scale == 0 {
		t.Fatalf("chunked gradient differs by %g at scale %g", worst, scale)
	}
}

func TestTimeSplit(t *testing.T) {
	var s TimeSplit
	if _, _, _, ok := s.Percent(); ok {
		t.Fatal("an empty split has shares")
	}
	s.Add(TimeSplit{Sampling: 3 * time.Second, Scoring: time.Second})
	s.Add(TimeSplit{Sampling: time.Second, Update: 5 * time.Second})
	if a, b, c, ok := s.Percent(); !ok || a != 40 || b != 10 || c != 50 {
		t.Fatalf("shares %v %v %v (ok %v), want 40 10 50", a, b, c, ok)
	}
}

// A ParaRL config with guidance, or a temperature of 0, names the key and
// the line that sets it; a run built from it in code does not start.
func TestParaRLRefusesWhatItsLikelihoodDoesNotModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pararl.toml")
	os.WriteFile(path, []byte("[sampler.text]\ncfg = 1.5\n\n[sampler.image]\ntemperature = 0\ncfg = 2.0\n"), 0o644)
	_, err := LoadParaRL(path)
	for _, want := range []string{":2: sampler.text.cfg: 1.5", ":5: sampler.image.temperature: 0", ":6: sampler.image.cfg: 2"} {
		if err == nil || !strings.Contains(err.Error(), path+want) {
			t.Errorf("got %v, want an error with %q", err, path+want)
		}
	}
	cfg, m, ref, cb := tinyRL(t)
	cfg.Sampler.Image.CFG = 1
	if _, err := NewParaRL(cfg, m, ref, codeShare{token.New(cb.K())}, cb, t.TempDir()); err == nil || !strings.Contains(err.Error(), "sampler.image.cfg") {
		t.Errorf("a guided sampler started a run: %v", err)
	}
}

// fixedLogits is a model that gives every position the same logits.
type fixedLogits []float32

func (m fixedLogits) Logits(ids []int32, batch, seq int, sel []int32) ([]float32, error) {
	out := make([]float32, 0, len(sel)*len(m))
	for range sel {
		out = append(out, m...)
	}
	return out, nil
}

// The tokens the sampler commits are distributed as ParaRL's likelihood
// says: over many one-step rollouts (every position decoded at step 1),
// each token's count matches the sum of its probability over the terms
// that score those positions, for the text (Gumbel-max) and the picture
// (multinomial) alike. A change to either side's choices or temperature
// moves some count by many standard deviations.
func TestLikelihoodIsTheSamplersPolicy(t *testing.T) {
	cb := vq.Default()
	vocab := token.New(cb.K())
	r := rand.New(rand.NewPCG(4, 4))
	m := make(fixedLogits, vocab.Size())
	for i := range m {
		m[i] = float32(r.NormFloat64() * 1.5)
	}
	m[token.EOS], m[token.Pad] = 2, 1.5 // the text's end has a share to lose
	cfg := DefaultParaRL()
	cfg.Sampler.Steps = 1
	c := trainingCase(1, 0, cfg.task(0), nil)
	p, err := sample.PromptOf(c, cb)
	if err != nil {
		t.Fatal(err)
	}
	trajs := rollGroup(t, m, vocab, cfg.Sampler, p, 300)
	for _, tr := range trajs {
		tr.steps = []int{1}
	}
	terms, _, _, _ := lossInputs(trajs, false)
	observed, expected := map[int32]float64{}, map[int32]float64{}
	for i := range terms {
		tm := &terms[i]
		_, q := logProb(m, tm)
		observed[tm.target]++
		for k, id := range tm.policy.Choices {
			expected[id] += q[k]
		}
	}
	if want := len(trajs) * (token.ImageTokens + token.ReasoningLen); len(terms) != want {
		t.Fatalf("%d terms, want every position of every rollout (%d)", len(terms), want)
	}
	worst := 0.0
	for id := range vocab.Size() {
		o, e := observed[int32(id)], expected[int32(id)]
		// Poisson-like counts: five standard deviations, with room for the
		// rare tokens whose expected count is near zero.
		if math.Abs(o-e) > 5*math.Sqrt(e)+3 {
			t.Errorf("token %d committed %v times, ParaRL's likelihood expects %.1f", id, o, e)
		}
		worst = math.Max(worst, math.Abs(o-e)/math.Sqrt(e+1))
	}
	t.Logf("%d tokens; largest deviation %.2f standard deviations", len(terms), worst)
}

// The oracle's reward is the judge's output alignment of what a frame has
// committed: 1 for the case's own answer, less with its picture masked
// (then nothing is drawn), and less again with a wrong reasoning.
func TestJudgeRewardIsTheJudgesOutputAlignment(t *testing.T) {
	cb := vq.Default()
	vocab := token.New(cb.K())
	c := world.GenerateKind(3, 0, world.Recolour)
	seq, err := vocab.BuildCase(cb, c)
	if err != nil {
		t.Fatal(err)
	}
	l := seq.Layout
	out := append(slices.Clone(seq.IDs[l.OutputImage.Start:l.OutputImage.End]), seq.IDs[l.OutputText.Start:l.OutputText.End]...)
	frame := func(masked func(i int) bool) sample.Frame {
		f := sample.Frame{Tokens: make([]int32, len(out)), RevealedAt: make([]int16, len(out))}
		for i, id := range out {
			f.Tokens[i], f.RevealedAt[i] = int32(id), 1
			if masked(i) {
				f.Tokens[i], f.RevealedAt[i] = token.Mask, -1
			}
		}
		return f
	}
	r := JudgeReward{Vocab: vocab, Codebook: cb}
	reward := func(f sample.Frame) float64 {
		v, err := r.Reward(c, sample.Prompt{}, f)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	whole := reward(frame(func(int) bool { return false }))
	noPicture := reward(frame(func(i int) bool { return i < vocab.ImageLen() }))
	if whole != 1 || !(noPicture < whole) {
		t.Fatalf("reward of the answer %g, with its picture masked %g", whole, noPicture)
	}
	s, err := partial.Judge(c, frame(func(int) bool { return false }), vocab, cb)
	if err != nil || s.OutputAlignment != 100 {
		t.Fatalf("judge.Frame of the answer: %+v %v", s, err)
	}
}

// On the embedded model, the update's forward gives every decoded token
// the probability the sampler drew it with (Frame.Probability, at
// temperature 1): the update sees the same inputs, positions and rows as
// the rollout did, at every step and for both tasks.
func TestUpdateSeesWhatTheRolloutSaw(t *testing.T) {
	cb := vq.Default()
	vocab := token.New(cb.K())
	m, err := model.Default(nn.CPU{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultParaRL()
	cfg.Sampler.Steps = 10
	kinds, _ := cfg.kinds()
	r := &ParaRL{cfg: cfg, m: m, vocab: vocab, cb: cb}
	for batch := range 2 { // a generation, then an edit
		c := trainingCase(1, batch, cfg.task(batch*(cfg.GenEvery-1)), kinds)
		p, err := sample.PromptOf(c, cb)
		if err != nil {
			t.Fatal(err)
		}
		trajs := rollGroup(t, m, vocab, cfg.Sampler, p, 2)
		terms, ids, sel, seq := lossInputs(trajs, true)
		host, err := r.logits(m, ids, len(ids)/seq, seq, sel)
		if err != nil {
			t.Fatal(err)
		}
		// The terms follow the trajectories, their steps and positions in order.
		k, v := 0, vocab.Size()
		for _, tr := range trajs {
			hist := tr.st.History()
			for s := 1; s < len(hist); s++ {
				for o, at := range hist[s].RevealedAt {
					if int(at) != s || hist[s-1].Tokens[o] != token.Mask {
						continue
					}
					tm := terms[k]
					k++
					l := tm.policy.Logits(host[tm.row*v:(tm.row+1)*v], nil)
					at := slices.Index(tm.policy.Choices, tm.target)
					got := sample.Policy{Temperature: 1}.Probs(l)[at]
					if want := float64(hist[s].Probability[o]); math.Abs(got-want) > 1e-5 {
						t.Fatalf("%v, step %d, position %d: the update gives %.6f, the rollout drew it at %.6f", c.Task, s, o, got, want)
					}
				}
			}
		}
		if k != len(terms) || k == 0 {
			t.Fatalf("%d decoded tokens, %d terms", k, len(terms))
		}
	}
}

// eval_every checks the starting policy, every N batches and the last on held-out
// cases, over all and kind by kind, in the progress and in the log.
func TestHeldOutChecks(t *testing.T) {
	cfg, m, ref, cb := tinyRL(t)
	cfg.Steps, cfg.EvalEvery, cfg.EvalCases = 3, 2, 6
	dir := t.TempDir()
	r, err := NewParaRL(cfg, m, ref, codeShare{token.New(cb.K())}, cb, dir)
	if err != nil {
		t.Fatal(err)
	}
	var checked []int
	err = r.Run(context.Background(), func(p RLProgress) {
		if p.HeldOut == nil {
			return
		}
		checked = append(checked, p.Step)
		count := map[string]int{}
		for _, c := range bench.Suite(cfg.EvalSeed, cfg.EvalCases) {
			count[bench.Kind(c)]++
		}
		sum := 0.0
		for k, n := range count {
			v, ok := p.HeldOutKinds[k]
			if !ok {
				t.Errorf("batch %d: no held-out figure for %s", p.Step, k)
			}
			sum += v * float64(n)
		}
		if len(p.HeldOutKinds) != len(count) || math.Abs(sum/float64(cfg.EvalCases)-*p.HeldOut) > 1e-9 {
			t.Errorf("batch %d: kinds %v do not make up %v", p.Step, p.HeldOutKinds, *p.HeldOut)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(checked, []int{0, 2, 3}) {
		t.Fatalf("held-out checks after batches %v, want 0, 2 and the last, 3", checked)
	}
	b, err := os.ReadFile(filepath.Join(dir, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte(`"HeldOutKinds"`)); n != 3 {
		t.Fatalf("%d log lines with held-out kinds, want 3:\n%s", n, b)
	}
}

// An AdamW step sizes every weight's move alike, however weak its
// gradient: on a batch whose gradient a few unlikely tokens dominate, one
// step moves them by many nats, far outside the region PPO's clip assumes
// (the fault: without a bound, some batch here moves a token by more than
// the bound). With trust, no decoded token of a batch ends further than
// the bound from the rollout policy, measured here apart from the run's
// own report.
func TestTrustBoundsEveryUpdate(t *testing.T) {
	const bound = 0.2
	largest := func(trust float64) (worst float64, cut bool) {
		cfg, m, ref, cb := tinyRL(t)
		cfg.Trust = trust
		r, err := NewParaRL(cfg, m, ref, codeShare{token.New(cb.K())}, cb, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		for range 6 {
			var p RLProgress
			trajs, _, err := r.rollouts(context.Background(), &p)
			if err != nil {
				t.Fatal(err)
			}
			r.setAdvantages(trajs)
			terms, ids, sel, seq := lossInputs(trajs, false)
			logProbs := func() []float64 {
				l, err := m.Logits(ids, len(ids)/seq, seq, sel)
				if err != nil {
					t.Fatal(err)
				}
				out := make([]float64, len(terms))
				for i := range terms {
					v := r.vocab.Size()
					out[i], _ = logProb(l[terms[i].row*v:(terms[i].row+1)*v], &terms[i])
				}
				return out
			}
			old := logProbs()
			if err := r.update(trajs, &p); err != nil {
				t.Fatal(err)
			}
			moved := 0.0
			for i, lp := range logProbs() {
				moved = max(moved, math.Abs(lp-old[i]))
			}
			if trust > 0 && math.Abs(moved-p.Shift) > 1e-9 {
				t.Fatalf("batch %d: the run reports a shift of %v, measured %v", r.step+1, p.Shift, moved)
			}
			worst, cut = max(worst, moved), cut || p.StepKept < 1
			r.step++
		}
		return worst, cut
	}
	free, _ := largest(0)
	bounded, cut := largest(bound)
	t.Logf("largest move of a decoded token's log-likelihood in a batch: %.2f nats unbounded, %.2f with trust %g", free, bounded, bound)
	if free <= bound {
		t.Fatalf("without a bound no token moved more than %.2f nats: the toy does not show the fault", free)
	}
	if bounded > bound+1e-9 || !cut {
		t.Fatalf("with trust %g a token moved %.2f nats (steps cut: %v)", bound, bounded, cut)
	}
}

// credit = "differing" trains, at every step, only the tokens decoded at
// positions where the group's final outputs differ, each with its step's
// full weight share.
func TestCreditDiffering(t *testing.T) {
	// The embedded model's rollouts agree on most positions, not all.
	cb := vq.Default()
	m, err := model.Default(nn.CPU{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultParaRL()
	cfg.Prompts, cfg.Group, cfg.Sampler.Steps, cfg.Credit = 2, 4, 10, CreditDiffering
	cfg.EditKinds = []string{"swap"}
	r, err := NewParaRL(cfg, m, m, codeShare{token.New(cb.K())}, cb, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var p RLProgress
	trajs, _, err := r.rollouts(context.Background(), &p)
	if err != nil {
		t.Fatal(err)
	}
	all, _, _, _ := lossInputs(trajs, true)
	r.setAdvantages(trajs)
	terms, _, sel, seq := lossInputs(trajs, true)
	want, agreed := 0, 0
	k := 0
	for g := range cfg.Prompts {
		group := trajs[g*cfg.Group : (g+1)*cfg.Group]
		for _, tr := range group {
			hist := tr.st.History()
			for s := 1; s < len(hist); s++ {
				decoded := 0
				var credited []int
				for o, at := range hist[s].RevealedAt {
					if int(at) != s || hist[s-1].Tokens[o] != token.Mask {
						continue
					}
					decoded++
					differs := slices.ContainsFunc(group, func(u *trajectory) bool { return u.st.Last().Tokens[o] != group[0].st.Last().Tokens[o] })
					if differs {
						credited = append(credited, o)
					} else {
						agreed++
					}
				}
				w := 1 / (float64(len(trajs)) * float64(len(hist)-1) * float64(decoded))
				for _, o := range credited {
					tm := terms[k]
					if int(sel[k])%seq != tr.st.Position(o) || math.Abs(tm.weight-w) > 1e-15 || tm.advantage != tr.advantage {
						t.Fatalf("term %d: position %d weight %g advantage %g, want position %d weight %g advantage %g",
							k, int(sel[k])%seq, tm.weight, tm.advantage, tr.st.Position(o), w, tr.advantage)
					}
					k++
				}
				want += len(credited)
			}
		}
	}
	if k != len(terms) || want != len(terms) || agreed == 0 || want == 0 {
		t.Fatalf("%d terms, %d credited positions, %d left out", len(terms), want, agreed)
	}
	if len(all) != want+agreed {
		t.Fatalf("with every position %d terms, want %d", len(all), want+agreed)
	}
	t.Logf("%d of %d decoded tokens credited", want, len(all))
}

// repeat draws the first batch's prompts every batch, with fresh
// rollouts; without it every batch has prompts of its own.
func TestRepeatDrawsTheFirstBatchsPrompts(t *testing.T) {
	for _, repeat := range []bool{false, true} {
		cfg, m, ref, cb := tinyRL(t)
		cfg.Repeat, cfg.EditKinds = repeat, []string{"swap"}
		r, err := NewParaRL(cfg, m, ref, codeShare{token.New(cb.K())}, cb, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var prompts, finals [2][]int32
		for b := range 2 {
			r.step = b
			trajs, err := r.sampleGroups(context.Background(), 0, 1, &RLProgress{})
			if err != nil {
				t.Fatal(err)
			}
			st := trajs[0].st
			prompts[b], finals[b] = st.Input(st.History()[0].Tokens), st.Last().Tokens
		}
		if same := slices.Equal(prompts[0], prompts[1]); same != repeat {
			t.Errorf("repeat %v: the two batches' prompts are the same: %v", repeat, same)
		}
		if slices.Equal(finals[0], finals[1]) {
			t.Errorf("repeat %v: the two batches' first rollouts are the same", repeat)
		}
	}
}

// rollGroup samples n rollouts of prompt p (seeds 0…n−1), stepped
// together to the end.
func rollGroup(t *testing.T, m sample.Model, vocab *token.Vocab, sc sample.Config, p sample.Prompt, n int) []*trajectory {
	t.Helper()
	var group []*sample.Stepper
	var trajs []*trajectory
	for i := range n {
		sc.Seed = uint64(i)
		st, err := sample.New(m, vocab, sc, p)
		if err != nil {
			t.Fatal(err)
		}
		group = append(group, st)
		trajs = append(trajs, &trajectory{st: st})
	}
	for !group[0].Done() {
		if _, err := sample.StepTogether(context.Background(), m, group); err != nil {
			t.Fatal(err)
		}
	}
	return trajs
}

// A batch whose groups ended alike everywhere has nothing to credit
// where outputs differ: the update leaves the policy as it was.
func TestCreditDifferingWithNothingToCredit(t *testing.T) {
	cfg, m, ref, cb := tinyRL(t)
	cfg.Credit = CreditDiffering
	r, err := NewParaRL(cfg, m, ref, codeShare{token.New(cb.K())}, cb, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := trainingCase(1, 0, cfg.task(0), nil)
	p, err := sample.PromptOf(c, cb)
	if err != nil {
		t.Fatal(err)
	}
	sc := cfg.Sampler
	// The argmax, committed in order of confidence alone: every rollout alike.
	sc.Text.Temperature, sc.Image.Temperature, sc.Image.RemaskTemperature = 0, 0, 0
	trajs := rollGroup(t, m, r.vocab, sc, p, cfg.Group)
	for i, tr := range trajs {
		tr.advantage = float64(i%2)*2 - 1
	}
	creditDiffering(trajs)
	before := m.Weights()
	if err := r.update(trajs, &RLProgress{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, m.Weights()) {
		t.Fatal("the update moved the policy with nothing credited")
	}
}
