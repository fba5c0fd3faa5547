//go:build amd64 && !purego

package cpu

// detects is true: this build asks the CPU.
const detects = true

// cpuid executes CPUID with the given leaf and sub-leaf.
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads XCR0.
func xgetbv() (eax, edx uint32)

func features() (avx2, avx512 bool) {
	if maxLeaf, _, _, _ := cpuid(0, 0); maxLeaf < 7 {
		return false, false
	}
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if _, _, ecx, _ := cpuid(1, 0); ecx&(fma|osxsave|avx) != fma|osxsave|avx {
		return false, false
	}
	const (
		ymmState = 1<<1 | 1<<2        // XMM and upper YMM halves
		zmmState = 1<<5 | 1<<6 | 1<<7 // opmask, upper ZMM halves, ZMM16-31
	)
	xcr0, _ := xgetbv()
	if xcr0&ymmState != ymmState {
		return false, false
	}
	_, ebx, _, _ := cpuid(7, 0)
	avx2 = ebx&(1<<5) != 0
	avx512 = avx2 && ebx&(1<<16) != 0 && xcr0&zmmState == zmmState
	return avx2, avx512
}
