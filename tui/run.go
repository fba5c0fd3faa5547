package tui

import (
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// Run opens the viewer and returns when the user quits.
func Run(o Options) error {
	if o.Theme != "" && !slices.Contains(themeNames, o.Theme) {
		return fmt.Errorf("theme %q: want %s", o.Theme, strings.Join(themeNames, ", "))
	}
	a, err := newApp(o)
	if err != nil {
		return err
	}
	var opts []tea.ProgramOption
	switch o.Color {
	case "", "auto": // what the terminal and NO_COLOR say
	case "truecolor":
		opts = append(opts, tea.WithColorProfile(colorprofile.TrueColor))
	case "256":
		opts = append(opts, tea.WithColorProfile(colorprofile.ANSI256))
	case "16":
		opts = append(opts, tea.WithColorProfile(colorprofile.ANSI))
	case "none":
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	default:
		return fmt.Errorf("colours %q: want auto, truecolor, 256, 16 or none", o.Color)
	}
	_, err = tea.NewProgram(a, opts...).Run()
	return err
}
