package model

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"parascope/engine/hf"
	"parascope/engine/nn"
	"parascope/engine/safetensors"
)

var tiny = Config{Layers: 2, DModel: 32, Heads: 4, MLP: 48, Vocab: 50, RopeTheta: 10000, NormEps: 1e-5, MaxLen: 16}

func randomBatch(r *rand.Rand, cfg Config, batch, seq, n int) (ids, sel, targets []int32, weights []float32) {
	for range batch * seq {
		ids = append(ids, int32(r.IntN(cfg.Vocab)))
	}
	for _, p := range r.Perm(batch * seq)[:n] {
		sel = append(sel, int32(p))
		targets = append(targets, int32(r.IntN(cfg.Vocab)))
		weights = append(weights, float32(0.5+r.Float64())/float32(n))
	}
	return
}

func download(be nn.Backend, b nn.Buf) []float32 {
	out := make([]float32, b.Len())
	be.Download(out, b)
	return out
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// A sequence's logits do not depend on what else is in the batch.
func TestBatchedEqualsSingle(t *testing.T) {
	m, _ := New(tiny, nn.CPU{})
	m.Init(1)
	r := rand.New(rand.NewPCG(2, 2))
	ids, _, _, _ := randomBatch(r, tiny, 3, 9, 1)
	sel := []int32{0, 4, 8, 9, 13, 17, 18, 26}
	all, err := m.Forward(ids, 3, 9, sel)
	if err != nil {
		t.Fatal(err)
	}
	batched := download(m.be, all)
	for b := range 3 {
		var local []int32
		var rows []int
		for j, p := range sel {
			if int(p)/9 == b {
				local = append(local, p%9)
				rows = append(rows, j)
			}
		}
		one, err := m.Forward(ids[b*9:(b+1)*9], 1, 9, local)
		if err != nil {
			t.Fatal(err)
		}
		single := download(m.be, one)
		for i, j := range rows {
			if d := maxAbsDiff(single[i*tiny.Vocab:(i+1)*tiny.Vocab], batched[j*tiny.Vocab:(j+1)*tiny.Vocab]); d > 1e-5 {
				t.Fatalf("sequence %d position %d: batched and single logits differ by %g", b, local[i], d)
			}
		}
	}
}

func TestForwardRefusesBadInput(t *testing.T) {
	m, _ := New(tiny, nn.CPU{})
	for _, c := range []struct {
		ids  []int32
		b, s int
		sel  []int32
		want string
	}{
		{[]int32{1, 2, 3}, 1, 4, []int32{0}, "3 ids for a batch of 1×4"},
		{make([]int32, 20), 1, 20, []int32{0}, "longer than max_len 16"},
		{[]int32{1, 50}, 1, 2, []int32{0}, "token 50 at position 1"},
		{[]int32{1, 2}, 1, 2, []int32{2}, "selected position 2"},
		{[]int32{1, 2}, 1, 2, nil, "no positions"},
	} {
		if _, err := m.Forward(c.ids, c.b, c.s, c.sel); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	if _, err := New(Config{Layers: 1, DModel: 30, Heads: 4, MLP: 8, Vocab: 9, RopeTheta: 1e4, NormEps: 1e-5, MaxLen: 8}, nn.CPU{}); err == nil || !strings.Contains(err.Error(), "d_model 30") {
		t.Errorf("got %v", err)
	}
}

func TestTrainingReducesLoss(t *testing.T) {
	m, _ := New(tiny, nn.CPU{})
	m.Init(3)
	r := rand.New(rand.NewPCG(4, 4))
	ids, sel, targets, weights := randomBatch(r, tiny, 2, 12, 10)
	h := nn.AdamW{LR: 3e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1}
	var first, last float64
	for step := 1; step <= 30; step++ {
		m.ZeroGrad()
		loss, err := m.Loss(ids, 2, 12, sel, targets, weights)
		if err != nil {
			t.Fatal(err)
		}
		if step == 1 {
			first = loss
		}
		last = loss
		h.Step = step
		m.Step(h)
	}
	if last > first/4 {
		t.Fatalf("30 steps on one batch took the loss from %.3f only to %.3f", first, last)
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	m, _ := New(tiny, nn.CPU{})
	m.Init(5)
	dir := t.TempDir()
	want := m.Weights()
	for _, dtype := range []string{safetensors.F32, safetensors.BF16} {
		path := filepath.Join(dir, "m-"+dtype+".safetensors")
		if err := m.Save(path, dtype, map[string]string{"note": "test"}); err != nil {
			t.Fatal(err)
		}
		back, err := Load(path, nn.CPU{})
		if err != nil {
			t.Fatal(err)
		}
		if back.Config != tiny {
			t.Fatalf("config %+v", back.Config)
		}
		tol := 0.0
		if dtype == safetensors.BF16 {
			tol = 0.004 * 0.1 // bf16 keeps 8 bits of mantissa; weights are below 0.1
		}
		if d := maxAbsDiff(back.Weights(), want); d > tol {
			t.Fatalf("%s: weights differ by %g", dtype, d)
		}
	}
}

func TestCheckpointRefusesBadFiles(t *testing.T) {
	m, _ := New(tiny, nn.CPU{})
	m.Init(6)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	if err := m.Save(good, safetensors.F32, nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Read(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, edit func(f *safetensors.File)) string {
		g := &safetensors.File{Metadata: f.Metadata}
		for _, t := range f.Tensors {
			t.Data = append([]float32(nil), t.Data...)
			g.Tensors = append(g.Tensors, t)
		}
		edit(g)
		p := filepath.Join(dir, name)
		if err := safetensors.Write(p, g, safetensors.F32); err != nil {
			t.Fatal(err)
		}
		return p
	}
	raw, _ := os.ReadFile(good)
	truncated := filepath.Join(dir, "truncated.safetensors")
	os.WriteFile(truncated, raw[:len(raw)-100], 0o644)
	nan := filepath.Join(dir, "nan.safetensors")
	// A NaN written byte by byte: the writer refuses to produce one.
	nanRaw := append([]byte(nil), raw...)
	copy(nanRaw[len(nanRaw)-4:], []byte{0, 0, 0xc0, 0x7f})
	os.WriteFile(nan, nanRaw, 0o644)
	cases := []struct {
		path string
		want string
	}{
		{truncated, "truncated.safetensors"},
		{nan, `"head"`},
		{write("shape.safetensors", func(g *safetensors.File) {
			g.Tensors[2].Shape = []int{16, 64}
		}), `tensor "blocks.0.wq" has shape [16 64]`},
		{write("missing.safetensors", func(g *safetensors.File) { g.Tensors = g.Tensors[1:] }), `tensor "wte" is missing`},
		{write("extra.safetensors", func(g *safetensors.File) {
			g.Tensors = append(g.Tensors, safetensors.Tensor{Name: "bonus", Shape: []int{1}, Data: []float32{1}})
		}), `tensor "bonus" is not part of the model`},
	}
	for _, c := range cases {
		if _, err := Load(c.path, nn.CPU{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error naming %s", filepath.Base(c.path), err, c.want)
		}
	}
}

// A checkpoint in LLaDA's layout — Hugging Face config.json, LLaDA weight
// names, bf16, optionally sharded — loads into the same model.
func TestLoadLLaDALayout(t *testing.T) {
	m, _ := New(tiny, nn.CPU{})
	m.Init(7)
	native := map[string]string{"wte": "model.transformer.wte.weight", "ln_f": "model.transformer.ln_f.weight", "head": "model.transformer.ff_out.weight"}
	for long, short := range lladaNames {
		for i := range tiny.Layers {
			native[blockName(i, short)] = "model.transformer.blocks." + string(rune('0'+i)) + "." + long + ".weight"
		}
	}
	var shards [2]safetensors.File
	weightMap := map[string]string{}
	for i, s := range m.Tensors() {
		name := native[s.Name]
		shards[i%2].Tensors = append(shards[i%2].Tensors, safetensors.Tensor{Name: name, Shape: s.Shape, Data: s.Data})
		weightMap[name] = []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[i%2]
	}
	cfg := map[string]any{"d_model": 32, "n_heads": 4, "n_kv_heads": 4, "n_layers": 2, "mlp_hidden_size": 48,
		"vocab_size": 50, "embedding_size": 50, "rope_theta": 10000.0, "rms_norm_eps": 1e-5, "max_sequence_length": 16,
		"weight_tying": false, "block_type": "llama", "architectures": []string{"LLaDAModelLM"}, "model_type": "llada",
		"activation_type": "silu", "layer_norm_type": "rms", "rope": true, "torch_dtype": "bfloat16"}
	cfgJSON, _ := json.Marshal(cfg)

	single, sharded := t.TempDir(), t.TempDir()
	all := &safetensors.File{Tensors: append(append([]safetensors.Tensor(nil), shards[0].Tensors...), shards[1].Tensors...)}
	os.WriteFile(filepath.Join(single, "config.json"), cfgJSON, 0o644)
	if err := safetensors.Write(filepath.Join(single, "model.safetensors"), all, safetensors.BF16); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(sharded, "config.json"), cfgJSON, 0o644)
	for i := range shards {
		if err := safetensors.Write(filepath.Join(sharded, []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[i]), &shards[i], safetensors.BF16); err != nil {
			t.Fatal(err)
		}
	}
	idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": weightMap})
	os.WriteFile(filepath.Join(sharded, "model.safetensors.index.json"), idx, 0o644)

	r := rand.New(rand.NewPCG(8, 8))
	ids, sel, _, _ := randomBatch(r, tiny, 1, 10, 5)
	want, _ := m.Forward(ids, 1, 10, sel)
	wantLogits := download(m.be, want)
	for _, path := range []string{single, filepath.Join(single, "model.safetensors"), sharded} {
		got, err := Load(path, nn.CPU{})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if got.Config != tiny {
			t.Fatalf("%s: config %+v", path, got.Config)
		}
		logits, err := got.Logits(ids, 1, 10, sel)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d := maxAbsDiff(logits, wantLogits); d > 0.05 {
			t.Fatalf("%s: logits differ by %g after a bf16 round trip", path, d)
		}
		// Widening in the GEMM's packing is exact: the mapped model gives
		// the logits of its weights widened up front, to the bit.
		dir := path
		if strings.HasSuffix(path, ".safetensors") {
			dir = filepath.Dir(path)
		}
		folder, err := hf.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		widened, err := copyLLaDA(folder, tiny, nn.CPU{})
		folder.Close()
		if err != nil {
			t.Fatal(err)
		}
		if w, _ := widened.Logits(ids, 1, 10, sel); !slices.Equal(w, logits) {
			t.Fatalf("%s: mapped bfloat16 logits differ from the widened weights' (max %g)", path, maxAbsDiff(w, logits))
		}
		// bfloat16 weights stay mapped: the model runs but does not train.
		if !got.ReadOnly() {
			t.Fatalf("%s: a bfloat16 folder gave a trainable model", path)
		}
		if _, err := got.Forward(ids, 1, 10, sel); !errors.Is(err, ErrReadOnly) {
			t.Fatalf("%s: Forward on read-only weights: %v", path, err)
		}
		if _, err := got.Loss(ids, 1, 10, sel, sel, []float32{1, 1, 1, 1, 1}); !errors.Is(err, ErrReadOnly) {
			t.Fatalf("%s: Loss on read-only weights: %v", path, err)
		}
		if err := got.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Grouped-query attention: two key/value heads, their projections
	// half as tall; the folder is right, the model cannot run it.
	cfg["n_kv_heads"] = 2
	cfgJSON, _ = json.Marshal(cfg)
	os.WriteFile(filepath.Join(single, "config.json"), cfgJSON, 0o644)
	if _, err := Load(single, nn.CPU{}); err == nil || !strings.Contains(err.Error(), `"model.transformer.blocks.0.k_proj.weight" has shape [32 32], config.json gives [16 32]`) {
		t.Fatalf("MHA weights under a GQA config: %v", err)
	}
	for i, tn := range all.Tensors {
		if strings.HasSuffix(tn.Name, "k_proj.weight") || strings.HasSuffix(tn.Name, "v_proj.weight") {
			all.Tensors[i] = safetensors.Tensor{Name: tn.Name, Shape: []int{16, 32}, Data: tn.Data[:16*32]}
		}
	}
	if err := safetensors.Write(filepath.Join(single, "model.safetensors"), all, safetensors.BF16); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(single, nn.CPU{}); err == nil || !strings.Contains(err.Error(), "grouped-query") {
		t.Fatalf("got %v", err)
	}
}

// TestInferSpans checks that each span's logits are the columns of its
// vocabulary range at its positions, in span order, and that bad spans
// are refused.
func TestInferSpans(t *testing.T) {
	m, _ := New(tiny, nn.CPU{})
	m.Init(12)
	r := rand.New(rand.NewPCG(12, 12))
	ids, _, _, _ := randomBatch(r, tiny, 2, 10, 5)
	all := make([]int32, 20)
	for i := range all {
		all[i] = int32(i)
	}
	full, err := m.Logits(ids, 2, 10, all)
	if err != nil {
		t.Fatal(err)
	}
	v := tiny.Vocab
	spans := []Span{{Sel: []int32{3, 17, 4}, Lo: 10, Hi: 30}, {Sel: nil, Lo: 0, Hi: 5}, {Sel: []int32{0}, Lo: 0, Hi: v}, {Sel: []int32{19, 3}, Lo: v - 1, Hi: v}}
	got, err := m.LogitsSpans(ids, 2, 10, spans)
	if err != nil {
		t.Fatal(err)
	}
	var want []float32
	for _, s := range spans {
		for _, p := range s.Sel {
			want = append(want, full[int(p)*v+s.Lo:int(p)*v+s.Hi]...)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("span logits differ from the full head's columns (max %g over %d values)", maxAbsDiff(got, want), len(want))
	}
	for _, bad := range [][]Span{{{Sel: []int32{1}, Lo: 5, Hi: 5}}, {{Sel: []int32{1}, Lo: -1, Hi: 5}}, {{Sel: []int32{1}, Lo: 0, Hi: v + 1}}, {{Sel: []int32{20}, Hi: v}}, {{Lo: 0, Hi: v}}} {
		if _, err := m.LogitsSpans(ids, 2, 10, bad); err == nil {
			t.Errorf("spans %+v accepted", bad)
		}
	}
}

func TestLogitsOnHost(t *testing.T) {
	m, _ := New(tiny, nn.CPU{})
	m.Init(9)
	ids := []int32{1, 2, 3, 4, 5, 6}
	sel := []int32{0, 5, 2}
	got, err := m.Logits(ids, 2, 3, sel)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(sel)*tiny.Vocab {
		t.Fatalf("%d logits, want %d", len(got), len(sel)*tiny.Vocab)
	}
	buf, _ := m.Forward(ids, 2, 3, sel)
	want := download(m.be, buf)
	if got[tiny.Vocab+7] != want[tiny.Vocab+7] {
		t.Fatalf("row 1, id 7: %v, want %v", got[tiny.Vocab+7], want[tiny.Vocab+7])
	}
}

func TestOpen(t *testing.T) {
	if _, err := embedded.ReadFile(defaultPath); err != nil {
		if _, err := Open("", nn.CPU{}, 50); err != ErrNoDefault {
			t.Fatalf("got %v", err)
		}
	} else if _, err := Default(nn.CPU{}); err != nil {
		t.Fatalf("the embedded model does not load: %v", err)
	} else if m, err := Open(Embedded, nn.CPU{}, 50); err != nil && !strings.Contains(err.Error(), "vocabulary of") {
		t.Fatalf("%q does not name the embedded model: %v %v", Embedded, err, m)
	}
	m, err := Open("random:3", nn.CPU{}, 50)
	if err != nil || m.Config != DefaultConfig(50) {
		t.Fatalf("%v %+v", err, m)
	}
	if _, err := Open("random:x", nn.CPU{}, 50); err == nil {
		t.Fatal("bad seed accepted")
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	small, _ := New(tiny, nn.CPU{})
	small.Save(path, safetensors.F32, nil)
	if _, err := Open(path, nn.CPU{}, 51); err == nil || !strings.Contains(err.Error(), "vocabulary of 50, the tokenizer has 51") {
		t.Fatalf("got %v", err)
	}
}

// Load takes a model, whether or not its file says so, and refuses
// another kind, naming the file to use.
func TestLoadChecksTheKind(t *testing.T) {
	m, _ := New(tiny, nn.CPU{})
	m.Init(7)
	f, err := m.File(nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, kind string, extra ...safetensors.Tensor) string {
		g := &safetensors.File{Tensors: append(slices.Clone(f.Tensors), extra...), Metadata: maps.Clone(f.Metadata)}
		if kind == "" {
			delete(g.Metadata, "kind") // as written before kinds
		} else {
			g.Metadata["kind"] = kind
		}
		path := filepath.Join(dir, name)
		if err := safetensors.Write(path, g, safetensors.F32); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if _, err := Load(write("old.safetensors", ""), nn.CPU{}); err != nil {
		t.Errorf("a model without a kind: %v", err)
	}
	moments := safetensors.Tensor{Name: "adam.m", Shape: []int{1}, Data: []float32{0}}
	for _, kind := range []string{"", "sft-checkpoint"} {
		path := write("checkpoint.safetensors", kind, moments)
		want := path + " is an SFT training checkpoint, not a model: use " + filepath.Join(dir, "model.safetensors")
		if _, err := Load(path, nn.CPU{}); err == nil || err.Error() != want {
			t.Errorf("kind %q: got %v, want %s", kind, err, want)
		}
	}
	scorer := write("scorer.safetensors", "clip-scorer")
	if _, err := Load(scorer, nn.CPU{}); err == nil || !strings.Contains(err.Error(), "is a CLIP scorer, not a model") {
		t.Errorf("a scorer: %v", err)
	}
}

func TestLossSplitAndClipping(t *testing.T) {
	m, _ := New(tiny, nn.CPU{})
	m.Init(10)
	r := rand.New(rand.NewPCG(11, 11))
	ids, sel, targets, weights := randomBatch(r, tiny, 2, 12, 10)
	m.ZeroGrad()
	whole, _ := m.Loss(ids, 2, 12, sel, targets, weights)
	g1 := m.Gradients()
	m.ZeroGrad()
	a, b, err := m.LossSplit(ids, 2, 12, sel, targets, weights, 4)
	if err != nil || math.Abs(a+b-whole) > 1e-6 || a <= 0 || b <= 0 {
		t.Fatalf("split %v + %v vs %v (%v)", a, b, whole, err)
	}
	if d := maxAbsDiff(m.Gradients(), g1); d > 1e-7 {
		t.Fatalf("gradients differ by %g", d)
	}
	norm := m.ClipGradients(1e-3)
	after := 0.0
	for _, g := range m.Gradients() {
		after += float64(g) * float64(g)
	}
	if norm <= 1e-3 || math.Abs(math.Sqrt(after)-1e-3) > 1e-6 {
		t.Fatalf("norm %g before, %g after clipping to 1e-3", norm, math.Sqrt(after))
	}
}

// A model that only samples holds its weights alone: no gradients, no
// optimiser moments, no activations kept for a backward.
func TestSamplingAllocatesNoTrainingState(t *testing.T) {
	m, err := Open("random:1", nn.CPU{}, tiny.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	ids, sel, _, _ := randomBatch(rand.New(rand.NewPCG(1, 1)), m.Config, 2, 20, 6)
	if _, err := m.Logits(ids, 2, 20, sel); err != nil {
		t.Fatal(err)
	}
	switch {
	case m.grads != nil:
		t.Error("a gradient buffer")
	case m.adamM != nil || m.adamV != nil:
		t.Error("optimiser moments")
	case m.act != nil || m.stack.act != nil:
		t.Error("activations for a backward")
	case m.inf.dLogits != nil || m.stack.inf.layer.probs != nil:
		t.Error("backward buffers among the inference activations")
	}
}

// Infer gives Forward's logits to the bit, past the length at which the
// CPU's attention takes its query rows in blocks, and leaves Forward's
// activations to Backward: the gradients do not notice an Infer between.
func TestInferMatchesForward(t *testing.T) {
	cfg := tiny
	cfg.MaxLen = 300
	m, _ := New(cfg, nn.CPU{})
	m.Init(4)
	r := rand.New(rand.NewPCG(5, 5))
	ids, sel, targets, weights := randomBatch(r, cfg, 2, 300, 40)
	want, err := m.Forward(ids, 2, 300, sel)
	if err != nil {
		t.Fatal(err)
	}
	wantLogits := download(m.be, want)
	got, err := m.Logits(ids, 2, 300, sel)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(got, wantLogits); d != 0 {
		t.Fatalf("Infer and Forward differ by %g", d)
	}

	short, shortSel, _, _ := randomBatch(r, cfg, 1, 7, 3)
	train := func(inferBetween bool) []float32 {
		m.ZeroGrad()
		if _, err := m.Forward(ids, 2, 300, sel); err != nil {
			t.Fatal(err)
		}
		if inferBetween {
			if _, err := m.Infer(short, 1, 7, shortSel); err != nil {
				t.Fatal(err)
			}
		}
		dl := make([]float32, len(sel)*cfg.Vocab)
		for j, tg := range targets {
			dl[j*cfg.Vocab+int(tg)] = -weights[j]
		}
		if err := m.Backward(nn.Wrap(dl)); err != nil {
			t.Fatal(err)
		}
		return m.Gradients()
	}
	if d := maxAbsDiff(train(true), train(false)); d != 0 {
		t.Fatalf("an Infer between Forward and Backward moves the gradients by %g", d)
	}
}

func TestBackwardNeedsForward(t *testing.T) {
	m, _ := New(tiny, nn.CPU{})
	m.Init(6)
	if _, err := m.Logits([]int32{1, 2, 3}, 1, 3, []int32{0}); err != nil {
		t.Fatal(err)
	}
	if err := m.Backward(m.be.Alloc(tiny.Vocab)); err == nil || !strings.Contains(err.Error(), "before any Forward") {
		t.Fatalf("Backward after Infer alone: %v", err)
	}
	m.Forward([]int32{1, 2, 3}, 1, 3, []int32{0, 2})
	if err := m.Backward(m.be.Alloc(tiny.Vocab)); err == nil || !strings.Contains(err.Error(), "2×50 logits") {
		t.Fatalf("Backward with one row of gradients for two: %v", err)
	}
}

// A checkpoint whose config claims a shape its tensors do not hold is
// refused before the model is allocated.
func TestFromFileRefusesClaimedShapes(t *testing.T) {
	m, _ := New(tiny, nn.CPU{})
	f, err := m.File(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		config, want string
	}{
		{`{"layers":1000000000,"d_model":65536,"heads":2,"mlp":65536,"vocab":1000000,"rope_theta":10000,"norm_eps":1e-5,"max_len":4}`, "1000000000 layers, the file holds"},
		{`{"layers":2,"d_model":65536,"heads":2,"mlp":48,"vocab":50,"rope_theta":10000,"norm_eps":1e-5,"max_len":16}`, `tensor "wte" has shape [50 32], the config needs [50 65536]`},
	} {
		g := &safetensors.File{Metadata: map[string]string{metaConfig: tc.config}, Tensors: f.Tensors}
		if _, err := FromFile(g, nn.CPU{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

func TestNamesFile(t *testing.T) {
	for spec, want := range map[string]bool{"": false, Embedded: false, "random:3": false, "runs/x/model.safetensors": true, "embedded.safetensors": true} {
		if NamesFile(spec) != want {
			t.Errorf("NamesFile(%q) = %v", spec, !want)
		}
	}
}
