package sample

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"time"

	"parascope/engine/model"
	"parascope/engine/world"
)

// Model is what the sampler needs of a mask predictor: logits at chosen
// flat positions (b·seq + t) of a batch of sequences, [len(sel), vocab].
type Model interface {
	Logits(ids []int32, batch, seq int, sel []int32) ([]float32, error)
}

// Aligner scores how well a frame's partial text and picture agree, for
// the prompt they answer (an edit's reasoning speaks of its input).
type Aligner interface {
	Align(p Prompt, f Frame) (float64, error)
}

// Prompt is what the user asks: a generation prompt, or an edit
// instruction with the input picture's codes.
type Prompt struct {
	Task        world.Task
	Instruction string
	Input       []int // image codes; thinkedit only
}

// Stepper runs one trajectory a step at a time and keeps its history.
type Stepper struct {
	model  Model
	tmpl   Template
	cfg    Config
	prompt Prompt
	cond   []int // the start: input part filled, output masked
	uncond []int // the same under the unconditional instruction
	// uncondImage is the same without the input picture, nil when the
	// template has no such branch.
	uncondImage []int
	frames      []Frame

	// The output's layout: image positions first, then the reasoning.
	imageLen, textLen int
	at                []int // each output index's place in the sequence

	total    int         // steps in the whole run
	imgStep  map[int]int // absolute step → index on the image's timeline
	imgSteps int         // length of the image's timeline
	// officialCounts is the text reveals of each step under the official
	// rules, which plan them once for the whole run.
	officialCounts []int
	textIDs        []int32 // ids a reasoning position may take
	textHi         int     // one past the largest of them
	imageIDs       []int32 // ids an image position may take: the codes
	plan           blockPlan
	aligner        Aligner
}

// SetAligner makes every following frame carry its alignment score; the
// start frame is scored at once.
func (s *Stepper) SetAligner(a Aligner) error {
	s.aligner = a
	return s.align(&s.frames[len(s.frames)-1])
}

func (s *Stepper) align(f *Frame) error {
	if s.aligner == nil {
		return nil
	}
	score, err := s.aligner.Align(s.prompt, *f)
	if err != nil {
		return fmt.Errorf("sample: alignment at step %d: %w", f.Step, err)
	}
	f.Alignment = &score
	return nil
}

// blockPlan is the text schedule of the block being revealed.
type blockPlan struct {
	block, start int
	counts       []int
}

// New starts a trajectory. Frame 0, the all-masked start, is in the
// history at once.
func New(m Model, t Template, cfg Config, p Prompt) (*Stepper, error) {
	if err := cfg.ValidateFor(t); err != nil {
		return nil, err
	}
	cond, uncond, uncondImage, err := t.Start(p.Task, p.Instruction, p.Input)
	if err != nil {
		return nil, err
	}
	s := &Stepper{model: m, tmpl: t, prompt: p, cond: cond, uncond: uncond, uncondImage: uncondImage,
		imageLen: t.ImageLen(), textLen: t.ReasoningLen(), at: t.Positions(p.Task, len(cond))}
	if len(s.at) != s.imageLen+s.textLen {
		return nil, fmt.Errorf("sample: the template places %d output positions, want %d", len(s.at), s.imageLen+s.textLen)
	}
	for _, id := range t.TextChoices() {
		s.textIDs = append(s.textIDs, int32(id))
		s.textHi = max(s.textHi, id+1)
	}
	for id := t.ImageOffset(); id < t.ImageOffset()+t.Codes(); id++ {
		s.imageIDs = append(s.imageIDs, int32(id))
	}
	s.configure(cfg)
	n := s.imageLen + s.textLen
	mask := int32(t.MaskID())
	start := Frame{Tokens: make([]int32, n), RevealedAt: make([]int16, n), Confidence: make([]float32, n), Probability: make([]float32, n), Guess: make([]int32, n)}
	for i := range n {
		start.Tokens[i], start.RevealedAt[i], start.Guess[i] = mask, -1, mask
	}
	start.Text.Total, start.Image.Total = s.textLen, s.imageLen
	s.frames = []Frame{start}
	return s, nil
}

