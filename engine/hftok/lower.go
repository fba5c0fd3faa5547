package hftok

import (
	"strings"
	"unicode"
)

// rustLower is Rust's str::to_lowercase, which the Lowercase normalizer
// uses. It differs from strings.ToLower in two places: İ becomes i and a
// combining dot above (its full lowercase mapping), and Σ at the end of
// a word becomes final ς.
func rustLower(s string) string {
	if !strings.ContainsRune(s, 'İ') && !strings.ContainsRune(s, 'Σ') {
		return strings.ToLower(s)
	}
	var sb strings.Builder
	for i, r := range s {
		switch r {
		case 'İ':
			sb.WriteString("i\u0307")
		case 'Σ':
			if finalSigma(s, i) {
				sb.WriteRune('ς')
			} else {
				sb.WriteRune('σ')
			}
		default:
			sb.WriteRune(unicode.ToLower(r))
		}
	}
	return sb.String()
}

// finalSigma is Unicode's Final_Sigma condition, as Rust checks it: a
// cased letter before (skipping case-ignorable ones) and none after.
func finalSigma(s string, i int) bool {
	before := false
	for j := i; j > 0; {
		r, w := lastRune(s[:j])
		j -= w
		if caseIgnorable(r) {
			continue
		}
		before = cased(r)
		break
	}
	if !before {
		return false
	}
	for j := i + len("Σ"); j < len(s); {
		r, w := decodeRune(s, j)
		j += w
		if caseIgnorable(r) {
			continue
		}
		return !cased(r)
	}
	return true
}

func cased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) || unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

func caseIgnorable(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk) || r == '\'' || r == '.' || r == ':' || r == '·' || r == '\u2019'
}
