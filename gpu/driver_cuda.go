//go:build cuda && !cudaemu

package gpu

/*
#cgo LDFLAGS: -ldl
int parascope_cuinit_status(void);
*/
import "C"

import (
	_ "embed"
	"fmt"
	"unsafe"

	"gorgonia.org/cu"
)

// The driver side of the device: gorgonia.org/cu's driver API, called only
// from the device thread.

//go:embed kernels.ptx
var kernelsPTX string

var kernels = map[string]cu.Function{}

// driverInit reports what cuInit said at start (see cuinit.c).
func driverInit() error {
	s := int(C.parascope_cuinit_status())
	switch s {
	case 0:
		return nil
	case 34:
		return fmt.Errorf("the CUDA driver did not start: cuInit found the stub libcuda.so, not a driver (error 34)")
	case 100:
		return fmt.Errorf("the CUDA driver did not start: no CUDA-capable device (error 100)")
	case -2:
		return fmt.Errorf("the CUDA driver did not start: the loaded libcuda has no cuInit")
	}
	return fmt.Errorf("the CUDA driver did not start: cuInit error %d", s)
}

func startDriver() (deviceInfo, error) {
	var info deviceInfo
	n, err := cu.NumDevices()
	if err != nil {
		return info, fmt.Errorf("counting CUDA devices: %w", err)
	}
	if n == 0 {
		return info, fmt.Errorf("no CUDA device")
	}
	dev, err := cu.GetDevice(0)
	if err != nil {
		return info, err
	}
	// The primary context is the one the CUDA runtime, and so cuBLAS, uses.
	ctx, err := dev.RetainPrimaryCtx()
	if err != nil {
		return info, fmt.Errorf("retaining the primary context: %w", err)
	}
	if err := cu.SetCurrentContext(ctx); err != nil {
		return info, err
	}
	if info.name, err = dev.Name(); err != nil {
		return info, err
	}
	if info.sms, err = dev.Attribute(cu.MultiprocessorCount); err != nil {
		return info, err
	}
	if info.memory, err = dev.TotalMem(); err != nil {
		return info, err
	}
	mod, err := cu.LoadData(kernelsPTX)
	if err != nil {
		return info, fmt.Errorf("loading kernels.ptx: %w", err)
	}
	for _, name := range kernelNames {
		if kernels[name], err = mod.Function(name); err != nil {
			return info, fmt.Errorf("kernel %s: %w", name, err)
		}
	}
	return info, nil
}

func memAlloc(bytes int64) (devptr, error) {
	p, err := cu.MemAlloc(bytes)
	return devptr(p), err
}

func memFree(p devptr) error                      { return cu.MemFree(cu.DevicePtr(p)) }
func memsetD32(p devptr, v uint32, n int64) error { return cu.MemsetD32(cu.DevicePtr(p), v, n) }
func htod(dst devptr, src unsafe.Pointer, bytes int64) error {
	return cu.MemcpyHtoD(cu.DevicePtr(dst), src, bytes)
}
func dtoh(dst unsafe.Pointer, src devptr, bytes int64) error {
	return cu.MemcpyDtoH(dst, cu.DevicePtr(src), bytes)
}
func dtod(dst, src devptr, bytes int64) error {
	return cu.MemcpyDtoD(cu.DevicePtr(dst), cu.DevicePtr(src), bytes)
}
func synchronize() error { return cu.Synchronize() }

// emulated tells the host emulator from a GPU.
const emulated = false

func memInfo() (free, total int64, err error) { return cu.MemInfo() }

// launchKernel runs a kernel on the default stream with blocks of 256
// threads; cu reads exactly 8 bytes per argument.
func launchKernel(name string, gx, gy, gz int, args []uint64) error {
	ptrs := make([]unsafe.Pointer, len(args))
	for i := range args {
		ptrs[i] = unsafe.Pointer(&args[i])
	}
	return kernels[name].Launch(gx, gy, gz, threads, 1, 1, 0, cu.Stream{}, ptrs)
}
