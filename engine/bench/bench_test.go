package bench

import (
	"context"
	"fmt"
	"reflect"
	"testing"

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
	r, results, err := Run(context.Background(), newOracle(t, v, cb, cases), v, cb, cfg, cases, nil)
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
