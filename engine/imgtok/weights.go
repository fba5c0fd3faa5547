package imgtok

import (
	"fmt"
	"slices"
	"strings"

	"parascope/engine/conv"
	"parascope/engine/safetensors"
)

// Source gives a weight by name as float32 in PyTorch's layout, checked
// against shape, or says why it cannot. A file is one (FileSource); tests
// and benchmarks give random weights through another.
type Source func(name string, shape []int) ([]float32, error)

// FileSource reads the weights of a mapped safetensors file (F32, BF16 or
// F16, widened), naming the file and tensor at fault, and records in used
// every name it is asked for, for Unused.
func FileSource(f *safetensors.Mapped, used map[string]bool) Source {
	return func(name string, shape []int) ([]float32, error) {
		v, ok := f.Get(name)
		if !ok {
			return nil, fmt.Errorf("%s: tensor %q: missing", f.Path, name)
		}
		used[name] = true
		if !slices.Equal(v.Shape, shape) {
			return nil, fmt.Errorf("%s: tensor %q: shape %v, want %v", f.Path, name, v.Shape, shape)
		}
		if v.Dtype == safetensors.I64 {
			return nil, fmt.Errorf("%s: tensor %q: dtype %s, want F32, BF16 or F16", f.Path, name, v.Dtype)
		}
		t, err := v.Float32()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		return t.Data, nil
	}
}

// Unused refuses a file holding tensors that no layer asked for (used, as
// FileSource records it): a config that does not describe the weights.
func Unused(f *safetensors.Mapped, used map[string]bool) error {
	var extra []string
	for _, v := range f.Tensors {
		if !used[v.Name] {
			extra = append(extra, fmt.Sprintf("%q", v.Name))
		}
	}
	if len(extra) == 0 {
		return nil
	}
	if len(extra) > 3 {
		extra = append(extra[:3], fmt.Sprintf("and %d more", len(extra)-3))
	}
	return fmt.Errorf("%s: tensors the config has no place for: %s", f.Path, strings.Join(extra, ", "))
}

// Layers makes layers out of a Source by their PyTorch names (name.weight,
// name.bias) and keeps the first error; after one, every call returns nil
// layers and Err says what went wrong.
type Layers struct {
	Src    Source
	Groups int     // of every GroupNorm
	Eps    float32 // of every GroupNorm
	Err    error
}

// Tensor returns the named weight, or nil after recording why not.
func (l *Layers) Tensor(name string, shape ...int) []float32 {
	if l.Err != nil {
		return nil
	}
	v, err := l.Src(name, shape)
	if err != nil {
		l.Err = err
		return nil
	}
	return v
}

// Conv reads a k×k convolution with a bias.
func (l *Layers) Conv(name string, out, in, k, stride int, pad conv.Pad) *conv.Conv2d {
	w := l.Tensor(name+".weight", out, in, k, k)
	b := l.Tensor(name+".bias", out)
	if l.Err != nil {
		return nil
	}
	return conv.NewConv2d(w, b, out, in, k, k, stride, pad)
}

// Conv3 is a 3×3 convolution of stride 1 that keeps the size; Conv1 a 1×1.
func (l *Layers) Conv3(name string, out, in int) *conv.Conv2d {
	return l.Conv(name, out, in, 3, 1, conv.Same(1))
}
func (l *Layers) Conv1(name string, out, in int) *conv.Conv2d {
	return l.Conv(name, out, in, 1, 1, conv.Pad{})
}

// Linear reads an nn.Linear, applied to every pixel.
func (l *Layers) Linear(name string, out, in int) *conv.Conv2d {
	w := l.Tensor(name+".weight", out, in)
	b := l.Tensor(name+".bias", out)
	if l.Err != nil {
		return nil
	}
	return conv.NewLinear(w, b, out, in)
}

// Norm reads an affine GroupNorm over c channels.
func (l *Layers) Norm(name string, c int) conv.GroupNorm {
	g := l.Tensor(name+".weight", c)
	b := l.Tensor(name+".bias", c)
	if l.Err != nil {
		return conv.GroupNorm{}
	}
	return conv.NewGroupNorm(l.Groups, l.Eps, g, b)
}

// ResNet reads a ResNet block without a time embedding (norm1, conv1,
// norm2, conv2); when in ≠ out its 1×1 shortcut is named
// name+"."+shortcut (diffusers' conv_shortcut, taming's nin_shortcut).
func (l *Layers) ResNet(name string, in, out int, shortcut string) *conv.ResNet {
	r := &conv.ResNet{
		Norm1: l.Norm(name+".norm1", in), Conv1: l.Conv3(name+".conv1", out, in),
		Norm2: l.Norm(name+".norm2", out), Conv2: l.Conv3(name+".conv2", out, out),
	}
	if in != out {
		r.Shortcut = l.Conv1(name+"."+shortcut, out, in)
	}
	return r
}
