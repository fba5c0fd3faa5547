package model

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"parascope/engine/nn"
	"parascope/engine/safetensors"
)

// micro is the smallest shape that has every kind of tensor, so seeds
// stay small.
var micro = Config{Layers: 1, DModel: 4, Heads: 2, MLP: 4, Vocab: 6, RopeTheta: 10000, NormEps: 1e-5, MaxLen: 4}

// FuzzFromFile runs a decoded checkpoint through the model loader. A file
// is refused with an error, never a panic, and never by allocating what
// its config claims before the file is seen to hold it; a model that
// loads has a valid config, gives finite logits of the right count, and
// writes back the tensors it was given.
func FuzzFromFile(f *testing.F) {
	m, _ := New(micro, nn.CPU{})
	m.Init(1)
	file, err := m.File(map[string]string{"note": "seed"})
	if err != nil {
		f.Fatal(err)
	}
	for _, dtype := range []string{safetensors.F32, safetensors.BF16} {
		var b bytes.Buffer
		if err := safetensors.Encode(&b, file, dtype); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := safetensors.Decode(data)
		if err != nil {
			return
		}
		m, err := FromFile(file, nn.CPU{})
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("an empty error")
			}
			return
		}
		if err := m.Config.Validate(); err != nil {
			t.Fatalf("loaded with an invalid config: %v", err)
		}
		seq := min(m.MaxLen, 4)
		ids := make([]int32, seq)
		for i := range ids {
			ids[i] = int32(i % m.Vocab)
		}
		logits, err := m.Logits(ids, 1, seq, []int32{0})
		if err != nil || len(logits) != m.Vocab {
			t.Fatalf("%d logits, want %d: %v", len(logits), m.Vocab, err)
		}
		if slices.ContainsFunc(logits, func(x float32) bool { return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) }) {
			// Finite weights can still overflow; that is the weights', not the loader's, fault.
			return
		}
		back, err := m.File(nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range file.Tensors {
			got, ok := back.Get(want.Name)
			if !ok || !slices.Equal(got.Shape, want.Shape) || !slices.Equal(got.Data, want.Data) {
				t.Fatalf("tensor %q changed between loading and writing", want.Name)
			}
		}
	})
}
