package tui

import (
	"fmt"
	"strings"

	"parascope/engine/judge"
	"parascope/engine/partial"
	"parascope/engine/sample"
	"parascope/engine/world"
)

// judged is the partial judge's scores of a run's frames so far, filled
// as frames arrive: a frame never changes, so each is judged once.
type judged struct {
	scores []*judge.Scores // nil where a frame could not be judged
}

// upTo judges frames up to the end of frames against truth.
func (j *judged) upTo(frames []sample.Frame, truth world.Case, v sample.Vocabulary, cb sample.ImageTokenizer) []*judge.Scores {
	for i := len(j.scores); i < len(frames); i++ {
		j.scores = append(j.scores, judgeFrame(frames[i], truth, v, cb))
	}
	return j.scores[:len(frames)]
}

// judgeFrame is the exact judge on what frame f has committed, or nil
// where it cannot be judged.
func judgeFrame(f sample.Frame, truth world.Case, v sample.Vocabulary, cb sample.ImageTokenizer) *judge.Scores {
	s, err := partial.Judge(truth, f, v, cb)
	if err != nil {
		return nil
	}
	return &s
}

// judgeMetrics are the partial judge's curves the plots show.
var judgeMetrics = []struct {
	name, short string
	get         func(judge.Scores) float64
}{
	{"text align", "T", func(s judge.Scores) float64 { return s.TextAlignment }},
	{"image align", "I", func(s judge.Scores) float64 { return s.ImageAlignment }},
	{"output align", "O", func(s judge.Scores) float64 { return s.OutputAlignment }},
}

// judgeLines plot the partial judge of a run against the case's ground
// truth, a line a metric; compact puts the three on one line.
func (a *app) judgeLines(name string, frames []sample.Frame, cache *judged, w int, compact bool) []string {
	if a.truth == nil {
		return nil
	}
	scores := cache.upTo(frames, *a.truth, a.o.Vocab, a.o.Codebook)
	shown := scores[min(a.shown, len(scores)-1)]
	value := func(get func(judge.Scores) float64) func(int) (float64, bool) {
		return func(i int) (float64, bool) {
			if scores[i] == nil {
				return 0, false
			}
			return get(*scores[i]) / 100, true
		}
	}
	now := func(get func(judge.Scores) float64) string {
		if shown == nil {
			return "  —"
		}
		return fmt.Sprintf("%3.0f", get(*shown))
	}
	if compact {
		var parts []string
		for _, m := range judgeMetrics {
			parts = append(parts, m.short+" "+a.sparkOf(len(frames), max(w/3-6, 4), value(m.get))+" "+now(m.get))
		}
		return []string{labelStyle.Render(fmt.Sprintf("%-15s", name)) + " " + strings.Join(parts, "  ")}
	}
	var out []string
	for _, m := range judgeMetrics {
		out = append(out, fmt.Sprintf("%s %s %s/100", labelStyle.Render(fmt.Sprintf("%-15s", m.name)), a.sparkOf(len(frames), w, value(m.get)), now(m.get)))
	}
	return out
}

// verdict says, at the last step of a case's run, whether the answer is
// right, and if not where it is wrong.
func (a *app) verdict(frames []sample.Frame, total int, cache *judged) string {
	if a.truth == nil || a.shown < len(frames)-1 || frames[len(frames)-1].Step < total {
		return ""
	}
	s := cache.upTo(frames, *a.truth, a.o.Vocab, a.o.Codebook)[len(frames)-1]
	if s == nil {
		return ""
	}
	var wrong []string
	for _, m := range judgeMetrics {
		if v := m.get(*s); v < 100 {
			wrong = append(wrong, fmt.Sprintf("%s %.0f", m.name, v))
		}
	}
	if len(wrong) == 0 {
		return statusStyle.Render("✓ right: text and picture match the case")
	}
	return errorStyle.Render("✗ wrong: " + strings.Join(wrong, ", ") + " (t shows the answer)")
}
