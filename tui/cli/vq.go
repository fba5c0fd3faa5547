package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"parascope/engine/atomicfile"
	"parascope/engine/infile"
	"parascope/engine/magvit"
	"parascope/engine/sample"
	"parascope/engine/vqgan"
)

// VQ runs a real image tokenizer (the aMUSEd VQ-GAN of MMaDA-Parallel-A,
// a diffusers VQModel folder, or Show-o's MAGVIT-v2 of
// MMaDA-Parallel-M): encode turns a PNG into its codes, decode draws
// codes as a PNG.
func (e *Env) VQ(args []string) error {
	want := "encode or decode (parascope vq -h)"
	if len(args) == 0 {
		return usagef("vq: want a job: %s", want)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Printf("usage: %s\n\n", e.Usage)
		fmt.Println("encode prints the picture's codes as a JSON array; decode reads codes (numbers, or the\n" +
			"JSON array encode prints; -1 in the array for a masked cell, painted grey) and writes the\n" +
			"picture. --tokenizer is an aMUSEd VQ-GAN folder (config.json's _class_name \"VQModel\") or a\n" +
			"MAGVIT-v2 one (\"MAGVITv2\"). Both jobs take --size (default 512, MMaDA-Parallel's);\n" +
			"'parascope vq JOB -h' lists the flags.")
		return nil
	case "encode":
		return helpOK(e.vqEncode(args[1:]))
	case "decode":
		return helpOK(e.vqDecode(args[1:]))
	}
	return usagef("vq: unknown job %q: want %s", args[0], want)
}

func vqFlags(name string) (*flag.FlagSet, *string, *int) {
	fs := flag.NewFlagSet("vq "+name, flag.ContinueOnError)
	dir := fs.String("tokenizer", "", "the tokenizer folder: a VQModel (aMUSEd VQ-GAN) or MAGVITv2 one, told by its config.json")
	size := fs.Int("size", vqgan.DefaultSize, "the picture's side in pixels")
	return fs, dir, size
}

func (e *Env) vqEncode(args []string) error {
	fs, dir, size := vqFlags("encode")
	e.Usage = "parascope vq encode --tokenizer DIR [--size 512] PNG"
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *dir == "":
		return usagef("vq encode: --tokenizer DIR is required")
	case len(pos) != 1:
		return usagef("vq encode: want one PNG, got %d arguments", len(pos))
	}
	img, err := readPicture(pos[0])
	if err != nil {
		return fmt.Errorf("vq encode: %w", err)
	}
	m, err := openTokenizer(*dir, *size)
	if err != nil {
		return fmt.Errorf("vq encode: %w", err)
	}
	codes, err := m.Encode(img)
	if err != nil {
		return fmt.Errorf("vq encode: %w", err)
	}
	return json.NewEncoder(os.Stdout).Encode(codes)
}

func (e *Env) vqDecode(args []string) error {
	fs, dir, size := vqFlags("decode")
	out := fs.String("out", "", "the PNG to write")
	e.Usage = "parascope vq decode --tokenizer DIR [--size 512] --out PNG CODES…"
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *dir == "":
		return usagef("vq decode: --tokenizer DIR is required")
	case *out == "":
		return usagef("vq decode: --out PNG is required")
	case len(pos) == 0:
		return usagef("vq decode: want the codes (numbers, or a JSON array)")
	}
	codes, err := parseCodes(pos)
	if err != nil {
		return usagef("vq decode: %v", err)
	}
	if err := checkOutputs("vq decode", *out); err != nil {
		return err
	}
	m, err := openTokenizer(*dir, *size)
	if err != nil {
		return fmt.Errorf("vq decode: %w", err)
	}
	var img *image.RGBA
	partial := false
	for _, k := range codes {
		partial = partial || k < 0
	}
	if partial {
		img, err = m.DecodePartial(codes, nil)
	} else {
		img, err = m.Decode(codes)
	}
	if err != nil {
		// The codes do not fit the model: their number or range.
		return usagef("vq decode: %v", err)
	}
	return atomicfile.Write(*out, func(w io.Writer) error { return png.Encode(w, img) })
}

// tokenizer is what vq runs; the VQ-GAN and MAGVIT-v2 both are one.
type tokenizer interface {
	sample.ImageTokenizer
	Decode(codes []int) (*image.RGBA, error)
	DecodePartial(codes, guesses []int) (*image.RGBA, error)
}

// openTokenizer opens a tokenizer folder of the kind its config.json's
// _class_name names.
func openTokenizer(dir string, size int) (tokenizer, error) {
	path := filepath.Join(dir, "config.json")
	raw, err := infile.Read(path, 1<<20, "a tokenizer config")
	if err != nil {
		return nil, err
	}
	var c struct {
		ClassName string `json:"_class_name"`
	}
	if err := infile.DecodeJSON(raw, &c, false); err != nil {
		return nil, infile.In(path, err)
	}
	switch c.ClassName {
	case "VQModel":
		m, err := vqgan.Open(dir, size)
		if err != nil {
			return nil, err
		}
		return m, nil
	case "MAGVITv2":
		m, err := magvit.Open(dir, size)
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, fmt.Errorf("%s: _class_name %q: want \"VQModel\" (the aMUSEd VQ-GAN) or \"MAGVITv2\" (MAGVIT-v2)", path, c.ClassName)
}

// parseCodes reads codes given as separate numbers or JSON arrays; -1
// marks a masked cell.
func parseCodes(args []string) ([]int, error) {
	var codes []int
	for _, a := range args {
		if strings.HasPrefix(strings.TrimSpace(a), "[") {
			var more []int
			if err := json.Unmarshal([]byte(a), &more); err != nil {
				return nil, fmt.Errorf("codes %.40q: not a JSON array of integers", a)
			}
			codes = append(codes, more...)
			continue
		}
		k, err := strconv.Atoi(a)
		if err != nil {
			return nil, fmt.Errorf("%q is not a code", a)
		}
		codes = append(codes, k)
	}
	for i, k := range codes {
		if k < -1 {
			return nil, fmt.Errorf("code %d at position %d: codes are 0 or more, or -1 for a masked cell", k, i)
		}
	}
	return codes, nil
}

// maxPicture caps the PNG a user hands in: 64 MiB of file and 64
// megapixels, checked before the pixels are decoded.
const (
	maxPictureBytes  = 64 << 20
	maxPicturePixels = 64 << 20
)

// readPicture reads a PNG of any size up to the caps.
func readPicture(path string) (image.Image, error) {
	data, err := infile.Read(path, maxPictureBytes, "a picture")
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		return nil, fmt.Errorf("%s: not a PNG file (no PNG signature at its start)", path)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable PNG: %w", path, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width*cfg.Height > maxPicturePixels {
		return nil, fmt.Errorf("%s: a %d×%d picture; at most %d pixels are read", path, cfg.Width, cfg.Height, maxPicturePixels)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable PNG: %w", path, err)
	}
	return img, nil
}
