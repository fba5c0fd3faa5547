package hf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"parascope/engine/safetensors"
)

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not mention %q", err, p)
		}
	}
}

// The table, written out by hand for one block from the official
// LLaDALlamaBlock and LLaDAModel, so that a slip in it shows here.
func TestLayoutNames(t *testing.T) {
	c := Config{DModel: 8, Layers: 1, Heads: 4, KVHeads: 2, MLP: 12, Vocab: 20, Embedding: 24}
	want := []Expected{
		{"model.transformer.wte.weight", []int{24, 8}},
		{"model.transformer.blocks.0.attn_norm.weight", []int{8}},
		{"model.transformer.blocks.0.q_proj.weight", []int{8, 8}},
		{"model.transformer.blocks.0.k_proj.weight", []int{4, 8}},
		{"model.transformer.blocks.0.v_proj.weight", []int{4, 8}},
		{"model.transformer.blocks.0.attn_out.weight", []int{8, 8}},
		{"model.transformer.blocks.0.ff_norm.weight", []int{8}},
		{"model.transformer.blocks.0.ff_proj.weight", []int{12, 8}},
		{"model.transformer.blocks.0.up_proj.weight", []int{12, 8}},
		{"model.transformer.blocks.0.ff_out.weight", []int{8, 12}},
		{"model.transformer.ln_f.weight", []int{8}},
		{"model.transformer.ff_out.weight", []int{24, 8}},
	}
	eq := func(a, b Expected) bool { return a.Name == b.Name && slices.Equal(a.Shape, b.Shape) }
	if got := Layout(c); !slices.EqualFunc(got, want, eq) {
		t.Errorf("layout\n%v\nwant\n%v", got, want)
	}
	c.Tied = true
	if got := Layout(c); !slices.EqualFunc(got, want[:len(want)-1], eq) {
		t.Errorf("tied layout holds a head: %v", got[len(got)-1])
	}
}

// Each family opens single-file in BF16 and sharded in F32, its config
// read and its weights the ones written.
func TestOpenFamilies(t *testing.T) {
	for _, fam := range []Family{LLaDA, MMaDA, DiMOO} {
		for _, c := range []struct {
			dtype  string
			shards int
		}{{safetensors.BF16, 1}, {safetensors.F32, 3}} {
			dir := writeFolder(t, tinyConfig(fam), c.dtype, c.shards, nil)
			f, err := Open(dir)
			if err != nil {
				t.Fatalf("%s %s×%d: %v", fam, c.dtype, c.shards, err)
			}
			want := Config{Family: fam, DModel: 16, Layers: 2, Heads: 4, KVHeads: 2, MLP: 24, Vocab: 36, Embedding: 40,
				RopeTheta: 500000, NormEps: 1e-5, MaxLen: 64, MaskID: 33, EOSID: 31, PadID: 31}
			switch fam {
			case LLaDA:
				want.Architecture, want.ModelType = "LLaDAModelLM", "llada"
			case MMaDA:
				want.Architecture, want.ModelType, want.TextVocab, want.Codebook = "MMadaModelLM", "mmada", 30, 8
			case DiMOO:
				want.Architecture, want.ModelType, want.TextVocab, want.Codebook = "LLaDAForMultiModalGeneration", "llada", 30, 8
			}
			if f.Config != want || f.Dtype != c.dtype {
				t.Errorf("%s: config %+v %s\nwant %+v %s", fam, f.Config, f.Dtype, want, c.dtype)
			}
			if n := len(f.files); n != c.shards {
				t.Errorf("%s: %d files mapped, want %d", fam, n, c.shards)
			}
			k, ok := f.Tensor(BlockTensor(1, "k_proj"))
			if !ok || !slices.Equal(k.Shape, []int{8, 16}) || k.Dtype != c.dtype {
				t.Errorf("%s: k_proj %v %s", fam, k.Shape, k.Dtype)
			}
			// The folder's view widens to what a plain read decodes.
			plain, err := safetensors.Read(k.File)
			if err != nil {
				t.Fatal(err)
			}
			wantK, _ := plain.Get(k.Name)
			gotK, err := k.Float32()
			if err != nil || !slices.Equal(gotK.Data, wantK.Data) {
				t.Errorf("%s: k_proj values differ from %s", fam, k.File)
			}
			if err := f.Close(); err != nil {
				t.Error(err)
			}
		}
	}
}