// configure derives the timeline from a config.
func (s *Stepper) configure(cfg Config) {
	s.cfg, s.plan = cfg, blockPlan{block: -1}
	s.imgStep = map[int]int{}
	steps := imageSteps(cfg)
	for t, i := range steps {
		s.imgStep[i] = t
	}
	s.imgSteps = len(steps)
	s.total = cfg.RunSteps()
	if cfg.Rules != "" {
		s.officialCounts = officialTextCounts(cfg.Rules, s.textLen, cfg.Steps)
	}
}

// imageSteps lists the steps on which a run with cfg commits image
// tokens: after the text in sequential mode, among its steps in parallel.
func imageSteps(cfg Config) []int {
	if cfg.Rules != "" {
		return officialImageSteps(cfg.Steps, cfg.Image.ImageSteps)
	}
	if cfg.Mode != Sequential {
		return imageStepList(cfg.Steps, cfg.Image.ImageSteps)
	}
	T := cfg.Image.ImageSteps
	if T == 0 {
		T = cfg.Steps
	}
	var steps []int
	for i := range T {
		steps = append(steps, cfg.Steps+i)
	}
	return steps
}

// RunSteps is the number of steps of a whole run with the config: its
// steps, and in sequential mode the image's after them.
func (c Config) RunSteps() int {
	steps := imageSteps(c)
	return max(c.Steps, steps[len(steps)-1]+1)
}

// Finished reports whether a run of total steps ends at frame last: at
// its last step, or earlier once every position is revealed.
func Finished(last Frame, total int) bool {
	return last.Step >= total || (last.Text.Actual == last.Text.Total && last.Image.Actual == last.Image.Total)
}

// Config is the configuration the stepper runs with.
func (s *Stepper) Config() Config { return s.cfg }

// Prompt is what the trajectory answers.
func (s *Stepper) Prompt() Prompt { return s.prompt }

// Steps is the number of steps of the whole run.
func (s *Stepper) Steps() int { return s.total }

// History returns the frames so far, frame 0 being the start.
func (s *Stepper) History() []Frame { return s.frames }

// Last is the newest frame.
func (s *Stepper) Last() Frame { return s.frames[len(s.frames)-1] }

// Done reports whether the run is over.
func (s *Stepper) Done() bool {
	return Finished(s.Last(), s.total)
}

// Fork returns a stepper that shares this one's first k steps and goes on
// with another config; this one's history is left as it is. The text
// schedule of the block in progress is spread over the block's remaining
// steps under the new config.
func (s *Stepper) Fork(k int, cfg Config) (*Stepper, error) {
	if k < 0 || k >= len(s.frames) {
		return nil, fmt.Errorf("fork at step %d: the history has steps 0 to %d", k, len(s.frames)-1)
	}
	if err := cfg.ValidateFor(s.tmpl); err != nil {
		return nil, err
	}
	f := *s
	f.frames = slices.Clone(s.frames[:k+1])
	f.configure(cfg)
	if k >= f.total {
		return nil, fmt.Errorf("fork at step %d: the new config has only %d steps", k, f.total)
	}
	return &f, nil
}

// Step runs the model once (twice batched with guidance) and commits the
// tokens the schedules call for.
func (s *Stepper) Step(ctx context.Context) (Frame, error) {
	if s.cfg.Rules != "" {
		return s.stepOfficial(ctx)
	}
	frames, errs := stepGroup(ctx, s.model, []*Stepper{s})
	return frames[0], errs[0]
}

// StepTogether takes one step of every stepper with a single model call,
// for groups of trajectories of one task (rollouts): their sequences are
// stacked into one batch. It returns the first stepper's error, if any;
// the others have stepped as StepEach says.
func StepTogether(ctx context.Context, m Model, group []*Stepper) ([]Frame, error) {
	if len(group) == 0 {
		return nil, nil
	}
	if group[0].cfg.Rules != "" {
		return nil, errors.New("sample: StepTogether runs Parascope's rules only")
	}
	for _, s := range group {
		if len(s.cond) != len(group[0].cond) || s.textHi != group[0].textHi {
			return nil, errors.New("sample: StepTogether needs steppers of one task")
		}
	}
	frames, errs := stepGroup(ctx, m, group)
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return frames, nil
}

