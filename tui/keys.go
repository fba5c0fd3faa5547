package tui

import (
	"charm.land/bubbles/v2/key"
)

// keyMap is every key the viewer answers to, in one place. The view's
// keys work on the trajectory; the knob panel's, the edit field's and the
// job form's take over while each has the focus. sync enables only the
// bindings the state leaves live, so key.Matches answers to those alone
// and the footer and the ? overlay (ShortHelp and FullHelp) show them.
type keyMap struct {
	focus  focus
	replay bool // a replay: the keys that need a model leave the footer
	demo   bool // talk mode: the footer shows the show's keys
	// compareRules: c compares the official rules with Parascope's, not
	// the modes.
	compareRules bool

	// The trajectory.
	Step, Run, Faster, Slower   key.Binding
	Back, Forward, First, Last  key.Binding
	Guesses, Colour, Truth      key.Binding
	Decode                      key.Binding
	Inspect, PickPrev, PickNext key.Binding
	Panel, Rerun, Fork          key.Binding
	NextBranch, PrevBranch      key.Binding
	NextCase, PrevCase          key.Binding
	Seed, Mode, Edit, Export    key.Binding
	Compare                     key.Binding
	SFT, ParaRL, Switch         key.Binding
	Help, Quit                  key.Binding

	// The knob panel, while it has the focus.
	KnobUp, KnobDown, KnobLess, KnobMore, KnobType key.Binding

	// The prompt's edit field.
	EditRun, EditCancel, EditErase, EditClear key.Binding

	// The SFT job's form.
	FormKindPrev, FormKindNext, FormMore, FormLess, FormStart, FormClose key.Binding
}

// focus is what has the keys.
type focus int

const (
	focusView focus = iota
	focusPanel
	focusEdit
	focusForm
)

func newKeyMap() keyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return keyMap{
		Step:       b("space", "step", "space"),
		Run:        b("enter", "run/pause", "enter"),
		Faster:     b("+", "faster", "+", "="),
		Slower:     b("-", "slower", "-"),
		Back:       b("←", "back", "left"),
		Forward:    b("→", "forward", "right"),
		First:      b("home", "first step", "home"),
		Last:       b("end", "last step", "end"),
		Guesses:    b("g", "guesses", "g"),
		Colour:     b("v", "colour", "v"),
		Truth:      b("t", "answer", "t"),
		Decode:     b("d", "exact picture", "d"),
		Inspect:    b("i", "inspect", "i"),
		PickPrev:   b("[", "previous", "["),
		PickNext:   b("]", "next", "]"),
		Panel:      b("tab", "knobs", "tab", "shift+tab"),
		Rerun:      b("r", "rerun", "r"),
		Fork:       b("f", "fork", "f"),
		NextBranch: b("b", "next branch", "b"),
		NextCase:   b("pgdn", "next case", "pgdown", "."),
		PrevCase:   b("pgup", "previous case", "pgup", ","),
		PrevBranch: b("B", "previous branch", "B"),
		Seed:       b("n", "seed", "n"),
		Mode:       b("m", "mode", "m"),
		Edit:       b("e", "edit", "e"),
		Export:     b("x", "export", "x"),
		Compare:    b("c", "compare", "c"),
		SFT:        b("s", "SFT job", "s"),
		ParaRL:     b("p", "ParaRL job", "p"),
		Switch:     b("y", "switch model", "y"),
		Help:       b("?", "help", "?"),
		Quit:       b("q", "quit", "q", "ctrl+c"),

		KnobUp:   b("↑", "previous knob", "up", "k"),
		KnobDown: b("↓", "next knob", "down", "j"),
		KnobLess: b("←", "less", "left", "h"),
		KnobMore: b("→", "more", "right", "l"),
		KnobType: b("enter", "type a value", "enter"),

		EditRun:    b("enter", "run it", "enter"),
		EditCancel: b("esc", "cancel", "esc"),
		EditErase:  b("backspace", "erase", "backspace"),
		EditClear:  b("ctrl+u", "clear", "ctrl+u"),

		FormKindPrev: b("←", "previous kind", "left", "h"),
		FormKindNext: b("→", "next kind", "right", "l"),
		FormMore:     b("↑", "more steps", "up", "+", "="),
		FormLess:     b("↓", "fewer steps", "down", "-"),
		FormStart:    b("enter", "start", "enter"),
		FormClose:    b("esc", "close", "esc"),
	}
}

