package gpu

import "errors"

// ErrNotBuilt is what opening the cuda backend says in a build without the
// cuda tag.
var ErrNotBuilt = errors.New("this parascope was built without CUDA: build it with -tags cuda (README, \"CUDA\")")
