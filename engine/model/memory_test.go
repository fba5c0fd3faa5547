//go:build linux

package model

import (
	"syscall"
	"testing"

	"parascope/engine/nn"
)

// BenchmarkLogitsMemory makes a model of the default shape as Open makes
// random:SEED, runs the sampler's call (Logits) over one sequence of 2,048
// tokens with logits at a quarter of the positions, and reports the
// process's peak resident memory. The default shape stops at 256 tokens, so
// only MaxLen is raised; nothing is allocated by it. The peak covers
// everything the test binary did before, so run it alone:
//
//	go test -run '^$' -bench LogitsMemory -benchtime 1x ./engine/model/
func BenchmarkLogitsMemory(b *testing.B) {
	const seq = 2048
	cfg := DefaultConfig(388) // the tokenizer of the default codebook
	cfg.MaxLen = seq
	m, err := New(cfg, nn.CPU{})
	if err != nil {
		b.Fatal(err)
	}
	m.Init(1)
	ids, sel := spread(seq, cfg.Vocab, 4)
	for b.Loop() {
		if _, err := m.Logits(ids, 1, seq, sel); err != nil {
			b.Fatal(err)
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB") // Linux reports KiB
}
