package memory

import (
	"math"
	"strings"
	"testing"
)

// fake makes the machine have n bytes for the test.
func fake(t *testing.T, n int, known bool) {
	saved := Machine
	Machine = func() (int, bool) { return n, known }
	t.Cleanup(func() { Machine = saved })
}

func TestMachineIsRead(t *testing.T) {
	n, known := Machine()
	if n <= 0 || (!known && n != Fallback) {
		t.Fatalf("Machine() = %d, %v", n, known)
	}
}

func TestMulAddSaturate(t *testing.T) {
	cases := []struct{ got, want int }{
		{Mul(), 1},
		{Mul(3, 4, 5), 60},
		{Mul(1<<40, 1<<40), math.MaxInt},
		{Mul(math.MaxInt, 2, 3), math.MaxInt},
		{Mul(1<<40, 1<<40, 0), 0},
		{Mul(7, -2), 0},
		{Mul(99999999999, 99999999999, 99999999999), math.MaxInt},
		{Add(1, 2, 3), 6},
		{Add(math.MaxInt, 1), math.MaxInt},
		{Add(math.MaxInt-1, math.MaxInt-1), math.MaxInt},
		{Add(5, -3), 5},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %d, want %d", i, c.got, c.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int]string{
		0:                  "0 B",
		1023:               "1023 B",
		1536:               "1.5 KiB",
		24683744 * 1024:    "23.5 GiB",
		7_300_000_000_000:  "6.6 TiB",
		math.MaxInt:        "8.0 EiB or more",
		math.MaxInt - 1e15: "8.0 EiB",
	} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	fake(t, 4<<30, true)
	if err := Check(4<<30, "x"); err != nil {
		t.Errorf("exactly the machine's memory: %v", err)
	}
	err := Check(5<<30, "recording the frames")
	if err == nil || err.Error() != "recording the frames needs about 5.0 GiB; this machine has 4.0 GiB" {
		t.Errorf("got %v", err)
	}
	if err := Check(math.MaxInt, "x"); err == nil || !strings.Contains(err.Error(), "8.0 EiB or more") {
		t.Errorf("a saturated size: %v", err)
	}
	fake(t, Fallback, false)
	if err := Check(Fallback+1, "x"); err == nil || !strings.Contains(err.Error(), "could not be read") {
		t.Errorf("an unknown machine: %v", err)
	}
}
