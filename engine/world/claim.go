package world

import (
	"fmt"
	"slices"
)

// A Claim is one fact a reasoning sentence states. Reasoning texts are
// lists of claims rendered by the grammar; the judge parses them back, so
// the claim is the unit both the generator and the judge count.

// ClaimKind says which sentence form a claim takes.
type ClaimKind uint8

const (
	Knows         ClaimKind = iota // the sky is blue .
	Identifies                     // the largest shape is the circle .
	HasColour                      // the square is red .
	BecomesColour                  // the circle becomes blue .
	BecomesSize                    // the circle becomes big .
	Removed                        // the circle is removed .
	Moves                          // the circle moves to the top left .
	Stays                          // the circle stays .
	Added                          // a small red square is added at the top .
	Exists                         // a big red circle is at the top left .
)

// Relation picks an object by its place among the others.
type Relation uint8

const (
	Largest Relation = iota
	Smallest
	LeftOf
	RightOf
	Above
	Below
	NumRelations int = iota
)

// Claim fields not used by a kind stay zero. Cell names the input object
// a claim is about: objects are identified by where they stand in the
// input scene, whatever words referred to them.
type Claim struct {
	Kind   ClaimKind
	Cell   Cell
	Thing  Thing
	Colour Colour
	Size   Size
	To     Cell
	Rel    Relation
	Anchor Cell
	Object Object
}

// Key is the claim's canonical form: two claims with the same key state
// the same fact.
func (c Claim) Key() string {
	switch c.Kind {
	case Knows:
		return fmt.Sprintf("know %s %s", c.Thing, c.Colour)
	case Identifies:
		if c.Rel == Largest || c.Rel == Smallest {
			return fmt.Sprintf("ref %s = %d", relNames[c.Rel], c.Cell)
		}
		return fmt.Sprintf("ref %s %d = %d", relNames[c.Rel], c.Anchor, c.Cell)
	case HasColour:
		return fmt.Sprintf("%d is %s", c.Cell, c.Colour)
	case BecomesColour:
		return fmt.Sprintf("%d becomes %s", c.Cell, c.Colour)
	case BecomesSize:
		return fmt.Sprintf("%d becomes %s", c.Cell, c.Size)
	case Removed:
		return fmt.Sprintf("%d removed", c.Cell)
	case Moves:
		return fmt.Sprintf("%d moves %d", c.Cell, c.To)
	case Stays:
		return fmt.Sprintf("%d stays", c.Cell)
	case Added:
		return fmt.Sprintf("add %s %s %s %d", c.Object.Size, c.Object.Colour, c.Object.Shape, c.Object.Cell)
	case Exists:
		return fmt.Sprintf("exists %s %s %s %d", c.Object.Size, c.Object.Colour, c.Object.Shape, c.Object.Cell)
	}
	return fmt.Sprintf("claim(%d)", c.Kind)
}

var relNames = [NumRelations]string{"largest", "smallest", "left", "right", "above", "below"}

// Words renders the claim as a sentence; in is the input scene, against
// which objects are described.
func (c Claim) Words(in Scene) []string {
	subject := func() []string { o, _ := in.At(c.Cell); return Describe(in, o) }
	switch c.Kind {
	case Knows:
		return words("the", c.Thing.String(), "is", c.Colour.String(), ".")
	case Identifies:
		return words(RelationPhrase(in, c.Rel, c.Anchor), "is", subject(), ".")
	case HasColour:
		return words(subject(), "is", c.Colour.String(), ".")
	case BecomesColour:
		return words(subject(), "becomes", c.Colour.String(), ".")
	case BecomesSize:
		return words(subject(), "becomes", c.Size.String(), ".")
	case Removed:
		return words(subject(), "is", "removed", ".")
	case Moves:
		return words(subject(), "moves", "to", "the", CellWords(c.To), ".")
	case Stays:
		return words(subject(), "stays", ".")
	case Added:
		return words(Indefinite(c.Object), "is", "added", "at", "the", CellWords(c.Object.Cell), ".")
	case Exists:
		return words(Indefinite(c.Object), "is", "at", "the", CellWords(c.Object.Cell), ".")
	}
	return nil
}

// words flattens strings and string slices into one word list.
func words(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			out = append(out, p)
		case []string:
			out = append(out, p...)
		}
	}
	return out
}

// Indefinite names an object not yet in the scene: "a small red square".
func Indefinite(o Object) []string {
	return []string{"a", o.Size.String(), o.Colour.String(), o.Shape.String()}
}

