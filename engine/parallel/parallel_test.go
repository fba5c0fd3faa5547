package parallel

import (
	"sync/atomic"
	"testing"
)

func TestForCoversEveryIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000} {
		for _, grain := range []int{0, 1, 16, 5000} {
			hits := make([]int32, n)
			For(n, grain, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("n=%d grain=%d: index %d visited %d times", n, grain, i, h)
				}
			}
		}
	}
}

// A panic in a worker's chunk reaches the caller, after every chunk.
func TestForRaisesAPanicOnTheCaller(t *testing.T) {
	if Workers() < 2 {
		t.Skip("one worker runs every chunk inline")
	}
	var done atomic.Int32
	defer func() {
		if r := recover(); r != "chunk 0" {
			t.Errorf("recovered %v, want the first chunk's panic", r)
		}
		if got := done.Load(); got != int32(Workers()-1) {
			t.Errorf("%d other chunks finished before the panic was raised, want %d", got, Workers()-1)
		}
	}()
	For(Workers(), 1, func(lo, hi int) {
		if lo == 0 {
			panic("chunk 0")
		}
		done.Add(1)
	})
}
