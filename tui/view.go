package tui

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"parascope/engine/sample"
	"parascope/engine/world"
	"parascope/viz"
	"parascope/viz/termimg"
)

// layout places the picture, a rectangle of cells as large as the room
// allows, and the text column beside it, with an edit's input picture at
// its top.
type layout struct {
	imgTop, imgLeft, imgRows, imgCols int
	textLeft, textWidth, textRows     int
	panelWidth                        int
	input                             termimg.Cells // the input picture of an edit; no rows when not shown
}

// textMin is the fewest columns the text beside the picture gets.
const textMin = 30

func (a *app) layout() layout {
	l := layout{imgTop: 3, imgLeft: 1}
	// The inspector takes the room of the knobs, and so does the picture
	// in talk mode.
	if a.width >= 110 && !a.inspecting && !a.o.Demo {
		l.panelWidth = panelWidth()
	}
	l.textRows = max(a.bottom()-l.imgTop, 0)
	// A line is " ", the picture, " │ ", the text, a space, the panel.
	l.imgCols, l.imgRows = a.fit(a.width-l.imgLeft-3-textMin-1-l.panelWidth, l.textRows)
	l.textLeft = l.imgLeft + l.imgCols + 3
	l.textWidth = max(a.width-l.textLeft-l.panelWidth-1, 10)
	// The inspector and the answer need the room more than the input.
	if a.inputPicture() != nil && a.prompt.Task == world.ThinkEdit && !a.inspecting && !a.showTruth {
		// Under its label, at most half the picture, leaving the
		// reasoning below it the rows it needs, and left of where the
		// panel opens over the text on a narrow screen.
		// Rows for the input's label and a blank, the reasoning's label
		// and legend, and a verdict with its blank.
		room := l.textRows - 2 - 2 - a.reasoningLines(l.textWidth) - 2
		cols := min(l.textWidth, l.imgCols/2, a.width-panelWidth()-1-l.textLeft)
		cols, rows := a.fit(cols, min(room, l.imgRows/2))
		if a.raw() || rows >= 8 { // half-blocks under 16 pixels tall are too coarse
			l.input = termimg.Cells{Left: l.textLeft, Top: l.imgTop + 1, Cols: cols, Rows: rows}
		}
	}
	return l
}

// picture is the rectangle of the picture.
func (l layout) picture() termimg.Cells {
	return termimg.Cells{Left: l.imgLeft, Top: l.imgTop, Cols: l.imgCols, Rows: l.imgRows}
}

// bottom is the row below the pictures and text: a spare row, since an
// image touching the last row scrolls the screen, then the plots, the
// status line and the footer.
func (a *app) bottom() int { return a.height - 3 - len(a.plots(layout{})) }

// reasoningLines is about how many lines the reasoning takes wrapped at
// width: ShapeWorld's words are six letters or fewer, seven columns with
// their space; a published model's pieces average about four.
func (a *app) reasoningLines(width int) int {
	v := a.o.Vocab
	cols := 7
	if _, pieced := v.(pieceVocabulary); pieced {
		cols = 4
	}
	perLine := max((width+1)/cols, 1)
	return (v.ReasoningLen() + perLine - 1) / perLine
}

