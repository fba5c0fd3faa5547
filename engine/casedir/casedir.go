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
	"image/png"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"parascope/engine/atomicfile"
	"parascope/engine/token"
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

// Loaded is a case folder read back, with what is to be judged: the
// model's output where the folder has one, otherwise the targets.
type Loaded struct {
	Dir       string
	Meta      Meta
	Text      string
	Image     image.Image
	HasOutput bool
}

// Read loads a case folder. Errors name the file at fault.
func Read(dir string) (Loaded, error) {
	l := Loaded{Dir: dir}
	var err error
	if l.Meta, err = readMeta(filepath.Join(dir, CaseJSON)); err != nil {
		return l, err
	}
	_, errTxt := os.Stat(filepath.Join(dir, OutputText))
	_, errPNG := os.Stat(filepath.Join(dir, OutputPNG))
	switch {
	case errTxt == nil && errPNG == nil:
		l.HasOutput = true
		txt, err := os.ReadFile(filepath.Join(dir, OutputText))
		if err != nil {
			return l, err
		}
		l.Text = strings.TrimSpace(string(txt))
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

func readMeta(path string) (Meta, error) {
	var m Meta
	data, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return m, fmt.Errorf("%s:%d: %w", path, lineOf(data, syn.Offset), err)
		case errors.As(err, &typ):
			return m, fmt.Errorf("%s:%d: field %q: %w", path, lineOf(data, typ.Offset), typ.Field, err)
		}
		return m, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return m, fmt.Errorf("%s: data after the case object", path)
	}
	for name, s := range map[string]world.Scene{"input": m.Input, "target": m.Target} {
		if err := s.Validate(); err != nil {
			return m, fmt.Errorf("%s: %s scene: %w", path, name, err)
		}
	}
	switch {
	case m.Task == world.ThinkGen && (len(m.Input.Objects) > 0 || m.Edit != world.NoEdit):
		return m, fmt.Errorf("%s: a thinkgen case has no input scene and no edit kind", path)
	case m.Task == world.ThinkEdit && m.Edit == world.NoEdit:
		return m, fmt.Errorf("%s: a thinkedit case needs an edit kind", path)
	}
	return m, nil
}

func lineOf(data []byte, offset int64) int {
	return 1 + bytes.Count(data[:min(int(offset), len(data))], []byte("\n"))
}

// ReadPNG decodes a PNG and checks it is a ShapeWorld canvas.
func ReadPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
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

// List returns the case folders under root, sorted by name.
func List(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, e.Name(), CaseJSON)); err == nil {
			out = append(out, filepath.Join(root, e.Name()))
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no case folders (folders with a %s)", root, CaseJSON)
	}
	return out, nil
}
