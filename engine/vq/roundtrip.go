package vq

import (
	"fmt"
	"math"

	"parascope/engine/judge"
	"parascope/engine/world"
)

// RoundTrip is how well a codebook keeps scenes through encode and
// decode.
type RoundTrip struct {
	Scenes, Exact, SceneOK int
	psnrSum                float64 // over the images that are not pixel-exact
}

func (r RoundTrip) String() string {
	psnr := "inf dB (every image pixel-exact)"
	if lossy := r.Scenes - r.Exact; lossy > 0 {
		psnr = fmt.Sprintf("%.2f dB over the %d lossy images", r.psnrSum/float64(lossy), lossy)
	}
	return fmt.Sprintf("scene round trip %.2f%%, pixel-exact %.2f%%, mean PSNR %s",
		100*float64(r.SceneOK)/float64(r.Scenes), 100*float64(r.Exact)/float64(r.Scenes), psnr)
}

// MeasureRoundTrip encodes and decodes the target scenes of n fresh cases
// and asks the judge whether it recovers the same objects.
func MeasureRoundTrip(cb *Codebook, seed uint64, n int) RoundTrip {
	r := RoundTrip{Scenes: n}
	for i := range n {
		s := world.Generate(seed, i, world.MixBoth).Target
		img := world.Render(s)
		codes, err := cb.Encode(img)
		if err != nil {
			continue
		}
		back, err := cb.Decode(codes)
		if err != nil {
			continue
		}
		if p := PSNR(img, back); math.IsInf(p, 1) {
			r.Exact++
		} else {
			r.psnrSum += p
		}
		if got, err := judge.ParseImage(back); err == nil && got.Scene.Equal(s) {
			r.SceneOK++
		}
	}
	return r
}
