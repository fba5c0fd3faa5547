//go:build !unix

package local

import "time"

// cpuTime is unknown here: the benchmark reports no cores.
func cpuTime() time.Duration { return 0 }
