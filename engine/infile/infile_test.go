package infile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	os.WriteFile(path, []byte("\ufeffhello\n"), 0o644)
	if got, err := Read(path, 64, "a greeting"); err != nil || string(got) != "hello\n" {
		t.Errorf("Read = %q, %v; want the text without its byte order mark", got, err)
	}
	if _, err := Read(path, 4, "a greeting"); err == nil || !strings.Contains(err.Error(), path+": larger than 4 bytes, too large for a greeting") {
		t.Errorf("over the cap: %v", err)
	}
	for _, p := range []string{"/dev/zero", dir} {
		if _, err := Read(p, 64, "a greeting"); err == nil || !strings.Contains(err.Error(), p+": is ") {
			t.Errorf("%s: %v, want it refused by name", p, err)
		}
	}
}

func TestDecodeJSONInWords(t *testing.T) {
	var v struct {
		Mu    float64 `json:"mu"`
		Small uint8   `json:"small"`
		Inner struct {
			N int `json:"n"`
		} `json:"inner"`
	}
	for _, tc := range []struct{ data, want string }{
		{`{"mu": "x"}`, `f.json:1: mu: string where a number belongs`},
		{"{\n\"small\": 300}", `f.json:2: small: number 300 where a whole number from 0 to 255 belongs`},
		{`{"inner": 5}`, `f.json:1: inner: number where an object belongs`},
		{`{"inner": {"n": true}}`, `f.json:1: inner.n: bool where a whole number belongs`},
		{`[1]`, `f.json:1: array where an object belongs`},
		{`{"mu": 1`, `f.json: truncated`},
		{`{"mu": 1} {}`, `f.json:1: more than one JSON value`},
		{`{"other": 1}`, `f.json: unknown field "other"`},
	} {
		err := DecodeJSON([]byte(tc.data), &v, true)
		if err == nil || !strings.Contains(In("f.json", err).Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.data, err, tc.want)
		}
	}
}
