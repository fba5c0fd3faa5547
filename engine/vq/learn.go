package vq

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"

	"parascope/engine/world"
)

// PatchSet is a multiset of patches: each distinct patch once, with the
// number of times it was seen. Rendered scenes repeat the same few hundred
// patches over and over, so k-means over the distinct patches weighted by
// their counts gives the same answer as over all of them, far faster.
// The zero value is an empty set.
type PatchSet struct {
	patches []Patch
	counts  []int
	index   map[Patch]int
	images  int
}

// Add counts patch p n more times.
func (s *PatchSet) Add(p Patch, n int) {
	if n <= 0 {
		return
	}
	if s.index == nil {
		s.index = map[Patch]int{}
	}
	i, ok := s.index[p]
	if !ok {
		i = len(s.patches)
		s.index[p] = i
		s.patches = append(s.patches, p)
		s.counts = append(s.counts, 0)
	}
	s.counts[i] += n
}

// AddImage counts every patch of a world.Canvas-square image.
func (s *PatchSet) AddImage(img image.Image) error {
	ps, err := patches(img)
	if err != nil {
		return err
	}
	for _, p := range ps {
		s.Add(p, 1)
	}
	s.images++
	return nil
}

// Len returns the number of distinct patches.
func (s *PatchSet) Len() int { return len(s.patches) }

// Total returns the number of patches counted, repeats included.
func (s *PatchSet) Total() int {
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}

// Images returns the number of images added with AddImage.
func (s *PatchSet) Images() int { return s.images }

// WorldPatches counts the patches of the Input and Target scenes of cases
// 0..cases-1 of world.Generate(seed, i, world.MixBoth). Generation cases
// have an empty Input, which stands for the blank canvas.
func WorldPatches(seed uint64, cases int) *PatchSet {
	s := &PatchSet{}
	for i := range cases {
		s.addCase(seed, i)
	}
	return s
}

// addCase adds the patches of case i's Input and Target scenes.
func (s *PatchSet) addCase(seed uint64, i int) {
	c := world.Generate(seed, i, world.MixBoth)
	for _, sc := range []world.Scene{c.Input, c.Target} {
		// Render always gives a canvas-sized image, so this cannot fail.
		_ = s.AddImage(world.Render(sc))
	}
}

// LearnWorld learns a codebook from the scenes of the given number of
// world cases; it is what `parascope train vq` runs. It returns ctx's
// error once ctx is done, checking between cases and between iterations.
func LearnWorld(ctx context.Context, seed uint64, cases, k, iters int) (*Codebook, error) {
	if cases < 1 {
		return nil, fmt.Errorf("vq: need at least one case, got %d", cases)
	}
	s := &PatchSet{}
	for i := range cases {
		if i%1000 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.addCase(seed, i)
	}
	cb, err := learn(ctx, s, k, seed, iters)
	if err != nil {
		return nil, err
	}
	cb.Info.Cases = cases
	return cb, nil
}

// Learn runs weighted k-means over the patch set: k-means++ seeding, then
// at most iters Lloyd iterations, stopping early once no patch changes
// code. Codes that end up owning no patch, duplicates included, are
// dropped, so the codebook may hold fewer than k codes; when k is at least
// the number of distinct patches, every patch becomes its own code and is
// reproduced exactly. Codes are ordered by how many patches they own, most
// first. The result depends only on the set's contents and the seed.
func Learn(s *PatchSet, k int, seed uint64, iters int) (*Codebook, error) {
	return learn(context.Background(), s, k, seed, iters)
}

