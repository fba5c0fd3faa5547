package hftok

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// One Tokenizer serves many goroutines: the word cache is shared.
func TestConcurrentEncode(t *testing.T) {
	tok, err := Load("testdata/tiny-llama2.json")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"hello world", "the cat is it", "héllo 你好 ✓", "--- 123 ---"}
	want := make([][]int, len(texts))
	for i, s := range texts {
		want[i] = tok.Encode(s, true)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for k := 0; k < 200; k++ {
				i := (g + k) % len(texts)
				if got := tok.Encode(texts[i], true); !slices.Equal(got, want[i]) {
					t.Errorf("%q: got %v, want %v", texts[i], got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

// Long runs of one character must not take quadratic time.
func TestLongRunsAreFast(t *testing.T) {
	tok := loadQwen3(t)
	start := time.Now()
	for _, s := range []string{strings.Repeat(" ", 200000), strings.Repeat("a", 200000), strings.Repeat("\n ", 100000), strings.Repeat("é", 100000)} {
		if ids := tok.Encode(s, false); len(ids) == 0 {
			t.Fatalf("no ids for a run of %q", s[:2])
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("long runs took %v", d)
	}
}
