package judge

import (
	"image"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"parascope/engine/world"
)

func TestParseImageRecoversEveryScene(t *testing.T) {
	for i := range 3000 {
		c := world.Generate(11, i, world.MixBoth)
		for _, s := range []world.Scene{c.Input, c.Target} {
			got, err := ParseImage(world.Render(s))
			if err != nil {
				t.Fatal(err)
			}
			if !got.Scene.Equal(s) || got.Quality != 1 {
				t.Fatalf("case %d: parsed %+v (quality %v), rendered %+v", i, got.Scene, got.Quality, s)
			}
		}
	}
}

func TestParseImageRefusesWrongSize(t *testing.T) {
	_, err := ParseImage(image.NewRGBA(image.Rect(0, 0, 32, 48)))
	if err == nil || !strings.Contains(err.Error(), "32×48") {
		t.Fatalf("got %v", err)
	}
}

// Every generated reasoning sentence parses back to the claim it was
// rendered from.
func TestParseTextRecoversGeneratedClaims(t *testing.T) {
	for i := range 5000 {
		c := world.Generate(12, i, world.MixBoth)
		got := ParseText(c.Reasoning, c.Input)
		if len(got) != len(c.Claims) {
			t.Fatalf("case %d: %d sentences for %d claims in %q", i, len(got), len(c.Claims), c.Reasoning)
		}
		for j, s := range got {
			if !s.Resolved || s.Claim.Key() != c.Claims[j].Key() {
				t.Fatalf("case %d sentence %d %q: parsed %q (%s), want %q", i, j, strings.Join(s.Words, " "), s.Key(), s.Problem, c.Claims[j].Key())
			}
		}
		if !world.Apply(c.Input, c.Claims).Equal(c.Target) {
			t.Fatalf("case %d: the reasoning does not describe the target", i)
		}
	}
}

func TestParseTextReportsProblems(t *testing.T) {
	in := world.Scene{Objects: []world.Object{
		{Shape: world.Circle, Colour: world.Red, Size: world.Big, Cell: 0},
		{Shape: world.Circle, Colour: world.Blue, Size: world.Small, Cell: 4},
		{Shape: world.Square, Colour: world.Blue, Size: world.Small, Cell: 5},
	}}
	cases := []struct {
		text      string
		gram, res bool
		key       string
	}{
		{"the grass is green .", true, true, "know grass green"},
		{"the largest shape is the red circle .", true, true, "ref largest = 0"},
		{"the shape left of the square is the blue circle .", true, true, "ref left 5 = 4"},
		{"the shape below the red circle is the square .", true, true, "ref below 0 = 5"},
		{"the square is blue .", true, true, "5 is blue"},
		{"the big circle becomes small .", true, true, "0 becomes small"},
		{"the square moves to the bottom right .", true, true, "5 moves 8"},
		{"a small white diamond is added at the top .", true, true, "add small white diamond 1"},
		{"a big red circle is at the top left .", true, true, "exists big red circle 0"},
		{"the circle stays .", true, false, ""},       // two circles
		{"the green square stays .", true, false, ""}, // none
		{"stays the square .", false, false, ""},
		{"the square moves to the middle .", false, false, ""},
		{"the square stays", false, false, ""},
		{"the red big circle stays .", false, false, ""}, // adjectives out of order
		{"the shape largest is the square .", false, false, ""},
	}
	for _, c := range cases {
		ss := ParseText(c.text, in)
		if len(ss) != 1 {
			t.Fatalf("%q: %d sentences", c.text, len(ss))
		}
		s := ss[0]
		if s.Grammatical != c.gram || s.Resolved != c.res || (c.res && s.Claim.Key() != c.key) {
			t.Errorf("%q: grammatical %v resolved %v key %q (%s); want %v %v %q", c.text, s.Grammatical, s.Resolved, s.Key(), s.Problem, c.gram, c.res, c.key)
		}
		if !c.res && s.Problem == "" {
			t.Errorf("%q: no problem reported", c.text)
		}
	}
}

func all100(s Scores) bool {
	return s.TextQuality == 100 && s.TextAlignment == 100 && s.ImageAlignment == 100 &&
		s.ImageQuality == 100 && s.OutputAlignment == 100 && (!s.HasConsistency || s.ImageConsistency == 100)
}

func TestGroundTruthScores100(t *testing.T) {
	for i := range 3000 {
		c := world.Generate(13, i, world.MixBoth)
		s, err := Score(c, c.Reasoning, world.Render(c.Target))
		if err != nil {
			t.Fatal(err)
		}
		if !all100(s) || s.HasConsistency != (c.Task == world.ThinkEdit) {
			t.Fatalf("case %d (%s %s): %+v", i, c.Task, c.Edit, s)
		}
	}
}

