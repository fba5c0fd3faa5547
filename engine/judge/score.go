package judge

import (
	"encoding/json"
	"fmt"
	"image"

	"parascope/engine/world"
)

// Scores are the six ParaBench metrics of one output, each 0–100.
type Scores struct {
	TextQuality      float64 `json:"text_quality"`
	TextAlignment    float64 `json:"text_alignment"`
	ImageConsistency float64 `json:"image_consistency"`
	ImageAlignment   float64 `json:"image_alignment"`
	ImageQuality     float64 `json:"image_quality"`
	OutputAlignment  float64 `json:"output_alignment"`
	// HasConsistency is false for generation, which has no input image to
	// stay consistent with; ImageConsistency is then not counted.
	HasConsistency bool `json:"-"`
}

// MarshalJSON leaves image_consistency out where it is not counted.
func (s Scores) MarshalJSON() ([]byte, error) {
	type plain Scores // without this method
	v := struct {
		plain
		ImageConsistency *float64 `json:"image_consistency,omitempty"`
	}{plain: plain(s)}
	if s.HasConsistency {
		v.ImageConsistency = &s.ImageConsistency
	}
	return json.Marshal(v)
}

// Score judges an output (reasoning text and image) against its case:
//   - text_quality: share of sentences that parse and are not repeats;
//   - text_alignment: overlap (|A∩B|/|A∪B|) of the text's claims with the
//     ground-truth reasoning's claims;
//   - image_consistency (edits): share of cells the edit leaves alone that
//     still show what the input showed;
//   - image_alignment: share of cells the edit changes (for generation,
//     cells the prompt fills) that show the target;
//   - image_quality: share of pixels a clean rendering of the recognised
//     objects explains;
//   - output_alignment: share of cells where the scene the text describes
//     and the scene the image shows agree; 0 when the text states nothing.
//
// Cells count only where something is or should be: an empty cell that
// stays empty is neither a success nor a failure.
func Score(c world.Case, text string, img image.Image) (Scores, error) {
	want := ParseText(c.Reasoning, c.Input)
	for i, s := range want {
		if !s.Resolved {
			return Scores{}, fmt.Errorf("ground-truth reasoning, sentence %d: %s", i+1, s.Problem)
		}
	}
	got := ParseText(text, c.Input)
	pic, err := ParseImage(img)
	if err != nil {
		return Scores{}, err
	}
	s := Scores{
		TextQuality:    textQuality(got),
		TextAlignment:  jaccard(keys(got), keys(want)),
		ImageQuality:   100 * pic.Quality,
		HasConsistency: c.Task == world.ThinkEdit,
	}
	// A text that states nothing agrees with no picture, even an empty one.
	if said := claims(got); len(said) > 0 {
		s.OutputAlignment = cellAgreement(world.Apply(c.Input, said), pic.Scene, everyCell)
	}
	if c.Task == world.ThinkEdit {
		changed := func(cell world.Cell) bool { return !sameCell(c.Input, c.Target, cell) }
		s.ImageAlignment = cellAgreement(c.Target, pic.Scene, changed)
		s.ImageConsistency = cellAgreement(c.Input, pic.Scene, func(cell world.Cell) bool { return !changed(cell) })
	} else {
		s.ImageAlignment = cellAgreement(c.Target, pic.Scene, everyCell)
	}
	return s, nil
}

func textQuality(ss []Sentence) float64 {
	if len(ss) == 0 {
		return 0
	}
	seen := map[string]bool{}
	good := 0
	for _, s := range ss {
		k := fmt.Sprint(s.Words)
		if s.Grammatical && !seen[k] {
			good++
		}
		seen[k] = true
	}
	return 100 * float64(good) / float64(len(ss))
}

func keys(ss []Sentence) map[string]bool {
	out := map[string]bool{}
	for _, s := range ss {
		if s.Grammatical {
			out[s.Key()] = true
		}
	}
	return out
}

func claims(ss []Sentence) []world.Claim {
	var out []world.Claim
	for _, s := range ss {
		if s.Resolved {
			out = append(out, s.Claim)
		}
	}
	return out
}

func jaccard(a, b map[string]bool) float64 {
	union := len(b)
	inter := 0
	for k := range a {
		if b[k] {
			inter++
		} else {
			union++
		}
	}
	if union == 0 {
		return 100
	}
	return 100 * float64(inter) / float64(union)
}

func everyCell(world.Cell) bool { return true }

func sameCell(a, b world.Scene, cell world.Cell) bool {
	oa, inA := a.At(cell)
	ob, inB := b.At(cell)
	return inA == inB && oa == ob
}

// cellAgreement is the share of the chosen cells, among those occupied in
// either scene, where both scenes agree; 100 when there is none.
func cellAgreement(want, got world.Scene, chosen func(world.Cell) bool) float64 {
	n, agree := 0, 0
	for cell := range world.Cell(world.NumCells) {
		_, inW := want.At(cell)
		_, inG := got.At(cell)
		if !chosen(cell) || (!inW && !inG) {
			continue
		}
		n++
		if sameCell(want, got, cell) {
			agree++
		}
	}
	if n == 0 {
		return 100
	}
	return 100 * float64(agree) / float64(n)
}
