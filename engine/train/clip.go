package train

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"parascope/engine/checkpoint"
	"parascope/engine/clip"
	"parascope/engine/memory"
	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/token"
	"parascope/engine/tomlconf"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// CLIPConfig holds every knob of a contrastive run.
type CLIPConfig struct {
	Seed  uint64 `toml:"seed" json:"seed"`
	Steps int    `toml:"steps" json:"steps"`
	Batch int    `toml:"batch" json:"batch"` // pairs a step; the other pairs are the negatives
	Optim
	// Partial is the share of pairs shown as a sampler's partial output
	// would be: with t ~ U(0, 1), each patch painted mask grey and each
	// word dropped with probability t.
	Partial float64 `toml:"partial" json:"partial"`
	// HardNegatives is the share of whole pairs whose text, with one fact
	// changed (a colour, a shape, a position) or, with wrong_object's
	// share, what it says of two objects swapped, joins the batch as a
	// text no picture matches: the contrast the scorer must learn to see.
	HardNegatives float64 `toml:"hard_negatives" json:"hard_negatives"`
	WrongObject   float64 `toml:"wrong_object" json:"wrong_object,omitempty"`
	// PictureNegatives is the share of whole pairs whose picture, drawn
	// with one mistake (clip.Misdraw), joins the batch as a picture no
	// text matches.
	PictureNegatives float64 `toml:"picture_negatives" json:"picture_negatives,omitempty"`
	// Misread is the share of cases shown as a model that took one object
	// for another would write and draw them (clip.Misread): agreeing
	// pairs whose text is wrong about the input, so that the scorer
	// learns agreement between text and picture rather than the truth.
	Misread         float64 `toml:"misread" json:"misread,omitempty"`
	CheckpointEvery int     `toml:"checkpoint_every" json:"checkpoint_every"`
	// Init names a scorer whose weights start the run: a checkpoint,
	// "embedded" for the embedded scorer, "" for fresh weights. Its
	// towers must have the run's shape; a joint stack it lacks is drawn.
	Init  string    `toml:"init" json:"init,omitempty"`
	Model CLIPShape `toml:"model" json:"model"`
}

// CLIPShape is the towers' size.
type CLIPShape struct {
	Layers int     `toml:"layers" json:"layers"`
	DModel int     `toml:"d_model" json:"d_model"`
	Heads  int     `toml:"heads" json:"heads"`
	MLP    int     `toml:"mlp" json:"mlp"`
	Embed  int     `toml:"embed" json:"embed"`
	Scale  float64 `toml:"scale" json:"scale"`
	Input  bool    `toml:"input" json:"input,omitempty"` // the picture tower reads the input picture too
	Joint  int     `toml:"joint" json:"joint,omitempty"` // layers of a cross-encoder over the towers
}

// DefaultCLIP is the recipe examples/clip.toml spells out.
func DefaultCLIP() CLIPConfig {
	return CLIPConfig{
		Seed: 3, Steps: 10000, Batch: 64, CheckpointEvery: 500,
		Partial: 0.35, HardNegatives: 1, WrongObject: 0.5, PictureNegatives: 1,
		Optim: Optim{LR: 1e-3, MinLR: 3e-5, Warmup: 200, WeightDecay: 0.05, Beta1: 0.9, Beta2: 0.98, Clip: 1},
		Model: CLIPShape{Layers: 2, DModel: 128, Heads: 4, MLP: 384, Embed: 64, Scale: 14, Input: true},
	}
}

