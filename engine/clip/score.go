package clip

import (
	"strings"

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
