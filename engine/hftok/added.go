package hftok

import (
	"sort"
	"strings"
	"unicode"
)

// AddedToken is an entry of added_tokens: a string cut out of the text
// before the model sees it.
type AddedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// matcher finds added tokens leftmost-longest, as the Rust library's
// Aho-Corasick automaton does. Few added tokens share a first byte, so
// trying the candidates for each byte is fast enough.
type matcher struct {
	byFirst [256][]matchEntry // longest pattern first
}

type matchEntry struct {
	pattern string
	tok     *AddedToken
}

func newMatcher(toks []*AddedToken, pattern func(*AddedToken) string) *matcher {
	m := &matcher{}
	for _, t := range toks {
		p := pattern(t)
		if p == "" {
			continue
		}
		m.byFirst[p[0]] = append(m.byFirst[p[0]], matchEntry{p, t})
	}
	for i := range m.byFirst {
		sort.SliceStable(m.byFirst[i], func(a, b int) bool {
			return len(m.byFirst[i][a].pattern) > len(m.byFirst[i][b].pattern)
		})
	}
	return m
}

// piece is a stretch of text: either an added token (tok set) or text
// still to be tokenized. atStart says it begins the input.
type piece struct {
	text    string
	tok     *AddedToken
	atStart bool
}

// split cuts s at the added tokens it holds, honouring single_word,
// lstrip and rstrip.
func (m *matcher) split(s string, atStart bool) []piece {
	var out []piece
	done := 0 // end of the last match
	for i := 0; i < len(s); {
		e, ok := m.longestAt(s, i)
		if !ok {
			i++
			continue
		}
		start, stop := i, i+len(e.pattern)
		t := e.tok
		if t.SingleWord && (endsWithWord(s[:start]) || startsWithWord(s[stop:])) {
			// The automaton moves past a match it reported, taken or not.
			i = stop
			continue
		}
		if t.LStrip {
			start = max(done, trimSpaceLeft(s, start))
		}
		if t.RStrip {
			stop = trimSpaceRight(s, stop)
		}
		if done < start {
			out = append(out, piece{text: s[done:start], atStart: atStart && done == 0})
		}
		out = append(out, piece{text: s[start:stop], tok: t})
		done, i = stop, stop
	}
	if done < len(s) {
		out = append(out, piece{text: s[done:], atStart: atStart && done == 0})
	}
	return out
}

func (m *matcher) longestAt(s string, i int) (matchEntry, bool) {
	for _, e := range m.byFirst[s[i]] {
		if strings.HasPrefix(s[i:], e.pattern) {
			return e, true
		}
	}
	return matchEntry{}, false
}

// trimSpaceLeft is where the whitespace run ending at i starts.
func trimSpaceLeft(s string, i int) int {
	for i > 0 {
		r, w := lastRune(s[:i])
		if !unicode.IsSpace(r) {
			break
		}
		i -= w
	}
	return i
}

// trimSpaceRight is where the whitespace run starting at i ends.
func trimSpaceRight(s string, i int) int {
	return runOf(s, i, unicode.IsSpace)
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.M, r) || unicode.Is(unicode.Pc, r)
}

func endsWithWord(s string) bool {
	r, w := lastRune(s)
	return w > 0 && isWordRune(r)
}

func startsWithWord(s string) bool {
	r, w := decodeRune(s, 0)
	return w > 0 && isWordRune(r)
}
