package hftok

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// decoder turns a list of tokens into a list of strings, joined at the
// end; each step of a chain sees the previous step's list.
type decoder interface {
	decode(tokens []string) []string
}

// byteLevelDecoder reads tokens back from the byte-level alphabet; a
// token with a rune outside it (an added token, say) is taken as is.
type byteLevelDecoder struct{}

func (byteLevelDecoder) decode(tokens []string) []string {
	var b []byte
	for _, t := range tokens {
		b = appendByteLevel(b, t)
	}
	return []string{lossyString(b)}
}

func appendByteLevel(b []byte, t string) []byte {
	n := len(b)
	for _, r := range t {
		c, ok := runeByte[r]
		if !ok {
			return append(b[:n], t...)
		}
		b = append(b, c)
	}
	return b
}

// byteFallbackDecoder joins runs of <0xXX> tokens into text; a run that
// is not valid UTF-8 becomes one U+FFFD per byte.
type byteFallbackDecoder struct{}

func (byteFallbackDecoder) decode(tokens []string) []string {
	var out []string
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range tokens {
		if b, ok := parseByteToken(t); ok {
			pending = append(pending, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

func parseByteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	v, err := strconv.ParseUint(t[3:5], 16, 8)
	return byte(v), err == nil
}

type fuseDecoder struct{}

func (fuseDecoder) decode(tokens []string) []string { return []string{strings.Join(tokens, "")} }

// stripDecoder removes up to start leading and stop trailing copies of
// content from each token.
type stripDecoder struct {
	content     rune
	start, stop int
}

func (d stripDecoder) decode(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		r := []rune(t)
		a, z := 0, len(r)
		for k := 0; k < d.start && a < z && r[a] == d.content; k++ {
			a++
		}
		for k := 0; k < d.stop && z > a && r[z-1] == d.content; k++ {
			z--
		}
		out[i] = string(r[a:z])
	}
	return out
}

type replaceDecoder struct{ replace }

func (d replaceDecoder) decode(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = d.normalize(t)
	}
	return out
}

// metaspaceDecoder turns ▁ back into spaces and drops the space the
// pre-tokenizer put at the start.
type metaspaceDecoder struct {
	replacement rune
	prepend     string
}

func (d metaspaceDecoder) decode(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		t = strings.ReplaceAll(t, string(d.replacement), " ")
		if i == 0 && d.prepend != "never" {
			t = strings.TrimPrefix(t, " ")
		}
		out[i] = t
	}
	return out
}

type decoderSeq []decoder

func (q decoderSeq) decode(tokens []string) []string {
	for _, d := range q {
		tokens = d.decode(tokens)
	}
	return tokens
}
