package gpu

import (
	"fmt"

	"parascope/engine/nn"
)

// ErrNotBuilt is what opening the cuda backend says in a build without the
// cuda tag.
var ErrNotBuilt = fmt.Errorf("this parascope was built without CUDA (%w): build it with -tags cuda (README, \"CUDA\")", nn.ErrNotBuilt)
