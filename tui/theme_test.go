package tui

import (
	"fmt"
	"image/color"
	"math"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"parascope/viz"
)

var (
	blackBg = tea.BackgroundColorMsg{Color: color.Black}
	whiteBg = tea.BackgroundColorMsg{Color: color.White}
	ansi16  = tea.ColorProfileMsg{Profile: colorprofile.ANSI}
	ansi256 = tea.ColorProfileMsg{Profile: colorprofile.ANSI256}
)

// TestThemeChoice: the theme follows the flag, the terminal's background
// and its colour profile, in whatever order the answers arrive.
func TestThemeChoice(t *testing.T) {
	for _, c := range []struct {
		flag string
		msgs []tea.Msg
		want string
	}{
		{"auto", nil, "dark"}, // a terminal that does not answer
		{"", []tea.Msg{whiteBg}, "light"},
		{"auto", []tea.Msg{blackBg}, "dark"},
		{"auto", []tea.Msg{ansi256, whiteBg}, "light"},
		{"auto", []tea.Msg{whiteBg, ansi16}, "light-16"},
		{"auto", []tea.Msg{ansi16, whiteBg}, "light-16"},
		{"auto", []tea.Msg{ansi16}, "dark-16"},
		{"dark", []tea.Msg{whiteBg}, "dark"},
		{"dark", []tea.Msg{whiteBg, ansi16}, "dark-16"},
		{"light", []tea.Msg{blackBg}, "light"},
		{"light", []tea.Msg{ansi16}, "light-16"},
		{"contrast", nil, "contrast-dark"},
		{"contrast", []tea.Msg{whiteBg, ansi16}, "contrast-light"},
		{"contrast", []tea.Msg{blackBg, ansi256}, "contrast-dark"},
	} {
		a := testApp(t, 100, 30)
		a.o.Theme = c.flag
		a.useTheme()
		for _, m := range c.msgs {
			a.Update(m)
		}
		if a.theme.name != c.want {
			t.Errorf("--theme %s after %v: %s, want %s", c.flag, c.msgs, a.theme.name, c.want)
		}
		if labelStyle.GetForeground() != a.theme.label.GetForeground() || ageColour(0) != a.theme.age(0) {
			t.Errorf("--theme %s: the styles are not %s's", c.flag, a.theme.name)
		}
	}
	testApp(t, 100, 30) // back to the default theme for the other tests
}

// TestSixteenColourScreen: in 16 colours the whole screen, text and
// picture, is drawn in basic colours, none left to the renderer to bring
// down.
func TestSixteenColourScreen(t *testing.T) {
	for _, bg := range []tea.Msg{blackBg, whiteBg} {
		a := testApp(t, 120, 40)
		a.Update(ansi16)
		a.Update(bg)
		press(a, "space", "space", "space", "space")
		s := a.render()
		if strings.Contains(s, "38;2;") || strings.Contains(s, "48;2;") || strings.Contains(s, "38;5;") || strings.Contains(s, "48;5;") {
			t.Errorf("%s: a colour beyond the 16 on screen", a.theme.name)
		}
		if !strings.Contains(s, "▀") {
			t.Errorf("%s: no picture", a.theme.name)
		}
	}
	testApp(t, 100, 30)
}

func TestThemeFlag(t *testing.T) {
	err := Run(Options{Theme: "pink"})
	if err == nil || !strings.Contains(err.Error(), "auto, dark, light, contrast") {
		t.Fatalf("a bad theme: %v", err)
	}
}

