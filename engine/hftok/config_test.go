package hftok

import (
	"strings"
	"testing"
)

func TestParseErrorsNameTheKey(t *testing.T) {
	model := `"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}`
	cases := []struct{ json, want string }{
		{`{"normalizer": {"type": "Precompiled"}, ` + model + `}`, `normalizer: type "Precompiled"`},
		{`{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Whitespace"}]}, ` + model + `}`, `pre_tokenizer.pretokenizers[0]: type "Whitespace"`},
		{`{"decoder": {"type": "WordPiece"}, ` + model + `}`, `decoder: type "WordPiece"`},
		{`{"post_processor": {"type": "RobertaProcessing"}, ` + model + `}`, `post_processor: type "RobertaProcessing"`},
		{`{"model": {"type": "Unigram"}}`, `model: type "Unigram"`},
		{`{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "a(?=b)"}, "behavior": "Isolated"}, ` + model + `}`, `pre_tokenizer.pattern: regex "a(?=b)"`},
		{`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}`, `merge 0 "a" "b": token not in vocab`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant an error containing %s", c.json, err, c.want)
		}
	}
}

func TestMergesInBothForms(t *testing.T) {
	for _, merges := range []string{`["a b", "ab c"]`, `[["a", "b"], ["ab", "c"]]`} {
		tok, err := Parse([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4}, "merges": ` + merges + `}}`))
		if err != nil {
			t.Fatal(err)
		}
		got := tok.Encode("abc", false)
		if len(got) != 1 || got[0] != 4 {
			t.Errorf("merges %s: abc → %v, want [4]", merges, got)
		}
	}
}

func TestLossyStringMatchesRust(t *testing.T) {
	// Rust's from_utf8_lossy: one U+FFFD per maximal subpart.
	cases := map[string]string{
		"\xe2\x82":         "\ufffd",
		"a\xe2\x82b":       "a\ufffdb",
		"\xf0\x9f\x98":     "\ufffd",
		"\xc0\x80":         "\ufffd\ufffd",
		"\xed\xa0\x80":     "\ufffd\ufffd\ufffd",
		"\xf4\x90\x80\x80": "\ufffd\ufffd\ufffd\ufffd",
		"\xe2\x82\xac":     "€",
	}
	for in, want := range cases {
		if got := lossyString([]byte(in)); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
