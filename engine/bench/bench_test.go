package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

func TestSuite(t *testing.T) {
	cases := Suite(DefaultSeed, DefaultCases)
	kinds := map[world.EditKind]int{}
	gens := 0
	for _, c := range cases {
		if !c.HeldOut() {
			t.Fatal("a suite case is not held out")
		}
		if c.Task == world.ThinkGen {
			gens++
		} else {
			kinds[c.Edit]++
		}
	}
	if len(cases) != 300 || gens != 100 {
		t.Fatalf("%d cases, %d generations", len(cases), gens)
	}
	for _, k := range world.EditKinds() {
		if kinds[k] != 25 {
			t.Errorf("%s: %d cases, want 25", k, kinds[k])
		}
	}
	if !reflect.DeepEqual(Suite(DefaultSeed, 30), cases[:30]) {
		t.Fatal("the suite depends on its length")
	}
}

// oracle is a fake model that knows every suite case's answer: it finds
// the case by its instruction and prefers the target token everywhere.
type oracle struct {
	v       *token.Vocab
	answers map[string][]int
}

func newOracle(t *testing.T, v *token.Vocab, cb *vq.Codebook, cases []world.Case) *oracle {
	o := &oracle{v: v, answers: map[string][]int{}}
	for _, c := range cases {
		p := token.Parts{Task: c.Task, Instruction: c.Instruction, Reasoning: c.Reasoning}
		p.Output, _ = cb.Encode(world.Render(c.Target))
		if c.Task == world.ThinkEdit {
			p.Input, _ = cb.Encode(world.Render(c.Input))
		}
		seq, err := v.Build(p)
		if err != nil {
			t.Fatal(err)
		}
		l := seq.Layout
		o.answers[fmt.Sprint(seq.IDs[:l.Instruction.End])] = seq.IDs
	}
	return o
}

func (o *oracle) Logits(ids []int32, batch, seq int, sel []int32) ([]float32, error) {
	V := o.v.Size()
	out := make([]float32, len(sel)*V)
	// Cases are told apart by their input part: task, picture, instruction.
	task := world.ThinkGen
	if ids[0] == token.ThinkEdit {
		task = world.ThinkEdit
	}
	var input []int
	for _, id := range ids[:token.LayoutFor(task).Instruction.End] {
		input = append(input, int(id))
	}
	answer := o.answers[fmt.Sprint(input)]
	for j, p := range sel {
		out[j*V+answer[int(p)%seq]] = 10
	}
	return out, nil
}