// StepEach is StepTogether over the steppers' own model, with each
// stepper's frame or error: one that cannot step (cancelled, complete)
// is left out of the batch and the others step without it. The steppers
// must all be able to step with the first (CanStepWith).
func StepEach(ctx context.Context, group []*Stepper) ([]Frame, []error) {
	if len(group) == 0 {
		return nil, nil
	}
	for _, s := range group {
		if !s.CanStepWith(group[0]) {
			errs := make([]error, len(group))
			for i := range errs {
				errs[i] = errors.New("sample: StepEach needs steppers of one task, model and template under Parascope's rules")
			}
			return make([]Frame, len(group)), errs
		}
	}
	return stepGroup(ctx, group[0].model, group)
}

// CanStepWith reports whether s and o can take a step in one model call:
// both under Parascope's rules, over one model and template, with
// sequences of one length.
func (s *Stepper) CanStepWith(o *Stepper) bool {
	if s.cfg.Rules != "" || o.cfg.Rules != "" || len(s.cond) != len(o.cond) || s.textHi != o.textHi {
		return false
	}
	// Models and templates are compared as values only where their
	// types allow it; == on others would panic.
	same := func(a, b any) bool {
		ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
		return ta == tb && ta != nil && ta.Comparable() && a == b
	}
	return same(s.model, o.model) && (same(s.tmpl, o.tmpl) || s.tmpl.Hash() == o.tmpl.Hash())
}

// stepGroup steps every stepper of a group that can step with one call
// of m, asking a RangeModel for the ids each row may take only, as Step
// does for one stepper: a stepper steps alike alone or in a group.
func stepGroup(ctx context.Context, m Model, group []*Stepper) ([]Frame, []error) {
	frames, errs := make([]Frame, len(group)), make([]error, len(group))
	seq := len(group[0].cond)
	qs := make([]*stepRequest, len(group))
	var ids, sel []int32
	var image, text [][]int32 // per stepper, flat positions in the batch
	batch := 0
	rm, ranged := m.(RangeModel)
	for i, s := range group {
		q, err := s.prepare(ctx)
		if err != nil {
			errs[i] = err
			continue
		}
		qs[i] = q
		ids = append(ids, q.ids...)
		shift := func(ps []int32) []int32 {
			out := make([]int32, len(ps))
			for j, p := range ps {
				out[j] = p + int32(batch*seq)
			}
			return out
		}
		sel = append(sel, shift(q.sel)...)
		if ranged {
			q.ranged = true
			im, tx := s.splitSel(q)
			image, text = append(image, shift(im)), append(text, shift(tx))
		}
		batch += q.batch
	}
	var rows [][]float32 // per stepper, its logits in the order commit reads them
	if len(sel) > 0 {
		var flat []float32
		var err error
		if ranged {
			O, K := group[0].tmpl.ImageOffset(), group[0].tmpl.Codes()
			flat, err = rm.LogitsSpans(ids, batch, seq, []model.Span{{Sel: slices.Concat(image...), Lo: O, Hi: O + K}, {Sel: slices.Concat(text...), Hi: group[0].textHi}})
			if err == nil {
				rows, err = splitRanged(flat, image, text, K, group[0].textHi)
			}
		} else if flat, err = m.Logits(ids, batch, seq, sel); err == nil {
			v := group[0].tmpl.Size()
			if want := len(sel) * v; len(flat) != want {
				err = fmt.Errorf("the model returned %d logits, want %d", len(flat), want)
			}
			for _, q := range qs {
				if q != nil && err == nil {
					n := len(q.sel) * v
					rows, flat = append(rows, flat[:n]), flat[n:]
				}
			}
		}
		if err != nil {
			for i, q := range qs {
				if q != nil {
					errs[i] = fmt.Errorf("sample: step %d: %w", q.f.Step, err)
				}
			}
			return frames, errs
		}
	}
	k := 0
	for i, s := range group {
		if qs[i] == nil {
			continue
		}
		var flat []float32
		if rows != nil {
			flat = rows[k]
		}
		k++
		frames[i], errs[i] = s.commit(qs[i], flat)
	}
	return frames, errs
}

