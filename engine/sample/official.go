package sample

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"parascope/engine/bf16"
	"parascope/engine/model"
	"parascope/engine/parallel"
)

// The official rules reproduce, step for step, the two published
// generators of MMaDA-Parallel: generate_ti2ti (MMaDA-Parallel-A) and
// interleave_generate (MMaDA-Parallel-M). Where they differ from
// Parascope's rules:
//
//   - one global timeline of S steps (text_steps); the text reveals over
//     all of it without blocks: -A floor(M·(1 − (i+1)/S)) left masked
//     after step i, -M LLaDA's even split; the picture changes on
//     round(linspace(S/4, S−1, T)) in float32, its masked share after
//     step i being cos(π/2·(i+1)/S) of the global step, not of the
//     picture's own timeline;
//   - text candidates range over the whole vocabulary (image codes and
//     specials included), by argmax, or -A's Gumbel noise in bfloat16
//     (l + τ·g) or -M's exp(l)/(−log u)^τ in float64; confidences are
//     float64 probabilities;
//   - -A guides only the picture, with two branches: cond + w·(cond −
//     uncond_text) + w₂·(cond − uncond_image), the unconditional passes
//     run after the step's text is revealed; -M guides the text toward the
//     unconditional branch, cond + w·(uncond − cond) (Guidance "toward"),
//     and the picture away from it, (1+w)·cond − w·uncond;
//   - the picture's probabilities, logarithms and guidance sums are
//     bfloat16, as the model's dtype makes them; codes are drawn by
//     multinomial sampling; the remasking noise is a Gaussian (-A) or a
//     Gumbel (-M) scaled by τ(1 − (i+1)/S); -A keeps the lowest-scored
//     positions masked (stable order), -M those strictly below the cut,
//     so ties can reveal more than the schedule asks;
//   - at least one code stays masked after every image step; at the end
//     -A fills what is masked with random codes and -M with the last
//     step's draws.
//
// Random numbers come from draw, fixed per (seed, step, use, index),
// rather than PyTorch's generator; sorts are stable where PyTorch's
// order among ties is unspecified.

// Text temperature and remasking Gumbel noise constants of the official
// code: the epsilons it adds before taking logarithms.
const (
	textNoiseEps = 1e-10
	clampEps     = 1e-20
)