// Without a head, weight_tying says the head is wte.
func TestOpenTied(t *testing.T) {
	cfg := tinyConfig(LLaDA)
	cfg["weight_tying"] = true
	f, err := Open(writeFolder(t, cfg, safetensors.BF16, 1, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, ok := f.Tensor(Head); ok || !f.Config.Tied {
		t.Error("a tied folder has a head")
	}
}

func TestConfigRefuses(t *testing.T) {
	cases := []struct {
		name string
		edit func(c map[string]any)
		want []string
	}{
		{"unknown architecture", func(c map[string]any) { c["architectures"] = []string{"LlamaForCausalLM"} }, []string{"LlamaForCausalLM", "LLaDAModelLM", "MMadaModelLM", "LLaDAForMultiModalGeneration"}},
		{"no architecture", func(c map[string]any) { delete(c, "architectures") }, []string{"none of the LLaDA family"}},
		{"model_type", func(c map[string]any) { c["model_type"] = "mmada" }, []string{`model_type "mmada"`, `"llada"`}},
		{"fused block", func(c map[string]any) { c["block_type"] = "sequential" }, []string{"block_type is sequential"}},
		{"no rope key", func(c map[string]any) { delete(c, "rope") }, []string{"rope is false"}},
		{"swiglu", func(c map[string]any) { c["activation_type"] = "swiglu" }, []string{"activation_type"}},
		{"biases", func(c map[string]any) { c["include_bias"] = true }, []string{"bias"}},
		{"heads", func(c map[string]any) { c["n_heads"] = 3 }, []string{"d_model 16", "n_heads 3"}},
		{"kv heads", func(c map[string]any) { c["multi_query_attention"] = true }, []string{"n_kv_heads 2", "multi_query_attention"}},
		{"embedding", func(c map[string]any) { c["embedding_size"] = 20 }, []string{"embedding_size 20"}},
		{"a string", func(c map[string]any) { c["d_model"] = "16" }, []string{"d_model"}},
	}
	for _, c := range cases {
		cfg := tinyConfig(LLaDA)
		c.edit(cfg)
		dir := t.TempDir()
		js, _ := json.Marshal(cfg)
		os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644)
		_, err := ReadConfig(dir)
		wantErr(t, err, append(c.want, "config.json")...)
	}
	// Left out, n_kv_heads and mlp_hidden_size and embedding_size take the
	// official defaults.
	cfg := tinyConfig(LLaDA)
	delete(cfg, "n_kv_heads")
	delete(cfg, "mlp_hidden_size")
	cfg["embedding_size"] = nil
	dir := t.TempDir()
	js, _ := json.Marshal(cfg)
	os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644)
	if c, err := ReadConfig(dir); err != nil || c.KVHeads != 4 || c.MLP != 64 || c.Embedding != 36 {
		t.Errorf("defaults: %+v, %v", c, err)
	}
}

