package hftok

import (
	"os"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

var qwen3 = sync.OnceValues(func() (*Tokenizer, error) {
	return Parse(readGzipFile("testdata/qwen3-tokenizer.json.gz"))
})

// A byte-level tokenizer loses nothing: decoding what it encoded gives
// back the normalized text, added tokens included.
func FuzzEncodeRoundTrip(f *testing.F) {
	for _, s := range []string{"", "hello world", "<|im_start|>user\n你好<|im_end|>", "  \t\n\n x", "e\u0301 😀 ١٢٣", "'S 'll'd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		tok, err := qwen3()
		if err != nil {
			t.Fatal(err)
		}
		ids := tok.Encode(s, true)
		if got, want := tok.Decode(ids, false), norm.NFC.String(s); got != want {
			t.Fatalf("%q: ids %v decode to %q, want %q", s, ids, got, want)
		}
	})
}

// Parse reports bad files as errors, never panics.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/tiny-llama2.json", "testdata/tiny-metaspace.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := Parse(data)
		if err != nil {
			return
		}
		tok.Decode(tok.Encode("hello wörld <s> 123", true), true)
	})
}
