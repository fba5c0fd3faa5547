package mmada

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"

	"parascope/engine/hf"
	"parascope/engine/hftok"
	"parascope/engine/infile"
	"parascope/engine/magvit"
	"parascope/engine/vqgan"
)

// Variant is which of the two published models a folder holds.
type Variant string

const (
	A Variant = "MMaDA-Parallel-A" // Lumina-DiMOO based, aMUSEd VQ-GAN pictures
	M Variant = "MMaDA-Parallel-M" // MMaDA-8B based, MAGVIT-v2 pictures
)

// The published inference scripts' settings.
const (
	// SystemA is -A's system prompt for editing.
	SystemA = "Generate an image applying the following editing instruction based on the original image."
	// TextLengthA is -A's text_gen_length; TextLengthM is -M's
	// max_seq_length less the BOS that opens the span.
	TextLengthA, TextLengthM = 256, 255
	// ImageSize is the side both models' pictures have.
	ImageSize = 512
)

// -A's ids, fixed in its inference script rather than read from the
// tokenizer.
const (
	newlineA, boiA, eoiA, boaA, eoaA = 126084, 126349, 126350, 126354, 126355
)

// Options adjust Open; the zero value is the published settings.
type Options struct {
	TextLength     int    // the reasoning's length; 0: the variant's default
	ImageSize      int    // the picture's side; 0: 512
	ImageTokenizer string // the image tokenizer's folder; "": the model folder's vqvae/ (-A) or magvitv2/ (-M)
}

// ImageTokenizer is a folder's picture tokenizer: it brings a picture to
// the variant's square (-A crops the centre, -M squashes) before encoding
// (sample.ImageTokenizer), and draws grids for the viewer.
type ImageTokenizer interface {
	Encode(img image.Image) ([]int, error)
	DecodeMasked(codes, guesses []int) (*image.RGBA, error)
	Decode(codes []int) (*image.RGBA, error)
	DecodePartial(codes, guesses []int) (*image.RGBA, error)
	Preview(codes, guesses []int) *image.RGBA
	K() int
	Grid() int
}

// Folder is an opened MMaDA-Parallel folder, apart from its backbone
// (model.Load opens that).
type Folder struct {
	Dir       string
	Variant   Variant
	Config    hf.Config
	Tokenizer *hftok.Tokenizer
	Template  *Template
	Images    ImageTokenizer
}

