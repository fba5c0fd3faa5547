// Package judge scores model outputs exactly. ShapeWorld text comes from a
// grammar and images from a renderer, so both parse back: text into claims,
// images into objects. From those it computes judge-free versions of
// ParaBench's six metrics (ParaBench-mini).
package judge

import (
	"fmt"
	"slices"
	"strings"

	"parascope/engine/world"
)

// Sentence is one parsed sentence of a reasoning text.
type Sentence struct {
	Words       []string
	Grammatical bool
	// Resolved is false when a grammatical sentence names an object the
	// input scene does not have, or names it ambiguously.
	Resolved bool
	Claim    world.Claim
	Problem  string // why it is not grammatical or not resolved
}

// Key identifies what the sentence states: the claim's key, or for an
// unresolved sentence its words, so it matches no true claim.
func (s Sentence) Key() string {
	if s.Resolved {
		return s.Claim.Key()
	}
	return "unresolved: " + strings.Join(s.Words, " ")
}

// ParseText splits a reasoning text into sentences and parses each against
// the input scene (empty for generation). It never fails: a sentence it
// cannot read is reported as ungrammatical, not guessed.
func ParseText(text string, in world.Scene) []Sentence {
	fields := strings.Fields(strings.ReplaceAll(text, ".", " . "))
	var out []Sentence
	for len(fields) > 0 {
		end := slices.Index(fields, ".")
		var ws []string
		if end < 0 {
			ws, fields = fields, nil
		} else {
			ws, fields = fields[:end+1], fields[end+1:]
		}
		out = append(out, parseSentence(ws, in))
	}
	return out
}

func parseSentence(ws []string, in world.Scene) Sentence {
	s := Sentence{Words: ws}
	if ws[len(ws)-1] != "." {
		s.Problem = "no full stop at the end"
		return s
	}
	p := &parser{ws: ws[:len(ws)-1], in: in}
	claim, err := p.sentence()
	if err == nil && p.i < len(p.ws) {
		err = fmt.Errorf("unexpected %q after a complete sentence", p.ws[p.i])
	}
	if err != nil {
		s.Problem = err.Error()
		return s
	}
	s.Grammatical = true
	if p.unresolved != "" {
		s.Problem = p.unresolved
		return s
	}
	s.Resolved, s.Claim = true, claim
	return s
}

// parser is a cursor over one sentence's words (without the full stop).
// Grammar errors are returned; failures to find a referent are recorded in
// unresolved, since the sentence itself is well formed.
type parser struct {
	ws         []string
	i          int
	in         world.Scene
	unresolved string
}

func (p *parser) peek(k int) string {
	if p.i+k < len(p.ws) {
		return p.ws[p.i+k]
	}
	return ""
}

func (p *parser) next() string { w := p.peek(0); p.i++; return w }

func (p *parser) expect(ws ...string) error {
	for _, w := range ws {
		if got := p.next(); got != w {
			return p.wanted(fmt.Sprintf("%q", w), got)
		}
	}
	return nil
}

func (p *parser) wanted(what, got string) error {
	if got == "" {
		return fmt.Errorf("sentence ends where %s should follow", what)
	}
	return fmt.Errorf("%q where %s should be", got, what)
}

func (p *parser) sentence() (world.Claim, error) {
	switch {
	case p.peek(0) == "a":
		return p.newObject()
	case p.peek(0) == "the" && isThing(p.peek(1)):
		t, _ := world.ThingNamed(p.ws[1])
		p.i = 2
		if err := p.expect("is"); err != nil {
			return world.Claim{}, err
		}
		c, err := p.colour()
		return world.Claim{Kind: world.Knows, Thing: t, Colour: c}, err
	case p.peek(0) == "the" && (p.peek(1) == "shape" || p.peek(1) == "largest" || p.peek(1) == "smallest"):
		return p.identity()
	}
	cell, err := p.np()
	if err != nil {
		return world.Claim{}, err
	}
	claim := world.Claim{Cell: cell}
	switch verb := p.next(); verb {
	case "stays":
		claim.Kind = world.Stays
	case "moves":
		claim.Kind = world.Moves
		if err := p.expect("to"); err != nil {
			return claim, err
		}
		claim.To, err = p.position()
	case "becomes":
		if s, ok := world.SizeNamed(p.peek(0)); ok {
			p.i++
			claim.Kind, claim.Size = world.BecomesSize, s
		} else {
			claim.Kind = world.BecomesColour
			claim.Colour, err = p.colour()
		}
	case "is":
		if p.peek(0) == "removed" {
			p.i++
			claim.Kind = world.Removed
		} else {
			claim.Kind = world.HasColour
			claim.Colour, err = p.colour()
		}
	default:
		err = p.wanted(`"stays", "moves", "becomes" or "is"`, verb)
	}
	return claim, err
}

