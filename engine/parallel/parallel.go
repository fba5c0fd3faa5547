// Package parallel splits loops across the machine's cores. Kernels call
// it for work that is large enough to pay for a goroutine hand-off.
package parallel

import (
	"runtime"
	"sync"
)

// Workers is the number of goroutines For uses at most.
func Workers() int { return runtime.GOMAXPROCS(0) }

// For calls fn over [0, n) split into contiguous chunks, one per worker,
// and returns when all are done. Chunks hold at least grain items, so
// small loops run inline on the calling goroutine. A panic in any chunk
// is raised again on the calling goroutine once every chunk has stopped,
// where the caller's recover can see it.
func For(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	chunks := min(Workers(), (n+max(grain, 1)-1)/max(grain, 1))
	if chunks <= 1 {
		fn(0, n)
		return
	}
	var (
		wg      sync.WaitGroup
		once    sync.Once
		failure any
	)
	chunk := func(lo, hi int) {
		defer func() {
			if r := recover(); r != nil {
				once.Do(func() { failure = r })
			}
		}()
		fn(lo, hi)
	}
	for c := range chunks {
		lo, hi := c*n/chunks, (c+1)*n/chunks
		if c == chunks-1 {
			chunk(lo, hi) // the caller does the last chunk itself
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			chunk(lo, hi)
		}()
	}
	wg.Wait()
	if failure != nil {
		panic(failure)
	}
}
