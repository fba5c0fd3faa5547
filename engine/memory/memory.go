// Package memory checks size estimates against the machine's memory
// before anything is allocated, so an absurd setting fails at once with
// what it would need instead of crashing or swapping later. Sizes are
// counted in ints with saturating arithmetic: an overflow stays huge and
// can never wrap to a small or negative size that would pass.
package memory

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Fallback is the memory assumed where it cannot be read: small enough
// that a laptop rarely accepts what it cannot hold.
const Fallback = 8 << 30

// Machine reports the machine's memory in bytes and whether it was read
// (false: Fallback). Tests replace it with a fake machine.
var Machine = sync.OnceValues(readMachine)

// readMachine reads MemTotal from /proc/meminfo (Linux).
func readMachine() (int, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return Fallback, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == "MemTotal:" && fields[2] == "kB" {
			if kb, err := strconv.Atoi(fields[1]); err == nil && kb > 0 {
				return Mul(kb, 1024), true
			}
		}
	}
	return Fallback, false
}

// Mul multiplies sizes, saturating at math.MaxInt. A negative factor
// counts as 0: it is a mistake Validate reports on its own.
func Mul(xs ...int) int {
	p := 1
	for _, x := range xs {
		if x <= 0 {
			return 0
		}
		if p > math.MaxInt/x {
			p = math.MaxInt
			continue // a later 0 still makes the product 0
		}
		p *= x
	}
	return p
}

// Add sums sizes, saturating at math.MaxInt; negatives count as 0.
func Add(xs ...int) int {
	s := 0
	for _, x := range xs {
		if x <= 0 {
			continue
		}
		if s > math.MaxInt-x {
			return math.MaxInt
		}
		s += x
	}
	return s
}

// Check returns nil when need bytes fit in the machine's memory, else an
// error saying that what needs about that much, and what the machine has:
// "recording the frames needs about 6.6 TiB; this machine has 23.5 GiB".
func Check(need int, what string) error {
	have, known := Machine()
	if need <= have {
		return nil
	}
	if !known {
		return fmt.Errorf("%s needs about %s; this machine's memory could not be read, and %s is assumed", what, Format(need), Format(have))
	}
	return fmt.Errorf("%s needs about %s; this machine has %s", what, Format(need), Format(have))
}

// Format writes a size in binary units: "512 B", "23.5 GiB"; a saturated
// size is "8.0 EiB or more".
func Format(n int) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n), 0
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	for v /= 1024; v >= 1024 && unit < len(units)-1; v /= 1024 {
		unit++
	}
	s := fmt.Sprintf("%.1f %s", v, units[unit])
	if n == math.MaxInt {
		s += " or more"
	}
	return s
}