func (a *app) View() tea.View {
	// The styles are the process's; another viewer (served over SSH) may
	// have set its own since this one last drew.
	styleMu.Lock()
	a.theme.use()
	text := a.render()
	styleMu.Unlock()
	v := tea.NewView(text)
	v.AltScreen = true
	if a.inspecting {
		// Clicks pick what to inspect; only then, so that otherwise the
		// terminal's own selection works.
		v.MouseMode = tea.MouseModeCellMotion
	}
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
	if a.typingKnob {
		task = a.knobs[a.knob].name
	}
	if a.editing {
		lines[1] = focusStyle.Render(" " + task + ": " + string(a.edit) + "█")
	} else {
		lines[1] = " " + labelStyle.Render(task+":") + " " + truncate(a.prompt.Instruction, a.width-len(task)-4)
	}

	if b := a.branchLine(); b != "" {
		lines[2] = " " + ansi.Truncate(b, a.width-2, "…")
	}
	if a.cmp != nil {
		a.compareView(lines)
		return a.finish(lines, l)
	}
	// The picture: a text protocol's lines, or a blank rectangle a raw
	// protocol's bytes are drawn into.
	rows := a.pictureRows(a.picture(f), l.picture())
	right := a.textPanel(f, l)
	for y, bottom := l.imgTop, a.bottom(); y < bottom; y++ {
		r := y - l.imgTop
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
	// A running job has the row above the plots, so the status row stays
	// free for what the keys say meanwhile.
	if a.job != nil && base > 2 {
		lines[base-1] = " " + statusStyle.Render(truncate(a.jobLine(), a.width-2))
	}
	switch {
	case a.form.open:
		lines[a.height-2] = " " + focusStyle.Render(truncate(a.formLine(), a.width-2))
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
	steps := fmt.Sprintf("%d/%d", f.Step, a.total)
	if a.cmp != nil {
		r := a.cmp.frames[min(a.shown, len(a.cmp.frames)-1)]
		steps += fmt.Sprintf(" (right %d/%d)", r.Step, a.cmp.stepper.Steps())
	}
	c := a.runCfg
	if a.o.Demo {
		state += " · talk mode"
	}
	guesses := ""
	if c.Rules != "" {
		guesses = " │ rules " + c.Rules
	}
	if a.guesses {
		guesses += " │ guesses shown"
	}
	return fmt.Sprintf(" step %s %s │ %s │ %s │ %s │ text %s B=%d │ image %s │ seed %d%s │ parascope",
		steps, state, shortModel(a.model), a.prompt.Task, c.Mode, c.Text.Schedule, c.Text.Block, c.Image.Schedule, c.Seed, guesses)
}

// shortModel names a model for the header: a run's model by its run's
// folder, which says what it is, rather than the whole path; a published
// model by its folder's name.
func shortModel(m string) string {
	if filepath.Base(m) == "model.safetensors" {
		return filepath.Base(filepath.Dir(m))
	}
	if strings.ContainsRune(m, filepath.Separator) {
		return filepath.Base(m) // a published model's folder, by its name
	}
	return m
}

// footer is the live keys, as many as fit.
func (a *app) footer() string {
	lead := " "
	switch {
	case a.typingKnob:
		lead = " type the value · "
	case a.editing:
		lead = " type the new text · "
	}
	return lead + fitKeys(a.help, a.keys.ShortHelp(), a.width-ansi.StringWidth(lead))
}

// fitKeys shows as many keys as fit in width, in their order, but always
// the last two (help and quit, in the view), so the way to every other key
// is never cut off.
func fitKeys(h help.Model, keys []key.Binding, width int) string {
	h.SetWidth(0)
	keep := min(2, len(keys))
	for n := len(keys) - keep; ; n-- {
		shown := append(keys[:n:n], keys[len(keys)-keep:]...)
		if line := h.ShortHelpView(shown); n == 0 || ansi.StringWidth(line) <= width {
			return line
		}
	}
}

// picture is the shown frame's image.
func (a *app) picture(f sample.Frame) image.Image {
	if img := a.exactFor(f); img != nil {
		a.outline(img)
		return img
	}
	img, err := viz.Picture(f, a.o.Vocab, a.o.Codebook, a.guesses)
	if err != nil {
		return image.NewRGBA(image.Rect(0, 0, world.Canvas, world.Canvas))
	}
	a.outline(img)
	return img
}

// blockProfile draws in the terminal's colours, or in shades when there
// are none.
func (a *app) blockProfile() viz.ColorProfile { return a.profile }

// placeholderRow keeps a raw picture's cells on screen row y blank but
// for two hidden letters, in its first and last cell, which tell it from
// every other row: the renderer takes rows of the same text for the same
// row and may scroll them, cutting the picture. The last one also keeps
// the row from ending in blanks, which the renderer may erase to the end
// of the line from inside the picture. The letters are concealed (SGR 8)
// and, since some terminals (kitty) ignore that, written in the
// terminal's background colour bg when known; not on a background of
// their own, so that what the picture leaves of its last row and column
// looks like the rest of the screen.
func placeholderRow(y, cols int, bg color.Color) string {
	if cols <= 0 {
		return ""
	}
	row := []byte(strings.Repeat(" ", cols))
	row[0] = byte('a' + y/26%26)
	row[cols-1] = byte('a' + y%26)
	st := lipgloss.NewStyle()
	if bg != nil {
		st = st.Foreground(bg)
	}
	return "\x1b[8m" + st.Render(string(row)) + "\x1b[28m"
}

// textPanel wraps the reasoning: masked positions dim, revealed words
// coloured by age (or confidence), this step's words highlighted.
func (a *app) textPanel(f sample.Frame, l layout) []string {
	out := a.textHead(f, l)
	words, _ := a.reasoning(f, l.textWidth)
	out = append(out, words...)
	if v := a.verdict(a.frames, a.total, &a.judged); v != "" {
		out = append(out, "")
		out = append(out, strings.Split(ansi.Wordwrap(v, l.textWidth, ""), "\n")...)
	}
	if a.inspecting {
		out = append(out, "")
		out = append(out, a.inspectLines(f, l.textWidth)...)
	}
	if a.showTruth {
		out = append(out, "")
		out = append(out, a.answerLines(l.textWidth)...)
	}
	return out
}

// textHead is what the text panel shows above the reasoning: the input
// picture of an edit when there is room, the label and the legend.
func (a *app) textHead(f sample.Frame, l layout) []string {
	var out []string
	if l.input.Rows > 0 {
		out = append(out, labelStyle.Render("input"))
		out = append(out, a.pictureRows(a.inputPicture(), l.input)...)
		out = append(out, "")
	}
	if a.canDecodeExactly() {
		kind := a.pictureKind(f)
		line := labelStyle.Render("picture") + "  " + kind
		if kind == "preview" {
			line += " · " + a.keys.Decode.Help().Key + ": exact"
		}
		out = append(out, ansi.Truncate(line, l.textWidth, "…"), "")
	}
	return append(out, labelStyle.Render(fmt.Sprintf("reasoning  %d/%d revealed", f.Text.Actual, f.Text.Total)),
		ansi.Truncate(a.wordLegend(f), l.textWidth, "…"))
}

// pieceVocabulary is a published model's vocabulary of byte-level
// pieces (mmada.Template), whose text sample.Frame.TextPieces reads.
type pieceVocabulary interface {
	Pieces(ids []int, masked func(int) bool) []string
}

// inputPicture is the input picture of an edit: a published model's
// input, or ShapeWorld's scene drawn; nil when there is none.
func (a *app) inputPicture() image.Image {
	switch {
	case a.o.InputPicture != nil:
		return a.o.InputPicture
	case a.input != nil:
		return world.Render(*a.input)
	}
	return nil
}

// wordSpan is where reasoning position pos was drawn: line, column and
// width within the reasoning's lines.
type wordSpan struct{ pos, line, col, width int }

// reasoning wraps the reasoning to width: masked positions dim, revealed
// words coloured by age (or probability), this step's words highlighted,
// the inspected word reversed; spans say where each position went.
func (a *app) reasoning(f sample.Frame, width int) ([]string, []wordSpan) {
	if pieces, ok := f.TextPieces(a.o.Vocab); ok {
		return a.pieceText(f, pieces, width)
	}
	var out []string
	var spans []wordSpan
	var line []string
	col := 0
	v := a.o.Vocab
	for i, id := range f.TextTokens(v) {
		if v.IsEnd(int(id)) {
			break // the text ends here; what follows is padding
		}
		o := v.ImageLen() + i
		word, st := "···", a.wordStyle(f, o)
		if int(id) != v.MaskID() {
			word = v.Name(int(id))
		}
		n := len([]rune(word))
		if col+n > width && len(line) > 0 {
			out, line, col = append(out, strings.Join(line, " ")), nil, 0
		}
		spans = append(spans, wordSpan{o, len(out), col, n})
		line = append(line, st.Render(word))
		col += n + 1
	}
	if len(line) > 0 {
		out = append(out, strings.Join(line, " "))
	}
	return out, spans
}

// wordStyle is how reasoning position o is drawn: dim while masked,
// coloured by age (or probability) once revealed, highlighted at the step
// that revealed it, reversed while inspected.
func (a *app) wordStyle(f sample.Frame, o int) lipgloss.Style {
	st := maskStyle
	if int(f.Tokens[o]) != a.o.Vocab.MaskID() {
		at := int(f.RevealedAt[o])
		switch {
		case at == f.Step:
			st = newStyle
		case a.byConfidence:
			st = lipgloss.NewStyle().Foreground(confidenceColour(committedProbability(f, o)))
		default:
			st = lipgloss.NewStyle().Foreground(ageColour(float64(f.Step-at) / float64(max(a.total, 1))))
		}
	}
	if a.inspecting && o == a.inspected {
		st = st.Reverse(true)
	}
	return st
}

// pieceText wraps a published model's reasoning to width: its pieces
// joined as the text reads, each revealed in place, a masked position a
// dim "·"; lines break at a space where one is, else between pieces, else
// between characters, and at the text's own line breaks.
func (a *app) pieceText(f sample.Frame, pieces []string, width int) ([]string, []wordSpan) {
	type cell struct {
		r   rune
		pos int // the output position it shows
	}
	var lines [][]cell
	var line []cell
	col := 0
	breakLine := func() { lines, line, col = append(lines, line), nil, 0 }
	start := a.o.Vocab.ImageLen()
	for i, p := range pieces {
		o := start + i
		if int(f.Tokens[o]) == a.o.Vocab.MaskID() {
			p = "·"
		}
		for _, r := range p {
			if r == '\n' {
				breakLine()
				continue
			}
			w := max(ansi.StringWidth(string(r)), 1)
			if col+w > width && len(line) > 0 {
				if r == ' ' {
					breakLine() // the space the line breaks at
					continue
				}
				// Carry the word begun on this line to the next, or else
				// the piece begun (a mark is never split).
				k := len(line) - 1
				for k > 0 && line[k].r != ' ' {
					k--
				}
				if k == 0 {
					for k = len(line) - 1; k >= 0 && line[k].pos == o; k-- {
					}
				}
				rest := []cell{}
				if k >= 0 {
					rest = append(rest, line[k+1:]...)
					line = line[:k+1]
				}
				breakLine()
				line = rest
				for _, c := range rest {
					col += max(ansi.StringWidth(string(c.r)), 1)
				}
			}
			line = append(line, cell{r, o})
			col += w
		}
	}
	if len(line) > 0 {
		lines = append(lines, line)
	}
	var out []string
	var spans []wordSpan
	seen := map[int]bool{}
	for y, cells := range lines {
		var b strings.Builder
		x := 0
		for i := 0; i < len(cells); {
			j := i
			var run strings.Builder
			for j < len(cells) && cells[j].pos == cells[i].pos {
				run.WriteRune(cells[j].r)
				j++
			}
			w := ansi.StringWidth(run.String())
			if o := cells[i].pos; !seen[o] {
				seen[o] = true
				spans = append(spans, wordSpan{o, y, x, w})
			}
			b.WriteString(a.wordStyle(f, cells[i].pos).Render(run.String()))
			x += w
			i = j
		}
		out = append(out, b.String())
	}
	return out, spans
}

// answerLines show the case's answer: its reasoning and its picture.
func (a *app) answerLines(width int) []string {
	if a.truth == nil {
		return nil
	}
	out := []string{labelStyle.Render("the case's answer")}
	out = append(out, wrap(strings.Fields(a.truth.Reasoning), width)...)
	return append(out, viz.HalfBlocks(world.Render(a.truth.Target), 16, 8, a.blockProfile())...)
}

// committedProbability is the model's probability of the token at o
// when it was committed; a trace written before probabilities were
// recorded has only the remasking score, which under low_confidence is
// the same for words.
func committedProbability(f sample.Frame, o int) float64 {
	if len(f.Probability) > o {
		return float64(f.Probability[o])
	}
	return float64(f.Confidence[o])
}

// wordLegend says what the words' colours mean: age, or the model's
// probability of each word when it was committed.
func (a *app) wordLegend(f sample.Frame) string {
	if !a.byConfidence {
		return newStyle.Render("new") + " " + lipgloss.NewStyle().Foreground(ageColour(0.1)).Render("recent") + " " +
			lipgloss.NewStyle().Foreground(ageColour(1)).Render("old")
	}
	label := "p committed"
	if len(f.Probability) == 0 {
		label = "remask score" // an old trace: under low_confidence, the same for words
	}
	var b strings.Builder
	b.WriteString(labelStyle.Render(label))
	for i, p := range []float64{0, 0.25, 0.5, 0.75, 1} {
		b.WriteString(" " + lipgloss.NewStyle().Foreground(confidenceColour(p)).Render([]string{"0", ".25", ".5", ".75", "1"}[i]))
	}
	return b.String()
}

// plots are sparklines over the whole run, one column a step or a
// span of steps: the revealed share per modality, scheduled and actual,
// and the alignment; the shown step's column is marked, the steps after
// it dim, and an axis of steps closes them.
func (a *app) plots(l layout) []string {
	w := max(min(a.span()+1, a.width-48), 4)
	shown := a.frames[min(a.shown, len(a.frames)-1)]
	share := func(get func(sample.Frame) sample.Count) func(sample.Frame) (float64, bool) {
		return func(f sample.Frame) (float64, bool) {
			c := get(f)
			return float64(c.Actual) / float64(max(c.Total, 1)), true
		}
	}
	count := func(name string, get func(sample.Frame) sample.Count) string {
		c := get(shown)
		right := ""
		if a.cmp != nil { // the plot is the left run's; the right one's count beside it
			name = strings.Replace(name, "revealed", "(left)", 1)
			r := get(a.cmp.frames[min(a.shown, len(a.cmp.frames)-1)])
			right = fmt.Sprintf("; right %d/%d", r.Actual, r.Total)
		}
		return fmt.Sprintf("%s %s %3d/%d (scheduled %d)%s", labelStyle.Render(fmt.Sprintf("%-15s", name)),
			a.spark(a.frames, w, share(get)), c.Actual, c.Total, c.Target, right)
	}
	out := []string{
		count("text revealed", func(f sample.Frame) sample.Count { return f.Text }),
		count("image revealed", func(f sample.Frame) sample.Count { return f.Image }),
	}
	if a.cmp != nil {
		out = append(out, a.alignmentLine("CLIP (left)", a.frames, w), a.alignmentLine("CLIP (right)", a.cmp.frames, w))
		out = append(out, a.judgeLines("judge (left)", a.frames, &a.judged, w, true)...)
		out = append(out, a.judgeLines("judge (right)", a.cmp.frames, &a.cmp.judged, w, true)...)
	} else {
		out = append(out, a.alignmentLine("CLIP alignment", a.frames, w))
		out = append(out, a.judgeLines("judge", a.frames, &a.judged, w, a.height < 30)...)
	}
	return append(out, labelStyle.Render(fmt.Sprintf("%-15s", "step"))+" "+a.stepAxis(w))
}

// span is the steps the plots cover: the longer run's, comparing.
func (a *app) span() int {
	if a.cmp != nil {
		return max(a.total, a.cmp.stepper.Steps())
	}
	return a.total
}

// column is the step column k of w stands for.
func (a *app) column(k, w int) int { return k * a.span() / max(w-1, 1) }

// shownColumn is the column of the shown step.
func (a *app) shownColumn(w int) int {
	return (a.shown*(w-1) + a.span()/2) / max(a.span(), 1)
}

// spark draws value (in [0, 1], or none) of frames for each column's
// step.
func (a *app) spark(frames []sample.Frame, w int, value func(sample.Frame) (float64, bool)) string {
	return a.sparkOf(len(frames), w, func(i int) (float64, bool) { return value(frames[i]) })
}

// sparkOf draws value(i) (in [0, 1], or none) of the step i each column
// stands for, of a run with n frames so far: blank where the run has not
// been, dim after the shown step, the shown step's column highlighted.
func (a *app) sparkOf(n, w int, value func(i int) (float64, bool)) string {
	var b strings.Builder
	cur := a.shownColumn(w)
	for k := range w {
		i := a.column(k, w)
		if i >= n {
			b.WriteString(" ")
			continue
		}
		r := "·"
		if v, ok := value(i); ok {
			r = string(sparkRune(v))
		}
		switch {
		case k == cur:
			r = focusStyle.Render(r)
		case i > a.shown:
			r = maskStyle.Render(r)
		}
		b.WriteString(r)
	}
	return b.String()
}

// stepAxis is the plots' x axis: step 0 at the left, ▲ under the shown
// step, then the shown step of the run's length.
func (a *app) stepAxis(w int) string {
	axis := []rune("0" + strings.Repeat(" ", w-1))
	axis[min(a.shownColumn(w), w-1)] = '▲'
	return string(axis) + fmt.Sprintf(" step %d of %d", a.shown, a.span())
}

// alignment is a frame's alignment score, when it means something: the
// scorer compares a text with a picture, so with either still all masked
// there is nothing to compare (it would score two blanks as alike).
func alignment(f sample.Frame) (float64, bool) {
	if f.Alignment == nil || f.Text.Actual == 0 || f.Image.Actual == 0 {
		return 0, false
	}
	return *f.Alignment, true
}

// alignmentLine plots the CLIP score of each step's partial output of a
// run on a scale from its lowest to its highest score so far.
func (a *app) alignmentLine(name string, frames []sample.Frame, w int) string {
	label := labelStyle.Render(fmt.Sprintf("%-15s", name))
	shown := frames[min(a.shown, len(frames)-1)]
	if shown.Alignment == nil {
		if _, published := a.o.Vocab.(pieceVocabulary); published {
			return label + " (none: the CLIP scorer is ShapeWorld's)"
		}
		return label + " (no CLIP scorer: set clip in the config, or embed one)"
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, f := range frames {
		if v, ok := alignment(f); ok {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	line := a.spark(frames, w, func(f sample.Frame) (float64, bool) {
		v, ok := alignment(f)
		return (v - lo) / max(hi-lo, 1e-9), ok
	})
	v, ok := alignment(shown)
	if !ok {
		return fmt.Sprintf("%s %s  —  (until text and picture both have something revealed)", label, line)
	}
	return fmt.Sprintf("%s %s %+.3f (run: %+.2f to %+.2f)", label, line, v, lo, hi)
}

func sparkRune(v float64) rune {
	bars := []rune("▁▂▃▄▅▆▇█")
	return bars[min(int(v*float64(len(bars)-1)+0.5), len(bars)-1)]
}

// panelWidth is the knob panel's: a marker, the name column, a space,
// the value column.
func panelWidth() int {
	name, value := knobColumns()
	return 1 + name + 1 + value + 1
}

func (a *app) drawPanel(lines []string, l layout) {
	w := panelWidth()
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
	differs := false
	for _, k := range a.knobs {
		differs = differs || k.show(a.cfg) != k.show(a.runCfg)
	}
	if differs && !a.panel {
		title = "knobs (" + k.Panel.Help().Key + "); * not the shown run's"
	}
	put(l.imgTop, labelStyle.Render(truncate(title, w)))
	for i, k := range a.knobs {
		name, _ := knobColumns()
		s := fmt.Sprintf("%-*s %s", name, k.name, k.show(a.cfg))
		if k.show(a.cfg) != k.show(a.runCfg) {
			s += "*" // the panel's value, not the one the shown run has
		}
		switch {
		case a.panel && i == a.knob:
			s = focusStyle.Render("▸" + truncate(s, w-1))
		case unused(k.name, a.cfg):
			s = " " + maskStyle.Render(truncate(s, w-1))
		default:
			s = " " + truncate(s, w-1)
		}
		put(l.imgTop+1+i, s)
	}
	// Under the official rules, which knobs their code does not read.
	var idle []string
	for _, k := range a.knobs {
		if unused(k.name, a.cfg) {
			idle = append(idle, k.name)
		}
	}
	if len(idle) > 0 && a.cfg.Rules != "" {
		note := fmt.Sprintf("unused by %s: %s", a.cfg.Rules, strings.Join(idle, ", "))
		for j, line := range wrap(strings.Fields(note), w-1) {
			put(l.imgTop+2+len(a.knobs)+j, " "+maskStyle.Render(line))
		}
	}
}

// drawHelp lays the live keys over the screen below the prompt, in as
// many columns as the width takes, so that every one shows; a sentence
// too long for its column is cut.
func (a *app) drawHelp(lines []string) {
	var entries []string
	widest := 0
	for _, group := range a.keys.FullHelp() {
		for _, b := range group {
			if !b.Enabled() {
				continue
			}
			e := fmt.Sprintf("%-9s %s", b.Help().Key, b.Help().Desc)
			entries = append(entries, e)
			widest = max(widest, ansi.StringWidth(e))
		}
	}
	top, left := 3, 1
	room := max(a.height-2-top, 1) // rows above the status line
	cols := max((len(entries)+room-1)/room, 1)
	colW := min(widest, max((a.width-2*left)/cols-2, 10))
	rows := (len(entries) + cols - 1) / cols
	width := cols * (colW + 2)
	for r := range room {
		var b strings.Builder
		for c := range cols {
			e := ""
			if i := c*rows + r; r < rows && i < len(entries) {
				e = truncate(entries[i], colW)
			}
			fmt.Fprintf(&b, " %-*s ", colW, e)
		}
		lines[top+r] = overlay(lines[top+r], left, focusStyle.Render(ansi.Truncate(b.String(), width, "")), width)
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
