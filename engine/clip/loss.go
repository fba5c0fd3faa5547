package clip

import "math"

// contrastive is the symmetric InfoNCE loss of p ≥ n pictures and m ≥ n
// texts (projected, not normalised, e values each), text i matching
// picture i for i < n and the others matching nothing, with
// S = scale·ẑ_img·ẑ_txtᵀ (p × m): ½(mean CE of S's first n rows against
// the diagonal + mean CE of its first n columns over every picture). It
// returns the loss and its gradients with respect to the inputs.
func contrastive(img, txt []float32, n, p, m, e int, scale float64) (float64, []float32, []float32) {
	zi, zt := make([][]float64, p), make([][]float64, m)
	ni, nt := make([]float64, p), make([]float64, m)
	for b := range p {
		zi[b], ni[b] = normalize(img[b*e : (b+1)*e])
	}
	for c := range m {
		zt[c], nt[c] = normalize(txt[c*e : (c+1)*e])
	}
	S, dS := make([][]float64, p), make([][]float64, p)
	for b := range p {
		S[b], dS[b] = make([]float64, m), make([]float64, m)
		for c := range m {
			for k := range e {
				S[b][c] += zi[b][k] * zt[c][k]
			}
			S[b][c] *= scale
		}
	}
	// Each picture's row over every text, each matched text's column over
	// the pictures: CE against the diagonal, gradient softmax − onehot.
	loss := 0.0
	ce := func(count int, at func(int) float64, grad func(int, float64), target int) {
		mx := math.Inf(-1)
		for c := range count {
			mx = math.Max(mx, at(c))
		}
		sum := 0.0
		for c := range count {
			sum += math.Exp(at(c) - mx)
		}
		loss += (math.Log(sum) + mx - at(target)) / float64(2*n)
		for c := range count {
			g := math.Exp(at(c)-mx) / sum
			if c == target {
				g--
			}
			grad(c, g/float64(2*n))
		}
	}
	for b := range n {
		ce(m, func(c int) float64 { return S[b][c] }, func(c int, g float64) { dS[b][c] += g }, b)
		ce(p, func(c int) float64 { return S[c][b] }, func(c int, g float64) { dS[c][b] += g }, b)
	}
	dImg, dTxt := make([]float32, p*e), make([]float32, m*e)
	for b := range p {
		dzi := make([]float64, e)
		for c := range m {
			for k := range e {
				dzi[k] += scale * dS[b][c] * zt[c][k]
			}
		}
		unnormalize(dImg[b*e:(b+1)*e], dzi, zi[b], ni[b])
	}
	for c := range m {
		dzt := make([]float64, e)
		for b := range p {
			for k := range e {
				dzt[k] += scale * dS[b][c] * zi[b][k]
			}
		}
		unnormalize(dTxt[c*e:(c+1)*e], dzt, zt[c], nt[c])
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
