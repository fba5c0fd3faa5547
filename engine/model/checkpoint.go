package model

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"parascope/engine/checkpoint"
	"parascope/engine/infile"
	"parascope/engine/nn"
	"parascope/engine/safetensors"
)

// Checkpoints are safetensors files with the model's native tensor names
// and its config as JSON in the "config" metadata entry.

// metaConfig is the metadata key that holds the config.
const metaConfig = "config"

// Save writes the weights atomically, in f32 or bf16.
func (m *Model) Save(path, dtype string, meta map[string]string) error {
	f, err := m.File(meta)
	if err != nil {
		return err
	}
	return safetensors.Write(path, f, dtype)
}

// File returns the weights as a safetensors file of kind model, the
// config and meta in its metadata; callers may add tensors of their own
// (and change the kind) before writing it.
func (m *Model) File(meta map[string]string) (*safetensors.File, error) {
	f, err := m.ParamSet.File(meta, metaConfig, m.Config)
	if err != nil {
		return nil, err
	}
	checkpoint.Model.Mark(f)
	return f, nil
}

// Load reads a checkpoint onto a backend. path is a Parascope checkpoint
// (a .safetensors file with a config entry in its metadata), or a LLaDA /
// MMaDA checkpoint: a folder (or a .safetensors file inside one) with the
// Hugging Face config.json and model.safetensors or sharded files listed
// in model.safetensors.index.json.
func Load(path string, be nn.Backend) (*Model, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return loadLLaDA(path, be)
	}
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, err
	}
	// A file of no kind Parascope writes may be a LLaDA shard.
	if kind, err := checkpoint.Of(f); err == nil && kind == "" {
		return loadLLaDA(filepath.Dir(path), be)
	}
	if err := checkpoint.Check(path, f, checkpoint.Model); err != nil {
		return nil, err
	}
	m, err := FromFile(f, be)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// FromFile builds a model from a Parascope checkpoint already read.