func TestOracleScoresFullMarks(t *testing.T) {
	cb := vq.Default()
	v := token.New(cb.K())
	cases := Suite(DefaultSeed, 24)
	cfg := sample.Defaults()
	cfg.Image.CFG = 0         // the oracle has no unconditional branch
	cfg.Image.Temperature = 0 // sampling could pick a code the oracle gives 1.4%
	cfg.Steps = 8
	r, results, err := Run(context.Background(), newOracle(t, v, cb, cases), nil, v, cb, cfg, cases, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Overall != 100 || r.Cases != 24 || len(results) != 24 {
		t.Fatalf("oracle scored %+v", r.Metrics)
	}
	if results[0].Text != cases[0].Reasoning {
		t.Fatalf("text %q, want %q", results[0].Text, cases[0].Reasoning)
	}
}

func TestCancelKeepsWhatWasJudged(t *testing.T) {
	cb := vq.Default()
	v := token.New(cb.K())
	cases := Suite(DefaultSeed, 6)
	cfg := sample.Defaults()
	cfg.Image.CFG, cfg.Image.Temperature, cfg.Steps = 0, 0, 8
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, results, err := Run(ctx, newOracle(t, v, cb, cases), nil, v, cb, cfg, cases, func(done, _ int) {
		if done == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || len(results) != 2 || r.Cases != 2 || r.Overall != 100 {
		t.Fatalf("err %v, %d results, report over %d cases (overall %.1f); want the two judged before the cancel", err, len(results), r.Cases, r.Overall)
	}
}

func TestDeterministic(t *testing.T) {
	cb := vq.Default()
	v := token.New(cb.K())
	m, err := model.Open("random:2", nn.CPU{}, v.Size())
	if err != nil {
		t.Fatal(err)
	}
	cfg := sample.Defaults()
	cfg.Steps = 4
	cases := Suite(DefaultSeed, 4)
	a, ra, _ := Run(context.Background(), m, nil, v, cb, cfg, cases, nil)
	b, rb, _ := Run(context.Background(), m, nil, v, cb, cfg, cases, nil)
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(ra, rb) {
		t.Fatal("two runs of the same model, seed and config differ")
	}
}

// The quality bar of the embedded default model, on held-out cases in
// parallel mode with the default settings (issue: SFT and the default
// model). It runs whenever a model is embedded (engine/model/weights).
func TestEmbeddedModelQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("the quality bar samples 100 cases (a minute); it runs without -short")
	}
	m, err := model.Default(nn.CPU{})
	if errors.Is(err, model.ErrNoDefault) {
		t.Skip("no model is embedded in this build (engine/model/weights/default.safetensors)")
	}
	if err != nil {
		t.Fatal(err)
	}
	cb := vq.Default()
	v := token.New(cb.K())
	// 100 cases: on fewer, one case moves text alignment by a point or more.
	r, _, err := Run(context.Background(), m, nil, v, cb, sample.Defaults(), Suite(7777, 100), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(r.Metrics)
	t.Logf("%s", got)
	// The quality bar: 80 on the three alignments, 90 on text quality.
	for name, bar := range map[string][2]float64{
		"output_alignment": {r.OutputAlignment, 80}, "image_alignment": {r.ImageAlignment, 80},
		"text_alignment": {r.TextAlignment, 80}, "text_quality": {r.TextQuality, 90},
	} {
		if bar[0] < bar[1] {
			t.Errorf("%s = %.1f, the bar is %.0f", name, bar[0], bar[1])
		}
	}
}

func TestClipKeys(t *testing.T) {
	cb := vq.Default()
	v := token.New(cb.K())
	cases := Suite(DefaultSeed, 12)
	cfg := sample.Defaults()
	cfg.Image.CFG, cfg.Steps = 0, 4
	m, _ := model.Open("random:4", nn.CPU{}, v.Size())
	r, results, err := Run(context.Background(), m, fixedAligner(0.3), v, cb, cfg, cases, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.ClipFinal == nil || math.Abs(*r.ClipFinal-0.3) > 1e-12 || r.ClipJudgeCorr != nil || *results[0].Clip != 0.3 {
		t.Fatalf("clip_final %v, corr %v (a constant score has no correlation)", r.ClipFinal, r.ClipJudgeCorr)
	}
	if c, ok := pearson([]float64{1, 2, 3}, []float64{2, 4, 6.5}); !ok || c < 0.99 {
		t.Fatalf("pearson %v", c)
	}
	if c, _ := pearson([]float64{1, 2, 3}, []float64{3, 2, 1}); c != -1 {
		t.Fatalf("pearson %v", c)
	}
}

type fixedAligner float64

func (f fixedAligner) Align(sample.Prompt, sample.Frame) (float64, error) { return float64(f), nil }

func TestWriteResults(t *testing.T) {
	cb := vq.Default()
	v := token.New(cb.K())
	cases := Suite(DefaultSeed, 3) // edit, edit, generation
	cfg := sample.Defaults()
	cfg.Image.CFG, cfg.Image.Temperature, cfg.Steps = 0, 0, 8
	_, results, err := Run(context.Background(), newOracle(t, v, cb, cases), nil, v, cb, cfg, cases, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteResults(&buf, results); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	for i, line := range lines {
		var got map[string]any
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		scores := got["scores"].(map[string]any)
		_, hasCon := scores["image_consistency"]
		edit := cases[i].Task == world.ThinkEdit
		if got["case"] != float64(i) || got["instruction"] != cases[i].Instruction ||
			got["output"] != cases[i].Reasoning || got["truth"] != cases[i].Reasoning ||
			scores["text_alignment"] != 100.0 || hasCon != edit || (got["edit"] != nil) != edit {
			t.Errorf("line %d: %s", i+1, line)
		}
	}
}
