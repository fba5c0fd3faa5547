package tui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// The whole program under teatest, at 120×40 with an ASCII colour
// profile: it starts, takes three steps through the real event loop
// (steps run as commands, off the update goroutine), quits, and its final
// screen matches the golden file.
func TestProgramGolden(t *testing.T) {
	a := testApp(t, 120, 40)
	tm := teatest.NewTestModel(t, a, teatest.WithInitialTermSize(120, 40),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	wait := func(text string) {
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
			teatest.WithDuration(10*time.Second))
	}
	wait("step 0/8")
	for range 3 {
		tm.Send(tea.KeyPressMsg{Code: tea.KeySpace, Text: " "})
	}
	wait("(scheduled 15") // three steps of 5 words: the renderer writes only what changed
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	final := tm.FinalModel(t).(*app)
	got := screen(final)
	golden(t, "program-120x40.golden", got)
	if strings.Contains(got, "\x1b[") {
		t.Fatal("escape codes in an ASCII screen")
	}
}
