package main

import (
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"parascope/engine/magvit"
	"parascope/engine/safetensors"
	"parascope/engine/vqgan"
)

// The tiny folders of engine/vqgan (aMUSEd's VQModel layout) and
// engine/magvit (MAGVITv2), small widths: a PNG goes to codes and back,
// drawn as the package itself draws them.
func TestVQRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		pkg    string
		decode func(dir string, codes []int) (*image.RGBA, error)
	}{
		{"vqgan", func(dir string, codes []int) (*image.RGBA, error) {
			m, err := vqgan.Open(dir, 64)
			if err != nil {
				return nil, err
			}
			return m.Decode(codes)
		}},
		{"magvit", func(dir string, codes []int) (*image.RGBA, error) {
			m, err := magvit.Open(dir, 64)
			if err != nil {
				return nil, err
			}
			return m.Decode(codes)
		}},
	} {
		t.Run(tc.pkg, func(t *testing.T) {
			testdata := filepath.Join("engine", tc.pkg, "testdata")
			roundTrip(t, filepath.Join(testdata, "tiny"), filepath.Join(testdata, "pic0.png"), tc.decode)
		})
	}
}

func roundTrip(t *testing.T, dir, pic string, decode func(dir string, codes []int) (*image.RGBA, error)) {
	out, err := capture(t, "vq", "encode", "--tokenizer", dir, "--size", "64", pic)
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	if err := json.Unmarshal([]byte(out), &codes); err != nil || len(codes) != 16 {
		t.Fatalf("encode printed %q: %v", out, err)
	}
	png1 := filepath.Join(t.TempDir(), "out.png")
	if _, err := capture(t, "vq", "decode", "--tokenizer", dir, "--size", "64", "--out", png1, strings.TrimSpace(out)); err != nil {
		t.Fatal(err)
	}
	want, err := decode(dir, codes)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(png1)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := got.Bounds(); b.Dx() != 64 || b.Dy() != 64 {
		t.Fatalf("decoded picture is %v", b)
	}
	for y := range 64 {
		for x := range 64 {
			r1, g1, b1, _ := got.At(x, y).RGBA()
			r2, g2, b2, _ := want.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				t.Fatalf("pixel (%d,%d) differs from the package's decode", x, y)
			}
		}
	}
	// Codes as separate numbers, and a JSON array with a masked cell.
	args := []string{"vq", "decode", "--tokenizer", dir, "--size", "64", "--out", png1}
	for _, k := range codes {
		args = append(args, strconv.Itoa(k))
	}
	if _, err := capture(t, args...); err != nil {
		t.Fatal(err)
	}
	masked, _ := json.Marshal(append([]int{-1}, codes[1:]...))
	if _, err := capture(t, "vq", "decode", "--tokenizer", dir, "--size", "64", "--out", png1, string(masked)); err != nil {
		t.Fatalf("%s: %v", masked, err)
	}
}

func TestVQBadInputs(t *testing.T) {
	root, _ := os.Getwd()
	tiny := filepath.Join(root, "engine", "vqgan", "testdata", "tiny")
	pic := filepath.Join(root, "engine", "vqgan", "testdata", "pic0.png")
	t.Chdir(t.TempDir())
	os.WriteFile("notpng.png", []byte("not a picture"), 0o644)
	os.WriteFile("cut.png", []byte("\x89PNG\r\n\x1a\n\x00\x00"), 0o644)
	// A folder whose codebook has the wrong shape.
	os.Mkdir("bad", 0o755)
	cfg, _ := os.ReadFile(filepath.Join(tiny, "config.json"))
	os.WriteFile(filepath.Join("bad", "config.json"), cfg, 0o644)
	f, err := safetensors.Read(filepath.Join(tiny, vqgan.WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.Tensors {
		if f.Tensors[i].Name == "post_quant_conv.weight" {
			f.Tensors[i].Shape = []int{16, 16, 1, 1, 1}
		}
	}
	if err := safetensors.Write(filepath.Join("bad", vqgan.WeightsFile), f, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	// A folder whose config.json names neither kind.
	os.Mkdir("other", 0o755)
	os.WriteFile(filepath.Join("other", "config.json"), []byte(`{"_class_name": "AutoencoderKL"}`), 0o644)
	sixteen := `[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]`
	const usage, failure = 2, 1
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"vq"}, usage, []string{"encode or decode"}},
		{[]string{"vq", "squash"}, usage, []string{`"squash"`}},
		{[]string{"vq", "encode", pic}, usage, []string{"--tokenizer DIR is required"}},
		{[]string{"vq", "encode", "--tokenizer", tiny}, usage, []string{"one PNG"}},
		{[]string{"vq", "encode", "--tokenizer", "missing", pic}, failure, []string{"missing/config.json", "no such file"}},
		{[]string{"vq", "encode", "--tokenizer", "other", pic}, failure, []string{"other/config.json", "_class_name", `"AutoencoderKL"`}},
		{[]string{"vq", "decode", "--tokenizer", "other", "--out", "o.png", sixteen}, failure, []string{"other/config.json", "_class_name", `"AutoencoderKL"`}},
		{[]string{"vq", "encode", "--tokenizer", tiny, "notpng.png"}, failure, []string{"notpng.png: not a PNG file"}},
		{[]string{"vq", "encode", "--tokenizer", tiny, "cut.png"}, failure, []string{"cut.png: not a readable PNG"}},
		{[]string{"vq", "encode", "--tokenizer", tiny, "/dev/zero"}, failure, []string{"/dev/zero: is not a regular file"}},
		{[]string{"vq", "encode", "--tokenizer", tiny, "--size", "100", pic}, failure, []string{"picture size 100"}},
		{[]string{"vq", "encode", "--tokenizer", "bad", pic}, failure, []string{vqgan.WeightsFile, `"post_quant_conv.weight"`, "shape [16 16 1 1 1], want [16 16 1 1]"}},
		{[]string{"vq", "decode", "--tokenizer", tiny, sixteen}, usage, []string{"--out PNG is required"}},
		{[]string{"vq", "decode", "--tokenizer", tiny, "--out", "o.png"}, usage, []string{"want the codes"}},
		{[]string{"vq", "decode", "--tokenizer", tiny, "--size", "64", "--out", "o.png", "[1,2,3]"}, usage, []string{"3 codes, want 16"}},
		{[]string{"vq", "decode", "--tokenizer", tiny, "--size", "64", "--out", "o.png", strings.Replace(sixteen, "15", "512", 1)}, usage, []string{"code 512 at position 15 outside 0..511"}},
		{[]string{"vq", "decode", "--tokenizer", tiny, "--size", "64", "--out", "o.png", "[1,2,x]"}, usage, []string{"not a JSON array"}},
		{[]string{"vq", "decode", "--tokenizer", tiny, "--size", "64", "--out", "o.png", "seven"}, usage, []string{`"seven" is not a code`}},
		{[]string{"vq", "decode", "--tokenizer", tiny, "--size", "64", "--out", "o.png", "[-2]"}, usage, []string{"code -2"}},
		{[]string{"vq", "decode", "--tokenizer", tiny, "--size", "64", "--out", "notpng.png/o.png", sixteen}, failure, []string{"notpng.png/o.png"}},
	} {
		_, err := capture(t, tc.args...)
		if code := exitCode(err); code != tc.code {
			t.Errorf("%q: exit %d (%v), want %d", tc.args, code, err, tc.code)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: %q does not say %q", tc.args, err, w)
			}
		}
	}
	if _, err := os.Stat("o.png"); err == nil {
		t.Error("a refused decode wrote o.png")
	}
}
