// Package tui is Parascope's interactive viewer: a Bubble Tea application
// over the sampler. It shows the reasoning text and the picture as they
// are revealed, step by step, lets the user scrub, fork and re-run with
// other knobs, and replays saved trajectories without a model.
package tui

import (
	"image/color"
	"sync"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"

	"parascope/viz"
)

// Styles live here, in one place: the current theme's, which useTheme
// sets. They are package variables, so that every part of the view names
// them directly; a process serving several viewers (parascope serve)
// sets each one's theme and draws it under styleMu.
var (
	styleMu sync.Mutex

	headerStyle, labelStyle, maskStyle, newStyle, focusStyle, statusStyle, errorStyle, footerStyle lipgloss.Style

	// ageColour colours a revealed word by how long ago it appeared: 0 is
	// the newest step, 1 the start of the run — strong to faint.
	ageColour func(age float64) color.Color
	// confidenceColour colours a word by its confidence when committed,
	// unsure to sure.
	confidenceColour func(c float64) color.Color
)

// A theme is the viewer's colours for one kind of terminal. The text is
// drawn on the terminal's own background: a theme is made for a dark or a
// light one.
type theme struct {
	name                                                   string
	dark                                                   bool // made for a dark background
	header, label, mask, fresh, focus, status, err, footer lipgloss.Style
	age, confidence                                        func(float64) color.Color
}

// themeNames are the values of Options.Theme: auto follows the terminal's
// background, contrast is bold pure colours for projectors.
var themeNames = []string{"auto", "dark", "light", "contrast"}

// pickTheme is the theme named (one of themeNames, "" for auto) for a
// terminal whose background is dark or not and which shows profile's
// colours. In 16 colours the themes use the terminal's basic colours by
// index: truecolour values brought down to 16 by the renderer lose their
// contrast (light greys become white).
func pickTheme(name string, dark bool, profile viz.ColorProfile) *theme {
	switch name {
	case "dark":
		dark = true
	case "light":
		dark = false
	case "contrast":
		if dark {
			return contrastDark
		}
		return contrastLight
	}
	switch {
	case profile == viz.ANSI && dark:
		return dark16
	case profile == viz.ANSI:
		return light16
	case dark:
		return darkTheme
	}
	return lightTheme
}

// use makes t the current theme.
func (t *theme) use() {
	headerStyle, labelStyle, maskStyle, newStyle = t.header, t.label, t.mask, t.fresh
	focusStyle, statusStyle, errorStyle, footerStyle = t.focus, t.status, t.err, t.footer
	ageColour, confidenceColour = t.age, t.confidence
}

// pictureProfile is how pictures are drawn in the terminal's colours.
// Their colours are brought down to 256 or 16 here, not by the renderer:
// its 16-colour mapping turns most of ShapeWorld's colours into red, and
// its 256-colour one tints the mask grey blue.
func pictureProfile(p colorprofile.Profile) viz.ColorProfile {
	switch p {
	case colorprofile.ASCII, colorprofile.NoTTY:
		return viz.NoColor
	case colorprofile.ANSI:
		return viz.ANSI
	case colorprofile.ANSI256:
		return viz.ANSI256
	}
	return viz.TrueColor
}

func fg(c color.Color) lipgloss.Style { return lipgloss.NewStyle().Foreground(c) }

func hex(s string) color.Color { return lipgloss.Color(s) }

// bar is light text on a coloured background, for the header and errors.
func bar(text, back color.Color) lipgloss.Style {
	return lipgloss.NewStyle().Bold(true).Foreground(text).Background(back)
}

