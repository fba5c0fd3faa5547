package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
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
	// Files that are not tokenizers: each refused with the file named and
	// what is wrong in it, a device without reading it.
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, c := range []struct{ file, want string }{
		{"/dev/zero", "/dev/zero: is not a regular file"},
		{"README.md", "README.md:1: not valid JSON"},
		{write("model.json", `{"model": 5}`), "model.json: model: number where an object belongs"},
		{write("type.json", "{\n\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1}, \"merges\": []},\n\"normalizer\": {\"type\": 7}}"), "normalizer: type: number where a string belongs"},
		{write("cut.json", `{"model": {"type": "BPE", "vocab": {"a": 1}`), "cut.json: truncated"},
	} {
		_, err := capture(t, "tokenize", "--tokenizer", c.file, "x")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.file, err, c.want)
		}
	}
}
