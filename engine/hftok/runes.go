package hftok

import (
	"unicode"
	"unicode/utf8"
)

func decodeRune(s string, i int) (rune, int) {
	if i >= len(s) {
		return utf8.RuneError, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

func lastRune(s string) (rune, int) { return utf8.DecodeLastRuneInString(s) }

// isSpace is Rust's char::is_whitespace: the Unicode White_Space property,
// which Go's unicode.IsSpace also follows.
func isSpace(r rune) bool { return unicode.IsSpace(r) }
