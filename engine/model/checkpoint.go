package model

import (
	"fmt"
	"os"
	"path/filepath"

	"parascope/engine/checkpoint"
	"parascope/engine/hf"
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

// lladaNames maps LLaDA's per-block weight names onto the native ones.
var lladaNames = map[string]string{
	"attn_norm": attnNorm, "q_proj": wq, "k_proj": wk, "v_proj": wv, "attn_out": wo,
	"ff_norm": ffNorm, "ff_proj": wGate, "up_proj": wUp, "ff_out": wDown,
}

// loadLLaDA opens a Hugging Face folder of the LLaDA family (engine/hf
// checks its config and every tensor). Weights stored in bfloat16 stay in
// the mapped files and the model is read-only, for inference: an 8B model
// then takes its 16 GB on disk, not 32 GB of float32 in memory (only the
// norms' gains are widened). Weights stored in float32 or float16 are
// copied, widened to float32, into a model that can also be trained.
func loadLLaDA(dir string, be nn.Backend) (*Model, error) {
	f, err := hf.Open(dir)
	if err != nil {
		return nil, err
	}
	m, err := fromFolder(f, be)
	if err != nil || !m.ReadOnly() { // a copy no longer needs the files
		f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if m.ReadOnly() {
		m.close = f.Close
	}
	return m, nil
}

// fromFolder makes the model of an opened folder: read-only over its
// bfloat16 weights, or a trainable copy of others.
func fromFolder(f *hf.Folder, be nn.Backend) (*Model, error) {
	c := f.Config
	if c.KVHeads != c.Heads {
		return nil, fmt.Errorf("n_kv_heads %d differs from n_heads %d: grouped-query attention is not supported", c.KVHeads, c.Heads)
	}
	cfg := Config{Layers: c.Layers, DModel: c.DModel, Heads: c.Heads, MLP: c.MLP, Vocab: c.Embedding,
		RopeTheta: c.RopeTheta, NormEps: c.NormEps, MaxLen: c.MaxLen}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if f.Dtype == safetensors.BF16 {
		return mapWeights(f, cfg, be)
	}
	return copyLLaDA(f, cfg, be)
}

// lladaTensors maps each native weight name onto the folder's tensor.
func lladaTensors(f *hf.Folder, cfg Config) (map[string]hf.Tensor, error) {
	names := map[string]string{"wte": hf.Embedding, "ln_f": hf.FinalNorm, "head": hf.Head}
	if f.Config.Tied {
		names["head"] = hf.Embedding
	}
	for i := range cfg.Layers {
		for long, short := range lladaNames {
			names[blockName(i, short)] = hf.BlockTensor(i, long)
		}
	}
	out := map[string]hf.Tensor{}
	for native, name := range names {
		v, ok := f.Tensor(name)
		if !ok {
			return nil, fmt.Errorf("no tensor %q", name)
		}
		out[native] = v
	}
	return out, nil
}

// copyLLaDA widens every weight into a new model's buffer.
func copyLLaDA(f *hf.Folder, cfg Config, be nn.Backend) (*Model, error) {
	views, err := lladaTensors(f, cfg)
	if err != nil {
		return nil, err
	}
	m, err := New(cfg, be)
	if err != nil {
		return nil, err
	}
	byName := map[string]safetensors.Tensor{}
	for native, v := range views {
		t, err := v.Float32()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.File, err)
		}
		t.Name = native
		byName[native] = t
	}
	return m, m.SetTensors(byName)
}

// mapWeights makes a read-only model over the folder's bfloat16
// matrices, handed to the backend as they lie in the mapped files, and
// its gains, widened.
func mapWeights(f *hf.Folder, cfg Config, be nn.Backend) (*Model, error) {
	views, err := lladaTensors(f, cfg)
	if err != nil {
		return nil, err
	}
	weights := map[string]nn.Buf{}
	byTensor := map[string]nn.Buf{} // a tied head is the embedding's buffer
	for _, p := range cfg.Layout() {
		v := views[p.Name]
		if w, ok := byTensor[v.Name]; ok {
			weights[p.Name] = w
			continue
		}
		var w nn.Buf
		if p.Decay {
			bits, err := v.Uint16()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", v.File, err)
			}
			w = be.WeightsBF16(bits)
		} else {
			// A gain is a vector the backend's norm reads as float32.
			gain, err := v.Float32()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", v.File, err)
			}
			w = be.Alloc(len(gain.Data))
			be.Upload(w, gain.Data)
		}
		weights[p.Name], byTensor[v.Name] = w, w
	}
	return NewReadOnly(cfg, be, weights)
}
