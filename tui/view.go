package tui

import (
	"fmt"
	"image"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"parascope/engine/sample"
	"parascope/engine/world"
	"parascope/viz"
)

// layout places the picture: a rectangle of cells, kept a few rows clear
// of the bottom so an image never touches the last row.
type layout struct {
	imgTop, imgLeft, imgRows, imgCols int
	textLeft, textWidth               int
	panelWidth                        int
}

func (a *app) layout() layout {
	l := layout{imgTop: 3, imgLeft: 1}
	l.imgRows = min(max(a.height-13, 4), 24)
	if a.width >= 110 {
		l.panelWidth = 30
	}
	// The text needs 30 columns at least.
	for l.imgRows > 4 && 2*l.imgRows+l.imgLeft+3+30+l.panelWidth > a.width {
		l.imgRows--
	}
	l.imgCols = 2 * l.imgRows
	l.textLeft = l.imgLeft + l.imgCols + 3
	l.textWidth = max(a.width-l.textLeft-l.panelWidth-1, 10)
	return l
}

func (a *app) View() tea.View {
	v := tea.NewView(a.render())
	v.AltScreen = true
	v.WindowTitle = "parascope"
	return v
}

// render draws the whole screen as text.
func (a *app) render() string {
	l := a.layout()
	f := a.frames[min(a.shown, len(a.frames)-1)]
	lines := make([]string, a.height)
	lines[0] = headerStyle.Width(a.width).Render(truncate(a.header(f), a.width))
	task := "prompt"
	if a.prompt.Task == world.ThinkEdit {
		task = "instruction"
	}
	if a.editing {
		lines[1] = focusStyle.Render(" " + task + ": " + string(a.edit) + "█")
	} else {
		lines[1] = " " + labelStyle.Render(task+":") + " " + truncate(a.prompt.Instruction, a.width-len(task)-4)
	}

	if a.cmp != nil {
		a.compareView(lines)
		return a.finish(lines, l)
	}
	// The picture: a text protocol's lines, or a blank rectangle a raw
	// protocol's bytes are drawn into.
	rows := a.pictureRows(a.picture(f), l)
	right := a.textPanel(f, l)
	for r := range l.imgRows + 1 {
		y := l.imgTop + r
		if y >= a.height-3-len(a.plots(l)) {
			break
		}
		left := strings.Repeat(" ", l.imgCols)
		if r < len(rows) {
			left = rows[r]
		}
		text := ""
		if r < len(right) {
			text = right[r]
		}
		lines[y] = " " + left + " │ " + text
	}
	if l.panelWidth > 0 || a.panel {
		a.drawPanel(lines, l)
	}
	return a.finish(lines, l)
}

// finish adds the plots, status and footer lines and joins the screen.
func (a *app) finish(lines []string, l layout) string {
	plots := a.plots(l)
	base := a.height - 2 - len(plots)
	for i, p := range plots {
		if y := base + i; y > 1 && y < a.height-2 {
			lines[y] = " " + p
		}
	}
	switch {
	case a.form.open:
		lines[a.height-2] = " " + focusStyle.Render(truncate(a.formLine(), a.width-2))
	case a.job != nil && a.err == nil:
		lines[a.height-2] = " " + statusStyle.Render(truncate(a.jobLine(), a.width-2))
	case a.err != nil:
		lines[a.height-2] = " " + errorStyle.Render(truncate(a.err.Error(), a.width-2))
	case a.status != "":
		lines[a.height-2] = " " + statusStyle.Render(truncate(a.status, a.width-2))
	}
	lines[a.height-1] = footerStyle.Render(truncate(a.footer(), a.width))
	if a.help.ShowAll {
		a.drawHelp(lines)
	}
	for i, line := range lines {
		lines[i] = ansi.Truncate(line, a.width, "")
	}
	return strings.Join(lines, "\n")
}