// fell lists the metrics below 100.
func fell(s Scores) []string {
	var out []string
	for _, m := range []struct {
		name string
		v    float64
	}{
		{"text_quality", s.TextQuality}, {"text_alignment", s.TextAlignment},
		{"image_consistency", s.ImageConsistency}, {"image_alignment", s.ImageAlignment},
		{"image_quality", s.ImageQuality}, {"output_alignment", s.OutputAlignment},
	} {
		if m.v < 100 && (m.name != "image_consistency" || s.HasConsistency) {
			out = append(out, m.name)
		}
	}
	return out
}

// findCase returns the first generated case of a kind that passes ok.
func findCase(t *testing.T, kind world.EditKind, ok func(world.Case) bool) world.Case {
	for i := range 10000 {
		c := world.GenerateKind(14, i, kind)
		if kind == world.NoEdit {
			c = world.Generate(14, i, world.MixGen)
		}
		if ok(c) {
			return c
		}
	}
	t.Fatalf("no %s case found", kind)
	return world.Case{}
}

// staying returns an object the edit leaves alone.
func staying(c world.Case) (world.Object, bool) {
	for _, cl := range c.Claims {
		if cl.Kind == world.Stays {
			return c.Input.At(cl.Cell)
		}
	}
	return world.Object{}, false
}

func withObject(s world.Scene, cell world.Cell, o *world.Object) world.Scene {
	var out world.Scene
	for _, p := range s.Objects {
		if p.Cell != cell {
			out.Objects = append(out.Objects, p)
		}
	}
	if o != nil {
		out.Objects = append(out.Objects, *o)
	}
	return out
}

// emptyInBoth is a cell that neither the input nor the target uses.
func emptyInBoth(c world.Case) world.Cell {
	for cell := range world.Cell(world.NumCells) {
		_, a := c.Input.At(cell)
		_, b := c.Target.At(cell)
		if !a && !b {
			return cell
		}
	}
	panic("no empty cell")
}

func replaceSentence(text, old, new string) string {
	if !strings.Contains(text, old) {
		panic("sentence not found: " + old)
	}
	return strings.Replace(text, old, new, 1)
}

func TestPerturbationsLowerExactlyTheRightMetrics(t *testing.T) {
	hasStay := func(c world.Case) bool { _, ok := staying(c); return ok }
	recolour := findCase(t, world.Recolour, hasStay)
	remove := findCase(t, world.Remove, hasStay)
	gen := findCase(t, world.NoEdit, func(c world.Case) bool { return len(c.Target.Objects) >= 2 })
	edited := func(c world.Case) world.Object {
		for _, cl := range c.Claims {
			if cl.Kind != world.Stays && cl.Kind != world.Knows {
				o, _ := c.Input.At(cl.Cell)
				return o
			}
		}
		panic("no edit")
	}

	tests := []struct {
		name string
		c    world.Case
		text string
		img  image.Image
		want []string
	}{
		{
			name: "kept object recoloured in the image only",
			c:    recolour,
			img: func() image.Image {
				o, _ := staying(recolour)
				o.Colour = (o.Colour + 1) % world.Colour(world.NumColours)
				for hasColour(recolour.Target, o) {
					o.Colour = (o.Colour + 1) % world.Colour(world.NumColours)
				}
				return world.Render(withObject(recolour.Target, o.Cell, &o))
			}(),
			want: []string{"image_consistency", "output_alignment"},
		},
		{
			name: "edited object given the wrong colour in the image only",
			c:    recolour,
			img: func() image.Image {
				o, _ := recolour.Target.At(edited(recolour).Cell)
				o.Colour = edited(recolour).Colour // the edit not done
				return world.Render(withObject(recolour.Target, o.Cell, &o))
			}(),
			want: []string{"image_alignment", "output_alignment"},
		},
		{
			name: "text contradicts the image",
			c:    recolour,
			text: func() string {
				e := edited(recolour)
				o, _ := recolour.Target.At(e.Cell)
				other := world.Claim{Kind: world.BecomesColour, Cell: e.Cell, Colour: (o.Colour + 1) % world.Colour(world.NumColours)}
				if other.Colour == e.Colour {
					other.Colour = (other.Colour + 1) % world.Colour(world.NumColours)
				}
				right := world.Claim{Kind: world.BecomesColour, Cell: e.Cell, Colour: o.Colour}
				return replaceSentence(recolour.Reasoning, strings.Join(right.Words(recolour.Input), " "), strings.Join(other.Words(recolour.Input), " "))
			}(),
			want: []string{"text_alignment", "output_alignment"},
		},
		{
			name: "kept object moved in the image",
			c:    remove,
			img: func() image.Image {
				o, _ := staying(remove)
				moved := o
				moved.Cell = emptyInBoth(remove)
				return world.Render(withObject(withObject(remove.Target, o.Cell, nil), moved.Cell, &moved))
			}(),
			want: []string{"image_consistency", "output_alignment"},
		},
		{
			name: "kept object deleted from the image",
			c:    remove,
			img: func() image.Image {
				o, _ := staying(remove)
				return world.Render(withObject(remove.Target, o.Cell, nil))
			}(),
			want: []string{"image_consistency", "output_alignment"},
		},
		{
			name: "object missing from a generated image",
			c:    gen,
			img:  world.Render(withObject(gen.Target, gen.Target.Objects[0].Cell, nil)),
			want: []string{"image_alignment", "output_alignment"},
		},
		{
			name: "pixel noise",
			c:    remove,
			img:  saltNoise(world.Render(remove.Target), 0.03),
			want: []string{"image_quality"},
		},
		{
			name: "garbled sentence",
			c:    remove,
			text: func() string {
				o, _ := staying(remove)
				s := strings.Join(world.Claim{Kind: world.Stays, Cell: o.Cell}.Words(remove.Input), " ")
				return replaceSentence(remove.Reasoning, s, "stays "+strings.TrimSuffix(s, " stays .")+" .")
			}(),
			want: []string{"text_quality", "text_alignment"},
		},
		{
			name: "repeated sentence",
			c:    gen,
			text: gen.Reasoning + " " + gen.Reasoning,
			want: []string{"text_quality"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, img := tc.c.Reasoning, image.Image(world.Render(tc.c.Target))
			if tc.text != "" {
				text = tc.text
			}
			if tc.img != nil {
				img = tc.img
			}
			s, err := Score(tc.c, text, img)
			if err != nil {
				t.Fatal(err)
			}
			if got := fell(s); !slices.Equal(got, tc.want) {
				t.Fatalf("fell %v, want %v\ncase %q\ntext %q\nscores %+v", got, tc.want, tc.c.Instruction, text, s)
			}
		})
	}
}

