package clip

import (
	"math/rand/v2"
	"testing"

	"parascope/engine/judge"
	"parascope/engine/world"
)

// Every hard negative is wrong by the exact judge: the pair it makes with
// the truth's other half does not agree everywhere. WrongObject finds one
// in most edits, and Misdraw makes every kind of mistake.
func TestNegativesAreWrong(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	found, edits := 0, 0
	for i := range 400 {
		c := world.Generate(11, i, world.MixBoth)
		truth := world.Render(c.Target)
		check := func(what, text string, img *world.Scene) {
			t.Helper()
			pic := truth
			if img != nil {
				pic = world.Render(*img)
			}
			s, err := judge.Score(c, text, pic)
			if err != nil {
				t.Fatalf("case %d, %s: %v", i, what, err)
			}
			if s.OutputAlignment == 100 {
				t.Errorf("case %d (%s), %s: the judge finds no mistake\n  text %q", i, c.Instruction, what, text)
			}
		}
		if s, err := judge.Score(c, c.Reasoning, truth); err != nil || s.OutputAlignment != 100 {
			t.Fatalf("case %d: the truth itself scores %v (%v)", i, s.OutputAlignment, err)
		}
		if text, ok := ChangeOneFact(c, r); ok {
			check("a fact changed", text, nil)
		}
		if c.Task == world.ThinkEdit {
			edits++
		}
		if text, ok := WrongObject(c, r); ok {
			found++
			check("the wrong object", text, nil)
		}
		misdrawn := Misdraw(c, r)
		check("misdrawn", c.Reasoning, &misdrawn)
	}
	if found < edits/2 {
		t.Errorf("WrongObject found a swap in %d of %d edits", found, edits)
	}
}

// Misdraw's mistakes cover its kinds: over many draws of one edit of
// three objects or more, the input drawn again, attributes changed,
// moves, swaps, removals and additions all appear.
func TestMisdrawKinds(t *testing.T) {
	c := world.GenerateKind(3, 0, world.Swap)
	for i := 1; len(c.Target.Objects) < 3; i++ {
		c = world.GenerateKind(3, i, world.Swap)
	}
	r := rand.New(rand.NewPCG(1, 1))
	seen := map[string]bool{}
	for range 400 {
		s := Misdraw(c, r)
		switch {
		case s.Equal(c.Input):
			seen["input"] = true
		case len(s.Objects) < len(c.Target.Objects):
			seen["removed"] = true
		case len(s.Objects) > len(c.Target.Objects):
			seen["added"] = true
		default:
			changed := 0
			for k, o := range s.Objects {
				if o != c.Target.Objects[k] {
					changed++
				}
			}
			seen[map[bool]string{true: "one object", false: "several"}[changed == 1]] = true
		}
	}
	for _, k := range []string{"input", "removed", "added", "one object", "several"} {
		if !seen[k] {
			t.Errorf("no %s mistake in 400 draws (saw %v)", k, seen)
		}
	}
}

// A misread case agrees with itself by the exact judge — its text, read
// against the input, describes its picture — and most misreads describe
// another picture than the case's own, in every edit kind that changes an
// object of the input (an addition does not).
func TestMisreadAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	for _, kind := range world.EditKinds() {
		other, found := 0, 0
		for i := range 60 {
			c := world.GenerateKind(13, i, kind)
			m, ok := Misread(c, r)
			if !ok {
				continue
			}
			found++
			s, err := judge.Score(c, m.Reasoning, world.Render(m.Target))
			if err != nil {
				t.Fatalf("%v case %d: %v", kind, i, err)
			}
			if s.OutputAlignment != 100 {
				t.Errorf("%v case %d (%s): misread %q scores %.1f beside what it describes", kind, i, c.Instruction, m.Reasoning, s.OutputAlignment)
			}
			if !m.Target.Equal(c.Target) {
				other++
			}
		}
		if (kind == world.AddObject && found > 0) || (kind != world.AddObject && found < 30) || other < found/2 {
			t.Errorf("%v: %d of 60 cases misread, %d of them describe another picture", kind, found, other)
		}
	}
}