func (a *app) header(f sample.Frame) string {
	state := "paused"
	switch {
	case a.replaying():
		state = "replay"
	case a.running:
		state = "running"
	case a.done():
		state = "done"
	}
	c := a.cfg
	return fmt.Sprintf(" step %d/%d %s │ %s │ %s │ %s │ text %s B=%d │ image %s │ seed %d │ parascope",
		f.Step, a.total, state, a.model, a.prompt.Task, c.Mode, c.Text.Schedule, c.Text.Block, c.Image.Schedule, c.Seed)
}

// footer is the live keys, as many as fit.
func (a *app) footer() string {
	lead := " "
	if a.editing {
		lead = " type the new text · "
	}
	h := a.help
	h.SetWidth(a.width - ansi.StringWidth(lead))
	return lead + h.ShortHelpView(a.keys.ShortHelp())
}

// picture is the shown frame's image.
func (a *app) picture(f sample.Frame) image.Image {
	img, err := viz.Picture(f, a.o.Vocab, a.o.Codebook, a.guesses)
	if err != nil {
		return image.NewRGBA(image.Rect(0, 0, world.Canvas, world.Canvas))
	}
	return img
}

// blockProfile draws in the terminal's colours, or in shades when there
// are none.
func (a *app) blockProfile() viz.ColorProfile { return a.profile }

// placeholderRow keeps the image's cells blank, each row with different
// text (an invisible letter) so the renderer never takes two rows for the
// same and scrolls them.
func placeholderRow(r, cols int) string {
	mark := string(rune('a' + r%26))
	return lipgloss.NewStyle().Foreground(lipgloss.Color("#000000")).Background(lipgloss.Color("#000000")).Render(mark + strings.Repeat(" ", cols-1))
}

// textPanel wraps the reasoning: masked positions dim, revealed words
// coloured by age (or confidence), this step's words highlighted.
func (a *app) textPanel(f sample.Frame, l layout) []string {
	var out []string
	if a.o.Input != nil && a.prompt.Task == world.ThinkEdit && l.imgRows >= 16 {
		in := viz.HalfBlocks(world.Render(*a.o.Input), 16, 8, a.blockProfile())
		out = append(out, labelStyle.Render("input"))
		out = append(out, in...)
		out = append(out, "")
	}
	out = append(out, labelStyle.Render(fmt.Sprintf("reasoning  %d/%d revealed", f.Text.Actual, f.Text.Total)))
	var line []string
	width := 0
	flush := func() {
		out = append(out, strings.Join(line, " "))
		line, width = nil, 0
	}
	v := a.o.Vocab
	for i, id := range f.TextTokens(v) {
		if v.IsEnd(int(id)) {
			break // the text ends here; what follows is padding
		}
		o := v.ImageLen() + i
		var word, styled string
		switch {
		case int(id) == v.MaskID():
			word = "···"
			styled = maskStyle.Render(word)
		default:
			word = v.Name(int(id))
			at := int(f.RevealedAt[o])
			st := lipgloss.NewStyle()
			switch {
			case at == f.Step:
				st = newStyle
			case a.byConfidence:
				st = st.Foreground(confidenceColour(float64(f.Confidence[o])))
			default:
				st = st.Foreground(ageColour(float64(f.Step-at) / float64(max(a.total, 1))))
			}
			styled = st.Render(word)
		}
		if width+len([]rune(word))+1 > l.textWidth && len(line) > 0 {
			flush()
		}
		line = append(line, styled)
		width += len([]rune(word)) + 1
	}
	if len(line) > 0 {
		flush()
	}
	return out
}

