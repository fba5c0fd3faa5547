package clip

import (
	"errors"
	"fmt"
	"image"

	"parascope/engine/nn"
	"parascope/engine/partial"
	"parascope/engine/sample"
	"parascope/engine/world"
)

// Scorer scores what a sampler's frame has committed, as the partial
// judge reads it (partial.Output.Committed): its whole sentences, and its
// picture with every cell that still has a masked patch shown mask grey.
// It implements sample.Aligner.
type Scorer struct {
	Model    *Model
	Vocab    sample.Vocabulary
	Codebook sample.ImageTokenizer
}

// Align is the cosine of the committed picture's and text's embeddings; a
// scorer that reads the input sees the edit's input picture too. Before
// the text has a whole sentence it is 0, unrelated, as the judge has a
// text that states nothing agree with no picture: an empty text's
// embedding says nothing of agreement, only of the picture.
func (s Scorer) Align(p sample.Prompt, f sample.Frame) (float64, error) {
	o, err := partial.Of(f, s.Vocab, s.Codebook)
	if err != nil {
		return 0, err
	}
	text, img := o.Committed(world.MaskGrey)
	if text == "" {
		return 0, nil
	}
	var in image.Image
	if s.Model.Input && p.Input != nil {
		if in, err = s.Codebook.DecodeMasked(p.Input, nil); err != nil {
			return 0, fmt.Errorf("the input picture: %w", err)
		}
	}
	pair, err := PairOf(img, in, text, s.Vocab)
	if err != nil {
		return 0, err
	}
	scores, err := s.Model.Scores([]Pair{pair})
	if err != nil {
		return 0, err
	}
	return scores[0], nil
}

// OpenScorer returns the alignment scorer a config's clip key names: a
// checkpoint, "" for the embedded scorer (nil when this build has none),
// or "none" (nil).
func OpenScorer(spec string, be nn.Backend, vocab sample.Vocabulary, cb sample.ImageTokenizer) (sample.Aligner, error) {
	if spec == "none" {
		return nil, nil
	}
	m, err := Open(spec, be)
	if spec == "" && errors.Is(err, ErrNoDefault) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return Scorer{Model: m, Vocab: vocab, Codebook: cb}, nil
}