// sync enables the bindings the app's state leaves live.
func (k *keyMap) sync(a *app) {
	k.focus = focusView
	switch {
	case a.editing:
		k.focus = focusEdit
	case a.form.open:
		k.focus = focusForm
	case a.panel:
		k.focus = focusPanel
	}
	view := k.focus == focusView || k.focus == focusPanel
	for _, b := range []*key.Binding{&k.Step, &k.Run, &k.Faster, &k.Slower, &k.Back, &k.Forward, &k.First, &k.Last,
		&k.Guesses, &k.Colour, &k.Truth, &k.Decode, &k.Inspect, &k.PickPrev, &k.PickNext, &k.Panel, &k.Rerun, &k.Fork, &k.NextBranch, &k.PrevBranch, &k.NextCase, &k.PrevCase, &k.Seed, &k.Mode, &k.Edit, &k.Export, &k.Compare,
		&k.SFT, &k.ParaRL, &k.Switch, &k.Help, &k.Quit} {
		b.SetEnabled(view)
	}
	k.NextCase.SetEnabled(view && a.o.CaseAt != nil && !a.replaying())
	k.PrevCase.SetEnabled(view && a.o.CaseAt != nil && !a.replaying())
	// Only an image tokenizer that can decode a partial grid exactly.
	k.Decode.SetEnabled(view && a.canDecodeExactly())
	k.PickPrev.SetEnabled(view && a.inspecting)
	k.PickNext.SetEnabled(view && a.inspecting)
	// The panel takes ← and → to change its knob.
	k.Back.SetEnabled(k.focus == focusView)
	k.Forward.SetEnabled(k.focus == focusView)
	// The panel's enter types a value.
	k.Run.SetEnabled(k.focus == focusView)
	k.replay, k.demo = a.replaying(), a.o.Demo
	// Under the official rules, c compares with Parascope's.
	k.compareRules = a.cfg.Rules != ""
	// enter sets a typed knob, or runs an edited prompt.
	k.EditRun.SetHelp("enter", map[bool]string{true: "set it", false: "run it"}[a.typingKnob])
	// A replay can be watched and scrubbed, not run, forked, edited or
	// exported again;
	// its other keys say why they do nothing.
	if a.replaying() {
		k.Run.SetEnabled(false)
		k.Fork.SetEnabled(false)
		k.Edit.SetEnabled(false)
		k.Export.SetEnabled(false)
	}
	// y answers even with nothing to switch to, to say so.
	for _, b := range []*key.Binding{&k.KnobUp, &k.KnobDown, &k.KnobLess, &k.KnobMore, &k.KnobType} {
		b.SetEnabled(k.focus == focusPanel)
	}
	for _, b := range []*key.Binding{&k.EditRun, &k.EditCancel, &k.EditErase, &k.EditClear} {
		b.SetEnabled(k.focus == focusEdit)
	}
	for _, b := range []*key.Binding{&k.FormKindPrev, &k.FormKindNext, &k.FormMore, &k.FormLess, &k.FormStart, &k.FormClose} {
		b.SetEnabled(k.focus == focusForm)
	}
}

// Pairs of keys that help shows as one entry.
func (k keyMap) scrub() key.Binding  { return join("←/→", "scrub", k.Back, k.Forward) }
func (k keyMap) pick() key.Binding   { return join("↑↓", "pick", k.KnobUp, k.KnobDown) }
func (k keyMap) change() key.Binding { return join("←→", "change", k.KnobLess, k.KnobMore) }

