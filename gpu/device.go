//go:build cuda || cudaemu

package gpu

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"unsafe"
)

// devptr is a device address.
type devptr uintptr

var kernelNames = []string{
	"add_to", "scale", "sum_squares", "swiglu", "swiglu_backward", "adamw",
	"gather_rows", "scatter_add_rows", "rmsnorm", "rmsnorm_backward_x",
	"rmsnorm_backward_w", "rope", "softmax_rows", "softmax_backward_rows",
	"cross_entropy", "sgemm", "to_bf16", "gather_rows_bf16",
}

// deviceInfo describes the device for logs and benchmarks.
type deviceInfo struct {
	name   string
	sms    int
	memory int64 // bytes
}

// device owns the CUDA context. The driver binds a context to an OS
// thread, so one goroutine locked to its thread makes every driver call,
// taking work from calls; the backend's methods hand it closures and wait.
type device struct {
	calls chan func()
	info  deviceInfo

	scratch map[string]*scratch // reusable device memory for per-call data, and constants
}

// scratch is device memory reused across calls: ops run in order on one
// stream, so the next call can overwrite it.
type scratch struct {
	ptr   devptr
	bytes int64
}

var (
	openOnce   sync.Once
	openedDev  *device
	openDevErr error
)

// theDevice starts the process's one device worker on first use.
func theDevice() (*device, error) {
	openOnce.Do(func() {
		if openDevErr = driverInit(); openDevErr != nil {
			return
		}
		d := &device{calls: make(chan func()), scratch: map[string]*scratch{}}
		started := make(chan error)
		go d.serve(started)
		if openDevErr = <-started; openDevErr == nil {
			openedDev = d
		}
	})
	return openedDev, openDevErr
}

func (d *device) serve(started chan<- error) {
	runtime.LockOSThread()
	var err error
	d.info, err = startDriver()
	started <- err
	if err != nil {
		return
	}
	for f := range d.calls {
		f()
	}
}

// do runs f on the device thread and waits; a panic in f is raised again
// in the caller.
func (d *device) do(f func()) {
	done := make(chan any)
	d.calls <- func() {
		defer func() { done <- recover() }()
		f()
	}
	if p := <-done; p != nil {
		panic(p)
	}
}

func must(what string, err error) {
	if err != nil {
		panic(fmt.Sprintf("gpu: %s: %v", what, err))
	}
}

// launch starts a kernel with blocks of 256 threads. Every argument is
// passed as 8 bytes, as the kernels declare them: pointers, int64 and
// float64.
func (d *device) launch(name string, gx, gy, gz int, args ...any) {
	vals := make([]uint64, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case devptr:
			vals[i] = uint64(a)
		case int:
			vals[i] = uint64(int64(a))
		case bool:
			if a {
				vals[i] = 1
			}
		case float64:
			vals[i] = math.Float64bits(a)
		case float32:
			vals[i] = math.Float64bits(float64(a))
		default:
			panic(fmt.Sprintf("gpu: kernel %s: argument %d has type %T", name, i, a))
		}
	}
	must("launching "+name, launchKernel(name, gx, gy, gz, vals))
}

const threads = 256 // BLOCK in kernels.cu

// elementwise launches a grid-stride kernel over n elements.
func (d *device) elementwise(name string, n int, args ...any) {
	if n == 0 {
		return
	}
	d.launch(name, min((n+threads-1)/threads, 32*d.info.sms), 1, 1, args...)
}

// rowwise launches a kernel with one block per row.
func (d *device) rowwise(name string, rows int, args ...any) {
	if rows == 0 {
		return
	}
	d.launch(name, min(rows, 65535), 1, 1, args...)
}

// scratchFor returns reusable device memory of at least bytes under key.
func (d *device) scratchFor(key string, bytes int64) devptr {
	s := d.scratch[key]
	if s == nil || s.bytes < bytes {
		if s != nil {
			must("freeing scratch", memFree(s.ptr))
		}
		ptr, err := memAlloc(max(bytes, 256))
		must(fmt.Sprintf("allocating %d bytes of scratch", bytes), err)
		s = &scratch{ptr, max(bytes, 256)}
		d.scratch[key] = s
	}
	return s.ptr
}

// upload copies host values into scratch memory under key.
func uploadScratch[T int32 | float32](d *device, key string, vals []T) devptr {
	bytes := int64(len(vals)) * 4
	ptr := d.scratchFor(key, bytes)
	if len(vals) > 0 {
		must("uploading "+key, htod(ptr, unsafe.Pointer(&vals[0]), bytes))
	}
	return ptr
}

// constant returns device memory holding vals, uploaded the first time key
// is asked for and kept: key must name everything vals depend on.
func (d *device) constant(key string, vals []float32) devptr {
	if s, ok := d.scratch[key]; ok {
		return s.ptr
	}
	return uploadScratch(d, key, vals)
}

// download64 reads n float64 values from device memory.
func download64(ptr devptr, n int) []float64 {
	out := make([]float64, n)
	if n > 0 {
		must("downloading", dtoh(unsafe.Pointer(&out[0]), ptr, int64(n)*8))
	}
	return out
}
