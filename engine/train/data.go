package train

import (
	"math/rand/v2"

	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// batch is one optimiser step's data: sequences of one task, the masked
// positions (image rows first, then text rows) with their targets and
// loss weights.
type batch struct {
	task         world.Task
	ids          []int32
	seq          int
	sel, targets []int32
	weights      []float32
	imageRows    int // sel[:imageRows] are image positions
	tokens       int // sequence positions processed
}

// data makes the batches of a run. Batch k depends only on the seed and
// k, so a resumed run sees exactly the data it would have.
type data struct {
	cfg   SFTConfig
	kinds []world.EditKind
	vocab *token.Vocab
	cb    *vq.Codebook
}

// example returns case j of batch k.
func (d *data) example(k, j int) world.Case {
	return trainingCase(d.cfg.Seed, k*d.cfg.Batch+j, d.cfg.task(k), d.kinds)
}

// batch builds step k's batch: for each sequence t ~ U(ε, 1), each output
// position masked with probability t (at least one), the instruction
// dropped with probability cond_dropout; text targets weighted
// text_weight/t, image targets image_weight, both over the batch's output
// positions (LLaDA's normalisation).
func (d *data) batch(k int) (batch, error) {
	r := rand.New(rand.NewPCG(d.cfg.Seed^0x5f3759df, uint64(k)))
	b := batch{task: d.cfg.task(k)}
	layout := token.LayoutFor(b.task)
	b.seq = layout.Len
	norm := float64(d.cfg.Batch * (layout.OutputImage.Len() + layout.OutputText.Len()))
	var textSel, textTargets []int32
	var textWeights []float32
	for j := range d.cfg.Batch {
		c := d.example(k, j)
		seq, err := d.vocab.BuildCase(d.cb, c)
		if err != nil {
			return b, err
		}
		t := d.cfg.MinMask + (1-d.cfg.MinMask)*r.Float64()
		if r.Float64() < d.cfg.CondDropout {
			seq = token.Unconditional(seq)
		}
		base := j * b.seq
		masked := 0
		mask := func(pos int, image bool) {
			masked++
			flat := int32(base + pos)
			if image {
				b.sel, b.targets = append(b.sel, flat), append(b.targets, int32(seq.IDs[pos]))
				b.weights = append(b.weights, float32(d.cfg.ImageWeight/norm))
			} else {
				textSel, textTargets = append(textSel, flat), append(textTargets, int32(seq.IDs[pos]))
				textWeights = append(textWeights, float32(d.cfg.TextWeight/t/norm))
			}
		}
		out := append(spanPositions(layout.OutputImage), spanPositions(layout.OutputText)...)
		for _, pos := range out {
			if r.Float64() < t {
				mask(pos, pos < layout.OutputImage.End)
			}
		}
		if masked == 0 {
			pos := out[r.IntN(len(out))]
			mask(pos, pos < layout.OutputImage.End)
		}
		ids := make([]int32, b.seq)
		for i, id := range seq.IDs {
			ids[i] = int32(id)
		}
		b.ids = append(b.ids, ids...)
	}
	// The masked inputs: every selected position shows [MASK].
	b.imageRows = len(b.sel)
	b.sel = append(b.sel, textSel...)
	b.targets = append(b.targets, textTargets...)
	b.weights = append(b.weights, textWeights...)
	for _, p := range b.sel {
		b.ids[p] = token.Mask
	}
	b.tokens = len(b.ids)
	return b, nil
}

func spanPositions(s token.Span) []int {
	out := make([]int, 0, s.Len())
	for i := s.Start; i < s.End; i++ {
		out = append(out, i)
	}
	return out
}
