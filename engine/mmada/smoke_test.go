package mmada

import (
	"image/png"
	"math"
	"os"
	"testing"

	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/world"
)

// Each fixture runs end to end: its picture tokenizer encodes a 512×512
// picture, its template lays out an edit, and the backbone engine/model
// opens from the same folder gives finite logits over the whole
// vocabulary at output positions.
func TestSmoke(t *testing.T) {
	for _, c := range []struct{ dir, picture string }{
		{fixtureA, "../vqgan/testdata/pic512.png"},
		{fixtureM, "../magvit/testdata/pic512.png"},
	} {
		f := open(t, c.dir)
		r, err := os.Open(c.picture)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		input, err := f.Images.Encode(img)
		if err != nil {
			t.Fatal(err)
		}
		cond, _, _, err := f.Template.Start(world.ThinkEdit, "Make the sky blue.", input)
		if err != nil {
			t.Fatal(err)
		}
		m, err := model.Load(c.dir, nn.CPU{})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		ids := make([]int32, len(cond))
		for i, id := range cond {
			ids[i] = int32(id)
		}
		at := f.Template.Positions(world.ThinkEdit, len(cond))
		sel := []int32{int32(at[0]), int32(at[len(at)-1]), int32(len(cond) - 1)}
		logits, err := m.Logits(ids, 1, len(ids), sel)
		if err != nil {
			t.Fatal(err)
		}
		if len(logits) != len(sel)*f.Template.Size() {
			t.Fatalf("%s: %d logits, want %d rows of %d", f.Variant, len(logits), len(sel), f.Template.Size())
		}
		for i, v := range logits {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%s: logit %d is %v", f.Variant, i, v)
			}
		}
		if _, err := f.Images.Decode(input); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d codes, sequence of %d, %d logits", f.Variant, len(input), len(cond), len(logits))
	}
}
