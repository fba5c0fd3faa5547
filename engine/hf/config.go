// Package hf opens Hugging Face model folders of the LLaDA family —
// LLaDA-8B-Base/Instruct, MMaDA-8B and Lumina-DiMOO — as the official
// modelling code (ML-GSAI/LLaDA, tyfeld/MMaDA-Parallel) lays them out:
// config.json beside model.safetensors, or beside
// model.safetensors.index.json and its shards. The weights stay
// memory-mapped in their stored dtype; every tensor's name, shape and dtype
// is checked against the config before anything uses them.
package hf

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"parascope/engine/infile"
)

// Family is the kind of model a folder holds, told by its config.json.
type Family string

// The families this package opens. All three share LLaDA's backbone and
// tensor names; they differ in vocabulary and generation code.
const (
	LLaDA Family = "LLaDA" // LLaDA-8B-Base, LLaDA-8B-Instruct
	MMaDA Family = "MMaDA" // MMaDA-8B, the MMaDA-Parallel-M backbone
	DiMOO Family = "DiMOO" // Lumina-DiMOO, the MMaDA-Parallel-A backbone
)

// families maps each architecture named in config.json to its family and
// the model_type its config class registers.
var families = []struct {
	architecture, modelType string
	family                  Family
}{
	{"LLaDAModelLM", "llada", LLaDA},
	{"MMadaModelLM", "mmada", MMaDA},
	{"LLaDAForMultiModalGeneration", "llada", DiMOO},
}

// Config is what Parascope needs of a LLaDA-family config.json.
type Config struct {
	Family       Family
	Architecture string
	ModelType    string

	DModel    int     // d_model
	Layers    int     // n_layers
	Heads     int     // n_heads
	KVHeads   int     // n_kv_heads, or n_heads when unset
	MLP       int     // mlp_hidden_size, or mlp_ratio × d_model
	Vocab     int     // vocab_size
	Embedding int     // embedding_size (rows of wte and the head), or vocab_size
	RopeTheta float64 // rope_theta
	NormEps   float64 // rms_norm_eps
	MaxLen    int     // max_sequence_length
	Tied      bool    // weight_tying: the head is wte

	MaskID, EOSID, PadID int // mask_token_id, eos_token_id, pad_token_id

	// Multimodal vocabularies: text ids below TextVocab, image codes
	// above (DiMOO's text_vocab_size, MMaDA's llm_vocab_size); zero when
	// the config does not say.
	TextVocab int
	Codebook  int // codebook_size

	TorchDtype string // torch_dtype, the dtype the weights were saved in, if given
}

// HeadDim is the width of one attention head.
func (c Config) HeadDim() int { return c.DModel / c.Heads }

// rawConfig holds config.json's keys, starting from the defaults of the
// official ModelConfig so that a key left out means what it means there.
type rawConfig struct {
	ModelType     string   `json:"model_type"`
	Architectures []string `json:"architectures"`

	DModel       int     `json:"d_model"`
	NHeads       int     `json:"n_heads"`
	NKVHeads     *int    `json:"n_kv_heads"`
	MultiQuery   *bool   `json:"multi_query_attention"`
	NLayers      int     `json:"n_layers"`
	MLPRatio     int     `json:"mlp_ratio"`
	MLPHidden    *int    `json:"mlp_hidden_size"`
	Vocab        int     `json:"vocab_size"`
	Embedding    *int    `json:"embedding_size"`
	RopeTheta    float64 `json:"rope_theta"`
	RMSNormEps   float64 `json:"rms_norm_eps"`
	MaxSeqLen    int     `json:"max_sequence_length"`
	WeightTying  bool    `json:"weight_tying"`
	MaskTokenID  *int    `json:"mask_token_id"`
	EOSTokenID   int     `json:"eos_token_id"`
	PadTokenID   int     `json:"pad_token_id"`
	TextVocab    int     `json:"text_vocab_size"`
	LLMVocab     int     `json:"llm_vocab_size"`
	CodebookSize int     `json:"codebook_size"`
	TorchDtype   string  `json:"torch_dtype"`

	// These select code paths of the official model.

	BlockType       string `json:"block_type"`
	BlockGroupSize  int    `json:"block_group_size"`
	ActivationType  string `json:"activation_type"`
	LayerNormType   string `json:"layer_norm_type"`
	LayerNormAffine bool   `json:"layer_norm_with_affine"`
	BiasForNorm     *bool  `json:"bias_for_layer_norm"`
	IncludeBias     bool   `json:"include_bias"`
	IncludeQKVBias  *bool  `json:"include_qkv_bias"`
	AttnLayerNorm   bool   `json:"attention_layer_norm"`
	Rope            bool   `json:"rope"`
	Alibi           bool   `json:"alibi"`
	InputEmbNorm    bool   `json:"input_emb_norm"`
	ScaleLogits     bool   `json:"scale_logits"`
}

