// Package token turns ShapeWorld cases into the single interleaved token
// sequence the mask predictor reads (MMaDA-Parallel-M order): a word-level
// tokenizer for the grammar's closed vocabulary, the special tokens, image
// codes at an offset in one joint vocabulary, and the fixed layout of each
// task's sequence with its span table.
package token

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"parascope/engine/world"
)

// Special token ids; words follow them, then image codes.
const (
	Mask = iota
	Pad
	BOS
	EOS
	SOI
	EOI
	ThinkGen
	ThinkEdit
	Uncond
	NumSpecial
)

var specialNames = [NumSpecial]string{"[MASK]", "<|pad|>", "<|bos|>", "<|eos|>", "<|soi|>", "<|eoi|>", "<|thinkgen|>", "<|thinkedit|>", "<|uncond|>"}

// Vocab is the joint vocabulary: specials, the grammar's words, and one id
// per image code.
type Vocab struct {
	words []string
	ids   map[string]int
	codes int
}

// New returns the vocabulary for an image codebook of the given size.
func New(codes int) *Vocab {
	v := &Vocab{words: world.Words(), ids: map[string]int{}, codes: codes}
	for i, w := range v.words {
		v.ids[w] = NumSpecial + i
	}
	return v
}

// Size is the number of ids, image codes included.
func (v *Vocab) Size() int { return v.ImageOffset() + v.codes }

// ImageOffset is the id of image code 0.
func (v *Vocab) ImageOffset() int { return NumSpecial + len(v.words) }

// Codes is the number of image codes.
func (v *Vocab) Codes() int { return v.codes }

// IsImage reports whether id is an image code.
func (v *Vocab) IsImage(id int) bool { return id >= v.ImageOffset() && id < v.Size() }

// Name returns a readable name for any id.
func (v *Vocab) Name(id int) string {
	switch {
	case id >= 0 && id < NumSpecial:
		return specialNames[id]
	case id >= NumSpecial && id < v.ImageOffset():
		return v.words[id-NumSpecial]
	case v.IsImage(id):
		return fmt.Sprintf("<|img:%d|>", id-v.ImageOffset())
	}
	return fmt.Sprintf("<|bad:%d|>", id)
}

// Encode splits text into words ("." may touch the word before it) and
// returns their ids; an unknown word is an error that names it.
func (v *Vocab) Encode(text string) ([]int, error) {
	fields := strings.Fields(strings.ReplaceAll(text, ".", " . "))
	ids := make([]int, len(fields))
	for i, w := range fields {
		id, ok := v.ids[w]
		if !ok {
			return nil, fmt.Errorf("unknown word %q (word %d of %q)", w, i+1, text)
		}
		ids[i] = id
	}
	return ids, nil
}

// Text renders ids up to the first end or pad token as words. Ids that are
// not words appear by name, so a judge sees them as ungrammatical.
func (v *Vocab) Text(ids []int) string {
	var out []string
	for _, id := range ids {
		if v.IsEnd(id) {
			break
		}
		out = append(out, v.Name(id))
	}
	return strings.Join(out, " ")
}

// Images returns the image codes of ids; every id must be an image code.
func (v *Vocab) Images(ids []int) ([]int, error) {
	codes := make([]int, len(ids))
	for i, id := range ids {
		if !v.IsImage(id) {
			return nil, fmt.Errorf("position %d holds %s, not an image code", i, v.Name(id))
		}
		codes[i] = id - v.ImageOffset()
	}
	return codes, nil
}

// Hash identifies the vocabulary: a trajectory or checkpoint made with
// one vocabulary must not be read with another.
func (v *Vocab) Hash() string {
	h := sha256.New()
	for id := range v.Size() {
		fmt.Fprintln(h, v.Name(id))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
