package sample

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// scripted is a fake model that knows the answer: at every output position
// the target token's logit is strength(position) and every other logit 0,
// so each rule's choice can be predicted exactly. It records its calls.
type scripted struct {
	v        *token.Vocab
	target   []int32 // the whole target sequence
	strength func(pos int) float32
	// uncond, when set, overrides the logits of the unconditional batch row.
	uncond func(pos int, row []float32)
	cond   func(pos int, row []float32)
	calls  []call
}

type call struct {
	batch int
	ids   []int32
}

func (m *scripted) Logits(ids []int32, batch, seq int, sel []int32) ([]float32, error) {
	m.calls = append(m.calls, call{batch, slices.Clone(ids)})
	V := m.v.Size()
	out := make([]float32, len(sel)*V)
	for j, p := range sel {
		b, pos := int(p)/seq, int(p)%seq
		row := out[j*V : (j+1)*V]
		switch {
		case b == 1 && m.uncond != nil:
			m.uncond(pos, row)
		case b == 0 && m.cond != nil:
			m.cond(pos, row)
		default:
			row[m.target[pos]] = m.strength(pos)
		}
	}
	return out, nil
}

// fixture is a thinkedit case, its vocabulary and a model that knows it.
func fixture(t *testing.T) (*scripted, Prompt, token.Sequence) {
	t.Helper()
	cb := vq.Default()
	v := token.New(cb.K())
	c := world.GenerateKind(3, 0, world.Recolour)
	in, _ := cb.Encode(world.Render(c.Input))
	out, _ := cb.Encode(world.Render(c.Target))
	seq, err := v.Build(token.Parts{Task: c.Task, Input: in, Instruction: c.Instruction, Output: out, Reasoning: c.Reasoning})
	if err != nil {
		t.Fatal(err)
	}
	target := make([]int32, len(seq.IDs))
	for i, id := range seq.IDs {
		target[i] = int32(id)
	}
	m := &scripted{v: v, target: target, strength: func(pos int) float32 { return 2 + float32(pos)/100 }}
	return m, Prompt{Task: c.Task, Instruction: c.Instruction, Input: in}, seq
}

// greedy is the defaults without sampling, guidance or held-back text
// ends, so each rule's order can be predicted from the logits alone.
func greedy(steps int) Config {
	c := Defaults()
	c.Steps = steps
	c.Text.EndLast = false
	c.Image.Temperature, c.Image.RemaskTemperature, c.Image.CFG = 0, 0, 0
	return c
}