// officialImageSteps is round(torch.linspace(S/4, S−1, T)) in float32,
// repeated steps once.
func officialImageSteps(S, T int) []int {
	var out []int
	for _, v := range linspace32(float64(S/4), float64(S-1), T) {
		s := int(math.RoundToEven(v))
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

// officialTextCounts is how many text positions each of the S steps
// reveals, of M masked at the start.
func officialTextCounts(rules string, M, S int) []int {
	out := make([]int, S)
	remaining := M
	for i := range out {
		if rules == OfficialA {
			after := int(float64(M) * (1 - float64(i+1)/float64(S)))
			out[i] = max(0, remaining-after)
			remaining -= out[i]
		} else {
			out[i] = M / S
			if i < M%S {
				out[i]++
			}
		}
	}
	return out
}

// RangeModel is a Model that gives logits over ranges of ids only
// (model.Model does): a step of the official rules needs the whole
// vocabulary at text positions but only the codes at image positions.
type RangeModel interface {
	LogitsSpans(ids []int32, batch, seq int, spans []model.Span) ([]float32, error)
}

// officialRows holds a forward pass's logits, widened from bfloat16: per
// sequence of the batch, one row per asked text position (the whole
// vocabulary) and one per asked image position (the codes).
type officialRows struct {
	text, image [][][]float32
}

// officialLogits runs the model on the bases with the output out placed,
// asking for the text positions text and the image positions image
// (output indices).
func (s *Stepper) officialLogits(bases [][]int, out []int32, text, image []int) (officialRows, error) {
	seq, V := len(s.cond), s.tmpl.Size()
	O, K := s.tmpl.ImageOffset(), s.tmpl.Codes()
	var ids, textSel, imageSel []int32
	for b, base := range bases {
		row := make([]int32, seq)
		for p, id := range base {
			row[p] = int32(id)
		}
		s.placeOutput(row, out)
		ids = append(ids, row...)
		for _, o := range text {
			textSel = append(textSel, int32(b*seq+s.position(o)))
		}
		for _, o := range image {
			imageSel = append(imageSel, int32(b*seq+s.position(o)))
		}
	}
	var flat []float32
	var err error
	textW, imageW, imageLo := V, K, 0
	if rm, ok := s.model.(RangeModel); ok {
		flat, err = rm.LogitsSpans(ids, len(bases), seq, []model.Span{{Sel: textSel, Hi: V}, {Sel: imageSel, Lo: O, Hi: O + K}})
	} else {
		flat, err = s.model.Logits(ids, len(bases), seq, append(slices.Clone(textSel), imageSel...))
		imageW, imageLo = V, O
	}
	if err != nil {
		return officialRows{}, err
	}
	if want := len(textSel)*textW + len(imageSel)*imageW; len(flat) != want {
		return officialRows{}, fmt.Errorf("sample: the model returned %d logits, want %d", len(flat), want)
	}
	// The official model computes in bfloat16; every bfloat16 is a float32.
	w := flat
	parallel.For(len(w), 1<<16, func(lo, hi int) { bf16.Round(w[lo:hi]) })
	var r officialRows
	for range bases {
		var t [][]float32
		for range text {
			t, w = append(t, w[:textW:textW]), w[textW:]
		}
		r.text = append(r.text, t)
	}
	for range bases {
		var im [][]float32
		for range image {
			im, w = append(im, w[imageLo:imageLo+K:imageLo+K]), w[imageW:]
		}
		r.image = append(r.image, im)
	}
	return r, nil
}

// stepOfficial takes one step under the official rules.
func (s *Stepper) stepOfficial(ctx context.Context) (Frame, error) {
	if err := ctx.Err(); err != nil {
		return Frame{}, err
	}
	if s.Done() {
		return Frame{}, errors.New("sample: the trajectory is complete")
	}
	began := time.Now()
	prev := s.Last()
	f := Frame{
		Step: prev.Step + 1, Tokens: slices.Clone(prev.Tokens), RevealedAt: slices.Clone(prev.RevealedAt),
		Confidence: slices.Clone(prev.Confidence), Probability: slices.Clone(prev.Probability), Guess: slices.Clone(prev.Tokens),
		Text: prev.Text, Image: prev.Image, Top: make([][]Choice, len(prev.Tokens)),
	}
	i := f.Step - 1
	mask := int32(s.tmpl.MaskID())
	var text, image []int
	for o, id := range f.Tokens {
		switch {
		case id != mask:
		case o < s.imageLen:
			image = append(image, o)
		default:
			text = append(text, o)
		}
	}
	_, imageStep := s.imgStep[i]
	if !imageStep {
		image = nil
	}
	bases := [][]int{s.cond}
	if s.cfg.Rules == OfficialM && s.guided() {
		bases = append(bases, s.uncond)
	}
	rows, err := s.officialLogits(bases, f.Tokens, text, image)
	if err != nil {
		return Frame{}, fmt.Errorf("sample: step %d: %w", f.Step, err)
	}
	s.officialText(&f, i, text, rows)
	if imageStep {
		if err := s.officialImage(&f, i, rows); err != nil {
			return Frame{}, fmt.Errorf("sample: step %d: %w", f.Step, err)
		}
	}
	f.Text.Actual, f.Image.Actual = 0, 0
	for o, id := range f.Tokens {
		if id != mask {
			if o < s.imageLen {
				f.Image.Actual++
			} else {
				f.Text.Actual++
			}
		}
	}
	if err := s.align(&f); err != nil {
		return Frame{}, err
	}
	f.Nanos = time.Since(began).Nanoseconds()
	s.frames = append(s.frames, f)
	return f, nil
}

// officialText reveals step i's text positions.
func (s *Stepper) officialText(f *Frame, i int, text []int, rows officialRows) {
	if len(text) == 0 {
		return
	}
	m := s.cfg.Text
	picks := make([]textPick, len(text))
	noise := draws(s.cfg.Seed, i, streamTextNoise)
	var gumbel *[256]float64
	if s.cfg.Rules == OfficialA && m.Temperature != 0 {
		gumbel = gumbel16(m.Temperature)
	}
	parallel.For(len(text), 4, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			l := rows.text[0][j]
			if len(rows.text) > 1 {
				l = guide16(l, rows.text[1][j], m.CFG, m.Guidance)
			}
			o := text[j]
			t := o - s.imageLen
			picks[j] = s.textPick(l, noise, t*len(l), gumbel)
			picks[j].o = o
			if m.Remasking == Random {
				picks[j].conf = draw(s.cfg.Seed, i, streamTextRandom, t)
			}
		}
	})
	n := s.officialCounts[i]
	f.Text.Target += n
	for _, c := range picks {
		f.Guess[c.o], f.Top[c.o] = c.guess, c.top
	}
	slices.SortStableFunc(picks, func(a, b textPick) int {
		switch {
		case a.conf > b.conf:
			return -1
		case a.conf < b.conf:
			return 1
		}
		return 0
	})
	mask := int32(s.tmpl.MaskID())
	for _, c := range picks[:min(n, len(picks))] {
		if c.token == mask { // revealed as the mask, it stays masked
			continue
		}
		f.Tokens[c.o], f.Guess[c.o], f.RevealedAt[c.o] = c.token, c.token, int16(i+1)
		f.Confidence[c.o], f.Probability[c.o] = float32(c.conf), float32(c.prob)
	}
}