// Describe returns the shortest definite description that picks o out of
// the scene: "the circle", else "the red circle", "the big circle", "the
// big red circle". The generator never puts two identical objects in a
// scene, so the last form is always unique.
func Describe(in Scene, o Object) []string {
	forms := [][]string{
		{"the", o.Shape.String()},
		{"the", o.Colour.String(), o.Shape.String()},
		{"the", o.Size.String(), o.Shape.String()},
		{"the", o.Size.String(), o.Colour.String(), o.Shape.String()},
	}
	for _, f := range forms {
		if len(Matching(in, f[1:])) == 1 {
			return f
		}
	}
	return forms[len(forms)-1]
}

// Matching returns the objects of the scene that fit a description's
// adjectives and noun ("red", "circle"); words that are not attributes
// match nothing.
func Matching(in Scene, desc []string) []Object {
	var out []Object
	for _, o := range in.Objects {
		ok := len(desc) > 0
		for _, w := range desc {
			if c, isC := ColourNamed(w); isC {
				ok = ok && c == o.Colour
			} else if s, isS := SizeNamed(w); isS {
				ok = ok && s == o.Size
			} else if s, isS := ShapeNamed(w); isS {
				ok = ok && s == o.Shape
			} else {
				ok = false
			}
		}
		if ok {
			out = append(out, o)
		}
	}
	return out
}

// RelationPhrase renders a relational description: "the largest shape",
// "the shape left of the circle".
func RelationPhrase(in Scene, rel Relation, anchor Cell) []string {
	switch rel {
	case Largest, Smallest:
		return []string{"the", relNames[rel], "shape"}
	case LeftOf, RightOf:
		a, _ := in.At(anchor)
		return words("the", "shape", relNames[rel], "of", Describe(in, a))
	default:
		a, _ := in.At(anchor)
		return words("the", "shape", relNames[rel], Describe(in, a))
	}
}

// RelationNamed returns the relation a phrase's key word names.
func RelationNamed(w string) (Relation, bool) {
	i := slices.Index(relNames[:], w)
	return Relation(i), i >= 0
}

// Resolve returns the one object a relation picks out of the scene; false
// when none or several qualify. Largest and smallest need a unique big or
// small object among at least two; the directional relations need exactly
// one object on that side of the anchor in its row or column.
func Resolve(in Scene, rel Relation, anchor Cell) (Object, bool) {
	var found []Object
	switch rel {
	case Largest, Smallest:
		want := Big
		if rel == Smallest {
			want = Small
		}
		if len(in.Objects) < 2 {
			return Object{}, false
		}
		for _, o := range in.Objects {
			if o.Size == want {
				found = append(found, o)
			}
		}
	default:
		a, ok := in.At(anchor)
		if !ok {
			return Object{}, false
		}
		for _, o := range in.Objects {
			if o.Cell != a.Cell && onSide(rel, a.Cell, o.Cell) {
				found = append(found, o)
			}
		}
	}
	if len(found) != 1 {
		return Object{}, false
	}
	return found[0], true
}

func onSide(rel Relation, anchor, c Cell) bool {
	switch rel {
	case LeftOf:
		return c.Row() == anchor.Row() && c.Col() < anchor.Col()
	case RightOf:
		return c.Row() == anchor.Row() && c.Col() > anchor.Col()
	case Above:
		return c.Col() == anchor.Col() && c.Row() < anchor.Row()
	case Below:
		return c.Col() == anchor.Col() && c.Row() > anchor.Row()
	}
	return false
}

// Apply returns the scene a list of claims describes, starting from the
// input scene (empty for generation). Claims that change nothing (facts,
// resolutions, "stays") leave it as it is; a claim about an object that
// is not in the input is ignored. Moves are applied together, so a swap
// stated as two moves lands both objects.
func Apply(in Scene, claims []Claim) Scene {
	objs := map[Cell]Object{}
	for _, o := range in.Objects {
		objs[o.Cell] = o
	}
	moved := map[Cell]Object{}
	for _, c := range claims {
		o, ok := objs[c.Cell]
		switch c.Kind {
		case BecomesColour:
			if ok {
				o.Colour = c.Colour
				objs[c.Cell] = o
			}
		case BecomesSize:
			if ok {
				o.Size = c.Size
				objs[c.Cell] = o
			}
		case Removed:
			delete(objs, c.Cell)
		case Moves:
			if ok {
				delete(objs, c.Cell)
				o.Cell = c.To
				moved[c.To] = o
			}
		case Added, Exists:
			objs[c.Object.Cell] = c.Object
		}
	}
	for cell, o := range moved {
		objs[cell] = o
	}
	var out Scene
	for c := range Cell(NumCells) {
		if o, ok := objs[c]; ok {
			out.Objects = append(out.Objects, o)
		}
	}
	return out
}
