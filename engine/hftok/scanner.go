package hftok

import "unicode"

// Go's regexp has no lookahead, but the split patterns of GPT-2, GPT-4
// (Llama 3) and Qwen end in `\s+(?!\S)`. These patterns are recognised by
// their exact text and run by a scanner that tries the alternatives in
// order at each position, as a backtracking engine would.
var knownPatterns = map[string]scanner{
	// GPT-2, and the ByteLevel pre-tokenizer's own pattern.
	`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`: {gpt2: true},
	// GPT-4 cl100k, Llama 3.
	`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`: {foldCase: true, maxDigits: 3},
	// Qwen 2 and 3: single digits.
	`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`: {foldCase: true, maxDigits: 1},
}

// scanner matches one of the known patterns.
type scanner struct {
	gpt2      bool // GPT-2's alternatives, else GPT-4's
	foldCase  bool // contractions match in any case
	maxDigits int  // digits per match; 0 is unbounded
}

// findAll returns the [start, end) byte offsets of every match in s.
func (sc scanner) findAll(s string) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); {
		if n := sc.matchAt(s, i); n > 0 {
			out = append(out, [2]int{i, i + n})
			i += n
			continue
		}
		_, w := decodeRune(s, i)
		i += w
	}
	return out
}

// matchAt is the length of the match starting at i, 0 if none.
func (sc scanner) matchAt(s string, i int) int {
	if n := sc.contraction(s, i); n > 0 {
		return n
	}
	if sc.gpt2 {
		return sc.gpt2At(s, i)
	}
	return sc.gpt4At(s, i)
}

func (sc scanner) gpt2At(s string, i int) int {
	j := i
	if s[j] == ' ' && j+1 < len(s) {
		j++
	}
	r, _ := decodeRune(s, j)
	switch {
	case unicode.IsLetter(r):
		return runOf(s, j, unicode.IsLetter) - i
	case unicode.IsNumber(r):
		return runOf(s, j, unicode.IsNumber) - i
	case isOther(r):
		return runOf(s, j, isOther) - i
	}
	return whitespaceAt(s, i)
}

func (sc scanner) gpt4At(s string, i int) int {
	r, w := decodeRune(s, i)
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '\r' && r != '\n' && i+w < len(s) {
		if next, _ := decodeRune(s, i+w); unicode.IsLetter(next) {
			return runOf(s, i+w, unicode.IsLetter) - i
		}
	}
	if unicode.IsLetter(r) {
		return runOf(s, i, unicode.IsLetter) - i
	}
	// \p{N}{1,maxDigits}
	if unicode.IsNumber(r) {
		j := i
		for k := 0; j < len(s) && (sc.maxDigits == 0 || k < sc.maxDigits); k++ {
			d, dw := decodeRune(s, j)
			if !unicode.IsNumber(d) {
				break
			}
			j += dw
		}
		return j - i
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	j := i
	if r == ' ' && i+1 < len(s) {
		j++
	}
	if o, _ := decodeRune(s, j); isOther(o) {
		j = runOf(s, j, isOther)
		for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
			j++
		}
		return j - i
	}
	if !unicode.IsSpace(r) {
		return 0
	}
	// \s*[\r\n]+ : the whitespace run up to its last line break.
	end := runOf(s, i, unicode.IsSpace)
	for k := end - 1; k >= i; k-- {
		if s[k] == '\r' || s[k] == '\n' {
			return k + 1 - i
		}
	}
	return whitespaceAt(s, i)
}

// whitespaceAt matches `\s+(?!\S)|\s+`: a run of whitespace that leaves
// its last character to the word after it.
func whitespaceAt(s string, i int) int {
	end := runOf(s, i, unicode.IsSpace)
	if end == i {
		return 0
	}
	if end == len(s) {
		return end - i
	}
	_, lastW := lastRune(s[i:end])
	if end-lastW > i {
		return end - lastW - i
	}
	return end - i
}

// contraction matches 's 't 're 've 'm 'll 'd.
func (sc scanner) contraction(s string, i int) int {
	if s[i] != '\'' {
		return 0
	}
	for _, suf := range [...]string{"s", "t", "re", "ve", "m", "ll", "d"} {
		if n := sc.matchFold(s, i+1, suf); n > 0 {
			return 1 + n
		}
	}
	return 0
}

// matchFold matches the ASCII word lit at i, in any case when folding;
// with folding, ſ (long s) is an s too, as in Unicode case folding.
func (sc scanner) matchFold(s string, i int, lit string) int {
	j := i
	for k := 0; k < len(lit); k++ {
		if j >= len(s) {
			return 0
		}
		if s[j] == lit[k] {
			j++
			continue
		}
		if !sc.foldCase {
			return 0
		}
		r, w := decodeRune(s, j)
		if unicode.ToLower(r) != rune(lit[k]) && !(lit[k] == 's' && r == 'ſ') {
			return 0
		}
		j += w
	}
	return j - i
}

// isOther is [^\s\p{L}\p{N}].
func isOther(r rune) bool {
	return !unicode.IsSpace(r) && !unicode.IsLetter(r) && !unicode.IsNumber(r)
}

// runOf is the end of the run of runes from i that satisfy ok.
func runOf(s string, i int, ok func(rune) bool) int {
	for i < len(s) {
		r, w := decodeRune(s, i)
		if !ok(r) {
			break
		}
		i += w
	}
	return i
}