// TestThemeContrast checks every text colour of every theme against the
// background it is drawn on (WCAG 2 contrast ratio): 4.5:1 for text, 3:1
// for what is meant to be dim (labels, masked words, the footer, older
// words); in the contrast themes 4.5:1 for everything. A basic colour is
// measured as xterm shows it, on xterm's black or white, and when bold
// also as its bright variant (xterm's boldColors); an RGB colour on a
// black and a dark grey (or a white and a light grey) background, and as
// the renderer brings it down to 256 colours.
func TestThemeContrast(t *testing.T) {
	for _, th := range themes {
		dim := 3.0
		if strings.HasPrefix(th.name, "contrast") {
			dim = 4.5
		}
		check := func(role string, st lipgloss.Style, want float64) {
			fgs := []color.RGBA{rgb(st.GetForeground())}
			if b, ok := st.GetForeground().(ansi.BasicColor); ok && b < 8 && st.GetBold() {
				fgs = append(fgs, rgb(b+8))
			}
			if c := st.GetForeground(); !isBasic(c) {
				fgs = append(fgs, rgb(ansi.Convert256(c)))
			}
			worst := math.Inf(1)
			for _, f := range fgs {
				for _, bg := range backgrounds(th, st) {
					worst = min(worst, contrast(f, bg))
				}
			}
			t.Logf("%-14s %-16s %5.2f", th.name, role, worst)
			if worst < want {
				t.Errorf("%s: %s at %.2f:1, want %.1f", th.name, role, worst, want)
			}
		}
		check("header", th.header, 4.5)
		check("label", th.label, dim)
		check("mask", th.mask, dim)
		check("new", th.fresh, 4.5)
		check("focus", th.focus, 4.5)
		check("status", th.status, 4.5)
		check("error", th.err, 4.5)
		check("footer", th.footer, dim)
		check("age 0", fg(th.age(0)), 4.5)
		for i := 1; i <= 10; i++ {
			check(fmt.Sprintf("age %.1f", float64(i)/10), fg(th.age(float64(i)/10)), dim)
		}
		for i := 0; i <= 10; i++ {
			check(fmt.Sprintf("confidence %.1f", float64(i)/10), fg(th.confidence(float64(i)/10)), 4.5)
		}
	}
}

// backgrounds are what st's text is drawn on in theme th: its own
// background, or the terminal's.
func backgrounds(th *theme, st lipgloss.Style) []color.RGBA {
	if _, none := st.GetBackground().(lipgloss.NoColor); !none {
		return []color.RGBA{rgb(st.GetBackground())}
	}
	switch {
	case isBasic(st.GetForeground()) && th.dark:
		return []color.RGBA{viz.ANSIColour(0)}
	case isBasic(st.GetForeground()):
		return []color.RGBA{viz.ANSIColour(15)}
	case th.dark:
		return []color.RGBA{{0, 0, 0, 255}, {0x28, 0x28, 0x28, 255}}
	}
	return []color.RGBA{{255, 255, 255, 255}, {0xee, 0xee, 0xee, 255}}
}

func isBasic(c color.Color) bool {
	_, ok := c.(ansi.BasicColor)
	return ok
}

// rgb is c as xterm shows it by default.
func rgb(c color.Color) color.RGBA {
	if b, ok := c.(ansi.BasicColor); ok {
		return viz.ANSIColour(int(b))
	}
	return color.RGBAModel.Convert(c).(color.RGBA)
}

// contrast is the WCAG 2 contrast ratio of two colours, 1 to 21.
func contrast(a, b color.RGBA) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// luminance is the WCAG 2 relative luminance of c.
func luminance(c color.RGBA) float64 {
	lin := func(v uint8) float64 {
		x := float64(v) / 255
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// TestStartupQueries: inside tmux the kitty query is not sent, DA1 is.
func TestStartupQueries(t *testing.T) {
	const kitty, da1 = "\x1b_G", "\x1b[c"
	if q := string(startupQueries(false)); !strings.Contains(q, kitty) || !strings.Contains(q, da1) {
		t.Errorf("outside tmux: %q", q)
	}
	if q := string(startupQueries(true)); strings.Contains(q, kitty) || !strings.Contains(q, da1) {
		t.Errorf("inside tmux: %q", q)
	}
	for _, tmux := range []string{"", "/tmp/tmux-1000/default,4242,0"} {
		t.Setenv("TMUX", tmux)
		a := testApp(t, 100, 30)
		a.o.Preview = "auto"
		sent := ""
		for _, cmd := range a.Init()().(tea.BatchMsg) {
			if raw, ok := cmd().(tea.RawMsg); ok {
				sent += fmt.Sprint(raw.Msg)
			}
		}
		if strings.Contains(sent, kitty) == (tmux != "") || !strings.Contains(sent, da1) {
			t.Errorf("TMUX=%q: Init sent %q", tmux, sent)
		}
	}
}
