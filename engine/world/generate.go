package world

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
)

// Task is one of the two thinking-aware tasks.
type Task uint8

const (
	ThinkGen  Task = iota // prompt → reasoning + image
	ThinkEdit             // input image + instruction → reasoning + output image
)

var taskNames = []string{"thinkgen", "thinkedit"}

func (t Task) String() string               { return nameOf(taskNames, int(t)) }
func (t Task) MarshalText() ([]byte, error) { return []byte(t.String()), nil }
func (t *Task) UnmarshalText(b []byte) error {
	i, err := lookup("task", taskNames, string(b))
	*t = Task(i)
	return err
}

// EditKind says what an edit asks for. Knowledge and relation edits need
// reasoning: their instruction names a colour or an object indirectly.
type EditKind uint8

const (
	NoEdit EditKind = iota // generation cases
	Recolour
	Remove
	AddObject
	Move
	Resize
	Swap
	Knowledge
	Relational
	NumEditKinds int = iota
)

var editNames = []string{"", "recolour", "remove", "add", "move", "resize", "swap", "knowledge", "relation"}

// EditKinds lists the edit kinds in table order.
func EditKinds() []EditKind {
	out := make([]EditKind, 0, NumEditKinds-1)
	for k := Recolour; int(k) < NumEditKinds; k++ {
		out = append(out, k)
	}
	return out
}

func (k EditKind) String() string               { return nameOf(editNames, int(k)) }
func (k EditKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }
func (k *EditKind) UnmarshalText(b []byte) error {
	i, err := lookup("edit kind", editNames, string(b))
	*k = EditKind(i)
	return err
}

// Length limits in words. The generator never exceeds them, so every case
// fits the fixed token layout.
const (
	MaxInstructionWords = 20
	MaxReasoningWords   = 39
)

// Case is one training or benchmark example with its ground truth.
type Case struct {
	Task        Task     `json:"task"`
	Edit        EditKind `json:"edit,omitempty"`
	Instruction string   `json:"instruction"`
	Reasoning   string   `json:"reasoning"`
	Input       Scene    `json:"input"`
	Target      Scene    `json:"target"`
	Claims      []Claim  `json:"-"`
}

// Mix chooses the task of generated cases.
type Mix uint8

const (
	MixGen  Mix = iota // thinkgen only
	MixEdit            // thinkedit only
	MixBoth            // a generation with probability 1/3, else an edit: about two edits a generation, as in ParaBench
)

// ParseMix reads a --task value.
func ParseMix(s string) (Mix, error) {
	switch s {
	case "thinkgen":
		return MixGen, nil
	case "thinkedit":
		return MixEdit, nil
	case "mixed":
		return MixBoth, nil
	}
	return 0, fmt.Errorf("unknown task %q (want thinkgen, thinkedit or mixed)", s)
}

// Generate returns case number index of the stream with the given seed.
// Cases are independent: case i is the same whatever else is generated.
func Generate(seed uint64, index int, mix Mix) Case {
	r := rand.New(rand.NewPCG(seed, uint64(index)))
	task := ThinkEdit
	if mix == MixGen || (mix == MixBoth && r.IntN(3) == 0) {
		task = ThinkGen
	}
	for {
		var c Case
		var ok bool
		if task == ThinkGen {
			c, ok = generateGen(r)
		} else {
			c, ok = generateEdit(r, EditKind(1+r.IntN(NumEditKinds-1)))
		}
		if ok && len(strings.Fields(c.Instruction)) <= MaxInstructionWords && len(strings.Fields(c.Reasoning)) <= MaxReasoningWords {
			return c
		}
	}
}

// GenerateKind returns an edit case of the given kind.
func GenerateKind(seed uint64, index int, kind EditKind) Case {
	r := rand.New(rand.NewPCG(seed, uint64(index)))
	for {
		c, ok := generateEdit(r, kind)
		if ok && len(strings.Fields(c.Instruction)) <= MaxInstructionWords && len(strings.Fields(c.Reasoning)) <= MaxReasoningWords {
			return c
		}
	}
}

func randomObject(r *rand.Rand, cell Cell) Object {
	return Object{Shape(r.IntN(NumShapes)), Colour(r.IntN(NumColours)), Size(r.IntN(NumSizes)), cell}
}

