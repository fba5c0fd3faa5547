package clip

import (
	"math/rand/v2"
	"slices"
	"testing"

	"parascope/engine/nn"
	"parascope/engine/safetensors"
	"parascope/engine/world"
)

// A tiny checkpoint in OpenAI CLIP's Hugging Face layout: the tensors
// whose role coincides land in the right places, the blocks are reported.
func TestFromOpenAI(t *testing.T) {
	cfg := tinyConfig()
	r := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(r.NormFloat64())
		}
		return out
	}
	d, p := cfg.DModel, world.PatchPx
	conv := rnd(d * 3 * p * p)
	pos := rnd((Patches + 1) * d)
	f := &safetensors.File{Tensors: []safetensors.Tensor{
		{Name: "visual_projection.weight", Shape: []int{cfg.Embed, d}, Data: rnd(cfg.Embed * d)},
		{Name: "text_projection.weight", Shape: []int{cfg.Embed, d}, Data: rnd(cfg.Embed * d)},
		{Name: "text_model.embeddings.token_embedding.weight", Shape: []int{cfg.Vocab, d}, Data: rnd(cfg.Vocab * d)},
		{Name: "vision_model.embeddings.patch_embedding.weight", Shape: []int{d, 3, p, p}, Data: conv},
		{Name: "vision_model.embeddings.position_embedding.weight", Shape: []int{Patches + 1, d}, Data: pos},
		{Name: "vision_model.encoder.layers.0.self_attn.q_proj.weight", Shape: []int{d, d}, Data: rnd(d * d)},
		{Name: "text_model.final_layer_norm.bias", Shape: []int{d}, Data: rnd(d)},
		{Name: "logit_scale", Shape: []int{1}, Data: []float32{4.6}},
	}}
	mapped, unused, err := FromOpenAI(f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(mapped) != 5 || !slices.Equal(unused, []string{"vision_model.encoder.layers.0.self_attn.q_proj.weight", "text_model.final_layer_norm.bias", "logit_scale"}) {
		t.Fatalf("mapped %d, unused %v", len(mapped), unused)
	}
	// Channel c of pixel (y, x) of output o, both ways.
	o, c, y, x := 3, 2, 5, 1
	if got, want := mapped["vision.patch"].Data[o*PatchDim+(y*p+x)*3+c], conv[((o*3+c)*p+y)*p+x]; got != want {
		t.Fatalf("patch weight %g, want %g", got, want)
	}
	if mapped["vision.pos"].Data[0] != pos[d] {
		t.Fatal("the class token's position row must be dropped")
	}
	// The mapped tensors load into the model's own code path.
	m, _ := New(cfg, nn.CPU{})
	all := map[string]safetensors.Tensor{}
	for _, t := range m.Tensors() {
		all[t.Name] = t
	}
	for k, v := range mapped {
		all[k] = v
	}
	if err := m.SetTensors(all); err != nil {
		t.Fatal(err)
	}
	f.Tensors = append(f.Tensors, safetensors.Tensor{Name: "model.encoder.w", Shape: []int{1}, Data: []float32{1}})
	if _, _, err := FromOpenAI(f, cfg); err == nil {
		t.Fatal("a foreign tensor was accepted")
	}
}
