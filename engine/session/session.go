// Package session is the one place that turns a sampler config into what
// a command or the viewer works with: the image tokenizer (codebook), the
// text tokenizer and sequence template (vocabulary), the mask predictor,
// and the alignment scorer, on a backend the caller chose. Every command
// and the viewer open through it, so a new model family or tokenizer is
// wired in here once.
package session

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"parascope/engine/clip"
	"parascope/engine/mmada"
	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/tomlconf"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// Session is an open model with its tokenizers and scorer.
type Session struct {
	Config  sample.Config
	Backend nn.Backend
	// Template and Images are the sequence layout and picture tokenizer
	// that sampling and every view read: ShapeWorld's vocabulary and
	// codebook, or a published model's.
	Template sample.Vocabulary
	Images   sample.ImageTokenizer
	// ShapeWorld's tokenizers, which its cases, judge, bench and training
	// read; nil on a published model.
	Codebook *vq.Codebook
	Vocab    *token.Vocab
	// Folder is a published model's folder, nil for ShapeWorld.
	Folder *mmada.Folder
	Model  *model.Model
	// ModelName says which model this is, for headers and traces: the
	// config's path or random:SEED, "embedded" for the default.
	ModelName string
	// Aligner scores each step's alignment; nil when the config names no
	// scorer, or names the embedded one and this build has none.
	Aligner sample.Aligner
}

// Embedded is the name a session gives the embedded default model.
const Embedded = model.Embedded

// LoadConfig returns a preset's settings ("" for the defaults), read over
// from path when it is not empty; model, when given, is the model the
// file will be used with in place of its own. Flags go on top; Open
// validates the result.
func LoadConfig(path, preset, model string) (sample.Config, error) {
	if path == "" {
		c, err := sample.Preset(preset)
		if IsRealModel(model) {
			c.Text.Block = oneBlock(c.Text.Block, false)
		}
		return c, err
	}
	// ShapeWorld's layout is the same whatever codebook the file names, so
	// a vocabulary without codes checks the file's text block; a real
	// model's layout is checked when it opens.
	c, err := sample.LoadConfig(path, preset, nil)
	if err == nil && (IsRealModel(c.Model) || IsRealModel(model)) {
		keys, _ := tomlconf.LoadKeys(path, &sample.Config{})
		c.Text.Block = oneBlock(c.Text.Block, slices.Contains(keys, "text.block"))
		return c, nil
	}
	if err != nil {
		return c, err
	}
	data, err := tomlconf.Read(path)
	if err != nil {
		return c, err
	}
	return c, tomlconf.Locate(path, data, c.ValidateFor(token.New(0)))
}

// Open validates cfg and opens what it names on be.
func Open(cfg sample.Config, be nn.Backend) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if IsRealModel(cfg.Model) {
		return openFolder(cfg, be)
	}
	if cfg.TextLength != 0 && cfg.TextLength != token.ReasoningLen {
		return nil, fmt.Errorf("text_length: %d, but ShapeWorld's reasoning has %d positions", cfg.TextLength, token.ReasoningLen)
	}
	cb, vocab, err := Tokenizers(cfg.Codebook)
	if err != nil {
		return nil, err
	}
	s := &Session{Config: cfg, Backend: be, Template: vocab, Images: cb, Codebook: cb, Vocab: vocab, ModelName: cfg.Model}
	if s.ModelName == "" {
		s.ModelName = Embedded
	}
	if s.Model, err = s.OpenModel(cfg.Model); err != nil {
		return nil, err
	}
	if s.Aligner, err = clip.OpenScorer(cfg.Clip, be, vocab, cb); err != nil {
		return nil, fmt.Errorf("clip: %w", err)
	}
	return s, nil
}

// OpenOrUntrained is Open, except that a build without an embedded model,
// asked for it, opens an untrained one of the default shape (random:1):
// the viewer still shows the machinery, and says so in its header.
func OpenOrUntrained(cfg sample.Config, be nn.Backend) (*Session, error) {
	s, err := Open(cfg, be)
	if cfg.Model == "" && errors.Is(err, model.ErrNoDefault) {
		cfg.Model = "random:1"
		if s, err = Open(cfg, be); err == nil {
			s.ModelName = "untrained (random:1)"
		}
	}
	return s, err
}

