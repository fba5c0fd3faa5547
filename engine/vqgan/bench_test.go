package vqgan

import (
	"math/rand/v2"
	"os"
	"testing"
)

// BenchmarkDecode512 decodes one 512×512 picture with the folder that
// PARASCOPE_VQGAN_DIR names (reference/speed.sh writes one at aMUSEd's
// real widths and runs this beside PyTorch).
func BenchmarkDecode512(b *testing.B) {
	dir := os.Getenv("PARASCOPE_VQGAN_DIR")
	if dir == "" {
		b.Skip("PARASCOPE_VQGAN_DIR names no VQModel folder")
	}
	m, err := Open(dir, 512)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	codes := make([]int, m.Grid()*m.Grid())
	for i := range codes {
		codes[i] = r.IntN(m.K())
	}
	for b.Loop() {
		if _, err := m.Decode(codes); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pictures/s")
}
