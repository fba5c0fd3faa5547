package clip

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"parascope/engine/nn"
	"parascope/engine/safetensors"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

func TestContrastiveGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	const n, p, m, e, scale = 4, 7, 6, 3, 7.0 // three picture and two text hard negatives
	img, txt := make([]float32, p*e), make([]float32, m*e)
	for i := range img {
		img[i] = float32(r.NormFloat64())
	}
	for i := range txt {
		txt[i] = float32(r.NormFloat64())
	}
	_, dImg, dTxt := contrastive(img, txt, n, p, m, e, scale)
	const h = 1e-3
	for _, x := range []struct {
		v []float32
		g []float32
	}{{img, dImg}, {txt, dTxt}} {
		for i := range x.v {
			keep := x.v[i]
			x.v[i] = keep + h
			plus, _, _ := contrastive(img, txt, n, p, m, e, scale)
			x.v[i] = keep - h
			minus, _, _ := contrastive(img, txt, n, p, m, e, scale)
			x.v[i] = keep
			if num := (plus - minus) / (2 * h); math.Abs(num-float64(x.g[i])) > 2e-3*math.Max(1, math.Abs(num)) {
				t.Fatalf("coordinate %d: analytic %g, numeric %g", i, x.g[i], num)
			}
		}
	}
}

func tinyConfig() Config {
	return Config{Layers: 1, DModel: 8, Heads: 2, MLP: 12, Embed: 4, Vocab: token.New(vq.Default().K()).ImageOffset(), Scale: 5}
}

func randomPairs(r *rand.Rand, n, vocab int) []Pair {
	var out []Pair
	for range n {
		p := Pair{Picture: Picture{Patches: make([]float32, Patches*PatchDim), Input: make([]float32, Patches*PatchDim)},
			Text: make([]int32, TextLen)}
		for i := range p.Patches {
			p.Patches[i], p.Input[i] = r.Float32(), r.Float32()
		}
		p.Text[0] = token.BOS
		for i := 1; i < TextLen; i++ {
			p.Text[i] = token.Pad
			if i < 6 {
				p.Text[i] = int32(token.NumSpecial + r.IntN(vocab-token.NumSpecial))
			}
		}
		out = append(out, p)
	}
	return out
}

// The whole model's gradients against central differences of its loss,
// at a sample of coordinates in every tensor, with hard negatives of both
// kinds, for towers that read the input picture and towers that do not,
// and with a joint stack over them.
func TestModelGradient(t *testing.T) {
	for _, c := range []struct {
		input bool
		joint int
	}{{false, 0}, {true, 0}, {true, 1}} {
		cfg := tinyConfig()
		cfg.Input, cfg.Joint = c.input, c.joint
		checkModelGradient(t, cfg)
	}
}

func checkModelGradient(t *testing.T, cfg Config) {
	m, err := New(cfg, nn.CPU{})
	if err != nil {
		t.Fatal(err)
	}
	m.ParamSet.Init(3, 0.3)
	r := rand.New(rand.NewPCG(4, 4))
	pairs := randomPairs(r, 3, m.Vocab)
	extra := randomPairs(r, 2, m.Vocab)
	b := Batch{Pairs: pairs, Texts: [][]int32{extra[0].Text}, TextOf: []int{2},
		Pictures: []Picture{extra[1].Picture}, PictureOf: []int{0}}
	m.ZeroGrad()
	if _, err := m.Loss(b); err != nil {
		t.Fatal(err)
	}
	grads := m.Gradients()
	w := m.Weights()
	loss := func() float64 {
		m.SetWeights(w)
		l, err := m.Loss(b) // its gradients accumulate unread
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	const h = 1e-2
	checked := 0
	coords := r.Perm(len(w))[:400]
	// The joint stack's weights come last, a small share of them.
	if jw := cfg.jointWeights(); jw > 0 {
		for _, i := range r.Perm(jw)[:200] {
			coords = append(coords, len(w)-jw+i)
		}
	}
	for _, i := range coords {
		if grads[i] == 0 {
			continue // e.g. embedding rows of words not in the batch
		}
		keep := w[i]
		w[i] = keep + h
		plus := loss()
		w[i] = keep - h
		minus := loss()
		w[i] = keep
		num := (plus - minus) / (2 * h)
		if math.Abs(num-float64(grads[i])) > 0.05*math.Abs(num)+2e-4 {
			t.Errorf("weight %d: analytic %g, numeric %g", i, grads[i], num)
		}
		checked++
	}
	if checked < 100 {
		t.Fatalf("only %d coordinates had a gradient", checked)
	}
}

// A few pairs are quickly told apart: the loss falls and each picture
// scores its own text highest.
func TestMemorises(t *testing.T) {
	cb := vq.Default()
	v := token.New(cb.K())
	cfg := tinyConfig()
	cfg.DModel, cfg.Heads, cfg.MLP, cfg.Embed, cfg.Scale = 32, 4, 48, 16, 14
	m, _ := New(cfg, nn.CPU{})
	m.Init(5)
	var pairs []Pair
	for i := range 8 {
		c := world.Generate(9, i, world.MixGen)
		p, err := PairOf(world.Render(c.Target), nil, c.Reasoning, v)
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, p)
	}
	h := nn.AdamW{LR: 3e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0}
	var first, last float64
	for step := 1; step <= 150; step++ {
		m.ZeroGrad()
		l, err := m.Loss(Batch{Pairs: pairs})
		if err != nil {
			t.Fatal(err)
		}
		if step == 1 {
			first = l
		}
		last = l
		h.Step = step
		m.Step(h)
	}
	if last > first/4 {
		t.Fatalf("loss %g → %g", first, last)
	}
	img, txt, _ := m.Embeddings(pairs)
	for i := range pairs {
		best, bestScore := -1, math.Inf(-1)
		for j := range pairs {
			s := 0.0
			for k := range img[i] {
				s += img[i][k] * txt[j][k]
			}
			if s > bestScore {
				best, bestScore = j, s
			}
		}
		if best != i {
			t.Errorf("picture %d picks text %d", i, best)
		}
	}
}

