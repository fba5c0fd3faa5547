package clip

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"parascope/engine/checkpoint"
	"parascope/engine/nn"
	"parascope/engine/safetensors"
)

// The default scorer, embedded when weights/default.safetensors exists.
//
//go:embed weights
var embedded embed.FS

// ErrNoDefault says this build carries no trained scorer.
var ErrNoDefault = errors.New("this build has no embedded CLIP scorer: set clip to a checkpoint path")

// Open returns the scorer a config names: a checkpoint path, or "" for
// the embedded one.
func Open(spec string, be nn.Backend) (*Model, error) {
	var f *safetensors.File
	var err error
	if spec == "" {
		data, rerr := embedded.ReadFile("weights/default.safetensors")
		if errors.Is(rerr, fs.ErrNotExist) {
			return nil, ErrNoDefault
		}
		if rerr != nil {
			return nil, rerr
		}
		f, err = safetensors.Decode(data)
		spec = "the embedded scorer"
	} else {
		f, err = safetensors.Read(spec)
	}
	if err != nil {
		return nil, err
	}
	if err := checkpoint.Check(spec, f, checkpoint.CLIP); err != nil {
		return nil, err
	}
	m, err := FromFile(f, be)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	return m, nil
}
