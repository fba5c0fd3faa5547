// Package partial judges a sampler's frame mid-run: what it has
// committed so far, against the case's ground truth.
package partial

import (
	"parascope/engine/judge"
	"parascope/engine/sample"
	"parascope/engine/world"
)

// Judge is judge.Partial on what a sampler's frame has committed, against the
// case c: its reasoning up to the end token and its picture, each
// position revealed or not. The viewer's live judge lines and ParaRL's
// oracle reward read the same numbers.
func Judge(c world.Case, f sample.Frame, v sample.Vocabulary, cb sample.ImageTokenizer) (judge.Scores, error) {
	var words []string
	var revealed []bool
	mask := int32(v.MaskID())
	for _, id := range f.TextTokens(v) {
		if id != mask && v.IsEnd(int(id)) {
			break
		}
		words = append(words, v.Name(int(id)))
		revealed = append(revealed, id != mask)
	}
	img, err := f.Picture(v, cb)
	if err != nil {
		return judge.Scores{}, err
	}
	patches := make([]bool, v.ImageLen())
	for i := range patches {
		patches[i] = f.RevealedAt[i] != -1
	}
	return judge.Partial(c, words, revealed, img, patches)
}
