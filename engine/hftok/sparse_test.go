package hftok

import (
	"fmt"
	"strings"
	"testing"
)

// A small vocabulary may keep a real model's large ids (as the MMaDA
// fixtures do); an id far past any model's is refused.
func TestSparseVocab(t *testing.T) {
	file := func(id int) string {
		return fmt.Sprintf(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"<|x|>":%d},"merges":[]},
			"added_tokens":[{"id":%d,"content":"<|x|>","special":true}]}`, id, id)
	}
	tok, err := Parse([]byte(file(126336)))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("ab<|x|>", false); fmt.Sprint(got) != "[0 1 126336]" {
		t.Errorf("Encode = %v, want [0 1 126336]", got)
	}
	if n := tok.VocabSize(); n != 126337 {
		t.Errorf("VocabSize = %d, want 126337", n)
	}
	if _, err := Parse([]byte(file(1 << 30))); err == nil || !strings.Contains(err.Error(), "largest id") {
		t.Errorf("id 2^30: err = %v, want a largest-id error", err)
	}
}

// TokenBytes gives a byte-level token's bytes, half a character included.
func TestTokenBytes(t *testing.T) {
	tok, err := Parse([]byte(`{"model":{"type":"BPE","vocab":{"Ã":0,"©":1,"a":2},"merges":[]},
		"decoder":{"type":"ByteLevel"},"added_tokens":[{"id":3,"content":"<s>","special":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int]string{0: "\xc3", 1: "\xa9", 2: "a", 3: "<s>"} {
		if b, ok := tok.TokenBytes(id); !ok || string(b) != want {
			t.Errorf("TokenBytes(%d) = %q, %v; want %q", id, b, ok, want)
		}
	}
	if _, ok := tok.TokenBytes(9); ok {
		t.Error("TokenBytes(9) of an unknown id is ok")
	}
}
