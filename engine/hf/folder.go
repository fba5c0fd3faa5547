package hf

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"parascope/engine/infile"
	"parascope/engine/safetensors"
)

// File names in a Hugging Face model folder.
const (
	singleFile = "model.safetensors"
	indexFile  = "model.safetensors.index.json"
)

// Folder is an opened model folder: its config and its weights, mapped.
type Folder struct {
	Dir    string
	Config Config
	Dtype  string // F32, F16 or BF16, shared by every tensor

	tensors map[string]Tensor
	files   []*safetensors.Mapped
}

// Tensor is one weight, a view into the file (a shard's path) it lies in.
type Tensor struct {
	safetensors.View
	File string
}

// Tensor returns the weight with the given name (see Layout).
func (f *Folder) Tensor(name string) (Tensor, bool) {
	t, ok := f.tensors[name]
	return t, ok
}

// Close unmaps every file; the folder's tensors are invalid after it.
func (f *Folder) Close() error {
	var errs []error
	for _, m := range f.files {
		errs = append(errs, m.Close())
	}
	f.files, f.tensors = nil, nil
	return errors.Join(errs...)
}

// Open opens the model folder dir: it reads config.json, maps
// model.safetensors or every shard model.safetensors.index.json names, and
// checks that the tensors are exactly those of Layout, shapes and one dtype
// included. Errors name the file and the tensor at fault.
func Open(dir string) (*Folder, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	f := &Folder{Dir: dir, Config: cfg, tensors: map[string]Tensor{}}
	if err := f.mapWeights(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.check(); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// mapWeights maps the single file, or the shards the index names and
// checks that each tensor lies where the index says.
func (f *Folder) mapWeights() error {
	single := filepath.Join(f.Dir, singleFile)
	// As transformers does, a single file wins over an index beside it.
	if _, err := os.Stat(single); err == nil {
		return f.mapFile(single)
	}
	index := filepath.Join(f.Dir, indexFile)
	weightMap, err := readIndex(index)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no %s or %s", f.Dir, singleFile, indexFile)
	}
	if err != nil {
		return err
	}
	shards := slices.Sorted(maps.Values(weightMap))
	for _, s := range slices.Compact(shards) {
		if err := f.mapFile(filepath.Join(f.Dir, s)); err != nil {
			return fmt.Errorf("%s names shard %s: %w", index, s, err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(weightMap)) {
		t, ok := f.tensors[name]
		want := filepath.Join(f.Dir, weightMap[name])
		switch {
		case !ok:
			return fmt.Errorf("%s places tensor %q in %s, which does not hold it", index, name, weightMap[name])
		case t.File != want:
			return fmt.Errorf("%s places tensor %q in %s, but it is in %s", index, name, weightMap[name], filepath.Base(t.File))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(f.tensors)) {
		if _, ok := weightMap[name]; !ok {
			return fmt.Errorf("%s: tensor %q is not in %s", f.tensors[name].File, name, index)
		}
	}
	return nil
}

// mapFile maps one weight file and adds its tensors.
func (f *Folder) mapFile(path string) error {
	m, err := safetensors.Open(path)
	if err != nil {
		return err
	}
	f.files = append(f.files, m)
	for _, v := range m.Tensors {
		if prev, dup := f.tensors[v.Name]; dup {
			return fmt.Errorf("tensor %q is in both %s and %s", v.Name, prev.File, path)
		}
		f.tensors[v.Name] = Tensor{View: v, File: path}
	}
	return nil
}

// readIndex reads a shard index's weight_map: tensor name → shard file.
func readIndex(path string) (map[string]string, error) {
	raw, err := infile.Read(path, 16<<20, "a shard index")
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := infile.DecodeJSON(raw, &idx, false); err != nil {
		return nil, infile.In(path, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("%s: no weight_map", path)
	}
	for name, s := range idx.WeightMap {
		if s == "" || s != filepath.Base(s) || strings.ContainsAny(s, `/\`) || s == "." || s == ".." {
			return nil, fmt.Errorf("%s: tensor %q: shard %q must be a file name in the same folder", path, name, s)
		}
	}
	return idx.WeightMap, nil
}

// torchDtypes maps config.json's torch_dtype onto safetensors dtypes.
var torchDtypes = map[string]string{"float32": safetensors.F32, "float16": safetensors.F16, "bfloat16": safetensors.BF16}

// check compares the mapped tensors with Layout: every expected tensor
// present with its shape, all in one dtype, and nothing else.
func (f *Folder) check() error {
	layout := Layout(f.Config)
	want := map[string]bool{}
	for _, e := range layout {
		t, ok := f.tensors[e.Name]
		if !ok {
			return fmt.Errorf("%s: no tensor %q, which a %s model with this config.json has", f.Dir, e.Name, f.Config.Family)
		}
		if !slices.Equal(t.Shape, e.Shape) {
			return fmt.Errorf("%s: tensor %q has shape %v, config.json gives %v", t.File, e.Name, t.Shape, e.Shape)
		}
		if f.Dtype == "" {
			f.Dtype = t.Dtype
		}
		if t.Dtype != f.Dtype {
			return fmt.Errorf("%s: tensor %q is %s, %q is %s", t.File, e.Name, t.Dtype, layout[0].Name, f.Dtype)
		}
		want[e.Name] = true
	}
	if d, ok := torchDtypes[f.Config.TorchDtype]; ok && d != f.Dtype {
		return fmt.Errorf("%s: config.json gives torch_dtype %s, but the tensors are %s", f.Dir, f.Config.TorchDtype, f.Dtype)
	}
	for _, name := range slices.Sorted(maps.Keys(f.tensors)) {
		if !want[name] {
			return fmt.Errorf("%s: tensor %q is not part of a %s model", f.tensors[name].File, name, f.Config.Family)
		}
	}
	return nil
}
