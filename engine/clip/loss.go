package clip

import "math"

// contrastive is the symmetric InfoNCE loss of n pictures and n texts
// (projected, not normalised, n × e each), with S = scale·ẑ_img·ẑ_txtᵀ:
// ½(mean CE of S's rows against the diagonal + mean CE of its columns).
// It returns the loss and its gradients with respect to the inputs.
func contrastive(img, txt []float32, n, e int, scale float64) (float64, []float32, []float32) {
	zi, zt := make([][]float64, n), make([][]float64, n)
	ni, nt := make([]float64, n), make([]float64, n)
	for b := range n {
		zi[b], ni[b] = normalize(img[b*e : (b+1)*e])
		zt[b], nt[b] = normalize(txt[b*e : (b+1)*e])
	}
	S := make([][]float64, n)
	for b := range n {
		S[b] = make([]float64, n)
		for c := range n {
			for k := range e {
				S[b][c] += zi[b][k] * zt[c][k]
			}
			S[b][c] *= scale
		}
	}
	// dS = ½(softmax over rows − I)/n + ½(softmax over columns − I)/n.
	dS := make([][]float64, n)
	for b := range dS {
		dS[b] = make([]float64, n)
	}
	loss := 0.0
	for _, byRow := range []bool{true, false} {
		for b := range n {
			at := func(c int) float64 {
				if byRow {
					return S[b][c]
				}
				return S[c][b]
			}
			m := math.Inf(-1)
			for c := range n {
				m = math.Max(m, at(c))
			}
			sum := 0.0
			for c := range n {
				sum += math.Exp(at(c) - m)
			}
			loss += (math.Log(sum) + m - at(b)) / float64(2*n)
			for c := range n {
				g := math.Exp(at(c)-m) / sum / float64(2*n)
				if c == b {
					g -= 1 / float64(2*n)
				}
				if byRow {
					dS[b][c] += g
				} else {
					dS[c][b] += g
				}
			}
		}
	}
	dImg, dTxt := make([]float32, n*e), make([]float32, n*e)
	for b := range n {
		dzi, dzt := make([]float64, e), make([]float64, e)
		for c := range n {
			for k := range e {
				dzi[k] += scale * dS[b][c] * zt[c][k]
				dzt[k] += scale * dS[c][b] * zi[c][k]
			}
		}
		unnormalize(dImg[b*e:(b+1)*e], dzi, zi[b], ni[b])
		unnormalize(dTxt[b*e:(b+1)*e], dzt, zt[b], nt[b])
	}
	return loss, dImg, dTxt
}

// unnormalize carries a gradient through z = x/|x|:
// dx = (dz − z·(z·dz)) / |x|.
func unnormalize(dx []float32, dz, z []float64, norm float64) {
	dot := 0.0
	for k := range z {
		dot += z[k] * dz[k]
	}
	for k := range z {
		dx[k] = float32((dz[k] - z[k]*dot) / max(norm, 1e-12))
	}
}
