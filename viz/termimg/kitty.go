package termimg

import (
	"image"

	"parascope/viz"
)

// Kitty draws with the kitty graphics protocol. The terminal is asked to
// check a 1×1 image it is not to keep; any answer means it understands
// the protocol.
var Kitty Raw = kitty{}

func init() { Register(Kitty, 20) }

type kitty struct{}

// kittyID is the image id of a slot's picture: sending it again
// replaces it.
func kittyID(slot int) int { return slot + 1 }

func (kitty) Name() string { return "kitty" }

func (kitty) Query() []byte { return []byte("\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\") }

func (kitty) Detect(a Answers) bool { return a.Kitty }

// Encode deletes the slot's previous picture first, freeing its data.
func (kitty) Encode(img image.Image, scale, slot int) []byte {
	return append(viz.KittyDelete(kittyID(slot)), viz.Kitty(img, scale, kittyID(slot))...)
}

// Clear deletes the slot's picture: kitty draws it over the text until
// then.
func (kitty) Clear(slot int) []byte { return viz.KittyDelete(kittyID(slot)) }
