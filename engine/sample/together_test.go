package sample

import (
	"context"
	"reflect"
	"testing"

	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// wholeRows hides a model's LogitsSpans, so steppers ask for whole rows.
type wholeRows struct{ m Model }

func (w wholeRows) Logits(ids []int32, batch, seq int, sel []int32) ([]float32, error) {
	return w.m.Logits(ids, batch, seq, sel)
}

// togetherFixture is an untrained model of the default shape and steppers
// over one edit case: different seeds, one of them guided.
func togetherFixture(t *testing.T, wrap func(Model) Model) func() []*Stepper {
	t.Helper()
	cb := vq.Default()
	v := token.New(cb.K())
	m, err := model.Open("random:1", nn.CPU{}, v.Size())
	if err != nil {
		t.Fatal(err)
	}
	c := world.Generate(1, 0, world.MixEdit)
	in, _ := cb.Encode(world.Render(c.Input))
	p := Prompt{Task: c.Task, Instruction: c.Instruction, Input: in}
	return func() []*Stepper {
		var group []*Stepper
		for i, cfg := range []Config{Defaults(), Defaults(), Defaults()} {
			cfg.Steps, cfg.Seed = 4, uint64(i+1)
			if i == 2 {
				cfg.Text.CFG, cfg.Image.CFG = 1.5, 2
			}
			st, err := New(wrap(m), v, cfg, p)
			if err != nil {
				t.Fatal(err)
			}
			group = append(group, st)
		}
		return group
	}
}

// sameFrames compares two trajectories but for their timings.
func sameFrames(t *testing.T, what string, got, want []Frame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d frames, want %d", what, len(got), len(want))
	}
	for k := range got {
		if !got[k].SameStep(want[k]) {
			t.Fatalf("%s: frame %d differs", what, k)
		}
	}
}

// A stepper steps alike alone and in a group, whether the model gives
// ranged rows or whole ones: StepTogether is Step, batched.
func TestStepTogetherIsStep(t *testing.T) {
	for name, wrap := range map[string]func(Model) Model{
		"ranged": func(m Model) Model { return m },
		"whole":  func(m Model) Model { return wholeRows{m} },
	} {
		t.Run(name, func(t *testing.T) {
			steppers := togetherFixture(t, wrap)
			alone := steppers()
			for _, s := range alone {
				for !s.Done() {
					if _, err := s.Step(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
			}
			one := steppers()[:1]
			for !one[0].Done() {
				if _, err := StepTogether(context.Background(), one[0].model, one); err != nil {
					t.Fatal(err)
				}
			}
			sameFrames(t, "a group of one", one[0].History(), alone[0].History())
			group := steppers()
			for !group[0].Done() {
				frames, errs := StepEach(context.Background(), group)
				for i, err := range errs {
					if err != nil {
						t.Fatal(err)
					}
					if h := group[i].History(); !reflect.DeepEqual(frames[i], h[len(h)-1]) {
						t.Fatalf("stepper %d: the frame returned is not the one kept", i)
					}
				}
			}
			for i := range group {
				sameFrames(t, "a group of three", group[i].History(), alone[i].History())
			}
		})
	}
}

// A stepper that cannot step is left out; the others step.
func TestStepEachLeavesOutWhatCannotStep(t *testing.T) {
	group := togetherFixture(t, func(m Model) Model { return m })()
	for !group[1].Done() {
		group[1].Step(context.Background())
	}
	frames, errs := StepEach(context.Background(), group)
	if errs[0] != nil || errs[2] != nil || errs[1] == nil {
		t.Fatalf("errors %v", errs)
	}
	if frames[0].Step != 1 || frames[2].Step != 1 {
		t.Fatalf("steps %d and %d", frames[0].Step, frames[2].Step)
	}
}

// Steppers over different models or rules never share a call.
func TestCanStepWith(t *testing.T) {
	steppers := togetherFixture(t, func(m Model) Model { return m })
	a, b := steppers(), steppers()
	if !a[0].CanStepWith(a[2]) || !a[0].CanStepWith(b[1]) {
		t.Fatal("steppers of one model and task cannot step together")
	}
	other := togetherFixture(t, func(m Model) Model { return wholeRows{m} })()
	if a[0].CanStepWith(other[0]) {
		t.Fatal("steppers of two models step together")
	}
	off, err := a[0].Fork(0, a[0].Config().UnderRules(OfficialA))
	if err != nil {
		t.Skip(err)
	}
	if off.CanStepWith(a[0]) || a[0].CanStepWith(off) {
		t.Fatal("the official rules step together")
	}
}

// shortRows drops a model's last logit: a model that answers wrongly.
type shortRows struct{ m Model }

func (w shortRows) Logits(ids []int32, batch, seq int, sel []int32) ([]float32, error) {
	l, err := w.m.Logits(ids, batch, seq, sel)
	return l[:len(l)-1], err
}

// A group whose model returns too few logits gets an error for every
// stepper, not a panic.
func TestStepTogetherRefusesShortLogits(t *testing.T) {
	group := togetherFixture(t, func(m Model) Model { return shortRows{m} })()
	if _, err := StepTogether(context.Background(), group[0].model, group); err == nil {
		t.Fatal("no error")
	} else {
		t.Log(err)
	}
}
