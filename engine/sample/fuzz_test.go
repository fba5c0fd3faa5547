package sample

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"parascope/engine/token"
	"parascope/engine/vq"
)

// FuzzReadTrace: any bytes read as a trace or give an error naming the
// file; never a panic. A trace that reads holds frames the layout allows
// and writes back to a trace that reads the same.
func FuzzReadTrace(f *testing.F) {
	v := token.New(vq.Default().K())
	m, p, _ := fixture(&testing.T{})
	s, _ := New(m, m.v, greedy(2), p)
	for !s.Done() {
		s.Step(context.Background())
	}
	var b strings.Builder
	WriteTrace(&b, NewHeader(s, "fuzz", nil), s.History())
	f.Add(b.String())
	f.Add(strings.SplitN(b.String(), "\n", 2)[0] + "\n{}")
	f.Add("")
	f.Fuzz(func(t *testing.T, data string) {
		h, frames, err := ReadTrace(strings.NewReader(data), "fuzz.jsonl", v)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.jsonl") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for i, fr := range frames {
			if fr.Step != i || len(fr.Tokens) != v.ImageLen()+v.ReasoningLen() || fr.Step > h.Steps {
				t.Fatalf("frame %d accepted with step %d and %d tokens", i, fr.Step, len(fr.Tokens))
			}
			for j, id := range fr.Tokens {
				if id != int32(v.MaskID()) && (id < 0 || int(id) >= v.Size()) {
					t.Fatalf("frame %d accepted with id %d at %d", i, id, j)
				}
			}
		}
		var again strings.Builder
		if err := WriteTrace(&again, h, frames); err != nil {
			t.Fatal(err)
		}
		h2, frames2, err := ReadTrace(strings.NewReader(again.String()), "again.jsonl", v)
		if err != nil {
			t.Fatalf("a trace that read does not read once written back: %v", err)
		}
		if fmt.Sprint(h2, frames2) != fmt.Sprint(h, frames) {
			t.Fatal("the trace changed when written back")
		}
	})
}

// FuzzLoadConfig: any file loads as a sampler config or fails with an
// error naming it; a config that loads is valid for the layout and
// loads the same once written back.
func FuzzLoadConfig(f *testing.F) {
	v := token.New(vq.Default().K())
	for _, name := range []string{"thinkedit.toml", "sequential.toml", "semi-ar-blocks.toml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add("steps = 0\n[text]\nblock = 7\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		path := filepath.Join(dir, "c.toml")
		os.WriteFile(path, []byte(text), 0o644)
		c, err := LoadConfig(path, "", v)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		if err := c.ValidateFor(v); err != nil {
			t.Fatalf("loaded an invalid config: %v", err)
		}
		var b strings.Builder
		if err := toml.NewEncoder(&b).Encode(c); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path, []byte(b.String()), 0o644)
		back, err := LoadConfig(path, "", v)
		if err != nil || fmt.Sprint(back) != fmt.Sprint(c) {
			t.Fatalf("written back, the config reads %+v, %v; want %+v\n%s", back, err, c, b.String())
		}
	})
}