// newObject reads "a SIZE COLOUR SHAPE is (added) at the POS".
func (p *parser) newObject() (world.Claim, error) {
	p.i++
	var o world.Object
	var ok bool
	w := p.next()
	if o.Size, ok = world.SizeNamed(w); !ok {
		return world.Claim{}, p.wanted("a size", w)
	}
	var err error
	if o.Colour, err = p.colour(); err != nil {
		return world.Claim{}, err
	}
	w = p.next()
	if o.Shape, ok = world.ShapeNamed(w); !ok {
		return world.Claim{}, p.wanted("a shape", w)
	}
	if err := p.expect("is"); err != nil {
		return world.Claim{}, err
	}
	kind := world.Exists
	if p.peek(0) == "added" {
		p.i++
		kind = world.Added
	}
	if err := p.expect("at"); err != nil {
		return world.Claim{}, err
	}
	o.Cell, err = p.position()
	return world.Claim{Kind: kind, Object: o}, err
}

// identity reads "REL is NP": which object a relational phrase picks.
func (p *parser) identity() (world.Claim, error) {
	p.i++ // "the"
	claim := world.Claim{Kind: world.Identifies}
	switch w := p.next(); w {
	case "largest", "smallest":
		claim.Rel, _ = world.RelationNamed(w)
		if err := p.expect("shape"); err != nil {
			return claim, err
		}
	default: // "shape"
		w = p.next()
		rel, ok := world.RelationNamed(w)
		if !ok || rel == world.Largest || rel == world.Smallest {
			return claim, p.wanted(`"left", "right", "above" or "below"`, w)
		}
		claim.Rel = rel
		if rel == world.LeftOf || rel == world.RightOf {
			if err := p.expect("of"); err != nil {
				return claim, err
			}
		}
		var err error
		if claim.Anchor, err = p.np(); err != nil {
			return claim, err
		}
	}
	if err := p.expect("is"); err != nil {
		return claim, err
	}
	var err error
	claim.Cell, err = p.np()
	return claim, err
}

// np reads "the [SIZE] [COLOUR] SHAPE" and resolves it in the input scene.
func (p *parser) np() (world.Cell, error) {
	if err := p.expect("the"); err != nil {
		return 0, err
	}
	desc := []string{}
	if _, ok := world.SizeNamed(p.peek(0)); ok {
		desc = append(desc, p.next())
	}
	if _, ok := world.ColourNamed(p.peek(0)); ok {
		desc = append(desc, p.next())
	}
	w := p.next()
	if _, ok := world.ShapeNamed(w); !ok {
		return 0, p.wanted("a shape", w)
	}
	desc = append(desc, w)
	found := world.Matching(p.in, desc)
	if len(found) != 1 && p.unresolved == "" {
		p.unresolved = fmt.Sprintf("%q fits %d objects of the input", "the "+strings.Join(desc, " "), len(found))
	}
	if len(found) == 0 {
		return 0, nil
	}
	return found[0].Cell, nil
}

func (p *parser) colour() (world.Colour, error) {
	w := p.next()
	c, ok := world.ColourNamed(w)
	if !ok {
		return 0, p.wanted("a colour", w)
	}
	return c, nil
}

// position reads "the POS" up to the end of the sentence.
func (p *parser) position() (world.Cell, error) {
	if err := p.expect("the"); err != nil {
		return 0, err
	}
	rest := p.ws[min(p.i, len(p.ws)):]
	for c := range world.Cell(world.NumCells) {
		if slices.Equal(rest, world.CellWords(c)) {
			p.i = len(p.ws)
			return c, nil
		}
	}
	return 0, fmt.Errorf("%q is not a position", strings.Join(rest, " "))
}

func isThing(w string) bool { _, ok := world.ThingNamed(w); return ok }
