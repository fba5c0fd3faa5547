package clip

import (
	"math"
	"slices"
	"testing"

	"parascope/engine/nn"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// The loss by hand: at logit 0 every candidate costs log 2, and the
// agreeing and disagreeing halves weigh alike whatever their counts.
func TestJointLossByHand(t *testing.T) {
	loss, grad := jointLoss([]float32{0, 0, 0}, []bool{true, false, false})
	if math.Abs(loss-math.Log(2)) > 1e-12 || !slices.Equal(grad, []float32{-0.25, 0.125, 0.125}) {
		t.Errorf("loss %g (want log 2), gradient %v (want [-0.25 0.125 0.125])", loss, grad)
	}
	// A confident right verdict costs nearly nothing, a confident wrong one its logit.
	loss, _ = jointLoss([]float32{40, -40}, []bool{true, false})
	wrong, _ := jointLoss([]float32{-40, 40}, []bool{true, false})
	if loss > 1e-12 || math.Abs(wrong-40) > 1e-9 {
		t.Errorf("right %g, wrong %g (want 0 and 40)", loss, wrong)
	}
}

// Every pair agrees with itself only; a hard negative is set beside the
// pair it was made from. Indices follow split: pairs, then extras.
func TestCandidates(t *testing.T) {
	b := Batch{Pairs: make([]Pair, 3), Texts: make([][]int32, 1), TextOf: []int{2},
		Pictures: make([]Picture, 2), PictureOf: []int{0, 1}}
	cands, agree := candidates(b)
	want := []candidate{{0, 0}, {0, 1}, {1, 0}, {1, 1}, {1, 2}, {2, 1}, {2, 2}, {2, 0}, {0, 2}, {2, 3}, {3, 0}, {4, 1}}
	wantAgree := []bool{true, false, false, true, false, false, true, false, false, false, false, false}
	if !slices.Equal(cands, want) || !slices.Equal(agree, wantAgree) {
		t.Errorf("candidates %v %v\nwant %v %v", cands, agree, want, wantAgree)
	}
}

// A joint stack learns to tell a few pairs from their mismatches: after
// training, every pair's own picture and text score above one half and
// the next pair's text beside its picture below it.
func TestJointMemorises(t *testing.T) {
	v := token.New(vq.Default().K())
	cfg := tinyConfig()
	cfg.DModel, cfg.Heads, cfg.MLP, cfg.Embed, cfg.Scale, cfg.Joint = 32, 4, 48, 16, 14, 1
	m, _ := New(cfg, nn.CPU{})
	m.Init(5)
	var pairs []Pair
	for i := range 6 {
		c := world.Generate(9, i, world.MixGen)
		p, err := PairOf(world.Render(c.Target), nil, c.Reasoning, v)
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, p)
	}
	h := nn.AdamW{LR: 3e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8}
	for step := 1; step <= 150; step++ {
		m.ZeroGrad()
		if _, err := m.Loss(Batch{Pairs: pairs}); err != nil {
			t.Fatal(err)
		}
		h.Step = step
		m.Step(h)
	}
	var mixed []Pair
	for i := range pairs {
		p := pairs[i]
		p.Text = pairs[(i+1)%len(pairs)].Text // the next pair's text, a mismatch it trained on
		mixed = append(mixed, pairs[i], p)
	}
	scores, err := m.Scores(mixed)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(scores); i += 2 {
		if scores[i] <= 0.5 || scores[i+1] >= 0.5 {
			t.Errorf("pair %d: own text %.3f, another's %.3f", i/2, scores[i], scores[i+1])
		}
	}
}