func run(t *testing.T, s *Stepper) []Frame {
	t.Helper()
	for !s.Done() {
		if _, err := s.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return s.History()
}

func TestParallelRevealsOnScheduleAndFindsTheAnswer(t *testing.T) {
	m, p, want := fixture(t)
	s, err := New(m, m.v, greedy(8), p)
	if err != nil {
		t.Fatal(err)
	}
	frames := run(t, s)
	if len(frames) != 9 || len(m.calls) != 8 {
		t.Fatalf("%d frames, %d model calls; want 9 and 8", len(frames), len(m.calls))
	}
	// Text: one global block of 40 over 8 steps, 5 a step. Image: cosine
	// over 8 steps: ⌊36·cos(π/2·k/8)⌋ = 35, 33, 29, 25, 20, 13, 7 masked, then 0.
	imageMasked := []int{36, 35, 33, 29, 25, 20, 13, 7, 0}
	for k, f := range frames {
		if f.Text.Actual != 5*k || f.Text.Target != 5*k {
			t.Errorf("step %d: text revealed %d (target %d), want %d", k, f.Text.Actual, f.Text.Target, 5*k)
		}
		if f.Image.Actual != 36-imageMasked[k] || f.Image.Target != f.Image.Actual {
			t.Errorf("step %d: image revealed %d (target %d), want %d", k, f.Image.Actual, f.Image.Target, 36-imageMasked[k])
		}
	}
	last := frames[8]
	for o, id := range last.Tokens {
		if id != m.target[s.position(o)] {
			t.Fatalf("output %d holds %s, want %s", o, m.v.Name(int(id)), m.v.Name(int(m.target[s.position(o)])))
		}
	}
	if got, _ := m.v.Split(token.Sequence{IDs: want.IDs, Layout: want.Layout}); last.Reasoning(m.v) != got.Reasoning {
		t.Fatalf("reasoning %q, want %q", last.Reasoning(m.v), got.Reasoning)
	}
	// low_confidence commits the most confident first: here the later
	// positions, so the text's last five positions come at step 1.
	for o := token.ImageTokens; o < len(last.Tokens); o++ {
		wantStep := int16(8 - (o-token.ImageTokens)/5)
		if last.RevealedAt[o] != wantStep {
			t.Fatalf("text position %d revealed at step %d, want %d", o-token.ImageTokens, last.RevealedAt[o], wantStep)
		}
	}
}

func TestEndLastCommitsWordsFirst(t *testing.T) {
	m, p, want := fixture(t)
	cfg := greedy(8)
	cfg.Text.EndLast = true
	s, _ := New(m, m.v, cfg, p)
	last := run(t, s)[8]
	// The fixture's confidence rises with the position, so without the
	// rule the padding would come first. With it the words come first,
	// from the last word down, then <|eos|> and the padding from the end
	// of the span down; five a step.
	W := 0
	for W < token.ReasoningLen && last.Tokens[token.ImageTokens+W] != token.EOS {
		W++
	}
	if got, _ := m.v.Split(token.Sequence{IDs: want.IDs, Layout: want.Layout}); last.Reasoning(m.v) != got.Reasoning || W != len(strings.Fields(got.Reasoning)) {
		t.Fatalf("reasoning %q (%d words), want %q", last.Reasoning(m.v), W, got.Reasoning)
	}
	for o := range token.ReasoningLen {
		rank := W - 1 - o
		if o >= W {
			rank = W + token.ReasoningLen - 1 - o
		}
		if at := int(last.RevealedAt[token.ImageTokens+o]); at != rank/5+1 {
			t.Fatalf("text position %d (%d words) revealed at step %d, want %d", o, W, at, rank/5+1)
		}
	}
}

func TestSemiAutoregressiveBlocks(t *testing.T) {
	m, p, _ := fixture(t)
	cfg := greedy(8)
	cfg.Text.Block = 10 // 4 blocks of 10, 2 steps each, 5 tokens a step
	s, _ := New(m, m.v, cfg, p)
	last := run(t, s)[8]
	for o := token.ImageTokens; o < len(last.Tokens); o++ {
		block := (o - token.ImageTokens) / 10
		if at := int(last.RevealedAt[o]); at != 2*block+1 && at != 2*block+2 {
			t.Fatalf("text position %d (block %d) revealed at step %d", o-token.ImageTokens, block, at)
		}
	}
}

func TestSequentialTextThenImage(t *testing.T) {
	m, p, _ := fixture(t)
	cfg := greedy(4)
	cfg.Mode = Sequential
	s, _ := New(m, m.v, cfg, p)
	frames := run(t, s)
	if len(frames) != 9 {
		t.Fatalf("%d frames, want 1 + 4 text steps + 4 image steps", len(frames))
	}
	for k, f := range frames {
		textDone := min(k, 4) * 10
		if f.Text.Actual != textDone || (k <= 4 && f.Image.Actual != 0) {
			t.Fatalf("step %d: text %d image %d", k, f.Text.Actual, f.Image.Actual)
		}
	}
	if frames[8].Image.Actual != 36 {
		t.Fatalf("image not finished: %d", frames[8].Image.Actual)
	}
}

func TestImageOnlyOnItsSteps(t *testing.T) {
	m, p, _ := fixture(t)
	cfg := greedy(20)
	cfg.Image.ImageSteps = 5 // steps 5, 8, 12, 16, 19 (0-based)
	s, _ := New(m, m.v, cfg, p)
	frames := run(t, s)
	steps := map[int]bool{5: true, 8: true, 12: true, 16: true, 19: true}
	for i := 1; i < len(frames); i++ {
		changed := frames[i].Image.Actual != frames[i-1].Image.Actual
		if changed != steps[i-1] {
			t.Fatalf("0-based step %d: image changed %v", i-1, changed)
		}
	}
	if frames[20].Image.Actual != 36 {
		t.Fatal("image not finished")
	}
}

func TestOneStepRevealsEverything(t *testing.T) {
	m, p, _ := fixture(t)
	s, _ := New(m, m.v, greedy(1), p)
	frames := run(t, s)
	if len(frames) != 2 || frames[1].Text.Actual != 40 || frames[1].Image.Actual != 36 {
		t.Fatalf("%d frames, last %+v %+v", len(frames), frames[len(frames)-1].Text, frames[len(frames)-1].Image)
	}
}

func TestMoreStepsThanTokens(t *testing.T) {
	m, p, _ := fixture(t)
	s, _ := New(m, m.v, greedy(50), p)
	frames := run(t, s)
	if len(frames) != 51 {
		t.Fatalf("%d frames", len(frames))
	}
	for k, f := range frames {
		if f.Text.Actual != min(k, 40) {
			t.Fatalf("step %d: text %d, want %d (one a step, then none)", k, f.Text.Actual, min(k, 40))
		}
	}
}

// Guidance is (1+w)·cond − w·uncond: it moves away from the unconditional
// prediction. With cond preferring A a little over B and uncond preferring
// A strongly, w = 1 gives A 2·1−2 = 0 and B 2·0.9−0 = 1.8: B wins. The
// inverted sign (uncond + w·(uncond − cond)) would pick A.
func TestGuidanceSign(t *testing.T) {
	m, p, _ := fixture(t)
	var a, b int32
	m.cond = func(pos int, row []float32) {
		a, b = pick(m, pos)
		row[a], row[b] = 1, 0.9
	}
	m.uncond = func(pos int, row []float32) {
		a, b = pick(m, pos)
		row[a], row[b] = 2, 0
	}
	cfg := greedy(1)
	cfg.Text.CFG, cfg.Image.CFG = 1, 1
	s, _ := New(m, m.v, cfg, p)
	last := run(t, s)[1]
	for o, id := range last.Tokens {
		_, wantB := pick(m, s.position(o))
		if id != wantB {
			t.Fatalf("output %d: %s, want the guided choice %s", o, m.v.Name(int(id)), m.v.Name(int(wantB)))
		}
	}
	// One call a step, both branches batched; the second has <|uncond|>.
	c := m.calls[0]
	seq := len(c.ids) / 2
	l := token.LayoutFor(p.Task)
	if c.batch != 2 || c.ids[seq+l.Instruction.Start] != token.Uncond || c.ids[l.Instruction.Start] == token.Uncond {
		t.Fatalf("batch %d, instruction tokens %d / %d", c.batch, c.ids[l.Instruction.Start], c.ids[seq+l.Instruction.Start])
	}
}

// pick returns two ids the position may take: two image codes, or two words.
func pick(m *scripted, pos int) (int32, int32) {
	off := m.v.ImageOffset()
	if int(m.target[pos]) >= off {
		return int32(off + 1), int32(off + 2)
	}
	return int32(token.NumSpecial), int32(token.NumSpecial + 1)
}

func TestRemaskingRules(t *testing.T) {
	m, p, _ := fixture(t)
	// Two candidates per text position: the target and a runner-up whose
	// logit falls with the position, so margin prefers late positions
	// (large gap) while low_confidence, with the target's logit rising
	// with the position too, also does; entropy agrees. Random does not.
	m.cond = func(pos int, row []float32) {
		row[m.target[pos]] = 3 + float32(pos)/50
		if alt := int32(token.NumSpecial + 3); alt != m.target[pos] && int(m.target[pos]) < m.v.ImageOffset() {
			row[alt] = 3 - float32(pos)/50
		}
	}
	firstStep := func(rule string) []int {
		cfg := greedy(8)
		cfg.Text.Remasking = rule
		s, _ := New(m, m.v, cfg, p)
		f, err := s.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for o := token.ImageTokens; o < len(f.Tokens); o++ {
			if f.RevealedAt[o] == 1 {
				got = append(got, o-token.ImageTokens)
			}
		}
		return got
	}
	late := []int{35, 36, 37, 38, 39}
	for _, rule := range []string{LowConfidence, Margin, Entropy} {
		if got := firstStep(rule); !slices.Equal(got, late) {
			t.Errorf("%s committed %v first, want %v", rule, got, late)
		}
	}
	if got := firstStep(Random); slices.Equal(got, late) || len(got) != 5 {
		t.Errorf("random committed %v", got)
	}
}

func TestSameSeedSameTrajectory(t *testing.T) {
	m, p, _ := fixture(t)
	m.strength = func(int) float32 { return 0.5 } // flat enough for sampling to matter
	cfg := Defaults()
	cfg.Steps, cfg.Seed = 10, 42
	cfg.Text.Temperature = 1
	trace := func(seed uint64) string {
		c := cfg
		c.Seed = seed
		s, _ := New(m, m.v, c, p)
		b, _ := json.Marshal(run(t, s))
		return string(b)
	}
	a, b := trace(42), trace(42)
	if a != b {
		t.Fatal("two runs with one seed differ")
	}
	if trace(43) == a {
		t.Fatal("another seed gave the same trajectory")
	}
	if strings.Contains(a, "nanos") {
		t.Fatal("wall time must stay out of the trajectory's bytes")
	}
}

func TestForkKeepsTheOriginal(t *testing.T) {
	m, p, _ := fixture(t)
	s, _ := New(m, m.v, greedy(8), p)
	for range 3 {
		s.Step(context.Background())
	}
	before, _ := json.Marshal(s.History())
	cfg := greedy(8)
	cfg.Text.Remasking = Random
	f, err := s.Fork(2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	frames := run(t, f)
	after, _ := json.Marshal(s.History())
	if string(before) != string(after) {
		t.Fatal("forking changed the original history")
	}
	shared, _ := json.Marshal(frames[:3])
	orig, _ := json.Marshal(s.History()[:3])
	if string(shared) != string(orig) || len(frames) != 9 || frames[8].Text.Actual != 40 {
		t.Fatalf("fork: %d frames, shared prefix equal %v", len(frames), string(shared) == string(orig))
	}
	// The original goes on where it was.
	run(t, s)
	if len(s.History()) != 9 {
		t.Fatal("original did not finish")
	}
	if _, err := s.Fork(20, cfg); err == nil {
		t.Fatal("fork past the history accepted")
	}
}

func TestCancelledContext(t *testing.T) {
	m, p, _ := fixture(t)
	s, _ := New(m, m.v, greedy(4), p)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Step(ctx); err == nil {
		t.Fatal("a cancelled step ran")
	}
	if len(m.calls) != 0 {
		t.Fatal("the model was called")
	}
}

func TestConfidenceIsRecorded(t *testing.T) {
	m, p, _ := fixture(t)
	s, _ := New(m, m.v, greedy(2), p)
	last := run(t, s)[2]
	for o, c := range last.Confidence {
		if o >= token.ImageTokens && (c <= 0 || c > 1) {
			t.Fatalf("text position %d confidence %v, want a probability", o, c)
		}
		if o < token.ImageTokens && (c > 0 || math.IsNaN(float64(c))) {
			t.Fatalf("image position %d confidence %v, want a log-probability", o, c)
		}
	}
}

func TestTraceRoundTrip(t *testing.T) {
	m, p, _ := fixture(t)
	s, _ := New(m, m.v, greedy(4), p)
	var buf strings.Builder
	frames := run(t, s)
	w, err := NewTraceWriter(&buf, NewHeader(s, "scripted", nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		w.Frame(f)
	}
	w.Flush()
	h, back, err := ReadTrace(strings.NewReader(buf.String()), "t.jsonl", m.v)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(back)
	b, _ := json.Marshal(frames)
	if string(a) != string(b) || h.Steps != 4 || h.Prompt.Instruction != p.Instruction || h.Config != s.Config() {
		t.Fatalf("round trip differs: header %+v", h)
	}
	lines := strings.Split(buf.String(), "\n")
	broken := strings.Join(append(lines[:3:3], `{"step": 7}`), "\n")
	if _, _, err := ReadTrace(strings.NewReader(broken), "t.jsonl", m.v); err == nil || !strings.Contains(err.Error(), "t.jsonl:4") {
		t.Fatalf("got %v", err)
	}
	other := token.New(m.v.Codes() + 1)
	if _, _, err := ReadTrace(strings.NewReader(buf.String()), "t.jsonl", other); err == nil || !strings.Contains(err.Error(), "t.jsonl:1: vocab_hash: made with vocabulary") {
		t.Fatalf("got %v", err)
	}
}

// stepAligner scores a frame by its share of revealed text.
type stepAligner struct{}

func (stepAligner) Align(_ Prompt, f Frame) (float64, error) {
	return float64(f.Text.Actual) / float64(f.Text.Total), nil
}

func TestFramesCarryAlignment(t *testing.T) {
	m, p, _ := fixture(t)
	s, _ := New(m, m.v, greedy(4), p)
	if err := s.SetAligner(stepAligner{}); err != nil {
		t.Fatal(err)
	}
	frames := run(t, s)
	for k, f := range frames {
		if f.Alignment == nil || *f.Alignment != float64(10*k)/40 {
			t.Fatalf("frame %d alignment %v", k, f.Alignment)
		}
	}
	b, _ := json.Marshal(frames[2])
	if !strings.Contains(string(b), `"alignment":0.5`) {
		t.Fatalf("the trace does not record it: %s", b)
	}
}

// The probability recorded is the committed token's under the model:
// the low_confidence score for text, exp of it for the image (no noise),
// and in [0, 1] under any rule.
func TestProbabilityIsRecorded(t *testing.T) {
	m, p, _ := fixture(t)
	s, _ := New(m, m.v, greedy(2), p)
	last := run(t, s)[2]
	for o, q := range last.Probability {
		want := float64(last.Confidence[o])
		if o < token.ImageTokens {
			want = math.Exp(want)
		}
		if math.Abs(float64(q)-want) > 1e-5 {
			t.Fatalf("position %d: probability %v, want %v", o, q, want)
		}
	}
	cfg := greedy(2)
	cfg.Text.Remasking, cfg.Image.Remasking = Entropy, Margin
	s, _ = New(m, m.v, cfg, p)
	for o, q := range run(t, s)[2].Probability {
		if !(q > 0 && q <= 1) {
			t.Fatalf("position %d under entropy/margin: probability %v", o, q)
		}
	}
}

// A frame keeps each masked position's most likely tokens, most likely
// first: the guess leads, and the committed token is among them when it
// was the likeliest.
func TestTopChoicesAreRecorded(t *testing.T) {
	m, p, _ := fixture(t)
	s, _ := New(m, m.v, greedy(4), p)
	frames := run(t, s)
	for _, f := range frames[1:] {
		prev := frames[f.Step-1]
		for o, top := range f.Top {
			masked := prev.RevealedAt[o] == -1
			if masked != (top != nil) {
				t.Fatalf("step %d position %d: masked %v, top %v", f.Step, o, masked, top)
			}
			if !masked {
				continue
			}
			if len(top) != TopChoices || top[0].ID != f.Guess[o] || top[0].P < top[1].P || top[1].P < top[2].P {
				t.Fatalf("step %d position %d: top %v, guess %d", f.Step, o, top, f.Guess[o])
			}
			if f.RevealedAt[o] == int16(f.Step) && math.Abs(float64(top[0].P-f.Probability[o])) > 1e-6 {
				t.Fatalf("step %d position %d: committed with p %v, top %v", f.Step, o, f.Probability[o], top)
			}
		}
	}
}

func TestTop(t *testing.T) {
	got := top([]float64{0.1, 0.4, 0.1, 0.3, 0.1}, []int32{10, 11, 12, 13, 14})
	want := []Choice{{11, 0.4}, {13, 0.3}, {10, 0.1}}
	if !slices.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
	if got := top([]float64{1}, []int32{7}); !slices.Equal(got, []Choice{{7, 1}}) {
		t.Fatalf("one choice: %v", got)
	}
}
