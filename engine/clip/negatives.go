package clip

import (
	"math/rand/v2"
	"slices"

	"parascope/engine/world"
)

// Hard negatives: a case's reasoning or target picture with one mistake
// of the kinds a model makes, for the scorer to rank below the truth.

// ChangeOneFact returns the reasoning with one fact about the picture
// changed — a colour, a shape or a position — and whether it found one to
// change.
func ChangeOneFact(c world.Case, r *rand.Rand) (string, bool) {
	var candidates []int
	for i, cl := range c.Claims {
		switch cl.Kind {
		case world.Exists, world.Added, world.BecomesColour, world.Moves:
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 0 {
		return "", false
	}
	claims := append([]world.Claim(nil), c.Claims...)
	i := candidates[r.IntN(len(candidates))]
	cl := &claims[i]
	switch cl.Kind {
	case world.BecomesColour:
		cl.Colour = world.Colour(otherThan(r, world.NumColours, int(cl.Colour)))
	case world.Moves:
		cl.To = world.Cell(otherThan(r, world.NumCells, int(cl.To)))
	default: // an object: change its colour, its shape or its place
		switch r.IntN(3) {
		case 0:
			cl.Object.Colour = world.Colour(otherThan(r, world.NumColours, int(cl.Object.Colour)))
		case 1:
			cl.Object.Shape = world.Shape(otherThan(r, world.NumShapes, int(cl.Object.Shape)))
		default:
			cl.Object.Cell = world.Cell(otherThan(r, world.NumCells, int(cl.Object.Cell)))
		}
	}
	return world.ReasoningOf(c.Input, claims), true
}

// WrongObject returns the reasoning with what it says of two objects
// swapped — a change given to the wrong object, or two moves bound to the
// wrong objects — and whether the case has two such claims whose swap
// describes another scene.
func WrongObject(c world.Case, r *rand.Rand) (string, bool) {
	var about []int
	for i, cl := range c.Claims {
		switch cl.Kind {
		case world.BecomesColour, world.BecomesSize, world.Removed, world.Moves, world.Stays:
			about = append(about, i)
		}
	}
	for _, k := range r.Perm(len(about) * len(about)) {
		i, j := about[k/len(about)], about[k%len(about)]
		if i >= j || c.Claims[i].Cell == c.Claims[j].Cell {
			continue
		}
		claims := append([]world.Claim(nil), c.Claims...)
		claims[i].Cell, claims[j].Cell = claims[j].Cell, claims[i].Cell
		if world.Apply(c.Input, claims).Equal(c.Target) {
			continue
		}
		return world.ReasoningOf(c.Input, claims), true
	}
	return "", false
}

// Misdraw returns the case's target scene with one mistake: the edit not
// made (the input drawn again), an object recoloured, reshaped, resized,
// moved to a free cell or removed, two objects' places swapped, or a
// stray object added.
func Misdraw(c world.Case, r *rand.Rand) world.Scene {
	for {
		s := world.Scene{Objects: append([]world.Object(nil), c.Target.Objects...)}
		var free []world.Cell
		for cell := range world.Cell(world.NumCells) {
			if _, ok := s.At(cell); !ok {
				free = append(free, cell)
			}
		}
		n, at := len(s.Objects), 0
		var o *world.Object
		if n > 0 {
			at = r.IntN(n)
			o = &s.Objects[at]
		}
		switch k := r.IntN(8); {
		case k == 0 && c.Task == world.ThinkEdit:
			s = world.Scene{Objects: append([]world.Object(nil), c.Input.Objects...)}
		case k == 1 && o != nil:
			o.Colour = world.Colour(otherThan(r, world.NumColours, int(o.Colour)))
		case k == 2 && o != nil:
			o.Shape = world.Shape(otherThan(r, world.NumShapes, int(o.Shape)))
		case k == 3 && o != nil:
			o.Size = world.Size(otherThan(r, world.NumSizes, int(o.Size)))
		case k == 4 && o != nil && len(free) > 0:
			o.Cell = free[r.IntN(len(free))]
		case k == 5 && n >= 2:
			i, j := r.IntN(n), r.IntN(n-1)
			if j >= i {
				j++
			}
			s.Objects[i].Cell, s.Objects[j].Cell = s.Objects[j].Cell, s.Objects[i].Cell
		case k == 6 && o != nil:
			s.Objects = slices.Delete(s.Objects, at, at+1)
		case k == 7 && len(free) > 0:
			cell := free[r.IntN(len(free))]
			s.Objects = append(s.Objects, world.Object{Shape: world.Shape(r.IntN(world.NumShapes)),
				Colour: world.Colour(r.IntN(world.NumColours)), Size: world.Size(r.IntN(world.NumSizes)), Cell: cell})
		default:
			continue
		}
		if !s.Equal(c.Target) {
			return s
		}
	}
}

// otherThan draws one of 0…n−1 other than cur.
func otherThan(r *rand.Rand, n, cur int) int { return (cur + 1 + r.IntN(n-1)) % n }