// Tokenizers opens the image tokenizer a config names ("" is the
// embedded codebook) and the vocabulary that goes with it.
func Tokenizers(codebook string) (*vq.Codebook, *token.Vocab, error) {
	cb := vq.Default()
	if codebook != "" {
		var err error
		if cb, err = vq.Load(codebook); err != nil {
			return nil, nil, err
		}
	}
	return cb, token.New(cb.K()), nil
}

// openFolder opens a published model: its folder's tokenizers and
// layout, and its backbone. Its pictures are not ShapeWorld's, so the
// ShapeWorld scorer does not apply.
func openFolder(cfg sample.Config, be nn.Backend) (*Session, error) {
	if cfg.Codebook != "" {
		return nil, fmt.Errorf("codebook: %s names a ShapeWorld codebook; %s brings its own image tokenizer", cfg.Codebook, cfg.Model)
	}
	if cfg.Clip != "" && cfg.Clip != "none" {
		return nil, fmt.Errorf("clip: %s scores ShapeWorld pictures, not %s's", cfg.Clip, cfg.Model)
	}
	f, err := OpenLayout(cfg)
	if err != nil {
		return nil, err
	}
	m, err := model.Load(cfg.Model, be)
	if err != nil {
		return nil, err
	}
	if m.Vocab != f.Template.Size() {
		m.Close()
		return nil, fmt.Errorf("%s: the backbone has %d rows of logits, the layout %d ids", cfg.Model, m.Vocab, f.Template.Size())
	}
	return &Session{Config: cfg, Backend: be, Template: f.Template, Images: f.Images, Folder: f, Model: m, ModelName: cfg.Model}, nil
}

// OpenLayout opens what a published model's config names apart from its
// weights: enough to read and draw its traces.
func OpenLayout(cfg sample.Config) (*mmada.Folder, error) {
	return mmada.Open(cfg.Model, mmada.Options{TextLength: cfg.TextLength})
}

// ErrShapeWorldOnly is what a published model's session answers where
// only ShapeWorld applies: its cases, judge, bench and training.
var ErrShapeWorldOnly = errors.New("this works on ShapeWorld models only")

// OpenModel opens another model for this session's tokenizers: a
// checkpoint, random:SEED, or "" for the embedded default.
func (s *Session) OpenModel(spec string) (*model.Model, error) {
	if s.Folder != nil {
		return nil, fmt.Errorf("%s: %w; open another published model with --model", spec, ErrShapeWorldOnly)
	}
	return model.Open(spec, s.Backend, s.Vocab.Size())
}

// PromptOf is a case's prompt, its input picture encoded.
func (s *Session) PromptOf(c world.Case) (sample.Prompt, error) {
	if s.Folder != nil {
		return sample.Prompt{}, fmt.Errorf("a ShapeWorld case: %w; give --instruction and --input", ErrShapeWorldOnly)
	}
	return sample.PromptOf(c, s.Codebook)
}

// NewStepper starts a trajectory of this session's model with its scorer.
func (s *Session) NewStepper(cfg sample.Config, p sample.Prompt) (*sample.Stepper, error) {
	st, err := sample.New(s.Model, s.Template, cfg, p)
	if err != nil {
		return nil, err
	}
	if s.Aligner != nil {
		if err := st.SetAligner(s.Aligner); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// OpenBackend opens the named compute backend. "auto" takes the first
// other backend compiled in whose device answers, else the CPU; why an
// accelerator was passed over goes to warn, unless it simply was not
// built in.
func OpenBackend(name string, warn io.Writer) (nn.Backend, error) {
	if name != "auto" {
		be, err := nn.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--backend %s: %w", name, err)
		}
		return be, nil
	}
	for _, n := range nn.Names()[1:] {
		be, err := nn.Open(n)
		if err == nil {
			return be, nil
		}
		if !errors.Is(err, nn.ErrNotBuilt) {
			fmt.Fprintf(warn, "parascope: %s: %v; running on the CPU\n", n, err)
		}
	}
	return nn.CPU{}, nil
}

// oneBlock is the text block a published model starts from: one block
// over its whole reasoning (0) where ShapeWorld's default of one block
// over its 40 positions would otherwise apply, and what the file set.
func oneBlock(block int, set bool) int {
	if set || block != sample.Defaults().Text.Block {
		return block
	}
	return 0
}

// IsRealModel reports whether a model spec names a folder of one of the
// published MMaDA-Parallel models rather than a ShapeWorld checkpoint.
func IsRealModel(spec string) bool {
	st, err := os.Stat(filepath.Join(spec, "config.json"))
	return model.NamesFile(spec) && err == nil && st.Mode().IsRegular()
}
