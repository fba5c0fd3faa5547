// Package casedir reads and writes case folders: the on-disk form of a
// ShapeWorld case that `parascope world` writes and `parascope judge`
// reads. A folder holds case.json, target.png, target.txt, input.png for
// edits, and optionally a model's output.png and output.txt.
package casedir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"parascope/engine/atomicfile"
	"parascope/engine/infile"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// File names inside a case folder.
const (
	CaseJSON   = "case.json"
	InputPNG   = "input.png"
	TargetPNG  = "target.png"
	TargetTxt  = "target.txt"
	OutputPNG  = "output.png"
	OutputText = "output.txt"
)

// Meta is the content of case.json.
type Meta struct {
	Seed  uint64 `json:"seed"`
	Index int    `json:"index"`
	world.Case
	Tokens *token.Sequence `json:"tokens,omitempty"`
}

// Name is the folder name of case index i: the number, task and edit kind.
func Name(i int, c world.Case) string {
	kind := c.Edit.String()
	if c.Task == world.ThinkGen {
		kind = "gen"
	}
	return fmt.Sprintf("%04d-%s", i, kind)
}

// Write creates the folder and writes the case's files, each atomically.
func Write(dir string, m Meta) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	files := map[string][]byte{
		CaseJSON:  append(js, '\n'),
		TargetTxt: []byte(m.Reasoning + "\n"),
	}
	images := map[string]world.Scene{TargetPNG: m.Target}
	if m.Task == world.ThinkEdit {
		images[InputPNG] = m.Input
	}
	for name, s := range images {
		var b bytes.Buffer
		if err := png.Encode(&b, world.Render(s)); err != nil {
			return err
		}
		files[name] = b.Bytes()
	}
	for name, data := range files {
		if err := atomicfile.WriteFile(filepath.Join(dir, name), data); err != nil {
			return err
		}
	}
	return nil
}

// Remove deletes a case folder's own files (those Write and an answer
// put there), then the folder if that left it empty: a file of the
// user's inside it is kept, and so is the folder holding it.
func Remove(dir string) error {
	for _, name := range []string{CaseJSON, InputPNG, TargetPNG, TargetTxt, OutputPNG, OutputText} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) == 0 {
		return os.Remove(dir)
	}
	return nil
}

// Loaded is a case folder read back, with what is to be judged: the
// model's output where the folder has one, otherwise the targets.
type Loaded struct {
	Dir       string
	Meta      Meta
	Text      string
	Image     image.Image
	HasOutput bool
}

// Read loads a case folder and checks every file in it against
// case.json. Errors name the file at fault.
func Read(dir string) (Loaded, error) {
	l := Loaded{Dir: dir}
	var err error
	if l.Meta, err = readMeta(filepath.Join(dir, CaseJSON)); errors.Is(err, fs.ErrNotExist) {
		return l, fmt.Errorf("%s: not a case folder: no %s", dir, CaseJSON)
	} else if err != nil {
		return l, err
	}
	if err := checkTargets(dir, l.Meta); err != nil {
		return l, err
	}
	_, errTxt := os.Stat(filepath.Join(dir, OutputText))
	_, errPNG := os.Stat(filepath.Join(dir, OutputPNG))
	switch {
	case errTxt == nil && errPNG == nil:
		l.HasOutput = true
		if l.Text, err = readText(filepath.Join(dir, OutputText)); err != nil {
			return l, err
		}
		l.Image, err = ReadPNG(filepath.Join(dir, OutputPNG))
		return l, err
	case errTxt == nil:
		return l, fmt.Errorf("%s: %s has no %s beside it", dir, OutputText, OutputPNG)
	case errPNG == nil:
		return l, fmt.Errorf("%s: %s has no %s beside it", dir, OutputPNG, OutputText)
	}
	l.Text = l.Meta.Reasoning
	l.Image = world.Render(l.Meta.Target)
	return l, nil
}

// maxMetaBytes caps case.json: a case is a few kilobytes.
const maxMetaBytes = 1 << 20

