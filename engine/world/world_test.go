package world

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestGenerateIsDeterministic(t *testing.T) {
	for i := range 200 {
		a, b := Generate(42, i, MixBoth), Generate(42, i, MixBoth)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("case %d differs between two calls", i)
		}
	}
	if reflect.DeepEqual(Generate(42, 0, MixBoth), Generate(43, 0, MixBoth)) {
		t.Fatal("seeds 42 and 43 gave the same case")
	}
}

func TestGeneratedCasesFollowTheRules(t *testing.T) {
	vocab := map[string]bool{}
	for _, w := range Words() {
		vocab[w] = true
	}
	kinds := map[EditKind]int{}
	gens := 0
	const n = 20000
	for i := range n {
		c := Generate(7, i, MixBoth)
		for _, s := range []Scene{c.Input, c.Target} {
			if err := s.Validate(); err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
		}
		for _, text := range []string{c.Instruction, c.Reasoning} {
			for _, w := range strings.Fields(text) {
				if !vocab[w] {
					t.Fatalf("case %d: word %q is not in the vocabulary", i, w)
				}
			}
		}
		if len(strings.Fields(c.Instruction)) > MaxInstructionWords || len(strings.Fields(c.Reasoning)) > MaxReasoningWords {
			t.Fatalf("case %d is too long", i)
		}
		if !Apply(c.Input, c.Claims).Equal(c.Target) {
			t.Fatalf("case %d: claims do not lead to the target", i)
		}
		if c.Task == ThinkGen {
			gens++
			if len(c.Input.Objects) != 0 || len(c.Target.Objects) == 0 || c.Edit != NoEdit {
				t.Fatalf("generation case %d: %+v", i, c)
			}
			continue
		}
		kinds[c.Edit]++
		if c.Input.Equal(c.Target) {
			t.Fatalf("case %d (%s): the edit changes nothing", i, c.Edit)
		}
		// every object of the input has a unique description
		for _, o := range c.Input.Objects {
			if m := Matching(c.Input, Describe(c.Input, o)[1:]); len(m) != 1 || m[0] != o {
				t.Fatalf("case %d: %v is not unique", i, Describe(c.Input, o))
			}
		}
	}
	// ParaBench's mix: one generation for two edits.
	if gens < n/3-400 || gens > n/3+400 {
		t.Errorf("%d generations in %d cases", gens, n)
	}
	for _, k := range EditKinds() {
		if kinds[k] < (n*2/3)/len(EditKinds())-300 {
			t.Errorf("edit kind %s appears %d times", k, kinds[k])
		}
	}
}

// Every reasoning sentence a kind needs is there: knowledge edits state
// the colour fact, relation edits resolve their referent.
func TestReasoningResolvesIndirection(t *testing.T) {
	for i := range 500 {
		k := GenerateKind(8, i, Knowledge)
		if k.Claims[0].Kind != Knows || !strings.Contains(k.Instruction, "the colour of the "+k.Claims[0].Thing.String()) {
			t.Fatalf("knowledge case %d: %q / %q", i, k.Instruction, k.Reasoning)
		}
		r := GenerateKind(8, i, Relational)
		lead := r.Claims[0]
		switch lead.Kind {
		case Identifies:
			o, ok := Resolve(r.Input, lead.Rel, lead.Anchor)
			if !ok || o.Cell != lead.Cell {
				t.Fatalf("relation case %d: %q resolves wrongly", i, r.Reasoning)
			}
		case HasColour:
			if !strings.Contains(r.Instruction, "the same colour as") {
				t.Fatalf("relation case %d: %q", i, r.Instruction)
			}
		default:
			t.Fatalf("relation case %d starts with %q", i, r.Reasoning)
		}
	}
}

func TestDesignExample(t *testing.T) {
	in := Scene{Objects: []Object{{Circle, Red, Big, 0}, {Square, Green, Small, 8}}}
	claims := []Claim{{Kind: Knows, Thing: ThingOf(Blue), Colour: Blue}, {Kind: BecomesColour, Cell: 0, Colour: Blue}, {Kind: Stays, Cell: 8}}
	var ws []string
	for _, c := range claims {
		ws = append(ws, c.Words(in)...)
	}
	if got := strings.Join(ws, " "); got != "the sky is blue . the circle becomes blue . the square stays ." {
		t.Fatalf("got %q", got)
	}
}