// textPick is a text position's proposal under the official rules.
type textPick struct {
	o            int
	token, guess int32
	conf, prob   float64
	top          []Choice
}

// textPick proposes a token for a text position with guided logits l:
// argmax, or a draw with the stream's noise from index base on (-A's
// bfloat16 Gumbel noise through its table, else -M's float64 form). Its
// confidence is the float64 probability of the token.
func (s *Stepper) textPick(l []float32, noise stream, base int, gumbel *[256]float64) textPick {
	tau := s.cfg.Text.Temperature
	best := argmax(l)
	x0 := best
	switch {
	case tau == 0:
	case gumbel != nil:
		top := math.Inf(-1)
		for v, x := range l {
			u := uniform16(noise.at(base + v))
			if z := r16(float64(x) + gumbel[int(u*256)]); z > top {
				top, x0 = z, v
			}
		}
	default:
		top := math.Inf(-1)
		for v, x := range l {
			if z := math.Exp(float64(x)) / math.Pow(-math.Log(noise.at(base+v)), tau); z > top {
				top, x0 = z, v
			}
		}
	}
	// The probabilities need only their sum: the order of l is theirs.
	mx, sum := float64(l[best]), 0.0
	for _, x := range l {
		sum += math.Exp(float64(x) - mx)
	}
	p := func(v int) float64 { return math.Exp(float64(l[v])-mx) / sum }
	var top []Choice
	for _, c := range topBy(l, func(k int) int32 { return int32(k) }) {
		top = append(top, Choice{c.ID, float32(p(int(c.ID)))})
	}
	return textPick{token: int32(x0), guess: int32(best), conf: p(x0), prob: p(x0), top: top}
}

// gumbel16 is -A's text noise τ·g in bfloat16 for each of the 256
// bfloat16 uniforms u: g = −log(−log(u + 1e-10) + 1e-10).
func gumbel16(tau float64) *[256]float64 {
	var t [256]float64
	for k := range t {
		u := float64(k) / 256
		g := -log16(r16(-log16(r16(u+f32(textNoiseEps))) + f32(textNoiseEps)))
		t[k] = r16(f32(tau) * g)
	}
	return &t
}

// guide16 applies guidance of weight w to a row in bfloat16 arithmetic:
// toward the unconditional row u, or away from it.
func guide16(c, u []float32, w float64, direction string) []float32 {
	out := make([]float32, len(c))
	for k := range c {
		ck, uk := float64(c[k]), float64(u[k])
		if direction == Toward {
			out[k] = float32(r16(ck + r16(f32(w)*r16(uk-ck))))
		} else {
			out[k] = float32(r16(r16(f32(1+w)*ck) - r16(f32(w)*uk)))
		}
	}
	return out
}