// randomScene places n objects in distinct cells, no two alike.
func randomScene(r *rand.Rand, n int) Scene {
	cells := r.Perm(NumCells)[:n]
	var s Scene
	for _, c := range cells {
		for {
			o := randomObject(r, Cell(c))
			if !hasTwin(s, o) {
				s.Objects = append(s.Objects, o)
				break
			}
		}
	}
	return s.sorted()
}

// hasTwin reports whether the scene has an object that looks like o.
func hasTwin(s Scene, o Object) bool {
	for _, p := range s.Objects {
		if p.Shape == o.Shape && p.Colour == o.Colour && p.Size == o.Size {
			return true
		}
	}
	return false
}

func freeCells(s Scene) []Cell {
	var out []Cell
	for c := range Cell(NumCells) {
		if _, ok := s.At(c); !ok {
			out = append(out, c)
		}
	}
	return out
}

func otherColour(r *rand.Rand, c Colour) Colour {
	return Colour((int(c) + 1 + r.IntN(NumColours-1)) % NumColours)
}

func generateGen(r *rand.Rand) (Case, bool) {
	target := randomScene(r, 1+r.IntN(3))
	// Objects are prompted in random order, not cell order, so the model
	// must read positions rather than count.
	order := r.Perm(len(target.Objects))
	var phrases [][]string
	var claims []Claim
	for _, i := range order {
		o := target.Objects[i]
		phrase := []string{"a", o.Size.String(), o.Colour.String(), o.Shape.String()}
		if r.IntN(5) < 2 {
			t := ThingOf(o.Colour)
			phrase = words("a", o.Size.String(), o.Shape.String(), "the", "colour", "of", "the", t.String())
			claims = append(claims, Claim{Kind: Knows, Thing: t, Colour: o.Colour})
		}
		phrases = append(phrases, words(phrase, "at", "the", CellWords(o.Cell)))
		claims = append(claims, Claim{Kind: Exists, Object: o})
	}
	prompt := []string{"draw"}
	for i, p := range phrases {
		if i > 0 {
			prompt = append(prompt, "and")
		}
		prompt = append(prompt, p...)
	}
	return finish(Case{Task: ThinkGen, Instruction: strings.Join(prompt, " "), Target: target, Claims: claims}), true
}

// finish renders the reasoning text from the claims.
func finish(c Case) Case {
	c.Reasoning = ReasoningOf(c.Input, c.Claims)
	return c
}

// ReasoningOf renders claims about the input scene in as a reasoning.
func ReasoningOf(in Scene, claims []Claim) string {
	var ws []string
	for _, cl := range claims {
		ws = append(ws, cl.Words(in)...)
	}
	return strings.Join(ws, " ")
}

// edit is the change an instruction asks for, before it is put in words.
type edit struct {
	target  Object
	change  ClaimKind // BecomesColour, BecomesSize, Removed, Moves
	colour  Colour
	size    Size
	to      Cell
	partner Object // Swap's second object
}