// splitRanged cuts a ranged call's logits (every image row of the batch,
// then every text row) into each stepper's: its image rows, then its text
// rows.
func splitRanged(flat []float32, image, text [][]int32, K, textHi int) ([][]float32, error) {
	nImage := 0
	for _, im := range image {
		nImage += len(im)
	}
	nText := 0
	for _, tx := range text {
		nText += len(tx)
	}
	if want := nImage*K + nText*textHi; len(flat) != want {
		return nil, fmt.Errorf("the model returned %d logits, want %d", len(flat), want)
	}
	im, tx := flat[:nImage*K], flat[nImage*K:]
	rows := make([][]float32, len(image))
	for i := range image {
		a, b := len(image[i])*K, len(text[i])*textHi
		if len(image) == 1 {
			rows[i] = flat // one stepper: its logits as they came
			break
		}
		rows[i] = slices.Concat(im[:a], tx[:b])
		im, tx = im[a:], tx[b:]
	}
	return rows, nil
}

// stepRequest is a step between asking the model and committing tokens.
type stepRequest struct {
	f      Frame
	began  time.Time
	masked []int // output indices still masked
	ids    []int32
	batch  int
	sel    []int32
	// ranged: the logits hold each image row over the codes only and
	// each text row over the ids below textHi (RangeModel), image rows
	// first; else every row is the whole vocabulary.
	ranged bool
}

// prepare starts the next step: the frame to fill and the model input.
func (s *Stepper) prepare(ctx context.Context) (*stepRequest, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.Done() {
		return nil, errors.New("sample: the trajectory is complete")
	}
	q := &stepRequest{began: time.Now()}
	prev := s.Last()
	q.f = Frame{
		Step: prev.Step + 1, Tokens: slices.Clone(prev.Tokens), RevealedAt: slices.Clone(prev.RevealedAt),
		Confidence: slices.Clone(prev.Confidence), Probability: slices.Clone(prev.Probability), Guess: slices.Clone(prev.Tokens),
		Text: prev.Text, Image: prev.Image,
	}
	mask := int32(s.tmpl.MaskID())
	for o, id := range q.f.Tokens {
		if id == mask {
			q.masked = append(q.masked, o)
		}
	}
	q.ids, q.batch, q.sel = s.input(q.masked, q.f.Tokens)
	return q, nil
}

// commit turns the model's logits at the request's positions into the
// step's frame and appends it to the history.
func (s *Stepper) commit(q *stepRequest, flat []float32) (Frame, error) {
	f, masked := q.f, q.masked
	i := f.Step - 1 // the step being taken, 0-based
	cond, uncond, err := s.rows(q, flat)
	if err != nil {
		return Frame{}, err
	}
	r := rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)))

	// What the schedules ask of this step.
	nText, textLimit := s.textPlan(i, f.Tokens)
	imgT, imgActive := s.imgStep[i]
	var candidates []candidate
	f.Top = make([][]Choice, len(f.Tokens))
	for j, o := range masked {
		var u []float32
		if uncond != nil {
			u = uncond[j]
		}
		lo := 0
		if q.ranged && o < s.imageLen {
			lo = s.tmpl.ImageOffset()
		}
		c := s.candidate(r, o, cond[j], u, imgT, lo)
		f.Guess[o], f.Top[o] = c.guess, c.top
		if (o >= s.imageLen && nText > 0 && o-s.imageLen < textLimit) || (o < s.imageLen && imgActive) {
			candidates = append(candidates, c)
		}
	}
	// Commit per modality: the most confident first (held-back ones after
	// the rest), ties to the earlier position, so a run is reproducible.
	slices.SortStableFunc(candidates, func(a, b candidate) int {
		switch {
		case a.held != b.held:
			if b.held {
				return -1
			}
			return 1
		case a.conf > b.conf:
			return -1
		case a.conf < b.conf:
			return 1
		}
		return a.pos - b.pos
	})
	nImage := 0
	if imgActive {
		unknown := f.Image.Total - f.Image.Actual
		nImage = unknown - imageMaskedAfter(s.cfg.Image.Schedule, s.imageLen, unknown, imgT, s.imgSteps)
	}
	f.Text.Target += nText
	f.Image.Target += nImage
	for _, c := range candidates {
		quota, count := &nText, &f.Text.Actual
		if c.pos < s.imageLen {
			quota, count = &nImage, &f.Image.Actual
		}
		if *quota == 0 {
			continue
		}
		*quota--
		*count++
		f.Tokens[c.pos], f.Guess[c.pos], f.RevealedAt[c.pos], f.Confidence[c.pos] = c.token, c.token, int16(i+1), float32(c.conf)
		f.Probability[c.pos] = float32(c.prob)
	}
	if err := s.align(&f); err != nil {
		return Frame{}, err
	}
	f.Nanos = time.Since(q.began).Nanoseconds()
	s.frames = append(s.frames, f)
	return f, nil
}