func FromFile(f *safetensors.File, be nn.Backend) (*Model, error) {
	var cfg Config
	if err := infile.DecodeJSON([]byte(f.Metadata[metaConfig]), &cfg, false); err != nil {
		return nil, fmt.Errorf("metadata %q: %w", metaConfig, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	// The file must hold every tensor of the shape its config claims
	// before anything is allocated for it: a claimed shape cannot then
	// ask for more memory than the file takes. The layout lists nine
	// tensors a layer, so its length is bounded by the file's first.
	byName := tensorsByName(f.Tensors)
	if cfg.Layers > len(f.Tensors) {
		return nil, fmt.Errorf("model config: %d layers, the file holds %d tensors", cfg.Layers, len(f.Tensors))
	}
	if err := checkTensors(cfg.Layout(), byName); err != nil {
		return nil, err
	}
	held := 0
	for _, t := range f.Tensors {
		held += len(t.Data)
	}
	if want := cfg.Params(); want != held {
		return nil, fmt.Errorf("model config: its shape has %d weights, the file holds %d", want, held)
	}
	m, err := New(cfg, be)
	if err != nil {
		return nil, err
	}
	if err := m.SetTensors(byName); err != nil {
		return nil, err
	}
	return m, nil
}

func tensorsByName(ts []safetensors.Tensor) map[string]safetensors.Tensor {
	out := make(map[string]safetensors.Tensor, len(ts))
	for _, t := range ts {
		out[t.Name] = t
	}
	return out
}

// ---- LLaDA / MMaDA checkpoints ---------------------------------------------

// lladaConfig is the part of LLaDA's config.json the model needs.
type lladaConfig struct {
	DModel      int     `json:"d_model"`
	Heads       int     `json:"n_heads"`
	KVHeads     int     `json:"n_kv_heads"`
	Layers      int     `json:"n_layers"`
	MLP         int     `json:"mlp_hidden_size"`
	Vocab       int     `json:"vocab_size"`
	Embedding   int     `json:"embedding_size"`
	RopeTheta   float64 `json:"rope_theta"`
	NormEps     float64 `json:"rms_norm_eps"`
	MaxLen      int     `json:"max_sequence_length"`
	WeightTying bool    `json:"weight_tying"`
}

// lladaNames maps LLaDA's per-block weight names onto the native ones.
var lladaNames = map[string]string{
	"attn_norm": attnNorm, "q_proj": wq, "k_proj": wk, "v_proj": wv, "attn_out": wo,
	"ff_norm": ffNorm, "ff_proj": wGate, "up_proj": wUp, "ff_out": wDown,
}

// nativeName returns the native name of a LLaDA weight name.
func nativeName(name string) (string, bool) {
	const prefix = "model.transformer."
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return "", false
	}
	switch rest {
	case "wte.weight":
		return "wte", true
	case "ln_f.weight":
		return "ln_f", true
	case "ff_out.weight":
		return "head", true
	}
	parts := strings.Split(rest, ".") // blocks.{i}.{name}.weight
	if len(parts) != 4 || parts[0] != "blocks" || parts[3] != "weight" {
		return "", false
	}
	i, err := strconv.Atoi(parts[1])
	n, known := lladaNames[parts[2]]
	if err != nil || i < 0 || !known {
		return "", false
	}
	return blockName(i, n), true
}

func loadLLaDA(dir string, be nn.Backend) (*Model, error) {
	cfgPath := filepath.Join(dir, "config.json")
	raw, err := infile.Read(cfgPath, 1<<20, "a model config")
	if err != nil {
		return nil, fmt.Errorf("not a Parascope checkpoint, and no LLaDA config: %w", err)
	}
	var lc lladaConfig
	// A model's config.json holds many keys this loader does not need.
	if err := infile.DecodeJSON(raw, &lc, false); err != nil {
		return nil, infile.In(cfgPath, err)
	}
	if lc.KVHeads != 0 && lc.KVHeads != lc.Heads {
		return nil, fmt.Errorf("%s: n_kv_heads %d differs from n_heads %d: grouped-query attention is not supported", cfgPath, lc.KVHeads, lc.Heads)
	}
	cfg := Config{Layers: lc.Layers, DModel: lc.DModel, Heads: lc.Heads, MLP: lc.MLP, Vocab: max(lc.Embedding, lc.Vocab),
		RopeTheta: lc.RopeTheta, NormEps: lc.NormEps, MaxLen: lc.MaxLen}
	m, err := New(cfg, be)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	files, err := lladaShards(dir)
	if err != nil {
		return nil, err
	}
	byName := map[string]safetensors.Tensor{}
	for _, file := range files {
		f, err := safetensors.Read(file)
		if err != nil {
			return nil, err
		}
		for _, t := range f.Tensors {
			n, ok := nativeName(t.Name)
			if !ok {
				return nil, fmt.Errorf("%s: tensor %q is not a LLaDA weight", file, t.Name)
			}
			t.Name = n
			byName[n] = t
		}
	}
	if _, ok := byName["head"]; !ok && lc.WeightTying {
		byName["head"] = byName["wte"]
	}
	if err := m.SetTensors(byName); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return m, nil
}

// lladaShards lists the weight files of a checkpoint folder.
func lladaShards(dir string) ([]string, error) {
	index := filepath.Join(dir, "model.safetensors.index.json")
	raw, err := infile.Read(index, 16<<20, "a shard index")
	if errors.Is(err, os.ErrNotExist) {
		return []string{filepath.Join(dir, "model.safetensors")}, nil
	}
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := infile.DecodeJSON(raw, &idx, false); err != nil {
		return nil, infile.In(index, err)
	}
	var files []string
	for _, f := range idx.WeightMap {
		if strings.Contains(f, "/") || strings.Contains(f, `\`) {
			return nil, fmt.Errorf("%s: shard %q must be a file name in the same folder", index, f)
		}
		files = append(files, filepath.Join(dir, f))
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}