func readMeta(path string) (Meta, error) {
	var m Meta
	data, err := infile.Read(path, maxMetaBytes, "a case")
	if err != nil {
		return m, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return m, fmt.Errorf("%s: empty file, want the case's JSON object", path)
	}
	if err := infile.DecodeJSON(data, &m, true); err != nil {
		var je *infile.JSONError
		if errors.As(err, &je) && je.Field != "" {
			return m, fmt.Errorf("%s:%d: field %q: %s", path, je.Line, je.Field, je.Msg)
		}
		return m, infile.In(path, err)
	}
	for _, s := range []picture{{"input", m.Input}, {"target", m.Target}} {
		if err := s.scene.Validate(); err != nil {
			return m, fmt.Errorf("%s: %s scene: %w", path, s.name, err)
		}
	}
	switch {
	case m.Task == world.ThinkGen && (len(m.Input.Objects) > 0 || m.Edit != world.NoEdit):
		return m, fmt.Errorf("%s: a thinkgen case has no input scene and no edit kind", path)
	case m.Task == world.ThinkEdit && m.Edit == world.NoEdit:
		return m, fmt.Errorf("%s: a thinkedit case needs an edit kind", path)
	}
	if err := checkTokens(m); err != nil {
		return m, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// checkTokens lays the case out with the embedded codebook's vocabulary,
// which 'parascope world' writes the tokens with: the case must fit the
// layout, and tokens, where given, must be that layout.
func checkTokens(m Meta) error {
	cb := vq.Default()
	v := token.New(cb.K())
	seq, err := v.BuildCase(cb, m.Case)
	if err != nil {
		return fmt.Errorf("the case does not fit the %s layout: %w", m.Task, err)
	}
	if m.Tokens == nil {
		return nil
	}
	got := *m.Tokens
	if got.Layout != seq.Layout {
		return fmt.Errorf("tokens.spans: not the %s layout", m.Task)
	}
	if len(got.IDs) != len(seq.IDs) {
		return fmt.Errorf("tokens.ids: %d ids, the %s layout has %d", len(got.IDs), m.Task, len(seq.IDs))
	}
	for i, id := range got.IDs {
		if id < 0 || id >= v.Size() {
			return fmt.Errorf("tokens.ids[%d]: id %d is outside the vocabulary (0 to %d)", i, id, v.Size()-1)
		}
	}
	for i, id := range got.IDs {
		if id != seq.IDs[i] {
			return fmt.Errorf("tokens.ids[%d]: %s where the case lays out %s", i, v.Name(id), v.Name(seq.IDs[i]))
		}
	}
	return nil
}

// picture is a scene by name.
type picture struct {
	name  string
	scene world.Scene
}

// checkTargets checks the pictures and text written beside case.json:
// they must show what it says.
func checkTargets(dir string, m Meta) error {
	pictures := []picture{{TargetPNG, m.Target}}
	input := filepath.Join(dir, InputPNG)
	if m.Task == world.ThinkEdit {
		pictures = append(pictures, struct {
			name  string
			scene world.Scene
		}{InputPNG, m.Input})
	} else if _, err := os.Stat(input); err == nil {
		return fmt.Errorf("%s: a thinkgen case has no input picture", input)
	}
	for _, p := range pictures {
		path := filepath.Join(dir, p.name)
		img, err := ReadPNG(path)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: missing; a %s case folder holds one", path, m.Task)
		}
		if err != nil {
			return err
		}
		if x, y, same := sameImage(img, world.Render(p.scene)); !same {
			return fmt.Errorf("%s: does not show the %s scene of %s (pixel %d,%d differs)", path, strings.TrimSuffix(p.name, ".png"), CaseJSON, x, y)
		}
	}
	path := filepath.Join(dir, TargetTxt)
	text, err := readText(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: missing; a case folder holds one", path)
	}
	if err != nil {
		return err
	}
	if text != strings.TrimSpace(m.Reasoning) {
		return fmt.Errorf("%s: does not hold the reasoning of %s", path, CaseJSON)
	}
	return nil
}

// sameImage compares two pictures of one size pixel by pixel, returning
// the first that differs.
func sameImage(a, b image.Image) (x, y int, same bool) {
	r := b.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.RGBAModel.Convert(a.At(x, y)) != color.RGBAModel.Convert(b.At(x, y)) {
				return x, y, false
			}
		}
	}
	return 0, 0, true
}

// readText reads a text file of a case folder, trimmed.
func readText(path string) (string, error) {
	data, err := infile.Read(path, 64<<10, "a reasoning") // a reasoning is a few hundred bytes
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}

// ReadPNG decodes a PNG and checks it is a ShapeWorld canvas.
func ReadPNG(path string) (image.Image, error) {
	f, err := infile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodePNG(f, path)
}

// DecodePNG decodes a PNG and checks it is a ShapeWorld canvas; name is
// used in errors.
func DecodePNG(r io.Reader, name string) (image.Image, error) {
	const maxBytes = 1 << 20 // a 48×48 picture takes a few kilobytes
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes, not a %d×%d picture", name, maxBytes, world.Canvas, world.Canvas)
	}
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		return nil, fmt.Errorf("%s: not a PNG file (no PNG signature at its start)", name)
	}
	// Check the size before decoding the pixels, so a hostile header
	// cannot make us allocate a huge image.
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable PNG: %w", name, err)
	}
	if cfg.Width != world.Canvas || cfg.Height != world.Canvas {
		return nil, fmt.Errorf("%s: image is %d×%d, want %d×%d", name, cfg.Width, cfg.Height, world.Canvas, world.Canvas)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable PNG: %w", name, err)
	}
	return img, nil
}

// Find returns the case folders at path: path itself when it is a case
// folder (single is then true), otherwise the case folders inside it.
func Find(path string) (dirs []string, single bool, err error) {
	if _, err := os.Stat(filepath.Join(path, CaseJSON)); err == nil {
		return []string{path}, true, nil
	}
	dirs, err = List(path)
	return dirs, false, err
}

// List returns the case folders under root, sorted by name. A folder
// holding a case's files but no case.json is an error, not skipped.
func List(root string) ([]string, error) {
	if fi, err := os.Stat(root); err != nil {
		return nil, err
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a folder", root)
	}
	if err := needsCase(root); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		dir := filepath.Join(root, e.Name())
		// A link to a case folder is followed, as a user who linked
		// cases together expects; a broken link is an error, not skipped.
		if e.Type()&fs.ModeSymlink != 0 {
			fi, err := os.Stat(dir)
			if err != nil {
				return nil, fmt.Errorf("%s: a link that leads nowhere: %w", dir, err)
			}
			if !fi.IsDir() {
				continue
			}
		} else if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, CaseJSON)); err == nil {
			out = append(out, dir)
		} else if err := needsCase(dir); err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no case folders (folders with a %s)", root, CaseJSON)
	}
	return out, nil
}

// needsCase reports a folder that holds a case's other files without its
// case.json: a case folder that lost it, or a model's answer to a prompt,
// which has no ground truth to be judged against.
func needsCase(dir string) error {
	for _, name := range []string{TargetPNG, TargetTxt, InputPNG, OutputPNG, OutputText} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return fmt.Errorf("%s: holds %s but no %s, the case to judge against", dir, name, CaseJSON)
		}
	}
	return nil
}
