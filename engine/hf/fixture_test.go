package hf

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"parascope/engine/safetensors"
)

// tinyConfig is a config.json in the shape of LLaDA-8B-Instruct's (every
// key it holds, with the same values where they select code), at a size a
// test can fill with random weights.
func tinyConfig(family Family) map[string]any {
	c := map[string]any{
		"activation_type": "silu", "alibi": false, "alibi_bias_max": 8.0, "architectures": []string{"LLaDAModelLM"},
		"attention_dropout": 0.0, "attention_layer_norm": false, "attention_layer_norm_with_affine": true,
		"auto_map":            map[string]string{"AutoConfig": "configuration_llada.LLaDAConfig", "AutoModel": "modeling_llada.LLaDAModelLM"},
		"bias_for_layer_norm": false, "block_group_size": 1, "block_type": "llama", "d_model": 16,
		"embedding_dropout": 0.0, "embedding_size": 40, "eos_token_id": 31, "flash_attention": false,
		"include_bias": false, "include_qkv_bias": false, "init_cutoff_factor": nil, "init_device": "meta",
		"init_fn": "mitchell", "init_std": 0.02, "input_emb_norm": false, "layer_norm_type": "rms",
		"layer_norm_with_affine": true, "mask_token_id": 33, "max_sequence_length": 64, "mlp_hidden_size": 24,
		"mlp_ratio": 4, "model_type": "llada", "multi_query_attention": nil, "n_heads": 4, "n_kv_heads": 2,
		"n_layers": 2, "pad_token_id": 31, "precision": "amp_bf16", "residual_dropout": 0.0, "rms_norm_eps": 1e-5,
		"rope": true, "rope_full_precision": true, "rope_theta": 500000.0, "scale_logits": false,
		"transformers_version": "4.46.3", "use_cache": false, "vocab_size": 36, "weight_tying": false,
	}
	switch family {
	case MMaDA:
		c["architectures"], c["model_type"] = []string{"MMadaModelLM"}, "mmada"
		c["llm_vocab_size"], c["codebook_size"], c["num_vq_tokens"], c["new_vocab_size"] = 30, 8, 4, 40
	case DiMOO:
		c["architectures"] = []string{"LLaDAForMultiModalGeneration"}
		c["text_vocab_size"], c["codebook_size"] = 30, 8
	}
	return c
}

// writeFolder writes a model folder for cfg with random weights in dtype,
// in one file (shards 1) or spread over shards files with an index; edit,
// if given, may change the tensors and the index before they are written.
func writeFolder(t *testing.T, cfg map[string]any, dtype string, shards int, edit func(ts map[string]safetensors.Tensor, index map[string]string)) string {
	t.Helper()
	dir := t.TempDir()
	js, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	ts := map[string]safetensors.Tensor{}
	index := map[string]string{}
	for i, e := range Layout(c) {
		n := 1
		for _, d := range e.Shape {
			n *= d
		}
		data := make([]float32, n)
		for j := range data {
			data[j] = float32(r.NormFloat64())
		}
		ts[e.Name] = safetensors.Tensor{Name: e.Name, Shape: e.Shape, Data: data}
		index[e.Name] = fmt.Sprintf("model-%05d-of-%05d.safetensors", i%shards+1, shards)
	}
	if edit != nil {
		edit(ts, index)
	}
	if shards == 1 {
		writeTensors(t, filepath.Join(dir, singleFile), ts, dtype)
		return dir
	}
	byShard := map[string]map[string]safetensors.Tensor{}
	for name, s := range index {
		if byShard[s] == nil {
			byShard[s] = map[string]safetensors.Tensor{}
		}
		if tensor, ok := ts[name]; ok {
			byShard[s][name] = tensor
		}
	}
	for s, part := range byShard {
		writeTensors(t, filepath.Join(dir, s), part, dtype)
	}
	js, _ = json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 0}, "weight_map": index})
	if err := os.WriteFile(filepath.Join(dir, indexFile), js, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeTensors(t *testing.T, path string, ts map[string]safetensors.Tensor, dtype string) {
	t.Helper()
	f := &safetensors.File{Metadata: map[string]string{"format": "pt"}}
	for _, name := range sortedKeys(ts) {
		f.Tensors = append(f.Tensors, ts[name])
	}
	if err := safetensors.Write(path, f, dtype); err != nil {
		t.Fatal(err)
	}
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
