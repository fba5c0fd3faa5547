package magvit

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"parascope/engine/imgtok"
	"parascope/engine/imgtok/imgtoktest"
	"parascope/engine/vq"
)

// randomWeights is a source of random weights in PyTorch's layout, of the
// sizes reference/speed.py gives its model: norms' gains and shifts near 1
// and 0, everything else uniform with the variance of PyTorch's default
// initialisation.
func randomWeights(seed uint64) imgtok.Source {
	r := rand.New(rand.NewPCG(seed, 1))
	return func(name string, shape []int) ([]float32, error) {
		n, fanIn := 1, 1
		for i, d := range shape {
			n *= d
			if i > 0 {
				fanIn *= d
			}
		}
		v := make([]float32, n)
		for i := range v {
			switch {
			case strings.Contains(name, ".norm") && strings.HasSuffix(name, ".weight"):
				v[i] = float32(1 + 0.1*r.NormFloat64())
			case strings.Contains(name, ".norm"):
				v[i] = float32(0.1 * r.NormFloat64())
			case len(shape) == 1:
				v[i] = float32((2*r.Float64() - 1) * 0.05 * math.Sqrt(3))
			default:
				v[i] = float32((2*r.Float64() - 1) * math.Sqrt(3/float64(fanIn)))
			}
		}
		return v, nil
	}
}

// official returns MAGVIT-v2 at the official widths with random weights,
// for 512-pixel pictures.
func official(b *testing.B) *Model {
	b.Helper()
	m, err := build(Official(), randomWeights(1))
	if err != nil {
		b.Fatal(err)
	}
	m.setSize(DefaultSize)
	return m
}

func randomCodes(n, k int, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 2))
	codes := make([]int, n)
	for i := range codes {
		codes[i] = r.IntN(k)
	}
	return codes
}

// BenchmarkDecode512 decodes one 512×512 picture (32×32 codes) at the
// official widths: what reference/speed.py compares with PyTorch.
func BenchmarkDecode512(b *testing.B) {
	m := official(b)
	g := m.Grid()
	q := m.vectors(randomCodes(g*g, m.K(), 3), g, g)
	// The first decode grows the heap (a gigabyte or two of fresh pages,
	// slow to fault in on a VM); a view decodes many times in one process.
	m.scratch.Put(m.decode(q))
	for b.Loop() {
		m.scratch.Put(m.decode(q))
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/picture")
}

// BenchmarkTile makes atlas tiles (codes decoded alone) at the official
// widths, as a preview does for codes it has not drawn before.
func BenchmarkTile(b *testing.B) {
	m := official(b)
	const batch = imgtok.TileBatch
	var n int
	for b.Loop() {
		m.Tiles(randomCodes(batch, m.K(), uint64(n)))
		n++
	}
	perTile := b.Elapsed().Seconds() / float64(b.N*batch)
	b.ReportMetric(perTile*1e3, "ms/tile")
	b.ReportMetric(perTile*float64(m.K()), "s/atlas")
}

// BenchmarkPreview draws one step's preview of a 32×32 grid (the codes of
// the 512-pixel test picture, half of them revealed, a quarter guessed at
// random) once the codes' tiles are made: the cost a view pays per step
// (tiles are 16×16 pixels at any width). It also reports how close the
// preview of the complete grid is to its exact decode (PSNR, on the tiny
// model's random weights).
func BenchmarkPreview(b *testing.B) {
	m := open(b, DefaultSize)
	codes, err := m.Encode(imgtoktest.ReadPNG(b, "pic512"))
	if err != nil {
		b.Fatal(err)
	}
	exact, err := m.Decode(codes)
	if err != nil {
		b.Fatal(err)
	}
	psnr := vq.PSNR(exact, m.Preview(codes, nil))
	guesses := randomCodes(len(codes), m.K(), 5)
	for i := range codes {
		if i%2 == 1 {
			codes[i] = -1
		}
		if i%4 == 3 {
			guesses[i] = -1
		}
	}
	m.Preview(codes, guesses) // make the guesses' tiles
	for b.Loop() {
		if _, err := m.DecodeMasked(codes, guesses); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/step")
	b.ReportMetric(psnr, "dB-vs-exact")
}