// plots are sparklines of the revealed share per modality, scheduled and
// actual, up to the shown step.
func (a *app) plots(l layout) []string {
	w := max(min(a.total+1, a.width-40), 4)
	line := func(name string, get func(sample.Frame) (int, int, int)) string {
		var b strings.Builder
		for k := range w {
			i := k * (len(a.frames) - 1) / max(w-1, 1)
			if a.total+1 >= w {
				i = k
			}
			if i >= len(a.frames) || i > a.shown {
				b.WriteString(" ")
				continue
			}
			v, _, total := get(a.frames[i])
			b.WriteRune(sparkRune(float64(v) / float64(max(total, 1))))
		}
		v, sched, total := get(a.frames[min(a.shown, len(a.frames)-1)])
		return fmt.Sprintf("%s %s %3d/%d (scheduled %d)", labelStyle.Render(fmt.Sprintf("%-15s", name)), b.String(), v, total, sched)
	}
	return []string{
		line("text revealed", func(f sample.Frame) (int, int, int) { return f.Text.Actual, f.Text.Target, f.Text.Total }),
		line("image revealed", func(f sample.Frame) (int, int, int) { return f.Image.Actual, f.Image.Target, f.Image.Total }),
		a.alignmentLine(w),
	}
}

// alignmentLine plots the CLIP score of each step's partial output.
func (a *app) alignmentLine(w int) string {
	label := labelStyle.Render(fmt.Sprintf("%-15s", "alignment"))
	cur := a.frames[min(a.shown, len(a.frames)-1)].Alignment
	if cur == nil {
		return label + " (no CLIP scorer: set clip in the config, or embed one)"
	}
	var b strings.Builder
	for k := range w {
		i := k * (len(a.frames) - 1) / max(w-1, 1)
		if a.total+1 >= w {
			i = k
		}
		if i >= len(a.frames) || i > a.shown || a.frames[i].Alignment == nil {
			b.WriteString(" ")
			continue
		}
		b.WriteRune(sparkRune((*a.frames[i].Alignment + 1) / 2)) // cosine in [−1, 1]
	}
	return fmt.Sprintf("%s %s %+.3f", label, b.String(), *cur)
}

func sparkRune(v float64) rune {
	bars := []rune("▁▂▃▄▅▆▇█")
	return bars[min(int(v*float64(len(bars)-1)+0.5), len(bars)-1)]
}

func (a *app) drawPanel(lines []string, l layout) {
	w := l.panelWidth
	if w == 0 {
		w = 30
	}
	x := a.width - w
	k := a.keys
	title := "knobs (" + k.Panel.Help().Key + ")"
	if a.panel {
		title = fmt.Sprintf("knobs: %s, %s; %s, %s", helpText(k.pick()), helpText(k.change()), helpText(k.Rerun), helpText(k.Fork))
	}
	put := func(y int, s string) {
		if y < a.height-2 {
			lines[y] = overlay(lines[y], x, s, w)
		}
	}
	put(l.imgTop, labelStyle.Render(truncate(title, w)))
	for i, k := range knobs {
		s := fmt.Sprintf("%-19s %s", k.name, k.show(a.cfg))
		if a.panel && i == a.knob {
			s = focusStyle.Render("▸" + truncate(s, w-1))
		} else {
			s = " " + truncate(s, w-1)
		}
		put(l.imgTop+1+i, s)
	}
}

// drawHelp lays the live keys over the picture, one a line.
func (a *app) drawHelp(lines []string) {
	var all []key.Binding
	for _, group := range a.keys.FullHelp() {
		all = append(all, group...)
	}
	for i, h := range strings.Split(a.help.FullHelpView([][]key.Binding{all}), "\n") {
		if y := 3 + i; y < a.height-2 {
			lines[y] = overlay(lines[y], 4, focusStyle.Render(" "+h+" "), 60)
		}
	}
}

// overlay writes s over line from column x, keeping what is left of x.
func overlay(line string, x int, s string, w int) string {
	left := ansi.Truncate(line, x, "")
	if pad := x - ansi.StringWidth(left); pad > 0 {
		left += strings.Repeat(" ", pad)
	}
	return left + ansi.Truncate(s, w, "")
}

func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