// officialImage runs step i's image update.
func (s *Stepper) officialImage(f *Frame, i int, rows officialRows) error {
	m := s.cfg.Image
	O, K, N := s.tmpl.ImageOffset(), s.tmpl.Codes(), s.imageLen
	mask := int32(s.tmpl.MaskID())
	var unknown []int
	for o := range N {
		if f.Tokens[o] == mask {
			unknown = append(unknown, o)
		}
	}
	// The image's guided logits at each unknown position.
	il := rows.image[0]
	switch {
	case s.cfg.Rules == OfficialA && (m.CFG > 0 || m.CFGImage > 0):
		if s.uncondImage == nil {
			return errors.New("image.cfg_img: the template has no branch without the input picture")
		}
		// The unconditional passes see this step's text.
		un, err := s.officialLogits([][]int{s.uncond, s.uncondImage}, f.Tokens, nil, unknown)
		if err != nil {
			return err
		}
		for j := range il {
			il[j] = guideTerms(il[j], un.image[0][j], un.image[1][j], m)
		}
	case s.cfg.Rules == OfficialM && len(rows.image) > 1:
		for j := range il {
			il[j] = guide16(il[j], rows.image[1][j], m.CFG, m.Guidance)
		}
	}
	sampled := make([]int, N)
	sel := make([]float64, N)
	probs := make([]float64, N)
	for o := range N {
		sampled[o], sel[o] = int(f.Tokens[o])-O, bf16Max
	}
	pick := draws(s.cfg.Seed, i, streamImageSample)
	parallel.For(len(unknown), 16, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			o, l := unknown[j], il[j]
			if m.Temperature != 0 && m.Temperature != 1 {
				l = slices.Clone(l)
				for k := range l {
					l[k] = float32(r16(float64(l[k]) / f32(m.Temperature)))
				}
			}
			p := softmax16(l)
			k := argmax(p)
			if m.Temperature != 0 {
				k = multinomial(p, pick.at(o))
			}
			sampled[o], sel[o], probs[o] = k, p[k], p[k]
			f.Guess[o] = int32(O + argmax(p))
			f.Top[o] = topIDs(p, O)
		}
	})
	r := float64(i+1) / float64(s.cfg.Steps)
	maskLen := int(math.Floor(f32(float64(N) * cosineMasked(i, s.cfg.Steps))))
	maskLen = max(1, min(len(unknown)-1, maskLen))
	f.Image.Target += max(0, len(unknown)-maskLen)
	tau := f32(m.RemaskTemperature * (1 - r))
	conf := make([]float64, N)
	for o := range N {
		if s.cfg.Rules == OfficialA {
			g := normal16(draw(s.cfg.Seed, i, streamImageNoise, 2*o), draw(s.cfg.Seed, i, streamImageNoise, 2*o+1))
			conf[o] = r16(log16(r16(sel[o]+f32(textNoiseEps))) + r16(tau*g))
		} else {
			eps := r16(clampEps)
			u := math.Max(uniform16(draw(s.cfg.Seed, i, streamImageNoise, o)), eps)
			g := -log16(math.Max(-log16(u), eps))
			conf[o] = r16(log16(math.Max(sel[o], eps)) + r16(tau*g))
		}
	}
	order := make([]int, N)
	for o := range order {
		order[o] = o
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case conf[a] < conf[b]:
			return -1
		case conf[a] > conf[b]:
			return 1
		}
		return 0
	})
	masked := make([]bool, N)
	if s.cfg.Rules == OfficialA {
		for _, o := range order[:min(max(maskLen, 0), N-1)] {
			masked[o] = true
		}
	} else {
		cut := conf[order[maskLen]]
		for o := range N {
			masked[o] = conf[o] < cut
		}
	}
	last := i == s.total-1
	for o := range N {
		was := f.Tokens[o] != mask
		if masked[o] && !last {
			if was { // a known code can be remasked when none is unknown
				f.Tokens[o], f.Guess[o], f.RevealedAt[o], f.Confidence[o], f.Probability[o] = mask, mask, -1, 0, 0
			}
			continue
		}
		if masked[o] && s.cfg.Rules == OfficialA { // -A fills the end at random, -M keeps the last draw
			sampled[o] = int(draw(s.cfg.Seed, s.cfg.Steps, streamImageFill, o) * float64(K))
		}
		if token := int32(O + sampled[o]); !was || token != f.Tokens[o] {
			f.Tokens[o], f.Guess[o], f.RevealedAt[o] = token, token, int16(i+1)
			f.Confidence[o], f.Probability[o] = float32(conf[o]), float32(probs[o])
		}
	}
	return nil
}

// guideTerms is official-a's image guidance in bfloat16: cond, then
// w·(cond − uncond_text), then w₂·(cond − uncond_image), each term left
// out at weight 0 (toward flips both differences).
func guideTerms(c, ut, ui []float32, m Modality) []float32 {
	out := slices.Clone(c)
	for _, term := range []struct {
		w float64
		u []float32
	}{{m.CFG, ut}, {m.CFGImage, ui}} {
		if term.w == 0 {
			continue
		}
		for k := range out {
			d := r16(float64(c[k]) - float64(term.u[k]))
			if m.Guidance == Toward {
				d = -d
			}
			out[k] = float32(r16(float64(out[k]) + r16(f32(term.w)*d)))
		}
	}
	return out
}

// topIDs is the TopChoices most likely ids of a row of probabilities
// over ids offset, offset+1, ….
func topIDs(p []float64, offset int) []Choice {
	return topBy(p, func(k int) int32 { return int32(offset + k) })
}
