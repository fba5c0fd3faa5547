package viz

import (
	"image"
	"strconv"
)

// Sixel encodes img, each pixel drawn as a scale×scale block, as one
// complete sixel sequence (DCS … ST) for terminals that draw sixels.
//
// Colour registers are numbered from 0 in the order their colours first
// appear in a raster scan, so the same picture always gives the same
// bytes. There is no general quantisation: a picture with more than 256
// colours has each further colour drawn as the nearest of the first 256.
//
// Every pixel of the picture is painted in its own colour, so nothing
// depends on the terminal's background. P2 = 1 leaves unpainted positions
// alone: only the rows a last, partial six-row band would add below the
// picture, which are then never drawn over. The raster attributes declare
// square pixels and the exact size. An empty picture gives nil.
func Sixel(img image.Image, scale int) []byte {
	scale = max(scale, 1)
	src := indexColours(img)
	w, h := src.w*scale, src.h*scale
	if w == 0 || h == 0 {
		return nil
	}

	out := make([]byte, 0, 64+16*len(src.pal)+h*w/16)
	out = append(out, "\x1bP0;1;0q\"1;1;"...)
	out = strconv.AppendInt(out, int64(w), 10)
	out = append(out, ';')
	out = strconv.AppendInt(out, int64(h), 10)
	for n, c := range src.pal {
		out = append(out, '#')
		out = strconv.AppendInt(out, int64(n), 10)
		out = append(out, ";2;"...)
		out = strconv.AppendInt(out, int64(percent(c.R)), 10)
		out = append(out, ';')
		out = strconv.AppendInt(out, int64(percent(c.G)), 10)
		out = append(out, ';')
		out = strconv.AppendInt(out, int64(percent(c.B)), 10)
	}

	// One row of sixel bits per colour, filled in a single pass over each
	// band; a colour absent from the band is skipped.
	bits := make([]byte, len(src.pal)*w)
	present := make([]bool, len(src.pal))
	for top := 0; top < h; top += 6 {
		for r := range min(6, h-top) {
			row := src.pix[(top+r)/scale*src.w:]
			for x := range w {
				n := int(row[x/scale])
				bits[n*w+x] |= 1 << r
				present[n] = true
			}
		}
		first := true
		for n := range src.pal {
			if !present[n] {
				continue
			}
			present[n] = false
			if !first {
				out = append(out, '$') // back to the band's left edge
			}
			first = false
			out = append(out, '#')
			out = strconv.AppendInt(out, int64(n), 10)
			out = appendSixelRow(out, bits[n*w:(n+1)*w])
			clear(bits[n*w : (n+1)*w])
		}
		if top+6 < h {
			out = append(out, '-') // next band
		}
	}
	return append(out, "\x1b\\"...)
}

// percent scales an 8-bit channel to the 0–100 of sixel colour registers.
func percent(v uint8) int { return (int(v)*100 + 127) / 255 }

// appendSixelRow writes one colour's row of a band, run-length encoded.
// Trailing empty columns are dropped: the next '$' or '-' returns to the
// left edge anyway.
func appendSixelRow(out, row []byte) []byte {
	end := len(row)
	for end > 0 && row[end-1] == 0 {
		end--
	}
	for i := 0; i < end; {
		j := i + 1
		for j < end && row[j] == row[i] {
			j++
		}
		c := '?' + row[i]
		if n := j - i; n > 3 {
			out = append(out, '!')
			out = strconv.AppendInt(out, int64(n), 10)
			out = append(out, c)
		} else {
			for range n {
				out = append(out, c)
			}
		}
		i = j
	}
	return out
}
