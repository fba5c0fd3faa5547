package casedir

import (
	"bytes"
	"encoding/json"
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

// FuzzCaseFolder reads a whole case folder: case.json, input.png,
// target.png, target.txt and a model's output.png and output.txt (an
// empty input leaves its file out). A folder reads or fails with an error
// naming it; one that reads has a picture to judge, its output where it
// has one, and writes back to a folder that reads the same.
func FuzzCaseFolder(f *testing.F) {
	root := f.TempDir()
	for i, c := range []world.Case{world.Generate(3, 0, world.MixEdit), world.Generate(3, 0, world.MixGen)} {
		dir := writeCase(f, root, i, c)
		read := func(name string) []byte { b, _ := os.ReadFile(filepath.Join(dir, name)); return b }
		f.Add(read(CaseJSON), read(InputPNG), read(TargetPNG), read(TargetTxt), read(TargetPNG), "a red circle .")
		f.Add(read(CaseJSON), read(InputPNG), read(TargetPNG), read(TargetTxt), []byte{}, "")
	}
	f.Fuzz(func(t *testing.T, caseJSON, input, target, targetTxt, output []byte, outputTxt string) {
		dir := filepath.Join(t.TempDir(), "case")
		os.Mkdir(dir, 0o755)
		for name, data := range map[string][]byte{CaseJSON: caseJSON, InputPNG: input, TargetPNG: target, TargetTxt: targetTxt, OutputPNG: output, OutputText: []byte(outputTxt)} {
			if len(data) > 0 {
				os.WriteFile(filepath.Join(dir, name), data, 0o644)
			}
		}
		l, err := Read(dir)
		if err != nil {
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("error without the folder: %v", err)
			}
			return
		}
		if l.Image == nil || l.Image.Bounds().Dx() != world.Canvas || l.Image.Bounds().Dy() != world.Canvas {
			t.Fatal("read without a canvas-sized picture to judge")
		}
		if l.HasOutput != (len(output) > 0 && outputTxt != "") || l.HasOutput && l.Text != strings.TrimSpace(outputTxt) {
			t.Fatalf("output %v, text %q; the folder has %d bytes of output.png and text %q", l.HasOutput, l.Text, len(output), outputTxt)
		}
		again := filepath.Join(t.TempDir(), "again")
		if err := Write(again, l.Meta); err != nil {
			t.Fatal(err)
		}
		back, err := Read(again)
		if err != nil {
			t.Fatalf("a case that read does not read once written back: %v", err)
		}
		a, _ := json.Marshal(back.Meta)
		b, _ := json.Marshal(l.Meta)
		if !bytes.Equal(a, b) {
			t.Fatalf("written back, the case reads %s, want %s", a, b)
		}
	})
}