// Open names the file, the shard and the tensor at fault.
func TestOpenRefuses(t *testing.T) {
	q0 := BlockTensor(0, "q_proj")
	shard := func(i int) string {
		return []string{"", "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"}[i]
	}
	cases := []struct {
		name   string
		shards int
		edit   func(ts map[string]safetensors.Tensor, index map[string]string)
		after  func(dir string)
		want   []string
	}{
		{"missing tensor", 1, func(ts map[string]safetensors.Tensor, _ map[string]string) { delete(ts, q0) }, nil,
			[]string{"no tensor", q0}},
		{"missing from a shard", 3, func(ts map[string]safetensors.Tensor, _ map[string]string) { delete(ts, q0) }, nil,
			[]string{indexFile, q0, "does not hold it"}},
		{"wrong shape", 3, func(ts map[string]safetensors.Tensor, _ map[string]string) {
			q := ts[q0]
			q.Shape = []int{32, 8}
			ts[q0] = q
		}, nil, []string{shard(3), q0, "[32 8]", "[16 16]"}},
		{"extra tensor", 1, func(ts map[string]safetensors.Tensor, _ map[string]string) {
			ts["model.transformer.wpe.weight"] = safetensors.Tensor{Name: "model.transformer.wpe.weight", Shape: []int{1}, Data: []float32{1}}
		}, nil, []string{singleFile, "wpe", "not part of a LLaDA model"}},
		{"index names a missing shard", 3, nil, func(dir string) { os.Remove(filepath.Join(dir, shard(3))) },
			[]string{indexFile, shard(3), "no such file"}},
		{"tensor in another shard", 3, nil, func(dir string) {
			idx := readJSON(t, filepath.Join(dir, indexFile))
			idx["weight_map"].(map[string]any)[q0] = shard(1)
			writeJSON(t, filepath.Join(dir, indexFile), idx)
		}, []string{indexFile, q0, shard(1), "but it is in " + shard(3)}},
		{"tensor missing from the index", 3, nil, func(dir string) {
			idx := readJSON(t, filepath.Join(dir, indexFile))
			delete(idx["weight_map"].(map[string]any), q0)
			writeJSON(t, filepath.Join(dir, indexFile), idx)
		}, []string{shard(3), q0, "is not in", indexFile}},
		{"shard outside the folder", 3, nil, func(dir string) {
			idx := readJSON(t, filepath.Join(dir, indexFile))
			idx["weight_map"].(map[string]any)[q0] = "../x.safetensors"
			writeJSON(t, filepath.Join(dir, indexFile), idx)
		}, []string{indexFile, "../x.safetensors", "same folder"}},
		{"no weights", 1, nil, func(dir string) { os.Remove(filepath.Join(dir, singleFile)) },
			[]string{singleFile, indexFile}},
		{"corrupt shard", 3, nil, func(dir string) { os.Truncate(filepath.Join(dir, shard(2)), 100) },
			[]string{shard(2), "truncated"}},
		{"config dtype", 1, nil, func(dir string) {
			cfg := readJSON(t, filepath.Join(dir, "config.json"))
			cfg["torch_dtype"] = "float32"
			writeJSON(t, filepath.Join(dir, "config.json"), cfg)
		}, []string{"torch_dtype float32", "BF16"}},
	}
	for _, c := range cases {
		dir := writeFolder(t, tinyConfig(LLaDA), safetensors.BF16, c.shards, c.edit)
		if c.after != nil {
			c.after(dir)
		}
		f, err := Open(dir)
		if err == nil {
			f.Close()
		}
		t.Run(c.name, func(t *testing.T) { wantErr(t, err, c.want...) })
	}
}

// A shard in another dtype names the tensor, its file and the dtype of
// the embedding, which the rest share.
func TestOpenRefusesMixedDtypes(t *testing.T) {
	dir := writeFolder(t, tinyConfig(MMaDA), safetensors.BF16, 2, nil)
	norm := BlockTensor(0, "attn_norm") // the tensor after wte, in the other shard
	idx := readJSON(t, filepath.Join(dir, indexFile))
	s := idx["weight_map"].(map[string]any)[norm].(string)
	plain, err := safetensors.Read(filepath.Join(dir, s))
	if err != nil {
		t.Fatal(err)
	}
	if err := safetensors.Write(filepath.Join(dir, s), plain, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir)
	wantErr(t, err, s, norm, "is F32", Embedding, "BF16")
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
