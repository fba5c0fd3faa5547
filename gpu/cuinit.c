//go:build cuda && !cudaemu

// gorgonia.org/cu calls cuInit from its package init and exits the process
// when it fails, which would leave a CUDA build unable to fall back to the
// CPU on a machine whose driver has no device. This definition of cuInit
// takes the place of the driver's for the whole executable: it calls the
// driver's, keeps the result for the backend to report, and lets the init
// go on.

#define _GNU_SOURCE
#include <dlfcn.h>

static int init_status = -1;

int cuInit(unsigned int flags) {
	int (*driver)(unsigned int) = (int (*)(unsigned int))dlsym(RTLD_NEXT, "cuInit");
	init_status = driver ? driver(flags) : -2;
	return 0;
}

int parascope_cuinit_status(void) { return init_status; }
