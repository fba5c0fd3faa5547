package nn

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The inference attention, in blocks of any number of query rows, gives
// what the training attention gives, to the bit: the blocks change which
// rows a product covers, never the order of a sum.
func TestAttentionInferenceMatchesForward(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		random := func(n int) []float32 {
			out := make([]float32, n)
			for i := range out {
				out[i] = float32(r.NormFloat64())
			}
			return out
		}
		same := func(batch, seq, heads, hd int, infer func(out, q, k, v []float32)) {
			t.Helper()
			n := batch * seq * heads * hd
			q, k, v := random(n), random(n), random(n)
			want := make([]float32, n)
			attentionForward(want, make([]float32, batch*heads*seq*seq), q, k, v, batch, seq, heads, hd)
			got := make([]float32, n)
			infer(got, q, k, v)
			if !slices.Equal(got, want) {
				t.Fatalf("batch %d, seq %d, heads %d, hd %d: the inference attention differs from the training one", batch, seq, heads, hd)
			}
		}
		for _, rows := range []int{1, 5, 36, 37} {
			same(2, 37, 3, 8, func(out, q, k, v []float32) { attentionInference(out, q, k, v, 2, 37, 3, 8, rows) })
		}
		// Past 256 tokens the backend takes several blocks, the last one short.
		if attentionRows(600) >= 600 || 600%attentionRows(600) == 0 {
			t.Fatalf("600 tokens in blocks of %d rows: not the case this test means to cover", attentionRows(600))
		}
		same(1, 600, 2, 16, func(out, q, k, v []float32) {
			CPU{}.AttentionInference(Wrap(out), Wrap(q), Wrap(k), Wrap(v), 1, 600, 2, 16)
		})
	})
}