func hasColour(s world.Scene, o world.Object) bool {
	got, ok := s.At(o.Cell)
	return ok && got.Colour == o.Colour
}

// saltNoise sets a share of pixels to random colours.
func saltNoise(src *image.RGBA, share float64) *image.RGBA {
	r := rand.New(rand.NewPCG(1, 1))
	img := image.NewRGBA(src.Bounds())
	copy(img.Pix, src.Pix)
	for i := 0; i < len(img.Pix); i += 4 {
		if r.Float64() < share {
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256))
		}
	}
	return img
}

func TestEmptyTextAgreesWithNothing(t *testing.T) {
	c := world.Generate(1, 0, world.MixGen)
	s, err := Score(c, "add add add", world.Render(world.Scene{}))
	if err != nil {
		t.Fatal(err)
	}
	if s.OutputAlignment != 0 || s.TextQuality != 0 {
		t.Fatalf("junk text and an empty picture: %+v", s)
	}
}

func TestScoreRefusesBrokenGroundTruth(t *testing.T) {
	c := world.Generate(1, 0, world.MixEdit)
	c.Reasoning = "the circle explodes ."
	if _, err := Score(c, "", world.Render(c.Target)); err == nil || !strings.Contains(err.Error(), "ground-truth reasoning, sentence 1") {
		t.Fatalf("got %v", err)
	}
}

func TestTallyAverages(t *testing.T) {
	var tally Tally
	gen := world.Case{Task: world.ThinkGen}
	edit := world.Case{Task: world.ThinkEdit, Edit: world.Move}
	tally.Add(gen, Scores{TextQuality: 50, TextAlignment: 100, ImageAlignment: 100, ImageQuality: 100, OutputAlignment: 100})
	tally.Add(edit, Scores{TextQuality: 100, TextAlignment: 40, ImageConsistency: 70, ImageAlignment: 100, ImageQuality: 100, OutputAlignment: 100, HasConsistency: true})
	r := tally.Report()
	if r.Cases != 2 || r.TextQuality != 75 || r.TextAlignment != 70 || *r.ImageConsistency != 70 {
		t.Fatalf("%+v", r.Metrics)
	}
	// overall = mean of the six column averages
	if want := (75.0 + 70 + 70 + 100 + 100 + 100) / 6; r.Overall != want {
		t.Fatalf("overall %v, want %v", r.Overall, want)
	}
	if g := r.Tasks["thinkgen"]; g.Overall != (50.0+400)/5 || g.ImageConsistency != nil {
		t.Fatalf("thinkgen %+v", g)
	}
	if e := r.Edits["move"]; e.Cases != 1 || *e.ImageConsistency != 70 {
		t.Fatalf("move %+v", e)
	}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[2], "thinkgen") || !strings.Contains(lines[2], " - ") || !strings.HasPrefix(lines[4], "  move") {
		t.Fatalf("table:\n%s", b.String())
	}
}

func BenchmarkScore(b *testing.B) {
	c := world.Generate(1, 0, world.MixEdit)
	img := world.Render(c.Target)
	for b.Loop() {
		if _, err := Score(c, c.Reasoning, img); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cases/s")
}