func generateEdit(r *rand.Rand, kind EditKind) (Case, bool) {
	n := 2 + r.IntN(3)
	in := randomScene(r, n)
	pick := func() Object { return in.Objects[r.IntN(len(in.Objects))] }
	free := freeCells(in)
	var instr []string
	var lead []Claim // resolution facts stated before the per-object claims
	var e edit
	var added *Object
	switch kind {
	case Recolour, Knowledge:
		e = edit{target: pick(), change: BecomesColour}
		e.colour = otherColour(r, e.target.Colour)
		colourWords := []string{e.colour.String()}
		if kind == Knowledge {
			t := ThingOf(e.colour)
			colourWords = []string{"the", "colour", "of", "the", t.String()}
			lead = append(lead, Claim{Kind: Knows, Thing: t, Colour: e.colour})
		}
		instr = words("make", Describe(in, e.target), colourWords)
	case Remove:
		e = edit{target: pick(), change: Removed}
		instr = words("remove", Describe(in, e.target))
	case Move:
		e = edit{target: pick(), change: Moves, to: free[r.IntN(len(free))]}
		instr = words("move", Describe(in, e.target), "to", "the", CellWords(e.to))
	case Resize:
		e = edit{target: pick(), change: BecomesSize}
		e.size = 1 - e.target.Size
		instr = words("make", Describe(in, e.target), e.size.String())
	case Swap:
		perm := r.Perm(len(in.Objects))
		a, b := in.Objects[perm[0]], in.Objects[perm[1]]
		e = edit{target: a, change: Moves, to: b.Cell, partner: b}
		instr = words("swap", Describe(in, a), "and", Describe(in, b))
	case AddObject:
		for {
			o := randomObject(r, free[r.IntN(len(free))])
			if !hasTwin(in, o) {
				added = &o
				break
			}
		}
		instr = words("add", Indefinite(*added), "at", "the", CellWords(added.Cell))
	case Relational:
		var ok bool
		e, instr, lead, ok = relationalEdit(r, in, free)
		if !ok {
			return Case{}, false
		}
	}
	c := Case{Task: ThinkEdit, Edit: kind, Instruction: strings.Join(instr, " "), Input: in}
	c.Claims = append(c.Claims, lead...)
	for _, o := range in.Objects {
		cl := Claim{Kind: Stays, Cell: o.Cell}
		switch {
		case added == nil && o.Cell == e.target.Cell:
			cl = Claim{Kind: e.change, Cell: o.Cell, Colour: e.colour, Size: e.size, To: e.to}
		case kind == Swap && o.Cell == e.partner.Cell:
			cl = Claim{Kind: Moves, Cell: o.Cell, To: e.target.Cell}
		}
		c.Claims = append(c.Claims, cl)
	}
	if added != nil {
		c.Claims = append(c.Claims, Claim{Kind: Added, Object: *added})
	}
	c.Target = Apply(in, c.Claims)
	return finish(c), true
}

// relationalEdit builds an edit whose object or colour is named through
// another object: "remove the largest shape", "make the shape left of the
// circle blue", "make the square the same colour as the circle".
func relationalEdit(r *rand.Rand, in Scene, free []Cell) (edit, []string, []Claim, bool) {
	if r.IntN(4) == 0 {
		perm := r.Perm(len(in.Objects))
		a, b := in.Objects[perm[0]], in.Objects[perm[1]]
		if a.Colour == b.Colour {
			return edit{}, nil, nil, false
		}
		e := edit{target: a, change: BecomesColour, colour: b.Colour}
		instr := words("make", Describe(in, a), "the", "same", "colour", "as", Describe(in, b))
		return e, instr, []Claim{{Kind: HasColour, Cell: b.Cell, Colour: b.Colour}}, true
	}
	type ref struct {
		rel    Relation
		anchor Cell
		obj    Object
	}
	var refs []ref
	for rel := range Relation(NumRelations) {
		anchors := []Cell{0}
		if rel != Largest && rel != Smallest {
			anchors = anchors[:0]
			for _, o := range in.Objects {
				anchors = append(anchors, o.Cell)
			}
		}
		for _, a := range anchors {
			if o, ok := Resolve(in, rel, a); ok {
				refs = append(refs, ref{rel, a, o})
			}
		}
	}
	if len(refs) == 0 {
		return edit{}, nil, nil, false
	}
	f := refs[r.IntN(len(refs))]
	phrase := RelationPhrase(in, f.rel, f.anchor)
	lead := []Claim{{Kind: Identifies, Rel: f.rel, Anchor: f.anchor, Cell: f.obj.Cell}}
	e := edit{target: f.obj}
	var instr []string
	switch r.IntN(4) {
	case 0:
		e.change, e.colour = BecomesColour, otherColour(r, f.obj.Colour)
		instr = words("make", phrase, e.colour.String())
	case 1:
		e.change = Removed
		instr = words("remove", phrase)
	case 2:
		e.change, e.to = Moves, free[r.IntN(len(free))]
		instr = words("move", phrase, "to", "the", CellWords(e.to))
	default:
		e.change, e.size = BecomesSize, 1-f.obj.Size
		instr = words("make", phrase, e.size.String())
	}
	return e, instr, lead, true
}

// HeldOut reports whether a case belongs to the benchmark's side of the
// split: a hash of what the model is shown (task, instruction, input
// scene) puts one case in eight there. Training skips these, so a
// benchmark case is never a training case, whatever the seeds.
func (c Case) HeldOut() bool {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%v", c.Task, c.Instruction, c.Input.Objects)
	return h.Sum64()%8 == 0
}
