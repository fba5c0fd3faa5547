package judge

import (
	"strings"
	"testing"

	"parascope/engine/world"
)

// FuzzParseText checks that any text parses without panicking, that
// every word lands in exactly one sentence, and that a resolved sentence
// renders back to a sentence with the same claim.
func FuzzParseText(f *testing.F) {
	for i := range 8 {
		c := world.Generate(2, i, world.MixBoth)
		f.Add(c.Reasoning, uint64(i))
	}
	f.Add("the shape left of the . is stays", uint64(0))
	f.Fuzz(func(t *testing.T, text string, seed uint64) {
		in := world.Generate(seed, 0, world.MixEdit).Input
		ss := ParseText(text, in)
		n := 0
		for _, s := range ss {
			n += len(s.Words)
			if s.Resolved {
				again := ParseText(strings.Join(s.Claim.Words(in), " "), in)
				if len(again) != 1 || again[0].Key() != s.Key() {
					t.Fatalf("%q parsed to %q, which renders back differently", strings.Join(s.Words, " "), s.Key())
				}
			}
		}
		if want := len(strings.Fields(strings.ReplaceAll(text, ".", " . "))); n != want {
			t.Fatalf("%d words in sentences, %d in the text", n, want)
		}
	})
}
