package sample

import (
	"context"
	"strings"
	"testing"

	"parascope/engine/token"
	"parascope/engine/vq"
)

// FuzzReadTrace: any bytes either read as a trace with frames that all
// have every field, or give an error; never a panic.
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
		_, frames, err := ReadTrace(strings.NewReader(data), "fuzz.jsonl", v)
		if err != nil {
			return
		}
		for i, fr := range frames {
			if fr.Step != i || len(fr.Tokens) != token.ImageTokens+token.ReasoningLen {
				t.Fatalf("frame %d accepted with step %d and %d tokens", i, fr.Step, len(fr.Tokens))
			}
		}
	})
}
