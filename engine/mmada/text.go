package mmada

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Encode tokenises text without special tokens, as a reasoning span holds
// it.
func (t *Template) Encode(text string) ([]int, error) {
	if t.words == nil {
		return nil, fmt.Errorf("mmada: %s layout has no tokenizer", t.name)
	}
	return t.words.Encode(text, false), nil
}

// Name is a readable name for id: [mask], <img K> for image code K, a
// token's text (its bytes as <0xXX> where they are part of a character),
// or a special token's content.
func (t *Template) Name(id int) string {
	switch {
	case id == t.mask:
		return "[mask]"
	case id >= t.offset && id < t.offset+t.codes:
		return fmt.Sprintf("<img %d>", id-t.offset)
	case t.words == nil:
		return fmt.Sprintf("<id %d>", id)
	}
	b, ok := t.words.TokenBytes(id)
	if !ok {
		b = []byte(t.words.Decode([]int{id}, false))
	}
	if len(b) == 0 {
		return fmt.Sprintf("<id %d>", id)
	}
	var s strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			fmt.Fprintf(&s, "<0x%02X>", b[0])
			n = 1
		} else {
			s.WriteString(string(b[:n]))
		}
		b = b[n:]
	}
	return s.String()
}

// Pieces is the text each position of a text span shows: the decoded
// text of runs of revealed positions, each character shown once, at the
// position whose token completes it (earlier positions of a character
// split across tokens show ""). A character cut by a masked position
// (its first bytes before the run, or its last after) is not shown at
// all, so no split yields a broken character or U+FFFD. A masked
// position shows "".
func (t *Template) Pieces(ids []int, masked func(i int) bool) []string {
	out := make([]string, len(ids))
	for i := 0; i < len(ids); {
		if masked(i) {
			i++
			continue
		}
		j := i
		for j < len(ids) && !masked(j) {
			j++
		}
		t.runPieces(ids[i:j], out[i:j])
		i = j
	}
	return out
}

// runPieces fills out with the pieces of one run of revealed tokens.
func (t *Template) runPieces(ids []int, out []string) {
	var buf []byte  // the run's bytes
	var owner []int // the token each byte came from
	for k, id := range ids {
		b := t.tokenBytes(id)
		buf = append(buf, b...)
		for range b {
			owner = append(owner, k)
		}
	}
	// Continuation bytes first belong to a character begun before the run.
	p := 0
	for p < len(buf) && !utf8.RuneStart(buf[p]) {
		p++
	}
	var pieces = make([]strings.Builder, len(ids))
	for p < len(buf) {
		if !utf8.FullRune(buf[p:]) {
			break // a character the run's end cuts
		}
		r, n := utf8.DecodeRune(buf[p:])
		last := owner[p+n-1]
		if r == utf8.RuneError && n == 1 {
			pieces[last].WriteRune(utf8.RuneError) // bytes no split explains
		} else {
			pieces[last].Write(buf[p : p+n])
		}
		p += n
	}
	for k := range out {
		out[k] = pieces[k].String()
	}
}

// tokenBytes is what one token contributes to decoded text.
func (t *Template) tokenBytes(id int) []byte {
	switch {
	case t.words == nil:
		return nil
	case id == t.mask || (id >= t.offset && id < t.offset+t.codes):
		return []byte(t.Name(id))
	}
	if b, ok := t.words.TokenBytes(id); ok {
		return b
	}
	return []byte(t.words.Decode([]int{id}, false))
}