// The embedded scorer's quality on held-out scenes: retrieval top-1 among
// 100 at least 95%, and the truth above each kind of hard negative: a
// text with a fact changed at least 98% of the time, a text that gives the
// change to the wrong object 93%, a picture with a mistake 97%.
func TestEmbeddedScorerQuality(t *testing.T) {
	m, err := Open("", nn.CPU{})
	if err == ErrNoDefault {
		t.Skip("no CLIP scorer is embedded in this build (engine/clip/weights/default.safetensors)")
	}
	if err != nil {
		t.Fatal(err)
	}
	q, err := Evaluate(m, token.New(vq.Default().K()), 300)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("retrieval %.1f%%, fact ranking %.1f%%, wrong object %.1f%%, misdrawn %.1f%%, misread %.1f%%", q.Retrieval, q.Ranking, q.WrongObject, q.Misdrawn, q.Misread)
	if q.Retrieval < 95 || q.Ranking < 98 || q.WrongObject < 93 || q.Misdrawn < 97 {
		t.Fatalf("retrieval %.1f%% (want ≥ 95), fact ranking %.1f%% (≥ 98), wrong object %.1f%% (≥ 93), misdrawn %.1f%% (≥ 97)",
			q.Retrieval, q.Ranking, q.WrongObject, q.Misdrawn)
	}
}

// BenchmarkScore scores one pair with the embedded scorer's shape, and
// with a joint block over its towers (examples/clip-joint.toml).
func BenchmarkScore(b *testing.B) {
	cb := vq.Default()
	v := token.New(cb.K())
	for _, joint := range []int{0, 1} {
		b.Run(fmt.Sprintf("joint=%d", joint), func(b *testing.B) {
			m, _ := New(Config{Layers: 2, DModel: 128, Heads: 4, MLP: 384, Embed: 64, Vocab: v.ImageOffset(), Scale: 14,
				Input: true, Joint: joint}, nn.CPU{})
			m.Init(1)
			c := world.Generate(1, 0, world.MixEdit)
			p, _ := PairOf(world.Render(c.Target), InputOf(c), c.Reasoning, v)
			for b.Loop() {
				if _, err := m.Scores([]Pair{p}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/pair")
		})
	}
}

// FuzzFromFile loads arbitrary bytes as a scorer. It loads or fails with
// a non-empty error; a scorer it loads scores a pair with a finite number.
func FuzzFromFile(f *testing.F) {
	m, err := New(tinyConfig(), nn.CPU{})
	if err != nil {
		f.Fatal(err)
	}
	m.Init(1)
	file, err := m.File(nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, dtype := range []string{safetensors.F32, safetensors.BF16} {
		var b bytes.Buffer
		if err := safetensors.Encode(&b, file, dtype); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	pair := randomPairs(rand.New(rand.NewPCG(1, 2)), 1, tinyConfig().Vocab)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := safetensors.Decode(data)
		if err != nil {
			return
		}
		m, err := FromFile(file, nn.CPU{})
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("an empty error")
			}
			return
		}
		if m.Vocab != tinyConfig().Vocab || m.Layers > 4 {
			return // the pair's words fit this vocabulary; a deep scorer only costs time
		}
		if _, err := m.Scores(pair); err != nil && strings.TrimSpace(err.Error()) == "" {
			t.Fatal("an empty error")
		}
	})
}

// A tower made to read the input picture scores a pair differently when
// only its input changes; one that is not ignores the input, so scorers
// trained before it existed score as they did.
func TestInputIsReadOnlyWhenAsked(t *testing.T) {
	for _, input := range []bool{false, true} {
		cfg := tinyConfig()
		cfg.Input = input
		m, err := New(cfg, nn.CPU{})
		if err != nil {
			t.Fatal(err)
		}
		m.Init(2)
		pairs := randomPairs(rand.New(rand.NewPCG(6, 6)), 3, m.Vocab)
		other := append([]Pair(nil), pairs...)
		other[1].Input = pairs[0].Input
		other[2].Input = nil // a generation: an empty canvas
		a, errA := m.Scores(pairs)
		b, errB := m.Scores(other)
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if a[0] != b[0] || (a[1] != b[1]) != input || (a[2] != b[2]) != input {
			t.Errorf("input %v: scores %v, with other inputs %v", input, a, b)
		}
	}
}