// learn is Learn, stopping with ctx's error once ctx is done.
func learn(ctx context.Context, s *PatchSet, k int, seed uint64, iters int) (*Codebook, error) {
	switch {
	case s.Len() == 0:
		return nil, errors.New("vq: no patches to learn from")
	case k < 1:
		return nil, fmt.Errorf("vq: k = %d, want at least 1", k)
	case iters < 0:
		return nil, fmt.Errorf("vq: iterations = %d, want at least 0", iters)
	}
	// Sort the distinct patches so that the order they were added in does
	// not change the result.
	order := make([]int, s.Len())
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(s.patches[a][:], s.patches[b][:]) })
	n := len(order)
	points := make([]float64, n*Dim)
	weights := make([]float64, n)
	for j, i := range order {
		for d, v := range s.patches[i] {
			points[j*Dim+d] = float64(v)
		}
		weights[j] = float64(s.counts[i])
	}

	r := rand.New(rand.NewPCG(seed, 0x7671)) // second word: a fixed stream id for vq
	centres := seedCentres(points, weights, k, r)
	assign := make([]int, n)
	for i := range assign {
		assign[i] = -1
	}
	for range iters {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !assignAll(points, centres, assign) {
			break
		}
		updateCentres(points, weights, centres, assign)
	}
	// Codes are stored as float32: round first, then decide ownership, so
	// two centres that round alike count as duplicates.
	for i, v := range centres {
		centres[i] = float64(float32(v))
	}
	assignAll(points, centres, assign)

	owned := make([]float64, len(centres)/Dim)
	for i, c := range assign {
		owned[c] += weights[i]
	}
	var keep []int
	for c, w := range owned {
		if w > 0 {
			keep = append(keep, c)
		}
	}
	slices.SortStableFunc(keep, func(a, b int) int {
		return cmp.Or(cmp.Compare(owned[b], owned[a]), slices.Compare(centres[a*Dim:(a+1)*Dim], centres[b*Dim:(b+1)*Dim]))
	})
	codes := make([]float32, 0, len(keep)*Dim)
	for _, c := range keep {
		for _, v := range centres[c*Dim : (c+1)*Dim] {
			codes = append(codes, float32(v))
		}
	}
	return newFlat(codes, Info{Seed: seed, KRequested: k, Iters: iters, Scenes: s.Images()})
}

func dist2(a, b []float64) float64 {
	var d float64
	for i := range a {
		e := a[i] - b[i]
		d += e * e
	}
	return d
}

// seedCentres picks up to k starting centres by k-means++: each new centre
// is a point drawn with probability proportional to its weight times its
// squared distance to the nearest centre so far. It stops early once every
// point coincides with a centre.
func seedCentres(points, weights []float64, k int, r *rand.Rand) []float64 {
	n := len(weights)
	pick := func(score func(i int) float64) int {
		var total float64
		for i := range n {
			total += score(i)
		}
		if total == 0 {
			return -1
		}
		x := r.Float64() * total
		last := -1
		for i := range n {
			if s := score(i); s > 0 {
				last = i
				if x -= s; x < 0 {
					return i
				}
			}
		}
		return last // rounding left x just above zero
	}
	first := pick(func(i int) float64 { return weights[i] })
	if first < 0 {
		return nil
	}
	centres := slices.Clone(points[first*Dim : (first+1)*Dim])
	near := make([]float64, n) // squared distance to the nearest centre
	for i := range n {
		near[i] = dist2(points[i*Dim:(i+1)*Dim], centres)
	}
	for len(centres) < k*Dim {
		next := pick(func(i int) float64 { return weights[i] * near[i] })
		if next < 0 {
			break
		}
		c := points[next*Dim : (next+1)*Dim]
		centres = append(centres, c...)
		for i := range n {
			near[i] = min(near[i], dist2(points[i*Dim:(i+1)*Dim], c))
		}
	}
	return centres
}

// assignAll gives each point its nearest centre, the lowest index among
// equals, and reports whether any assignment changed.
func assignAll(points, centres []float64, assign []int) bool {
	changed := false
	for i := range assign {
		p := points[i*Dim : (i+1)*Dim]
		best, bestD := 0, math.Inf(1)
		for c := range len(centres) / Dim {
			if d := dist2(p, centres[c*Dim:(c+1)*Dim]); d < bestD {
				best, bestD = c, d
			}
		}
		if assign[i] != best {
			assign[i], changed = best, true
		}
	}
	return changed
}

// updateCentres moves each centre to the weighted mean of its points. A
// centre with no points stays where it is; it is dropped at the end if it
// still owns none.
func updateCentres(points, weights, centres []float64, assign []int) {
	k := len(centres) / Dim
	sums := make([]float64, len(centres))
	mass := make([]float64, k)
	for i, c := range assign {
		w := weights[i]
		mass[c] += w
		for d, v := range points[i*Dim : (i+1)*Dim] {
			sums[c*Dim+d] += w * v
		}
	}
	for c := range k {
		if mass[c] == 0 {
			continue
		}
		for d := range Dim {
			centres[c*Dim+d] = sums[c*Dim+d] / mass[c]
		}
	}
}
