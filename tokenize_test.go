package main

import (
	"errors"
	"testing"

	"parascope/tui/cli"
)

// The tiny hand-written tokenizer of engine/hftok; the expected ids and
// text are what the Rust tokenizers library gives for it.
func TestTokenizeRoundTrip(t *testing.T) {
	const file = "engine/hftok/testdata/tiny-llama2.json"
	out, err := capture(t, "tokenize", "--tokenizer", file, "hello world", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "[1,259,334,344,274,351]\n[1]\n"; out != want {
		t.Fatalf("encode printed %q, want %q", out, want)
	}
	out, err = capture(t, "tokenize", "--tokenizer", file, "--decode", "[1,259,334,344,274,351]")
	if err != nil {
		t.Fatal(err)
	}
	if want := "\"<s> hello world\"\n"; out != want {
		t.Fatalf("decode printed %q, want %q", out, want)
	}
	for _, args := range [][]string{
		{"tokenize", "hello"},
		{"tokenize", "--tokenizer", file},
		{"tokenize", "--tokenizer", file, "--decode", "x"},
	} {
		var u cli.UsageError
		if _, err := capture(t, args...); !errors.As(err, &u) {
			t.Errorf("%q: got %v, want a usage error", args, err)
		}
	}
}
