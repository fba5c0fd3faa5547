package clip

import (
	"fmt"
	"slices"
	"strings"

	"parascope/engine/safetensors"
	"parascope/engine/world"
)

// FromOpenAI maps the tensors of an OpenAI CLIP checkpoint in the Hugging
// Face safetensors layout onto this model's names where the two
// architectures coincide: the projections, the token embedding, the patch
// embedding (a convolution [d, 3, p, p], reordered to this model's
// row-major RGB patches) and the patch position embedding (without the
// class token's row). OpenAI's blocks (LayerNorm with biases, GELU MLP,
// learned positions only) do not match these towers' (RMSNorm, SwiGLU,
// RoPE); their names come back in unused, so a caller can say exactly
// what did not carry over.
func FromOpenAI(f *safetensors.File, cfg Config) (mapped map[string]safetensors.Tensor, unused []string, err error) {
	mapped = map[string]safetensors.Tensor{}
	p := world.PatchPx
	for _, t := range f.Tensors {
		switch t.Name {
		case "visual_projection.weight":
			err = put(mapped, "vision.proj", t, []int{cfg.Embed, cfg.DModel}, t.Data)
		case "text_projection.weight":
			err = put(mapped, "text.proj", t, []int{cfg.Embed, cfg.DModel}, t.Data)
		case "text_model.embeddings.token_embedding.weight":
			err = put(mapped, "text.wte", t, []int{cfg.Vocab, cfg.DModel}, t.Data)
		case "vision_model.embeddings.patch_embedding.weight":
			if !slices.Equal(t.Shape, []int{cfg.DModel, 3, p, p}) {
				return nil, nil, fmt.Errorf("tensor %q has shape %v, want [%d 3 %d %d]", t.Name, t.Shape, cfg.DModel, p, p)
			}
			// [d][c][y][x] → [d][(y·p + x)·3 + c]
			data := make([]float32, len(t.Data))
			for o := range cfg.DModel {
				for c := range 3 {
					for y := range p {
						for x := range p {
							data[o*PatchDim+(y*p+x)*3+c] = t.Data[((o*3+c)*p+y)*p+x]
						}
					}
				}
			}
			err = put(mapped, "vision.patch", t, []int{cfg.DModel, 3, p, p}, data)
		case "vision_model.embeddings.position_embedding.weight":
			if !slices.Equal(t.Shape, []int{Patches + 1, cfg.DModel}) {
				return nil, nil, fmt.Errorf("tensor %q has shape %v, want [%d %d] (the class token's row first)", t.Name, t.Shape, Patches+1, cfg.DModel)
			}
			mapped["vision.pos"] = safetensors.Tensor{Name: "vision.pos", Shape: []int{Patches, cfg.DModel}, Data: t.Data[cfg.DModel:]}
		default:
			if strings.HasPrefix(t.Name, "vision_model.") || strings.HasPrefix(t.Name, "text_model.") || t.Name == "logit_scale" {
				unused = append(unused, t.Name)
				continue
			}
			return nil, nil, fmt.Errorf("tensor %q is not an OpenAI CLIP weight", t.Name)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if t, ok := mapped["vision.patch"]; ok {
		t.Shape = []int{cfg.DModel, PatchDim}
		mapped["vision.patch"] = t
	}
	return mapped, unused, nil
}

func put(m map[string]safetensors.Tensor, name string, src safetensors.Tensor, shape []int, data []float32) error {
	if !slices.Equal(src.Shape, shape) {
		return fmt.Errorf("tensor %q has shape %v, want %v", src.Name, src.Shape, shape)
	}
	m[name] = safetensors.Tensor{Name: name, Shape: shape, Data: data}
	return nil
}
