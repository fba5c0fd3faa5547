package judge

import (
	"fmt"
	"io"
	"strings"

	"parascope/engine/world"
)

// Metrics are the averages over a group of cases, as reported.
type Metrics struct {
	TextQuality   float64 `json:"text_quality"`
	TextAlignment float64 `json:"text_alignment"`
	// ImageConsistency is nil (null in JSON) for a group without edits.
	ImageConsistency *float64 `json:"image_consistency"`
	ImageAlignment   float64  `json:"image_alignment"`
	ImageQuality     float64  `json:"image_quality"`
	OutputAlignment  float64  `json:"output_alignment"`
	Overall          float64  `json:"overall"`
	Cases            int      `json:"cases"`
}

// Report holds the averages over all cases, per task and per edit kind,
// in the shape of the paper's table. Its JSON top level carries the six
// metrics, overall and cases for the whole suite.
type Report struct {
	Metrics
	Tasks map[string]Metrics `json:"tasks"`
	Edits map[string]Metrics `json:"edits"`
}

// Tally accumulates case scores into a report.
type Tally struct {
	all   acc
	tasks map[world.Task]*acc
	edits map[world.EditKind]*acc
}

type acc struct {
	sum   Scores
	n, nc int
}

func (a *acc) add(s Scores) {
	a.n++
	a.sum.TextQuality += s.TextQuality
	a.sum.TextAlignment += s.TextAlignment
	a.sum.ImageAlignment += s.ImageAlignment
	a.sum.ImageQuality += s.ImageQuality
	a.sum.OutputAlignment += s.OutputAlignment
	if s.HasConsistency {
		a.nc++
		a.sum.ImageConsistency += s.ImageConsistency
	}
}

// metrics averages the group; overall is the mean of the metrics the group
// has (image consistency only where it has edits).
func (a *acc) metrics() Metrics {
	if a.n == 0 {
		return Metrics{}
	}
	n := float64(a.n)
	m := Metrics{
		TextQuality:     a.sum.TextQuality / n,
		TextAlignment:   a.sum.TextAlignment / n,
		ImageAlignment:  a.sum.ImageAlignment / n,
		ImageQuality:    a.sum.ImageQuality / n,
		OutputAlignment: a.sum.OutputAlignment / n,
		Cases:           a.n,
	}
	total, parts := m.TextQuality+m.TextAlignment+m.ImageAlignment+m.ImageQuality+m.OutputAlignment, 5.0
	if a.nc > 0 {
		con := a.sum.ImageConsistency / float64(a.nc)
		m.ImageConsistency = &con
		total += con
		parts++
	}
	m.Overall = total / parts
	return m
}

// Add counts one judged case.
func (t *Tally) Add(c world.Case, s Scores) {
	if t.tasks == nil {
		t.tasks, t.edits = map[world.Task]*acc{}, map[world.EditKind]*acc{}
	}
	t.all.add(s)
	bucket(t.tasks, c.Task).add(s)
	if c.Task == world.ThinkEdit {
		bucket(t.edits, c.Edit).add(s)
	}
}

func bucket[K comparable](m map[K]*acc, k K) *acc {
	if m[k] == nil {
		m[k] = &acc{}
	}
	return m[k]
}

// Report returns the averages so far.
func (t *Tally) Report() Report {
	r := Report{Metrics: t.all.metrics(), Tasks: map[string]Metrics{}, Edits: map[string]Metrics{}}
	for k, a := range t.tasks {
		r.Tasks[k.String()] = a.metrics()
	}
	for k, a := range t.edits {
		r.Edits[k.String()] = a.metrics()
	}
	return r
}

// WriteTable prints the report as the paper's table: one row for all
// cases, one per task, one per edit kind. A dash marks a metric the row
// has no case for.
func (r Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-14s %6s %8s %8s %8s %8s %8s %8s %8s\n", "", "cases", "text_q", "text_al", "img_con", "img_al", "img_q", "out_al", "overall")
	row := func(name string, m Metrics) {
		con := "-"
		if m.ImageConsistency != nil {
			con = fmt.Sprintf("%.1f", *m.ImageConsistency)
		}
		fmt.Fprintf(&b, "%-14s %6d %8.1f %8.1f %8s %8.1f %8.1f %8.1f %8.1f\n", name, m.Cases,
			m.TextQuality, m.TextAlignment, con, m.ImageAlignment, m.ImageQuality, m.OutputAlignment, m.Overall)
	}
	row("all", r.Metrics)
	for _, t := range []world.Task{world.ThinkGen, world.ThinkEdit} {
		if m, ok := r.Tasks[t.String()]; ok {
			row(t.String(), m)
		}
	}
	for _, k := range world.EditKinds() {
		if m, ok := r.Edits[k.String()]; ok {
			row("  "+k.String(), m)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
