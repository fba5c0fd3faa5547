package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"parascope/engine/sample"
	"parascope/engine/world"
)

// The fork tree: every fork is kept as a branch of the run it was forked
// from, and any branch can be shown again, where it was left. A new run
// (a seed, a mode, a rerun, an edited prompt, a comparison) starts a new
// tree.

// branch is one run of the tree, as it was when last shown.
type branch struct {
	parent, at int // the branch it was forked from (-1 for the root), at which step
	cfg        sample.Config
	prompt     sample.Prompt
	truth      *world.Case
	model      string
	stepper    Stepper
	frames     []sample.Frame
	total      int
	shown      int
	judged     judged
}

// current is the shown run as a branch.
func (a *app) current() branch {
	b := a.branches[a.branch]
	b.cfg, b.prompt, b.truth, b.model = a.runCfg, a.prompt, a.truth, a.model
	b.stepper, b.frames, b.total, b.shown, b.judged = a.stepper, a.frames, a.total, a.shown, a.judged
	return b
}

// show makes branch i the shown run.
func (a *app) showBranch(i int) {
	a.branches[a.branch] = a.current()
	b := a.branches[i]
	a.branch = i
	a.runCfg, a.prompt, a.truth, a.model = b.cfg, b.prompt, b.truth, b.model
	a.stepper, a.frames, a.total, a.shown, a.judged = b.stepper, b.frames, b.total, b.shown, b.judged
	a.cfg = b.cfg // the panel starts from the branch's own knobs
}

// grow records a new run in the tree: a fork of the shown branch at
// step at, or with at < 0 the root of a new tree. The app's run fields
// already hold the new run.
func (a *app) grow(at int) {
	if at < 0 || len(a.branches) == 0 {
		a.branches, a.branch = []branch{{parent: -1}}, 0
		a.branches[0] = a.current()
		return
	}
	parent := a.branch
	a.branches = append(a.branches, branch{parent: parent, at: at})
	a.branch = len(a.branches) - 1
	a.branches[a.branch] = a.current()
}

// switchBranch shows the next (dir 1) or previous (dir -1) branch.
func (a *app) switchBranch(dir int) tea.Cmd {
	switch {
	case len(a.branches) < 2:
		a.setStatus("one run, no forks: %s forks at the shown step with the panel's knobs", a.keys.Fork.Help().Key)
		return nil
	case a.busy:
		a.setStatus("a step is under way: switch when it lands")
		return nil
	}
	a.running, a.queued = false, 0
	a.run++ // a tick of the run left behind does nothing
	a.showBranch((a.branch + dir + len(a.branches)) % len(a.branches))
	a.setStatus("showing %s", a.branchName(a.branch))
	return a.refreshImage()
}

// branchName says what a branch is: the first run, or a fork at a step
// with the knobs it changed from its parent's.
func (a *app) branchName(i int) string {
	b := a.branches[i]
	if b.parent < 0 {
		return "the first run (0)"
	}
	return fmt.Sprintf("fork %d, from %d at step %d (%s)", i, b.parent, b.at, knobDiff(a.knobs, a.branches[b.parent].cfg, b.cfg))
}

// knobDiff lists the knobs whose values differ between two settings.
func knobDiff(knobs []knob, from, to sample.Config) string {
	var out []string
	for _, k := range knobs {
		if k.show(from) != k.show(to) {
			out = append(out, k.name+" "+k.show(to))
		}
	}
	if len(out) == 0 {
		return "same knobs"
	}
	return strings.Join(out, ", ")
}

// branchLine lists the tree under the prompt, a fork as N←PARENT@STEP,
// the shown branch in brackets.
func (a *app) branchLine() string {
	if len(a.branches) < 2 {
		return ""
	}
	parts := make([]string, len(a.branches))
	for i, b := range a.branches {
		parts[i] = "0"
		if b.parent >= 0 {
			parts[i] = fmt.Sprintf("%d←%d@%d", i, b.parent, b.at)
		}
		if i == a.branch {
			parts[i] = focusStyle.Render("[" + parts[i] + "]")
		}
	}
	return labelStyle.Render(fmt.Sprintf("branches (%s %s):", a.keys.NextBranch.Help().Key, a.keys.PrevBranch.Help().Key)) + " " + strings.Join(parts, " ")
}
