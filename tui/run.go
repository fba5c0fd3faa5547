package tui

import (
	tea "charm.land/bubbletea/v2"
)

// Run opens the viewer and returns when the user quits.
func Run(o Options) error {
	a, err := newApp(o)
	if err != nil {
		return err
	}
	_, err = tea.NewProgram(a).Run()
	return err
}
