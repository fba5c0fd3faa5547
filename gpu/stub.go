//go:build !cuda && !cudaemu

package gpu

import "parascope/engine/nn"

func init() {
	nn.Register("cuda", func() (nn.Backend, error) { return nil, ErrNotBuilt })
}
