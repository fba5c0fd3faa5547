package world

import (
	"fmt"
	"slices"
	"strings"
)

// The lexicon: every attribute a ShapeWorld object can have and the words
// that name it. Each enum marshals to its name so scene graphs in case.json
// read like the text.

// Colour is a palette entry.
type Colour uint8

// Colours of the palette, in token order.
const (
	Red Colour = iota
	Orange
	Yellow
	Green
	Cyan
	Blue
	Purple
	Pink
	Brown
	White
	NumColours int = iota
)

var colourNames = [NumColours]string{"red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink", "brown", "white"}

// Shape is the outline of an object.
type Shape uint8

// Shapes, in token order.
const (
	Circle Shape = iota
	Square
	Triangle
	Diamond
	NumShapes int = iota
)

var shapeNames = [NumShapes]string{"circle", "square", "triangle", "diamond"}

// Size is an object's extent within its cell.
type Size uint8

// Sizes, in token order.
const (
	Small Size = iota
	Big
	NumSizes int = iota
)

var sizeNames = [NumSizes]string{"small", "big"}

// Cell is a position on the 3×3 grid, row-major from the top left.
type Cell uint8

// NumCells is the number of grid cells.
const NumCells = GridN * GridN

// cellWords names each cell as it follows "the" in a sentence.
var cellWords = [NumCells][]string{
	{"top", "left"}, {"top"}, {"top", "right"},
	{"left"}, {"center"}, {"right"},
	{"bottom", "left"}, {"bottom"}, {"bottom", "right"},
}

// Row and Col locate the cell on the grid.
func (c Cell) Row() int { return int(c) / GridN }
func (c Cell) Col() int { return int(c) % GridN }

// Thing is an everyday object whose colour is common knowledge; the
// knowledge edits ask for "the colour of the sky" and the reasoning must
// resolve it ("the sky is blue .").
type Thing uint8

// NumThings is the number of knowledge things, one per colour.
const NumThings = NumColours

var thingNames = [NumThings]string{"blood", "carrot", "sun", "grass", "ice", "sky", "grape", "flamingo", "chocolate", "snow"}

// Colour returns what everybody knows the thing's colour to be.
func (t Thing) Colour() Colour { return Colour(t) }

// ThingOf returns the knowledge thing whose colour is c.
func ThingOf(c Colour) Thing { return Thing(c) }

func (c Colour) String() string { return nameOf(colourNames[:], int(c)) }
func (s Shape) String() string  { return nameOf(shapeNames[:], int(s)) }
func (s Size) String() string   { return nameOf(sizeNames[:], int(s)) }
func (t Thing) String() string  { return nameOf(thingNames[:], int(t)) }
func (c Cell) String() string {
	if int(c) >= NumCells {
		return fmt.Sprintf("cell(%d)", c)
	}
	return strings.Join(cellWords[c], " ")
}

func nameOf(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("?%d", i)
}

func lookup(kind string, names []string, s string) (int, error) {
	if i := slices.Index(names, s); i >= 0 {
		return i, nil
	}
	// An empty name (a generation's edit kind) is written, never asked for.
	want := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "" })
	return 0, fmt.Errorf("unknown %s %q (want one of %s)", kind, s, strings.Join(want, ", "))
}

func (c Colour) MarshalText() ([]byte, error) { return []byte(c.String()), nil }
func (s Shape) MarshalText() ([]byte, error)  { return []byte(s.String()), nil }
func (s Size) MarshalText() ([]byte, error)   { return []byte(s.String()), nil }
func (c Cell) MarshalText() ([]byte, error)   { return []byte(c.String()), nil }

func (c *Colour) UnmarshalText(b []byte) error {
	i, err := lookup("colour", colourNames[:], string(b))
	*c = Colour(i)
	return err
}

func (s *Shape) UnmarshalText(b []byte) error {
	i, err := lookup("shape", shapeNames[:], string(b))
	*s = Shape(i)
	return err
}

func (s *Size) UnmarshalText(b []byte) error {
	i, err := lookup("size", sizeNames[:], string(b))
	*s = Size(i)
	return err
}

func (c *Cell) UnmarshalText(b []byte) error {
	names := make([]string, NumCells)
	for i := range names {
		names[i] = Cell(i).String()
	}
	i, err := lookup("cell", names, string(b))
	*c = Cell(i)
	return err
}

// Function words of the grammar, in token order.
var functionWords = []string{
	".", "a", "the", "and", "draw", "make", "remove", "add", "move", "swap",
	"to", "at", "of", "as", "colour", "same", "shape", "largest", "smallest",
	"above", "below", "is", "becomes", "removed", "moves", "stays", "added",
}

// Words returns every word the grammar can produce, each once, in a fixed
// order: the word tokenizer's vocabulary.
func Words() []string {
	seen := map[string]bool{}
	var out []string
	add := func(ws ...string) {
		for _, w := range ws {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	add(functionWords...)
	add(colourNames[:]...)
	add(shapeNames[:]...)
	add(sizeNames[:]...)
	add(thingNames[:]...)
	for _, ws := range cellWords {
		add(ws...)
	}
	return out
}

// Lookups used by the text parser.

// ColourNamed returns the colour a word names.
func ColourNamed(w string) (Colour, bool) {
	i := slices.Index(colourNames[:], w)
	return Colour(max(i, 0)), i >= 0
}

// ShapeNamed returns the shape a word names.
func ShapeNamed(w string) (Shape, bool) {
	i := slices.Index(shapeNames[:], w)
	return Shape(max(i, 0)), i >= 0
}

// SizeNamed returns the size a word names.
func SizeNamed(w string) (Size, bool) {
	i := slices.Index(sizeNames[:], w)
	return Size(max(i, 0)), i >= 0
}

// ThingNamed returns the knowledge thing a word names.
func ThingNamed(w string) (Thing, bool) {
	i := slices.Index(thingNames[:], w)
	return Thing(max(i, 0)), i >= 0
}

// CellWords returns the words that name a cell after "the".
func CellWords(c Cell) []string { return cellWords[c] }
