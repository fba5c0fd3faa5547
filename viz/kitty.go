package viz

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"sync"
)

// kittyChunk is the most base64 bytes one kitty graphics command may
// carry; a multiple of 4, as every chunk but the last must be.
const kittyChunk = 4096

// Kitty encodes img, each pixel drawn as a scale×scale block, as kitty
// graphics commands that transmit and display it at the cursor as image id
// (which should be positive). The payload is a PNG: a picture of few
// colours is a paletted PNG of a few kilobytes, where raw RGB would be tens.
// q=2 asks for no replies, which would otherwise arrive as input; C=1 keeps
// the cursor where it was. Sending again with the same id replaces the
// image. An empty picture gives nil.
func Kitty(img image.Image, scale int, id int) []byte {
	scale = max(scale, 1)
	src := indexColours(img)
	w, h := src.w*scale, src.h*scale
	if w == 0 || h == 0 {
		return nil
	}

	var up image.Image
	if src.exact {
		pal := make(color.Palette, len(src.pal))
		for i, c := range src.pal {
			pal[i] = c
		}
		m := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for y := range h {
			row := src.pix[y/scale*src.w:]
			for x := range w {
				m.Pix[y*m.Stride+x] = row[x/scale]
			}
		}
		up = m
	} else {
		// Too many colours for a palette: keep every one in RGB.
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		b := img.Bounds()
		for y := range h {
			for x := range w {
				m.SetRGBA(x, y, rgbAt(img, b.Min.X+x/scale, b.Min.Y+y/scale))
			}
		}
		up = m
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: pngBuffers}
	if err := enc.Encode(&buf, up); err != nil {
		return nil // cannot happen when writing to memory
	}
	payload := base64.StdEncoding.EncodeToString(buf.Bytes())

	out := make([]byte, 0, len(payload)+(len(payload)/kittyChunk+1)*24+64)
	out = append(out, "\x1b_Ga=T,f=100,s="...)
	out = strconv.AppendInt(out, int64(w), 10)
	out = append(out, ",v="...)
	out = strconv.AppendInt(out, int64(h), 10)
	out = append(out, ",i="...)
	out = strconv.AppendInt(out, int64(id), 10)
	out = append(out, ",C=1,q=2,"...)
	for {
		n := min(kittyChunk, len(payload))
		more := n < len(payload)
		if more {
			out = append(out, "m=1;"...)
		} else {
			out = append(out, "m=0;"...)
		}
		out = append(out, payload[:n]...)
		out = append(out, "\x1b\\"...)
		payload = payload[n:]
		if !more {
			return out
		}
		// Later chunks carry only m (and q, so that they too stay silent).
		out = append(out, "\x1b_Gq=2,"...)
	}
}

// pngBuffers keeps the PNG encoder's compressor between frames: it is
// about a megabyte, far more than the image.
var pngBuffers = &pngPool{}

type pngPool struct{ p sync.Pool }

func (p *pngPool) Get() *png.EncoderBuffer {
	b, _ := p.p.Get().(*png.EncoderBuffer)
	return b // nil makes the encoder allocate a fresh one
}

func (p *pngPool) Put(b *png.EncoderBuffer) { p.p.Put(b) }

// KittyDelete deletes image id and its placements in a kitty terminal,
// freeing its data, with no reply.
func KittyDelete(id int) []byte {
	out := append([]byte(nil), "\x1b_Ga=d,d=I,i="...)
	out = strconv.AppendInt(out, int64(id), 10)
	return append(out, ",q=2\x1b\\"...)
}
