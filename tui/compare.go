package tui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"parascope/engine/sample"
	"parascope/viz/termimg"
)

// comparison is a second trajectory run beside the first: the same
// prompt and seed in the other mode, or under the other rules (compared),
// stepped together.
type comparison struct {
	stepper Stepper
	frames  []sample.Frame
	judged  judged
}

// done reports whether the compared run is over, from its frames.
func (c *comparison) done() bool {
	return sample.Finished(c.frames[len(c.frames)-1], c.stepper.Steps())
}

type compareMsg struct {
	run  int
	a, b *sample.Frame
	err  error
}

// compared is the settings the comparison runs beside cfg: under the
// official rules, the same settings under Parascope's (guidance away,
// the text one global block, no second unconditional branch); under
// Parascope's, the other mode.
func compared(cfg sample.Config) sample.Config {
	if cfg.Rules == "" {
		cfg.Mode = otherMode(cfg.Mode)
		return cfg
	}
	cfg = cfg.UnderRules("")
	cfg.Text.Guidance, cfg.Image.Guidance = "", ""
	return cfg
}

// side names one side of a comparison: its mode, or its rules when the
// comparison is of rules.
func side(cfg sample.Config, rules bool) string {
	if !rules {
		return cfg.Mode
	}
	return rulesNames[cfg.Rules] + " rules"
}

func otherMode(m string) string {
	if m == sample.Parallel {
		return sample.Sequential
	}
	return sample.Parallel
}

// toggleCompare starts both runs afresh, or leaves the comparison.
func (a *app) toggleCompare() tea.Cmd {
	if a.cmp != nil {
		a.cmp = nil
		a.shown = min(a.shown, len(a.frames)-1) // the other run may have been longer
		a.setStatus("comparison closed")
		return tea.Batch(tea.ClearScreen, a.refreshImage())
	}
	if a.replaying() {
		a.setStatus("a replay has no model to compare with")
		return nil
	}
	rules := a.cfg.Rules != ""
	a.setStatus("comparing %s (left) with %s (right) on seed %d; c closes", side(a.cfg, rules), side(compared(a.cfg), rules), a.cfg.Seed)
	// The clear wipes a sixel or kitty picture the columns do not cover.
	return tea.Batch(a.start(a.cfg, a.prompt, a.truth, true), tea.ClearScreen)
}

// compareStepCmd steps both runs off the UI goroutine.
func (a *app) compareStepCmd() tea.Cmd {
	if a.busy || (a.mainDone() && a.cmp.done()) {
		return nil
	}
	a.busy = true
	s1, s2, run := a.stepper, a.cmp.stepper, a.run
	return func() tea.Msg {
		var msg compareMsg
		msg.run = run
		for _, s := range []Stepper{s1, s2} {
			if s.Done() {
				continue
			}
			f, err := s.Step(context.Background())
			if err != nil {
				msg.err = err
				return msg
			}
			if s == s1 {
				msg.a = &f
			} else {
				msg.b = &f
			}
		}
		return msg
	}
}

func (a *app) compareUpdate(msg compareMsg) {
	if msg.run != a.run || a.cmp == nil {
		return
	}
	a.busy = false
	if msg.err != nil {
		a.running = false
		a.fail(msg.err)
		return
	}
	if msg.a != nil {
		a.frames = append(a.frames, *msg.a)
	}
	if msg.b != nil {
		a.cmp.frames = append(a.cmp.frames, *msg.b)
	}
	a.shown = max(len(a.frames), len(a.cmp.frames)) - 1
}

// compareLayout places the runs' pictures side by side under their
// labels, each as large as leaves its text below the lines it needs;
// half is the width of a column.
func (a *app) compareLayout() (half int, left, right termimg.Cells) {
	half = (a.width - 3) / 2
	top := 4
	cols, rows := a.fit(half, a.bottom()-top-a.reasoningLines(half))
	left = termimg.Cells{Left: 1, Top: top, Cols: cols, Rows: rows}
	right = termimg.Cells{Left: half + 3, Top: top, Cols: cols, Rows: rows}
	return half, left, right
}

// compareView draws the two runs in two columns.
func (a *app) compareView(lines []string) {
	half, leftPic, rightPic := a.compareLayout()
	col := func(frames []sample.Frame, mode string, at termimg.Cells) []string {
		f := frames[min(a.shown, len(frames)-1)]
		label := fmt.Sprintf("%s · step %d · text %d/%d · image %d/%d", mode, f.Step, f.Text.Actual, f.Text.Total, f.Image.Actual, f.Image.Total)
		if v, ok := alignment(f); ok {
			label += fmt.Sprintf(" · align %+.3f", v)
		}
		out := []string{labelStyle.Render(label)}
		out = append(out, a.pictureRows(a.picture(f), at)...)
		if _, ok := f.TextPieces(a.o.Vocab); ok {
			text, _ := a.reasoning(f, half)
			out = append(out, text...)
		} else {
			out = append(out, wrap(strings.Fields(f.MaskedText(a.o.Vocab, "···")), half)...)
		}
		return out
	}
	rules := a.runCfg.Rules != ""
	left, right := col(a.frames, side(a.runCfg, rules), leftPic), col(a.cmp.frames, side(compared(a.runCfg), rules), rightPic)
	for i := 0; 3+i < a.height-3; i++ {
		l, r := "", ""
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		lines[3+i] = overlay(" "+l, half+1, "│ "+r, half+2)
	}
}

// wrap joins words into lines at most width wide.
func wrap(words []string, width int) []string {
	var out []string
	line := ""
	for _, w := range words {
		if line != "" && len([]rune(line))+1+len([]rune(w)) > width {
			out = append(out, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}