// textPlan returns how many text tokens step i reveals and up to which
// text position (the end of the current block) candidates may come from.
func (s *Stepper) textPlan(i int, tokens []int32) (int, int) {
	if i >= s.cfg.Steps {
		return 0, 0
	}
	B := s.cfg.Text.Block
	if B == 0 {
		B = s.textLen
	}
	perBlock := s.cfg.Steps / (s.textLen / B)
	b, j := i/perBlock, i%perBlock
	limit := (b + 1) * B
	if s.plan.block != b {
		m, mask := 0, int32(s.tmpl.MaskID())
		for _, id := range tokens[s.imageLen : s.imageLen+limit] {
			if id == mask {
				m++
			}
		}
		s.plan = blockPlan{block: b, start: i, counts: textCounts(s.cfg.Text.Schedule, m, perBlock-j)}
	}
	return s.plan.counts[i-s.plan.start], limit
}

// input builds the model's input for the current output tokens (and its
// unconditional twin when guidance is on): ids, batch size and one
// selected position per masked output index and sequence.
func (s *Stepper) input(masked []int, out []int32) (ids []int32, batch int, sel []int32) {
	seq := len(s.cond)
	batch = 1
	if s.guided() {
		batch = 2
	}
	ids = make([]int32, 0, batch*seq)
	for _, base := range [][]int{s.cond, s.uncond}[:batch] {
		row := make([]int32, seq)
		for p, id := range base {
			row[p] = int32(id)
		}
		s.placeOutput(row, out)
		ids = append(ids, row...)
	}
	for b := range batch {
		for _, o := range masked {
			sel = append(sel, int32(b*seq+s.position(o)))
		}
	}
	return ids, batch, sel
}

func (s *Stepper) guided() bool { return s.cfg.Text.CFG > 0 || s.cfg.Image.CFG > 0 }

// rows splits the model's logits into one row per masked position, for
// the conditional and (under guidance) the unconditional sequence.
func (s *Stepper) rows(q *stepRequest, flat []float32) (cond, uncond [][]float32, err error) {
	if len(q.sel) == 0 {
		return nil, nil, nil
	}
	v := s.tmpl.Size()
	rows := make([][]float32, len(q.sel))
	if q.ranged {
		image, text := s.splitSel(q)
		K := s.tmpl.Codes()
		if want := len(image)*K + len(text)*s.textHi; len(flat) != want {
			return nil, nil, fmt.Errorf("sample: the model returned %d logits, want %d", len(flat), want)
		}
		im, tx := flat[:len(image)*K], flat[len(image)*K:]
		for j := range rows {
			if s.isImageRow(q, j) {
				rows[j], im = im[:K:K], im[K:]
			} else {
				rows[j], tx = tx[:s.textHi:s.textHi], tx[s.textHi:]
			}
		}
	} else {
		if len(flat) != len(q.sel)*v {
			return nil, nil, fmt.Errorf("sample: the model returned %d logits for %d positions of %d", len(flat), len(q.sel), v)
		}
		for j := range rows {
			rows[j] = flat[j*v : (j+1)*v]
		}
	}
	cond = rows[:len(q.masked)]
	if s.guided() {
		uncond = rows[len(q.masked):]
	}
	return cond, uncond, nil
}

// isImageRow reports whether selected row j of q is an image position's.
func (s *Stepper) isImageRow(q *stepRequest, j int) bool {
	return q.masked[j%len(q.masked)] < s.imageLen
}

// splitSel splits q's selected positions into image and text ones, each
// in q's order.
func (s *Stepper) splitSel(q *stepRequest) (image, text []int32) {
	for j, p := range q.sel {
		if s.isImageRow(q, j) {
			image = append(image, p)
		} else {
			text = append(text, p)
		}
	}
	return image, text
}

// position maps an output index to its place in the sequence.
func (s *Stepper) position(o int) int { return s.at[o] }

func (s *Stepper) placeOutput(row []int32, out []int32) {
	for o, id := range out {
		row[s.position(o)] = id
	}
}
