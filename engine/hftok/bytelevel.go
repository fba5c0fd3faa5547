package hftok

import "strings"

// GPT-2's byte-level alphabet maps every byte to a printable rune, so a
// vocabulary of strings can hold any byte sequence: printable Latin-1
// bytes stand for themselves, the rest take runes from U+0100 on.
var byteRune, runeByte = byteAlphabet()

func byteAlphabet() ([256]rune, map[rune]byte) {
	var toRune [256]rune
	toByte := make(map[rune]byte, 256)
	next := rune(256)
	for b := 0; b < 256; b++ {
		r := rune(b)
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		if !printable {
			r = next
			next++
		}
		toRune[b] = r
		toByte[r] = byte(b)
	}
	return toRune, toByte
}

// byteLevelString spells s's bytes in the byte-level alphabet.
func byteLevelString(s string) string {
	var sb strings.Builder
	sb.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		sb.WriteRune(byteRune[s[i]])
	}
	return sb.String()
}
