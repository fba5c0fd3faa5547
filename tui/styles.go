// Package tui is Parascope's interactive viewer: a Bubble Tea application
// over the sampler. It shows the reasoning text and the picture as they
// are revealed, step by step, lets the user scrub, fork and re-run with
// other knobs, and replays saved trajectories without a model.
package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Styles live here, in one place.
var (
	headerStyle = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#e8e8f0")).Background(lipgloss.Color("#3a3d52"))
	labelStyle  = lipgloss.NewStyle().Foreground(lipgloss.Color("#8a8fa8"))
	maskStyle   = lipgloss.NewStyle().Foreground(lipgloss.Color("#5a5d6e"))
	newStyle    = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#ffb347"))
	focusStyle  = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#9fd3ff"))
	statusStyle = lipgloss.NewStyle().Foreground(lipgloss.Color("#c8e6a0"))
	errorStyle  = lipgloss.NewStyle().Foreground(lipgloss.Color("#ff6b6b"))
	footerStyle = lipgloss.NewStyle().Foreground(lipgloss.Color("#8a8fa8"))
)

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

// ageColour colours a revealed word by how long ago it appeared: 0 is the
// newest step, 1 the start of the run — bright to dim.
func ageColour(age float64) color.Color {
	lo, hi := [3]float64{110, 130, 170}, [3]float64{235, 240, 250}
	return mix(hi, lo, age)
}

// confidenceColour colours a word by its confidence when committed, red
// (unsure) to green (sure).
func confidenceColour(c float64) color.Color {
	return mix([3]float64{230, 90, 80}, [3]float64{120, 220, 120}, c)
}

func mix(a, b [3]float64, t float64) color.Color {
	t = min(max(t, 0), 1)
	return color.RGBA{uint8(a[0] + (b[0]-a[0])*t), uint8(a[1] + (b[1]-a[1])*t), uint8(a[2] + (b[2]-a[2])*t), 255}
}
