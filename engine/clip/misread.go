package clip

import (
	"math/rand/v2"
	"strings"

	"parascope/engine/world"
)

// Misread returns the case as a model that took one object of the input
// for another would write it, and draw it if it drew what it wrote: every
// claim about the one (its identification too) made of the other and the
// other way round, the target being what that text describes. It is
// another agreeing pair, not a negative: the scorer sees no instruction,
// and agreement is between the text and the picture, whatever the
// instruction asked. The second result is false when the case names no
// object of its input to change, has no second object to take it for, or
// the misread text is longer than a reasoning may be.
func Misread(c world.Case, r *rand.Rand) (world.Case, bool) {
	var about []world.Cell
	for _, cl := range c.Claims {
		switch cl.Kind {
		case world.Identifies, world.BecomesColour, world.BecomesSize, world.Removed, world.Moves:
			about = append(about, cl.Cell)
		}
	}
	if len(about) == 0 || len(c.Input.Objects) < 2 {
		return c, false
	}
	x := about[r.IntN(len(about))]
	var others []world.Cell
	for _, o := range c.Input.Objects {
		if o.Cell != x {
			others = append(others, o.Cell)
		}
	}
	y := others[r.IntN(len(others))]
	claims := append([]world.Claim(nil), c.Claims...)
	for i := range claims {
		switch claims[i].Kind {
		case world.Knows, world.Added, world.Exists: // not about an input object
		default:
			switch claims[i].Cell {
			case x:
				claims[i].Cell = y
			case y:
				claims[i].Cell = x
			}
		}
	}
	m := c
	m.Claims = claims
	m.Reasoning = world.ReasoningOf(c.Input, claims)
	m.Target = world.Apply(c.Input, claims)
	return m, len(strings.Fields(m.Reasoning)) <= world.MaxReasoningWords
}