// Validate reports every setting that cannot work.
func (c CLIPConfig) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, tomlconf.KeyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	for key, v := range map[string]int{"steps": c.Steps, "batch": c.Batch - 1, "checkpoint_every": c.CheckpointEvery} {
		if v < 1 {
			bad(key, "too small (batch needs 2 pairs at least)")
		}
	}
	c.Optim.validate(c.Steps, bad)
	for key, v := range map[string]float64{"partial": c.Partial, "hard_negatives": c.HardNegatives,
		"wrong_object": c.WrongObject, "picture_negatives": c.PictureNegatives, "misread": c.Misread} {
		if !(v >= 0 && v <= 1) { // NaN fails too
			bad(key, "%g, want 0 to 1", v)
		}
	}
	// CLIP caps its logit scale at 100; beyond it the softmax saturates.
	shape := c.Model.config()
	if !(c.Model.Scale > 0 && c.Model.Scale <= 100) {
		bad("model.scale", "%g, want 0 < scale ≤ 100", c.Model.Scale)
		shape.Scale = 1 // so that the shape's own check does not report it again
	}
	if err := shape.Validate(); err != nil {
		bad("model", "%v", strings.ReplaceAll(err.Error(), "\n", "; "))
	} else if err := memory.Check(shape.TrainingBytes(0), "training its weights, gradients and AdamW moments"); err != nil {
		bad("model", "layers %d, d_model %d, mlp %d: %v", shape.Layers, shape.DModel, shape.MLP, err)
	} else if err := memory.Check(shape.TrainingBytes(c.Batch), fmt.Sprintf("training on batches of %d pairs", c.Batch)); err != nil {
		bad("batch", "%d: %v", c.Batch, err)
	}
	return errors.Join(errs...)
}

// config is the towers' config for ShapeWorld's words.
func (s CLIPShape) config() clip.Config {
	return clip.Config{Layers: s.Layers, DModel: s.DModel, Heads: s.Heads, MLP: s.MLP, Embed: s.Embed,
		Vocab: token.New(0).ImageOffset(), Scale: s.Scale, Input: s.Input, Joint: s.Joint}
}

// InputFiles names the scorer a run starts from, for tomlconf.CheckInputs.
func (c CLIPConfig) InputFiles() map[string]string { return initFile(c.Init) }

// LoadCLIP reads a TOML file over the defaults.
func LoadCLIP(path string) (CLIPConfig, error) {
	c := DefaultCLIP()
	return c, tomlconf.Load(path, &c)
}

// CLIP is a contrastive run.
type CLIP struct {
	cfg     CLIPConfig
	m       *clip.Model
	vocab   *token.Vocab
	step    int
	out     string
	elapsed time.Duration
}

// NewCLIP starts a run with fresh towers, writing into out.
func NewCLIP(cfg CLIPConfig, be nn.Backend, cb *vq.Codebook, out string) (*CLIP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	vocab := token.New(cb.K())
	m, err := clip.New(cfg.Model.config(), be)
	if err != nil {
		return nil, err
	}
	m.Init(cfg.Seed)
	if cfg.Init != "" {
		spec := cfg.Init
		if spec == model.Embedded {
			spec = ""
		}
		from, err := clip.Open(spec, be)
		if err != nil {
			return nil, tomlconf.KeyError{Key: "init", Msg: err.Error()}
		}
		if err := m.StartFrom(from); err != nil {
			return nil, tomlconf.KeyError{Key: "init", Msg: fmt.Sprintf("%s: %v", cfg.Init, err)}
		}
	}
	return &CLIP{cfg: cfg, m: m, vocab: vocab, out: out}, os.MkdirAll(out, 0o755)
}

// ResumeCLIP continues the run saved in a checkpoint.
func ResumeCLIP(path string, be nn.Backend, cb *vq.Codebook, out string) (*CLIP, error) {
	var cfg CLIPConfig
	vocab := token.New(cb.K())
	st, err := readState(path, checkpoint.CLIPTraining, &cfg, vocab)
	if err != nil {
		return nil, err
	}
	m, err := clip.FromFile(st.weights, be)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := st.restore(path, m.ParamSet); err != nil {
		return nil, err
	}
	return &CLIP{cfg: cfg, m: m, vocab: vocab, step: st.step, out: out, elapsed: st.elapsed}, os.MkdirAll(out, 0o755)
}

// Model is the model being trained; Step the steps taken.
func (c *CLIP) Model() *clip.Model { return c.m }
func (c *CLIP) Step() int          { return c.step }

