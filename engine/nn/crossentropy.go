package nn

import (
	"math"

	"parascope/engine/parallel"
)

// ---- Cross-entropy over chosen rows, fused with its gradient ---------------
// loss = Σ_j w_j·(log Σ exp(l_j) − l_j[t_j]); dl_j = w_j·(softmax(l_j) − onehot(t_j)).

func crossEntropy(dLogits, logits []float32, targets []int32, weights []float32, n, v int) float64 {
	losses := make([]float64, n)
	parallel.For(n, grain/v+1, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			l, g := logits[j*v:(j+1)*v], dLogits[j*v:(j+1)*v]
			m := maxOf(l)
			sum := expAffine(g, l, 1, -m)
			t, w := targets[j], weights[j]
			losses[j] = float64(w) * (math.Log(float64(sum)) - float64(l[t]-m))
			scale(g, w/sum)
			g[t] -= w
		}
	})
	total := 0.0
	for _, x := range losses {
		total += x
	}
	return total
}