// defaults are the official ModelConfig's (a GPT-2-sized model).
func defaults() rawConfig {
	return rawConfig{
		DModel: 768, NHeads: 12, NLayers: 12, MLPRatio: 4, Vocab: 50257, Embedding: ptr(50304),
		RopeTheta: 10000, RMSNormEps: 1e-5, MaxSeqLen: 1024, WeightTying: true,
		MaskTokenID: ptr(50256), EOSTokenID: 50256, PadTokenID: 50256,
		BlockType: "sequential", BlockGroupSize: 1, ActivationType: "swiglu", LayerNormType: "default",
		LayerNormAffine: true, IncludeQKVBias: ptr(false),
	}
}

func ptr[T any](v T) *T { return &v }

// ReadConfig reads dir/config.json and tells its family.
func ReadConfig(dir string) (Config, error) {
	path := filepath.Join(dir, "config.json")
	raw, err := infile.Read(path, 1<<20, "a model config")
	if err != nil {
		return Config{}, err
	}
	rc := defaults()
	// A config.json holds many keys (auto_map, init_std, …) no weight depends on.
	if err := infile.DecodeJSON(raw, &rc, false); err != nil {
		return Config{}, infile.In(path, err)
	}
	c, err := rc.config()
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// config recognises the family and resolves the defaults as the official
// code does, refusing the variants whose weights Parascope cannot use.
func (rc rawConfig) config() (Config, error) {
	var c Config
	for _, f := range families {
		if slices.Contains(rc.Architectures, f.architecture) {
			c.Family, c.Architecture, c.ModelType = f.family, f.architecture, f.modelType
			break
		}
	}
	if c.Family == "" {
		var known []string
		for _, f := range families {
			known = append(known, f.architecture)
		}
		return Config{}, fmt.Errorf("architectures %q (model_type %q) is none of the LLaDA family (%s)", rc.Architectures, rc.ModelType, strings.Join(known, ", "))
	}
	if rc.ModelType != c.ModelType {
		return Config{}, fmt.Errorf("model_type %q, but %s is a %q model", rc.ModelType, c.Architecture, c.ModelType)
	}
	if err := rc.checkVariant(); err != nil {
		return Config{}, err
	}
	kv, err := rc.kvHeads()
	if err != nil {
		return Config{}, err
	}
	c.DModel, c.Layers, c.Heads, c.KVHeads = rc.DModel, rc.NLayers, rc.NHeads, kv
	c.MLP = rc.MLPRatio * rc.DModel
	if rc.MLPHidden != nil {
		c.MLP = *rc.MLPHidden
	}
	c.Vocab, c.Embedding = rc.Vocab, rc.Vocab
	if rc.Embedding != nil {
		c.Embedding = *rc.Embedding
	}
	c.RopeTheta, c.NormEps, c.MaxLen, c.Tied = rc.RopeTheta, rc.RMSNormEps, rc.MaxSeqLen, rc.WeightTying
	c.MaskID, c.EOSID, c.PadID = -1, rc.EOSTokenID, rc.PadTokenID
	if rc.MaskTokenID != nil {
		c.MaskID = *rc.MaskTokenID
	}
	c.TextVocab, c.Codebook = max(rc.TextVocab, rc.LLMVocab), rc.CodebookSize
	c.TorchDtype = rc.TorchDtype
	return c, c.check()
}

// kvHeads resolves n_kv_heads against multi_query_attention as the
// official effective_n_kv_heads does.
func (rc rawConfig) kvHeads() (int, error) {
	switch {
	case rc.NKVHeads == nil && rc.MultiQuery != nil && *rc.MultiQuery:
		return 1, nil
	case rc.NKVHeads == nil:
		return rc.NHeads, nil
	case rc.MultiQuery == nil:
		return *rc.NKVHeads, nil
	}
	want := rc.NHeads
	if *rc.MultiQuery {
		want = 1
	}
	if *rc.NKVHeads != want {
		return 0, fmt.Errorf("n_kv_heads %d contradicts multi_query_attention %v", *rc.NKVHeads, *rc.MultiQuery)
	}
	return want, nil
}

// checkVariant refuses the code paths of the official model that change
// its weights' names or meaning. Real LLaDA-family checkpoints take
// none of them.
func (rc rawConfig) checkVariant() error {
	biasForNorm := rc.IncludeBias
	if rc.BiasForNorm != nil {
		biasForNorm = *rc.BiasForNorm
	}
	for _, v := range []struct {
		key       string
		got, want any
	}{
		{"block_type", rc.BlockType, "llama"}, // separate q/k/v and up projections
		{"block_group_size", rc.BlockGroupSize, 1},
		{"activation_type", rc.ActivationType, "silu"}, // swiglu would halve ff_out's input
		{"layer_norm_type", rc.LayerNormType, "rms"},
		{"layer_norm_with_affine", rc.LayerNormAffine, true},
		{"bias_for_layer_norm", biasForNorm, false},
		{"include_bias", rc.IncludeBias, false},
		{"include_qkv_bias", rc.IncludeQKVBias != nil && *rc.IncludeQKVBias, false},
		{"attention_layer_norm", rc.AttnLayerNorm, false},
		{"rope", rc.Rope, true},
		{"alibi", rc.Alibi, false},
		{"input_emb_norm", rc.InputEmbNorm, false},
		{"scale_logits", rc.ScaleLogits, false},
	} {
		if v.got != v.want {
			return fmt.Errorf("%s is %v; Parascope runs LLaDA's %s = %v", v.key, v.got, v.key, v.want)
		}
	}
	return nil
}

// check refuses sizes no model can have.
func (c Config) check() error {
	for _, v := range []struct {
		key string
		n   int
	}{{"d_model", c.DModel}, {"n_layers", c.Layers}, {"n_heads", c.Heads}, {"n_kv_heads", c.KVHeads},
		{"mlp_hidden_size", c.MLP}, {"vocab_size", c.Vocab}, {"embedding_size", c.Embedding}} {
		if v.n <= 0 {
			return fmt.Errorf("%s is %d, want a positive number", v.key, v.n)
		}
	}
	switch {
	case c.DModel%c.Heads != 0:
		return fmt.Errorf("d_model %d is not a multiple of n_heads %d", c.DModel, c.Heads)
	case c.Heads%c.KVHeads != 0:
		return fmt.Errorf("n_heads %d is not a multiple of n_kv_heads %d", c.Heads, c.KVHeads)
	case c.Embedding < c.Vocab:
		return fmt.Errorf("embedding_size %d is smaller than vocab_size %d", c.Embedding, c.Vocab)
	case c.RopeTheta <= 0 || c.NormEps <= 0:
		return fmt.Errorf("rope_theta %v and rms_norm_eps %v must be positive", c.RopeTheta, c.NormEps)
	}
	return nil
}