// ShortHelp is the footer: the keys live now.
func (k keyMap) ShortHelp() []key.Binding {
	switch k.focus {
	case focusEdit:
		return []key.Binding{k.EditRun, k.EditCancel}
	case focusForm:
		return []key.Binding{join("←/→", "edit kind", k.FormKindPrev, k.FormKindNext),
			join("↑/↓", "steps", k.FormMore, k.FormLess), k.FormStart, k.FormClose}
	}
	switch {
	case k.replay:
		return []key.Binding{k.Step, k.scrub(), k.First, k.Last, k.Guesses, k.Colour, k.Decode, k.Inspect, k.Truth, k.Help, k.Quit}
	case k.demo:
		return []key.Binding{k.Run, join("+/-", "pace", k.Faster, k.Slower), join("pgdn/pgup", "case", k.NextCase, k.PrevCase),
			k.scrub(), k.Truth, k.Help, k.Quit}
	}
	return []key.Binding{k.pick(), k.change(), k.KnobType, k.Step, k.Run, k.scrub(), k.Guesses, k.Colour, k.Decode, k.Fork, k.Seed, k.Mode,
		k.Edit, k.Export, k.Panel, k.Help, k.Quit}
}

// FullHelp is the ? overlay: every live key, a sentence each.
func (k keyMap) FullHelp() [][]key.Binding {
	switch k.focus {
	case focusEdit:
		return [][]key.Binding{{long(k.EditRun, "start a new run with the text"), long(k.EditCancel, "leave the text as it was"),
			long(k.EditErase, "erase the last letter"), long(k.EditClear, "clear the field")}}
	case focusForm:
		return [][]key.Binding{{join("← →", "the edit kind to train on", k.FormKindPrev, k.FormKindNext),
			join("↑ ↓", "a hundred steps more or fewer", k.FormMore, k.FormLess),
			long(k.FormStart, "start the job"), long(k.FormClose, "close the form")}}
	}
	return [][]key.Binding{
		{
			long(k.Step, "one step (or forward through history)"),
			long(k.Run, "run / pause"),
			join("+ -", "faster / slower while running", k.Faster, k.Slower),
			join("← →", "scrub through the steps", k.Back, k.Forward),
			join("home/end", "the first / the last step", k.First, k.Last),
			join("↑ ↓", "pick a knob on the panel", k.KnobUp, k.KnobDown),
			join("← →", "change the knob", k.KnobLess, k.KnobMore),
			long(k.KnobType, "type the knob's value"),
		},
		{
			long(k.Guesses, "show the model's guesses in masked patches"),
			long(k.Colour, "colour words by their probability instead of age"),
			long(k.Decode, "decode the shown step's partial picture exactly (a preview until then)"),
			long(k.Truth, "show the case's answer (its reasoning and picture)"),
			long(k.Inspect, "inspect a word or patch: its reveal, probability and candidates"),
			join("[ ]", "the previous / next word or patch (or click one)", k.PickPrev, k.PickNext),
			long(k.Compare, map[bool]string{false: "compare with the other mode, side by side", true: "compare with Parascope's rules (other rules), side by side"}[k.compareRules]),
		},
		{
			long(k.Fork, "fork at the shown step with the panel's knobs (kept as a branch)"),
			join("b B", "show the next / previous branch of the fork tree", k.NextBranch, k.PrevBranch),
			join("pgdn pgup", "the next / previous case (also . and ,)", k.NextCase, k.PrevCase),
			long(k.Rerun, "rerun from the start with the knobs"),
			long(k.Seed, "new seed"),
			long(k.Mode, "parallel ↔ sequential"),
			long(k.Edit, "edit the prompt or instruction"),
			long(k.Export, "export trace, GIF and strip"),
		},
		{
			long(k.SFT, "an SFT job on the live model ("+k.SFT.Help().Key+" again cancels)"),
			long(k.ParaRL, "a ParaRL job on the live model ("+k.ParaRL.Help().Key+" again cancels)"),
			long(k.Switch, "switch the sampler to a finished job's model"),
		},
		{
			long(k.Panel, "the knob panel"),
			long(k.Quit, "quit"),
		},
	}
}

// long is b with a sentence for its help instead of a word.
func long(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}

// join shows several bindings as one entry of help, live while any is.
func join(keys, desc string, bs ...key.Binding) key.Binding {
	var all []string
	live := false
	for _, b := range bs {
		all = append(all, b.Keys()...)
		live = live || b.Enabled()
	}
	j := key.NewBinding(key.WithKeys(all...), key.WithHelp(keys, desc))
	j.SetEnabled(live)
	return j
}

// helpText is a binding's key and word, as the footer shows them.
func helpText(b key.Binding) string { return b.Help().Key + " " + b.Help().Desc }
