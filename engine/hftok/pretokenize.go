package hftok

import (
	"regexp"
	"strings"
)

// word is a stretch of normalized text on its way to the model; atStart
// says it begins the input (Metaspace's "first" scheme asks).
type word struct {
	text    string
	atStart bool
}

// preTokenizer splits words into smaller words.
type preTokenizer interface {
	preTokenize(words []word) []word
}

// finder reports the [start, end) offsets of a pattern's matches.
type finder interface {
	findAll(s string) [][2]int
}

type literalFinder string

func (f literalFinder) findAll(s string) [][2]int {
	var out [][2]int
	if f == "" {
		return out
	}
	for i := 0; ; {
		k := strings.Index(s[i:], string(f))
		if k < 0 {
			return out
		}
		out = append(out, [2]int{i + k, i + k + len(f)})
		i += k + len(f)
	}
}

type regexFinder struct{ re *regexp.Regexp }

func (f regexFinder) findAll(s string) [][2]int {
	var out [][2]int
	for _, m := range f.re.FindAllStringIndex(s, -1) {
		out = append(out, [2]int{m[0], m[1]})
	}
	return out
}

// behavior says what becomes of a pattern's matches when splitting.
type behavior int

const (
	removed behavior = iota
	isolated
	mergedWithPrevious
	mergedWithNext
	contiguous
)

var behaviors = map[string]behavior{
	"Removed": removed, "Isolated": isolated, "MergedWithPrevious": mergedWithPrevious,
	"MergedWithNext": mergedWithNext, "Contiguous": contiguous,
}

// splitter is the Split pre-tokenizer.
type splitter struct {
	find     finder
	behavior behavior
	invert   bool
}

func (p splitter) preTokenize(words []word) []word {
	var out []word
	for _, w := range words {
		out = appendSplit(out, w, p.find, p.behavior, p.invert)
	}
	return out
}

// span is a part of a string and whether the pattern matched it.
type span struct {
	start, end int
	match      bool
}

// appendSplit splits w around the matches of f, as the Rust library's
// NormalizedString::split does, and drops empty parts.
func appendSplit(out []word, w word, f finder, b behavior, invert bool) []word {
	var spans []span
	prev := 0
	for _, m := range f.findAll(w.text) {
		if m[0] > prev {
			spans = append(spans, span{prev, m[0], invert})
		}
		spans = append(spans, span{m[0], m[1], !invert})
		prev = m[1]
	}
	if prev < len(w.text) {
		spans = append(spans, span{prev, len(w.text), invert})
	}
	spans = applyBehavior(spans, b)
	for _, sp := range spans {
		if sp.end > sp.start {
			out = append(out, word{w.text[sp.start:sp.end], w.atStart && sp.start == 0})
		}
	}
	return out
}

func applyBehavior(spans []span, b behavior) []span {
	var out []span
	prevMatch := false
	switch b {
	case removed:
		for _, s := range spans {
			if !s.match {
				out = append(out, s)
			}
		}
		return out
	case isolated:
		return spans
	case mergedWithPrevious:
		for _, s := range spans {
			if s.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].end = s.end
			} else {
				out = append(out, s)
			}
			prevMatch = s.match
		}
	case mergedWithNext:
		for i := len(spans) - 1; i >= 0; i-- {
			s := spans[i]
			if s.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].start = s.start
			} else {
				out = append(out, s)
			}
			prevMatch = s.match
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	case contiguous:
		for _, s := range spans {
			if s.match == prevMatch && len(out) > 0 {
				out[len(out)-1].end = s.end
			} else {
				out = append(out, s)
			}
			prevMatch = s.match
		}
	}
	return out
}

// byteLevel is GPT-2's pre-tokenizer: optionally a leading space and the
// GPT-2 split, then every byte spelled in the byte-level alphabet.
type byteLevel struct {
	addPrefixSpace bool
	useRegex       bool
}

var gpt2Scanner = knownPatterns[`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`]

func (p byteLevel) preTokenize(words []word) []word {
	var out []word
	for _, w := range words {
		if p.addPrefixSpace && !strings.HasPrefix(w.text, " ") {
			w.text = " " + w.text
		}
		if p.useRegex {
			out = appendSplit(out, w, gpt2Scanner, isolated, false)
		} else {
			out = append(out, w)
		}
	}
	for i := range out {
		out[i].text = byteLevelString(out[i].text)
	}
	return out
}

// metaspace is SentencePiece's convention: spaces become ▁ and a word
// may gain a leading ▁.
type metaspace struct {
	replacement string
	prepend     string // "always", "first" or "never"
	split       bool
}

func (p metaspace) preTokenize(words []word) []word {
	var out []word
	for _, w := range words {
		w.text = strings.ReplaceAll(w.text, " ", p.replacement)
		if !strings.HasPrefix(w.text, p.replacement) && (p.prepend == "always" || p.prepend == "first" && w.atStart) {
			w.text = p.replacement + w.text
		}
		if p.split {
			out = appendSplit(out, w, literalFinder(p.replacement), mergedWithNext, false)
		} else {
			out = append(out, w)
		}
	}
	return out
}

type preTokenizerSeq []preTokenizer

func (q preTokenizerSeq) preTokenize(words []word) []word {
	for _, p := range q {
		words = p.preTokenize(words)
	}
	return words
}
