package clip

import (
	"errors"
	"strings"

	"parascope/engine/nn"
	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/vq"
)

// Scorer scores a sampler's partial outputs: masked patches grey, masked
// words left out. It implements sample.Aligner.
type Scorer struct {
	Model    *Model
	Vocab    *token.Vocab
	Codebook *vq.Codebook
}

// Align is the cosine of the frame's picture and text embeddings.
func (s Scorer) Align(f sample.Frame) (float64, error) {
	img, err := f.Picture(s.Vocab, s.Codebook)
	if err != nil {
		return 0, err
	}
	var words []string
	for _, w := range f.Words(s.Vocab) {
		if w != s.Vocab.Name(token.Mask) {
			words = append(words, w)
		}
	}
	p, err := PairOf(img, strings.Join(words, " "), s.Vocab)
	if err != nil {
		return 0, err
	}
	scores, err := s.Model.Scores([]Pair{p})
	if err != nil {
		return 0, err
	}
	return scores[0], nil
}

// OpenScorer returns the alignment scorer a config's clip key names: a
// checkpoint, "" for the embedded scorer (nil when this build has none),
// or "none" (nil).
func OpenScorer(spec string, be nn.Backend, vocab *token.Vocab, cb *vq.Codebook) (sample.Aligner, error) {
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
