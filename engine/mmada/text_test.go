package mmada

import (
	"slices"
	"strings"
	"testing"
)

// The fixture's tokenizer splits é, 漢 and 😀 across byte-level tokens:
// c a f <C3> <A9> ␠ <E6> <BC> <A2>字 ␠<F0><9F> <98> <80> !
func TestPieces(t *testing.T) {
	f := open(t, fixtureA)
	text := "café 漢字 😀!"
	ids := f.Tokenizer.Encode(text, false)
	if len(ids) != 13 {
		t.Fatalf("%q encodes to %d ids, want the 13 the test was written for", text, len(ids))
	}
	for _, c := range []struct {
		masked []int
		want   []string
	}{
		{nil, []string{"c", "a", "f", "", "é", " ", "", "", "漢字", " ", "", "😀", "!"}},
		// 漢's middle byte masked: its first byte ends one run, its last
		// starts the next; neither shows.
		{[]int{7}, []string{"c", "a", "f", "", "é", " ", "", "", "字", " ", "", "😀", "!"}},
		// 😀's third byte masked, and é's first.
		{[]int{3, 10}, []string{"c", "a", "f", "", "", " ", "", "", "漢字", " ", "", "", "!"}},
	} {
		masked := func(i int) bool { return slices.Contains(c.masked, i) }
		got := f.Template.Pieces(ids, masked)
		if !slices.Equal(got, c.want) {
			t.Errorf("masked %v:\n got %q\nwant %q", c.masked, got, c.want)
		}
		if strings.ContainsRune(strings.Join(got, ""), '\uFFFD') {
			t.Errorf("masked %v: a piece holds U+FFFD", c.masked)
		}
	}
	if got := strings.Join(f.Template.Pieces(ids, func(int) bool { return false }), ""); got != f.Tokenizer.Decode(ids, false) {
		t.Errorf("pieces join to %q, Decode gives %q", got, f.Tokenizer.Decode(ids, false))
	}
}

func TestNames(t *testing.T) {
	f := open(t, fixtureA)
	for id, want := range map[int]string{
		126336: "[mask]", 126356: "<img 0>", 126356 + 8191: "<img 8191>", 195: "<0xC3>", 99: "c",
		126355: "</answer>", 126080: "<|startoftext|>", 126300: "<id 126300>",
	} {
		if got := f.Template.Name(id); got != want {
			t.Errorf("Name(%d) = %q, want %q", id, got, want)
		}
	}
	ids, err := f.Template.Encode("the sky")
	if err != nil || !slices.Equal(ids, f.Tokenizer.Encode("the sky", false)) || ids[0] == 126080 {
		t.Errorf("Encode(the sky) = %v, %v: want the ids without special tokens", ids, err)
	}
}