// The themes. Where a 16-colour theme is bold, the colour still reads when
// the terminal shows bold text in the bright variant, as xterm does.
var (
	darkTheme = &theme{name: "dark", dark: true,
		header:     bar(hex("#e8e8f0"), hex("#3a3d52")),
		label:      fg(hex("#8a8fa8")),
		mask:       fg(hex("#70748a")),
		fresh:      fg(hex("#ffb347")).Bold(true),
		focus:      fg(hex("#9fd3ff")).Bold(true),
		status:     fg(hex("#c8e6a0")),
		err:        fg(hex("#ff6b6b")),
		footer:     fg(hex("#8a8fa8")),
		age:        gradient([3]float64{235, 240, 250}, [3]float64{110, 130, 170}),
		confidence: gradient([3]float64{240, 110, 100}, [3]float64{120, 220, 120}),
	}
	lightTheme = &theme{name: "light",
		header:     bar(hex("#e8e8f0"), hex("#3a3d52")),
		label:      fg(hex("#5c6178")),
		mask:       fg(hex("#7a7f96")),
		fresh:      fg(hex("#8f4700")).Bold(true),
		focus:      fg(hex("#0b5cad")).Bold(true),
		status:     fg(hex("#276b2b")),
		err:        fg(hex("#c62828")),
		footer:     fg(hex("#5c6178")),
		age:        gradient([3]float64{30, 30, 40}, [3]float64{120, 125, 140}),
		confidence: gradient([3]float64{170, 30, 25}, [3]float64{20, 105, 40}),
	}
	dark16 = &theme{name: "dark-16", dark: true,
		header:     bar(lipgloss.BrightWhite, lipgloss.Blue),
		label:      fg(lipgloss.Cyan),
		mask:       fg(lipgloss.BrightBlack),
		fresh:      fg(lipgloss.BrightYellow).Bold(true),
		focus:      fg(lipgloss.BrightCyan).Bold(true),
		status:     fg(lipgloss.BrightGreen),
		err:        bar(lipgloss.BrightWhite, lipgloss.Red),
		footer:     fg(lipgloss.White),
		age:        steps(lipgloss.BrightWhite, lipgloss.White),
		confidence: steps(lipgloss.BrightRed, lipgloss.BrightYellow, lipgloss.BrightGreen),
	}
	// light16 has no green: xterm's reads at 2:1 on white.
	light16 = &theme{name: "light-16",
		header:     bar(lipgloss.BrightWhite, lipgloss.Blue),
		label:      fg(lipgloss.BrightBlack),
		mask:       fg(lipgloss.BrightBlack),
		fresh:      fg(lipgloss.Blue).Bold(true),
		focus:      fg(lipgloss.Magenta),
		status:     fg(lipgloss.Blue),
		err:        bar(lipgloss.BrightWhite, lipgloss.Red),
		footer:     fg(lipgloss.BrightBlack),
		age:        steps(lipgloss.Black, lipgloss.BrightBlack),
		confidence: steps(lipgloss.Red, lipgloss.Magenta, lipgloss.Blue),
	}
	// The contrast themes are for projectors, which wash out dim and dark
	// colours: nothing below 4.5:1, new words on a yellow highlight.
	contrastDark = &theme{name: "contrast-dark", dark: true,
		header:     bar(lipgloss.BrightWhite, lipgloss.Blue),
		label:      fg(lipgloss.Cyan).Bold(true),
		mask:       fg(lipgloss.White),
		fresh:      fg(lipgloss.Black).Background(lipgloss.BrightYellow),
		focus:      fg(lipgloss.BrightYellow).Bold(true),
		status:     fg(lipgloss.BrightGreen).Bold(true),
		err:        bar(lipgloss.BrightWhite, lipgloss.Red),
		footer:     fg(lipgloss.White).Bold(true),
		age:        steps(lipgloss.BrightWhite),
		confidence: steps(lipgloss.BrightRed, lipgloss.BrightYellow, lipgloss.BrightGreen),
	}
	// contrastLight is bold only in blue: xterm shows bold black, red and
	// magenta in their bright variants, which fall below 4.5:1 on white.
	contrastLight = &theme{name: "contrast-light",
		header:     bar(lipgloss.BrightWhite, lipgloss.Blue),
		label:      fg(lipgloss.Blue).Bold(true),
		mask:       fg(lipgloss.Blue),
		fresh:      fg(lipgloss.Black).Background(lipgloss.BrightYellow),
		focus:      bar(lipgloss.BrightWhite, lipgloss.Blue),
		status:     fg(lipgloss.Blue).Bold(true),
		err:        bar(lipgloss.BrightWhite, lipgloss.Red),
		footer:     fg(lipgloss.Black),
		age:        steps(lipgloss.Black),
		confidence: steps(lipgloss.Red, lipgloss.Blue),
	}
	themes = []*theme{darkTheme, lightTheme, dark16, light16, contrastDark, contrastLight}
)

func init() { darkTheme.use() }

// newHelp draws the keys plain: the footer's style and the overlay's
// colour them as a whole.
func newHelp() help.Model {
	h := help.New()
	plain := lipgloss.NewStyle()
	h.Styles = help.Styles{Ellipsis: plain, ShortKey: plain, ShortDesc: plain, ShortSeparator: plain,
		FullKey: plain.PaddingRight(1), FullDesc: plain, FullSeparator: plain}
	h.ShortSeparator = " · "
	return h
}

// gradient runs from colour a at 0 to b at 1.
func gradient(a, b [3]float64) func(float64) color.Color {
	return func(t float64) color.Color {
		t = min(max(t, 0), 1)
		return color.RGBA{uint8(a[0] + (b[0]-a[0])*t), uint8(a[1] + (b[1]-a[1])*t), uint8(a[2] + (b[2]-a[2])*t), 255}
	}
}

// steps splits 0–1 into equal bins, one colour each: a gradient in the
// basic colours.
func steps(colours ...color.Color) func(float64) color.Color {
	return func(t float64) color.Color {
		return colours[min(max(int(t*float64(len(colours))), 0), len(colours)-1)]
	}
}