// batch builds step k's pairs from training cases (never held-out ones),
// and the hard negatives: texts and pictures.
func (c *CLIP) batch(k int) (clip.Batch, error) {
	r := rand.New(rand.NewPCG(c.cfg.Seed^0x2545f491, uint64(k)))
	var b clip.Batch
	for j := 0; len(b.Pairs) < c.cfg.Batch; j++ {
		cs := world.Generate(c.cfg.Seed, k*c.cfg.Batch*2+j, world.MixBoth)
		if cs.HeldOut() {
			continue
		}
		// Without misreads no draw is made, so earlier recipes see the
		// batches they were trained on.
		if c.cfg.Misread > 0 && r.Float64() < c.cfg.Misread {
			if m, ok := clip.Misread(cs, r); ok {
				cs = m
			}
		}
		img, text, in := image.Image(world.Render(cs.Target)), cs.Reasoning, clip.InputOf(cs)
		if r.Float64() < c.cfg.Partial {
			img, text = maskPartly(r, world.Render(cs.Target), text)
		} else {
			if r.Float64() < c.cfg.HardNegatives {
				change := clip.ChangeOneFact
				if r.Float64() < c.cfg.WrongObject {
					change = clip.WrongObject
				}
				if changed, ok := change(cs, r); ok {
					ids, err := clip.TextIDs(changed, c.vocab)
					if err != nil {
						return b, err
					}
					b.Texts, b.TextOf = append(b.Texts, ids), append(b.TextOf, len(b.Pairs))
				}
			}
			if r.Float64() < c.cfg.PictureNegatives {
				pic, err := clip.PictureOf(world.Render(clip.Misdraw(cs, r)), in)
				if err != nil {
					return b, err
				}
				b.Pictures, b.PictureOf = append(b.Pictures, pic), append(b.PictureOf, len(b.Pairs))
			}
		}
		p, err := clip.PairOf(img, in, text, c.vocab)
		if err != nil {
			return b, err
		}
		b.Pairs = append(b.Pairs, p)
	}
	return b, nil
}

// maskPartly hides a random share of the patches (mask grey, as the sampler
// shows them) and of the words, as at an intermediate step.
func maskPartly(r *rand.Rand, img *image.RGBA, text string) (image.Image, string) {
	t := r.Float64()
	grey := image.NewUniform(world.MaskGrey)
	for py := range world.Canvas / world.PatchPx {
		for px := range world.Canvas / world.PatchPx {
			if r.Float64() < t {
				at := image.Rect(px*world.PatchPx, py*world.PatchPx, (px+1)*world.PatchPx, (py+1)*world.PatchPx)
				draw.Draw(img, at, grey, image.Point{}, draw.Src)
			}
		}
	}
	var kept []string
	for _, w := range strings.Fields(text) {
		if r.Float64() >= t {
			kept = append(kept, w)
		}
	}
	return img, strings.Join(kept, " ")
}

// Run trains to the configured steps, checkpointing like SFT.
func (c *CLIP) Run(ctx context.Context, progress func(Progress)) error {
	return runSteps(ctx, &c.step, c.cfg.Steps, c.cfg.CheckpointEvery, &c.elapsed, c.Checkpoint, func() (func(stepTiming), error) {
		b, err := c.batch(c.step)
		if err != nil {
			return nil, err
		}
		c.m.ZeroGrad()
		loss, err := c.m.Loss(b)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", c.step+1, err)
		}
		norm := c.m.ClipGradients(c.cfg.Clip)
		h := c.cfg.adamW(c.step, c.cfg.Steps)
		c.m.Step(h)
		return func(t stepTiming) {
			if progress != nil {
				progress(Progress{Step: c.step, Steps: c.cfg.Steps, Loss: loss, GradNorm: norm, LR: float64(h.LR),
					TokensPerSec: float64(t.done*c.cfg.Batch*(clip.Patches+clip.TextLen)) / t.elapsed.Seconds(),
					ETA:          t.eta, Checkpoint: t.checkpoint})
			}
		}, nil
	})
}

// Checkpoint writes the run's state (checkpoint.safetensors) and the
// towers alone (model.safetensors).
func (c *CLIP) Checkpoint() (string, error) {
	meta, err := stateMeta(c.cfg, c.step, c.elapsed, c.vocab)
	if err != nil {
		return "", err
	}
	f, err := c.m.File(meta)
	if err != nil {
		return "", err
	}
	return saveState(c.out, f, c.m.ParamSet, checkpoint.CLIPTraining)
}
