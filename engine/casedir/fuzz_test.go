package casedir

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
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

// FuzzCaseJSON: any case.json reads or fails with an error naming the
// file; a case that reads has scenes the world accepts.
func FuzzCaseJSON(f *testing.F) {
	dir := f.TempDir()
	c := world.Generate(1, 0, world.MixEdit)
	if err := Write(filepath.Join(dir, "seed"), Meta{Seed: 1, Case: c}); err != nil {
		f.Fatal(err)
	}
	good, _ := os.ReadFile(filepath.Join(dir, "seed", CaseJSON))
	f.Add(good)
	f.Add([]byte(`{"task":"thinkgen","input":{"objects":[{"cell":"top"}]}}`))
	f.Add([]byte(`{"task":"thinkedit"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := filepath.Join(dir, "case")
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, CaseJSON), data, 0o644)
		l, err := Read(d)
		if err != nil {
			if !strings.Contains(err.Error(), d) {
				t.Fatalf("error without the folder: %v", err)
			}
			return
		}
		for _, s := range []world.Scene{l.Meta.Input, l.Meta.Target} {
			if err := s.Validate(); err != nil {
				t.Fatalf("accepted an invalid scene: %v", err)
			}
		}
	})
}
