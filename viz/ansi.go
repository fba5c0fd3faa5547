package viz

import (
	"image/color"
	"math"
	"math/bits"
	"sync"

	"parascope/engine/world"
)

// ansi16 holds xterm's default RGB for the 16 basic colours. Terminals'
// themes differ; these only decide which of the 16 stands for a colour.
var ansi16 = [16]color.RGBA{
	{0, 0, 0, 255}, {205, 0, 0, 255}, {0, 205, 0, 255}, {205, 205, 0, 255},
	{0, 0, 238, 255}, {205, 0, 205, 255}, {0, 205, 205, 255}, {229, 229, 229, 255},
	{127, 127, 127, 255}, {255, 0, 0, 255}, {0, 255, 0, 255}, {255, 255, 0, 255},
	{92, 92, 255, 255}, {255, 0, 255, 255}, {0, 255, 255, 255}, {255, 255, 255, 255},
}

// ANSIColour is xterm's default RGB for basic colour i (0–15).
func ANSIColour(i int) color.RGBA { return ansi16[i] }

// ansiIndex is the basic colour (0–15) that shows c. The renderer's own
// mapping goes through the 256-colour cube and turns red, orange, yellow
// and pink all into bright red; here each colour takes the nearest of the
// 16 by perceptual distance (OKLab), except that ShapeWorld's colours each
// keep one of their own (worldANSI), and a grey takes one of the four
// greys: the table has no grey between 127 and 229, and the colour
// nearest a light grey is cyan.
func ansiIndex(c color.RGBA) uint8 {
	if i, ok := worldANSI()[c]; ok {
		return i
	}
	lab := toOKLab(c)
	from := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	if math.Hypot(lab[1], lab[2]) < greyChroma {
		from = []int{0, 8, 7, 15}
	}
	best, bestD := 0, math.Inf(1)
	for _, i := range from {
		if d := labDist(lab, ansiLab()[i]); d < bestD {
			best, bestD = i, d
		}
	}
	return uint8(best)
}

// greyChroma is the OKLab chroma below which a colour reads as grey
// (world.MaskGrey, faintly blue, has 0.012).
const greyChroma = 0.03

// ansiLab is the 16 colours in OKLab.
var ansiLab = sync.OnceValue(func() (out [16][3]float64) {
	for i, c := range ansi16 {
		out[i] = toOKLab(c)
	}
	return out
})

// worldANSI gives ShapeWorld's colours, its canvas and its mask grey
// distinct basic colours: the one-to-one matching of least total OKLab
// distance. The nearest colour alone sends orange and yellow to the same
// yellow, and blue and purple to the same blue.
var worldANSI = sync.OnceValue(func() map[color.RGBA]uint8 {
	cols := append(world.Palette[:], world.Background, world.MaskGrey)
	match := matchColours(cols)
	out := make(map[color.RGBA]uint8, len(cols))
	for i, c := range cols {
		out[c] = match[i]
	}
	return out
})

// matchColours gives each of cols (16 at most) a different basic colour,
// minimising the sum of the OKLab distances: cost[used] is the least cost
// of giving the first k colours the k basic colours in the bit set used,
// built up one colour at a time (sets only grow, so in numeric order).
func matchColours(cols []color.RGBA) []uint8 {
	labs := make([][3]float64, len(cols))
	for i, c := range cols {
		labs[i] = toOKLab(c)
	}
	cost := make([]float64, 1<<16)
	last := make([]uint8, 1<<16) // the basic colour the k-th colour took
	for used := 1; used < len(cost); used++ {
		cost[used] = math.Inf(1)
	}
	best := -1
	for used := range cost {
		k := bits.OnesCount(uint(used))
		switch {
		case math.IsInf(cost[used], 1):
			continue
		case k == len(cols):
			if best < 0 || cost[used] < cost[best] {
				best = used
			}
			continue
		}
		for j, p := range ansiLab() {
			next := used | 1<<j
			if next == used {
				continue
			}
			if c := cost[used] + labDist(labs[k], p); c < cost[next] {
				cost[next], last[next] = c, uint8(j)
			}
		}
	}
	out := make([]uint8, len(cols))
	for k, used := len(cols)-1, best; k >= 0; k-- {
		out[k] = last[used]
		used &^= 1 << last[used]
	}
	return out
}

// toOKLab converts c to Björn Ottosson's OKLab, where Euclidean distance
// follows perceived difference far better than in RGB.
func toOKLab(c color.RGBA) [3]float64 {
	lin := func(v uint8) float64 {
		x := float64(v) / 255
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	r, g, b := lin(c.R), lin(c.G), lin(c.B)
	l := math.Cbrt(0.4122214708*r + 0.5363325363*g + 0.0514459929*b)
	m := math.Cbrt(0.2119034982*r + 0.6806995451*g + 0.1073969566*b)
	s := math.Cbrt(0.0883024619*r + 0.2817188376*g + 0.6299787005*b)
	return [3]float64{
		0.2104542553*l + 0.7936177850*m - 0.0040720468*s,
		1.9779984951*l - 2.4285922050*m + 0.4505937099*s,
		0.0259040371*l + 0.7827717662*m - 0.8086757660*s,
	}
}

func labDist(a, b [3]float64) float64 {
	return math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
}