// Open reads dir's config.json, tokenizer.json (and tokenizer_config.json
// where it is), and its image tokenizer, and checks that their ids agree.
func Open(dir string, o Options) (*Folder, error) {
	cfg, err := hf.ReadConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("mmada: %w", err)
	}
	f := &Folder{Dir: dir, Config: cfg}
	cfgPath := filepath.Join(dir, "config.json")
	switch cfg.Family {
	case hf.DiMOO:
		f.Variant = A
	case hf.MMaDA:
		f.Variant = M
	default:
		return nil, fmt.Errorf("mmada: %s: architectures %s: a LLaDA text model has no image codes", cfgPath, cfg.Architecture)
	}
	tokPath := filepath.Join(dir, "tokenizer.json")
	data, err := infile.Read(tokPath, 256<<20, "a tokenizer.json")
	if err != nil {
		return nil, fmt.Errorf("mmada: %w", err)
	}
	if f.Tokenizer, err = hftok.Parse(data); err != nil {
		return nil, fmt.Errorf("mmada: %w", infile.In(tokPath, err))
	}
	digest := sha256.Sum256(data)
	if o.ImageSize == 0 {
		o.ImageSize = ImageSize
	}
	if f.Images, err = openImages(dir, f.Variant, o); err != nil {
		return nil, err
	}
	if cfg.Codebook != f.Images.K() {
		return nil, fmt.Errorf("mmada: %s: codebook_size %d, but the image tokenizer has %d codes", cfgPath, cfg.Codebook, f.Images.K())
	}
	c := Layout{Size: cfg.Embedding, Mask: cfg.MaskID, Codes: cfg.Codebook, Grid: f.Images.Grid(), Text: o.TextLength,
		Ends: []int{cfg.EOSID, cfg.PadID}, Tokenizer: hex.EncodeToString(digest[:])}
	if id, ok := f.Tokenizer.TokenID("<|eot_id|>"); ok {
		c.Ends = append(c.Ends, id)
	}
	if f.Variant == A {
		f.Template, err = f.templateA(c)
	} else {
		f.Template, err = f.templateM(c)
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// checkVocab checks the image codes and the mask against the config's
// vocabulary, naming the key at fault.
func (f *Folder) checkVocab(c Layout, offsetKey string) error {
	path := filepath.Join(f.Dir, "config.json")
	switch {
	case c.Offset <= 0:
		return fmt.Errorf("mmada: %s: no %s, the id of image code 0", path, offsetKey)
	case c.Offset+c.Codes > f.Config.Vocab:
		return fmt.Errorf("mmada: %s: %s %d + codebook_size %d is past vocab_size %d", path, offsetKey, c.Offset, c.Codes, f.Config.Vocab)
	case c.Mask < 0 || c.Mask >= c.Offset:
		return fmt.Errorf("mmada: %s: mask_token_id %d is not a text id below %s %d", path, c.Mask, offsetKey, c.Offset)
	}
	return nil
}

// tokenIDs looks up special tokens the layout tokenises or names,
// refusing a tokenizer without one.
func (f *Folder) tokenIDs(names ...string) ([]int, error) {
	var ids []int
	for _, s := range names {
		id, ok := f.Tokenizer.TokenID(s)
		if !ok {
			return nil, fmt.Errorf("mmada: %s: no %q, which %s's prompts use", filepath.Join(f.Dir, "tokenizer.json"), s, f.Variant)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (f *Folder) templateA(c Layout) (*Template, error) {
	c.Offset = f.Config.TextVocab
	if c.Text == 0 {
		c.Text = TextLengthA
	}
	if err := f.checkVocab(c, "text_vocab_size"); err != nil {
		return nil, err
	}
	if _, err := f.tokenIDs("<system>", "</system>", "<user>", "</user>", "<uncondition>", "</answer>"); err != nil {
		return nil, err
	}
	l := LayoutA{Layout: c, Newline: newlineA, BOI: boiA, EOI: eoiA, BOA: boaA, End: f.Tokenizer.Encode("</answer>", false)}
	l.Ends = append(l.Ends, eoaA)
	for _, id := range []int{newlineA, boiA, eoiA, boaA, eoaA} {
		if id >= c.Offset {
			return nil, fmt.Errorf("mmada: %s: -A's special id %d is not below text_vocab_size %d", filepath.Join(f.Dir, "config.json"), id, c.Offset)
		}
	}
	prompts := func(instruction string) ([]int, []int, error) {
		head := "<system>" + SystemA + "</system><user>"
		return f.Tokenizer.Encode(head+instruction+"</user>", true), f.Tokenizer.Encode(head+"<uncondition></user>", true), nil
	}
	return NewA(l, prompts, f.Tokenizer)
}

func (f *Folder) templateM(c Layout) (*Template, error) {
	// Image codes follow the text tokenizer's ids (len(tokenizer)), which
	// the config states as llm_vocab_size.
	c.Offset = f.Config.TextVocab
	if c.Offset == 0 {
		c.Offset = f.Tokenizer.VocabSize()
	}
	if c.Text == 0 {
		c.Text = TextLengthM
	}
	if err := f.checkVocab(c, "llm_vocab_size"); err != nil {
		return nil, err
	}
	bos, eos, err := f.bosEOS()
	if err != nil {
		return nil, err
	}
	ids, err := f.tokenIDs("<|soi|>", "<|eoi|>", "<|interleave|>", bos, eos)
	if err != nil {
		return nil, err
	}
	l := LayoutM{Layout: c, SOI: ids[0], EOI: ids[1], Interleave: ids[2], BOS: ids[3], EOS: ids[4]}
	l.Ends = append(l.Ends, l.EOS)
	text := func(s string) ([]int, error) { return f.Tokenizer.Encode(s, true), nil }
	return NewM(l, text, f.Tokenizer)
}

// bosEOS names the tokenizer's BOS and EOS from tokenizer_config.json,
// or LLaDA's where the folder has none.
func (f *Folder) bosEOS() (bos, eos string, err error) {
	bos, eos = "<|startoftext|>", "<|endoftext|>"
	path := filepath.Join(f.Dir, "tokenizer_config.json")
	data, err := infile.Read(path, 16<<20, "a tokenizer config")
	if errors.Is(err, fs.ErrNotExist) {
		return bos, eos, nil
	} else if err != nil {
		return "", "", fmt.Errorf("mmada: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return "", "", fmt.Errorf("mmada: %w", infile.In(path, err))
	}
	for key, out := range map[string]*string{"bos_token": &bos, "eos_token": &eos} {
		if raw[key] == nil {
			continue
		}
		s, ok := tokenName(raw[key])
		if !ok {
			return "", "", fmt.Errorf("mmada: %s: %s is neither a string nor {\"content\": …}", path, key)
		}
		*out = s
	}
	return bos, eos, nil
}

// tokenName reads a token named as a string or as an AddedToken object.
func tokenName(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var o struct {
		Content *string `json:"content"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Content != nil {
		return *o.Content, true
	}
	return "", false
}

// openImages opens the variant's image tokenizer: the folder the caller
// names, or the model folder's own subfolder.
func openImages(dir string, v Variant, o Options) (ImageTokenizer, error) {
	sub := map[Variant]string{A: "vqvae", M: "magvitv2"}[v]
	path := o.ImageTokenizer
	if path == "" {
		path = filepath.Join(dir, sub)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("mmada: %s has no %s/ image tokenizer (or name its folder): %w", dir, sub, err)
		}
	}
	var (
		t   ImageTokenizer
		err error
	)
	// vqgan and magvit bring a picture to the square as each model's
	// official pre-processing does: -A scales the short side and cuts the
	// centre (the official code picks the window at random), -M squashes.
	if v == A {
		t, err = vqgan.Open(path, o.ImageSize)
	} else {
		t, err = magvit.Open(path, o.ImageSize)
	}
	if err != nil {
		return nil, fmt.Errorf("mmada: %s image tokenizer: %w", v, err)
	}
	return t, nil
}
