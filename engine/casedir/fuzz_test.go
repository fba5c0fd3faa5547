package casedir

import (
	"bytes"
	"image/png"
	"testing"

	"parascope/engine/judge"
	"parascope/engine/world"
)

// FuzzPNGToObjects drives the path a model's output.png takes: decode,
// size check, then the judge's image parser. It must never panic, and a
// picture that decodes must parse.
func FuzzPNGToObjects(f *testing.F) {
	for i := range 3 {
		var b bytes.Buffer
		png.Encode(&b, world.Render(world.Generate(1, i, world.MixBoth).Target))
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := DecodePNG(bytes.NewReader(data), "fuzz.png")
		if err != nil {
			return
		}
		if _, err := judge.ParseImage(img); err != nil {
			t.Fatalf("a decoded %v picture did not parse: %v", img.Bounds(), err)
		}
	})
}
