// Package cpu reports which vector instructions the kernels may use. The
// answer comes from CPUID and from XCR0, where the operating system says
// which vector registers it saves; both must agree.
package cpu

// AVX2 is true when AVX2 and FMA can be used; AVX512 when AVX-512F can.
// Tests switch them off to exercise the slower paths.
var AVX2, AVX512 = features()

// Path is one set of vector instructions the kernels can be limited to.
type Path struct {
	Name         string
	AVX2, AVX512 bool
}

// Paths lists the paths this machine can run, from plain Go up to the
// widest vectors, so tests can check each.
func Paths() []Path {
	paths := []Path{{Name: "generic"}}
	if detected.avx2 {
		paths = append(paths, Path{"avx2", true, false})
	}
	if detected.avx512 {
		paths = append(paths, Path{"avx512", true, true})
	}
	return paths
}

// Use limits the kernels to the path until the returned function restores
// what the machine has. Not safe while kernels run concurrently.
func (p Path) Use() (restore func()) {
	AVX2, AVX512 = p.AVX2, p.AVX512
	return func() { AVX2, AVX512 = detected.avx2, detected.avx512 }
}

var detected = struct{ avx2, avx512 bool }{AVX2, AVX512}
