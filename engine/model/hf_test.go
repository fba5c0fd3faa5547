package model

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"parascope/engine/cpu"
	"parascope/engine/nn"
	"parascope/engine/safetensors"
)

// TestLLaDAFamiliesMatchPyTorch opens the tiny LLaDA, MMaDA and
// Lumina-DiMOO folders of engine/hf/testdata — bfloat16 in one file and
// float32 in three shards, as engine/hf/reference/fixtures.py writes them —
// and compares the logits at every position of a fixed batch with
// PyTorch's (engine/hf/reference/logits.py), on every vector path. The
// bfloat16 folders run from their mapped weights, the float32 ones from a
// copy.
func TestLLaDAFamiliesMatchPyTorch(t *testing.T) {
	const dir = "../hf/testdata"
	ref, err := safetensors.Read(filepath.Join(dir, "logits.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	idsT, _ := ref.Get("ids")
	batch, seq := idsT.Shape[0], idsT.Shape[1]
	ids := make([]int32, len(idsT.Data))
	sel := make([]int32, len(ids))
	for i, v := range idsT.Data {
		ids[i], sel[i] = int32(v), int32(i)
	}
	for _, p := range cpu.Paths() {
		restore := p.Use()
		for _, family := range []string{"llada", "mmada", "dimoo"} {
			for _, dtype := range []string{"bf16", "f32"} {
				name := family + "-" + dtype
				t.Run(fmt.Sprintf("%s/%s", p.Name, name), func(t *testing.T) {
					want, ok := ref.Get(name)
					if !ok {
						t.Fatalf("no reference logits for %s", name)
					}
					m, err := Load(filepath.Join(dir, name), nn.CPU{})
					if err != nil {
						t.Fatal(err)
					}
					defer m.Close()
					if m.ReadOnly() != (dtype == "bf16") {
						t.Errorf("read-only %v for a %s folder", m.ReadOnly(), dtype)
					}
					got, err := m.Logits(ids, batch, seq, sel)
					if err != nil {
						t.Fatal(err)
					}
					scale, diff := 1.0, 0.0
					for i, w := range want.Data {
						scale = math.Max(scale, math.Abs(float64(w)))
						diff = math.Max(diff, math.Abs(float64(got[i]-w)))
					}
					t.Logf("max difference %.3g at scale %.3g", diff, scale)
					if len(got) != len(want.Data) || diff > 1e-4*scale {
						t.Fatalf("logits differ from PyTorch's by %.3g (scale %.3g, %d values for %d)", diff, scale, len(got), len(want.Data))
					}
				})
			}
		}
		restore()
	}
}
