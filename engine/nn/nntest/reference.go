// Package nntest checks a backend's operations: every forward against a
// plain float64 reference, every backward against central finite
// differences of that reference. The CPU backend runs it in its tests;
// other backends run the same suite, so all are held to one standard.
package nntest

import "math"

// The references: straightforward float64 loops, written for clarity.

func refMatMul(a, b []float64, m, n, k int, tA, tB bool, alpha, beta float64, c []float64) []float64 {
	out := make([]float64, m*n)
	for i := range m {
		for j := range n {
			s := 0.0
			for p := range k {
				av, bv := a[i*k+p], b[p*n+j]
				if tA {
					av = a[p*m+i]
				}
				if tB {
					bv = b[j*k+p]
				}
				s += av * bv
			}
			out[i*n+j] = alpha*s + beta*c[i*n+j]
		}
	}
	return out
}

func refEmbed(table []float64, ids []int32, d int) []float64 {
	out := make([]float64, len(ids)*d)
	for i, id := range ids {
		copy(out[i*d:], table[int(id)*d:(int(id)+1)*d])
	}
	return out
}

func refRMSNorm(x, w []float64, rows, d int, eps float64) []float64 {
	out := make([]float64, len(x))
	for r := range rows {
		ss := 0.0
		for j := range d {
			ss += x[r*d+j] * x[r*d+j]
		}
		s := 1 / math.Sqrt(ss/float64(d)+eps)
		for j := range d {
			out[r*d+j] = x[r*d+j] * s * w[j]
		}
	}
	return out
}

func refRoPE(x []float64, batch, seq, heads, hd int, theta float64) []float64 {
	out := make([]float64, len(x))
	half, d := hd/2, heads*hd
	for row := range batch * seq {
		p := float64(row % seq)
		for h := range heads {
			base := row*d + h*hd
			for i := range half {
				ang := p * math.Pow(theta, -2*float64(i)/float64(hd))
				a, b := x[base+i], x[base+i+half]
				out[base+i] = a*math.Cos(ang) - b*math.Sin(ang)
				out[base+i+half] = b*math.Cos(ang) + a*math.Sin(ang)
			}
		}
	}
	return out
}

func refAttention(q, k, v []float64, batch, seq, heads, hd int) []float64 {
	d := heads * hd
	out := make([]float64, len(q))
	for b := range batch {
		for h := range heads {
			for i := range seq {
				scores := make([]float64, seq)
				m := math.Inf(-1)
				for j := range seq {
					s := 0.0
					for c := range hd {
						s += q[(b*seq+i)*d+h*hd+c] * k[(b*seq+j)*d+h*hd+c]
					}
					scores[j] = s / math.Sqrt(float64(hd))
					m = math.Max(m, scores[j])
				}
				sum := 0.0
				for j := range scores {
					scores[j] = math.Exp(scores[j] - m)
					sum += scores[j]
				}
				for j := range seq {
					for c := range hd {
						out[(b*seq+i)*d+h*hd+c] += scores[j] / sum * v[(b*seq+j)*d+h*hd+c]
					}
				}
			}
		}
	}
	return out
}

func refSwiGLU(gate, up []float64) []float64 {
	out := make([]float64, len(gate))
	for i, g := range gate {
		out[i] = g / (1 + math.Exp(-g)) * up[i]
	}
	return out
}

func refCrossEntropy(logits []float64, targets []int32, weights []float32, n, v int) float64 {
	loss := 0.0
	for j := range n {
		row := logits[j*v : (j+1)*v]
		m := math.Inf(-1)
		for _, x := range row {
			m = math.Max(m, x)
		}
		sum := 0.0
		for _, x := range row {
			sum += math.Exp(x - m)
		}
		loss += float64(weights[j]) * (math.Log(sum) + m - row[targets[j]])
	}
	return loss
}