func TestResolveNeedsUniqueness(t *testing.T) {
	s := Scene{Objects: []Object{{Circle, Red, Small, 0}, {Square, Red, Small, 2}, {Diamond, Blue, Big, 5}}}
	if o, ok := Resolve(s, Largest, 0); !ok || o.Shape != Diamond {
		t.Fatal("the only big object is the largest")
	}
	if _, ok := Resolve(s, Smallest, 0); ok {
		t.Fatal("two small objects: no smallest")
	}
	if o, ok := Resolve(s, LeftOf, 2); !ok || o.Shape != Circle {
		t.Fatal("the circle is left of the square")
	}
	if _, ok := Resolve(s, Above, 2); ok {
		t.Fatal("nothing is above the square")
	}
	if o, ok := Resolve(s, Below, 2); !ok || o.Shape != Diamond {
		t.Fatal("the diamond is below the square")
	}
}

func TestRenderDrawsDistinctShapes(t *testing.T) {
	var masks [][]bool
	for shape := range Shape(NumShapes) {
		for size := range Size(NumSizes) {
			var m []bool
			n := 0
			for y := range CellPx {
				for x := range CellPx {
					c := Covers(shape, size, x, y)
					m = append(m, c)
					if c {
						n++
					}
					// mirror symmetry keeps patches of a shape few
					if c != Covers(shape, size, CellPx-1-x, y) {
						t.Fatalf("%s %s is not symmetric", size, shape)
					}
				}
			}
			if n < 20 {
				t.Fatalf("%s %s covers only %d pixels", size, shape, n)
			}
			for _, prev := range masks {
				if slices.Equal(prev, m) {
					t.Fatalf("%s %s looks like another shape", size, shape)
				}
			}
			masks = append(masks, m)
		}
	}
	s := Generate(1, 1, MixEdit).Input
	if !bytes.Equal(Render(s).Pix, Render(s).Pix) {
		t.Fatal("rendering is not deterministic")
	}
}

func TestSceneJSONRoundTrip(t *testing.T) {
	c := Generate(9, 3, MixEdit)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"shape":"`) || !strings.Contains(string(b), `"task":"thinkedit"`) {
		t.Fatalf("names expected in %s", b)
	}
	var back Case
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	back.Claims = c.Claims
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip differs:\n%+v\n%+v", back, c)
	}
	if err := json.Unmarshal([]byte(`{"objects":[{"shape":"blob"}]}`), &Scene{}); err == nil || !strings.Contains(err.Error(), `unknown shape "blob"`) {
		t.Fatalf("got %v", err)
	}
}

func BenchmarkGenerate(b *testing.B) {
	n := 0
	for b.Loop() {
		Generate(1, n, MixBoth)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "cases/s")
}

func BenchmarkRender(b *testing.B) {
	s := Generate(1, 0, MixEdit).Input
	for b.Loop() {
		Render(s)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

func TestHeldOutIsAStableEighth(t *testing.T) {
	held := 0
	for i := range 8000 {
		c := Generate(5, i, MixBoth)
		if c.HeldOut() {
			held++
		}
		if c.HeldOut() != Generate(5, i, MixBoth).HeldOut() {
			t.Fatal("not stable")
		}
	}
	if held < 800 || held > 1200 {
		t.Fatalf("%d of 8000 held out, want about 1000", held)
	}
}

// mixed draws a generation with probability 1/3, as README says: about
// two edits for every generation over many cases.
func TestMixedIsAboutOneGenerationInThree(t *testing.T) {
	gen := 0
	const n = 3000
	for i := range n {
		if Generate(1, i, MixBoth).Task == ThinkGen {
			gen++
		}
	}
	if share := float64(gen) / n; share < 0.30 || share > 0.37 {
		t.Fatalf("%d generations in %d mixed cases (%.3f), want about 1/3", gen, n, share)
	}
}
