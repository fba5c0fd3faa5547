package cpu

import (
	"os"
	"strings"
	"testing"
)

// On Linux the kernel's view of the CPU must agree with ours.
func TestAgreesWithProcCPUInfo(t *testing.T) {
	if !detects {
		t.Skip("this build (purego or not amd64) uses no vector instructions")
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo on this system")
	}
	flags := ""
	for _, line := range strings.Split(string(info), "\n") {
		if strings.HasPrefix(line, "flags") {
			flags = line + " "
			break
		}
	}
	has := func(f string) bool { return strings.Contains(flags, " "+f+" ") }
	if want := has("avx2") && has("fma"); AVX2 != want {
		t.Errorf("AVX2 = %v, /proc/cpuinfo says %v", AVX2, want)
	}
	if want := has("avx512f") && AVX2; AVX512 != want {
		t.Errorf("AVX512 = %v, /proc/cpuinfo says %v", AVX512, want)
	}
}

func TestUseRestores(t *testing.T) {
	avx2, avx512 := AVX2, AVX512
	paths := Paths()
	if paths[0].Name != "generic" {
		t.Fatalf("first path %q", paths[0].Name)
	}
	restore := paths[0].Use()
	if AVX2 || AVX512 {
		t.Fatal("the generic path must switch the vector units off")
	}
	restore()
	if AVX2 != avx2 || AVX512 != avx512 {
		t.Fatal("restore did not bring back the detected features")
	}
}
