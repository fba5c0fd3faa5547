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

// kittyID is the image id of the picture: sending it again replaces it.
const kittyID = 1

func (kitty) Name() string { return "kitty" }

func (kitty) Query() []byte { return []byte("\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\") }

func (kitty) Detect(a Answers) bool { return a.Kitty }

// Encode deletes the previous picture first, freeing its data.
func (kitty) Encode(img image.Image, scale int) []byte {
	return append(viz.KittyDelete(kittyID), viz.Kitty(img, scale, kittyID)...)
}
