package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"parascope/engine/atomicfile"
	"parascope/engine/infile"
	"parascope/engine/train"
	"parascope/viz"
)

// Plot draws ParaRL runs' curves from their progress logs into one PNG.
func (e *Env) Plot(args []string) error {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	out := fs.String("out", "", "the PNG to write (required)")
	smooth := fs.Int("smooth", 5, "batches in the moving mean of the per-batch curves (1: none)")
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	switch {
	case len(pos) == 0:
		return usagef("plot: name at least one run (its folder, or its %s)", train.LogFile)
	case *out == "":
		return usagef("plot: --out FILE.png is required")
	case *smooth < 1:
		return usagef("plot: --smooth %d: want at least 1", *smooth)
	}
	var inputs []named
	for _, p := range pos {
		inputs = append(inputs, named{"a run", p})
	}
	if err := checkDistinct("plot", inputs, []named{{"--out", *out}}); err != nil {
		return err
	}
	if err := checkOutputs("plot", *out); err != nil {
		return err
	}
	var runs []runLog
	for _, p := range pos {
		r, err := readRunLog(p)
		if err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		runs = append(runs, r)
	}
	img, err := plotRuns(runs, *smooth)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err := atomicfile.Write(*out, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	fmt.Printf("wrote %s (%d runs)\n", *out, len(runs))
	return nil
}

// runLog is one run's progress, a line a batch.
type runLog struct {
	name  string
	lines []train.RLProgress
}

// readRunLog reads a run's progress.jsonl, given the file or its folder;
// the run is named after its folder.
func readRunLog(path string) (runLog, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, train.LogFile)
	}
	b, err := infile.Read(path, 64<<20, "a ParaRL progress log")
	if err != nil {
		return runLog{}, err
	}
	r := runLog{name: filepath.Base(filepath.Dir(path))}
	n := 0
	for line := range bytes.Lines(b) {
		n++
		if !bytes.HasSuffix(line, []byte("\n")) {
			break // a running job is writing it
		}
		var p train.RLProgress
		if err := json.Unmarshal(line, &p); err != nil {
			return r, fmt.Errorf("%s, line %d: %v", path, n, err)
		}
		r.lines = append(r.lines, p)
	}
	if len(r.lines) == 0 {
		return r, fmt.Errorf("%s: no batches logged yet", path)
	}
	return r, nil
}

// plotRuns draws runCharts two by two.
func plotRuns(runs []runLog, smooth int) (image.Image, error) {
	var imgs []image.Image
	for _, c := range runCharts(runs, smooth) {
		img, err := viz.Plot(c, 640, 400)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, img)
	}
	return viz.Grid(imgs, 2, 1, 8, color.White), nil
}

// runCharts makes four charts: the final outputs' reward and the
// informative share (moving means over smooth batches), the held-out
// output alignment and the KL to the starting model. A chart no run has
// a point of says why in its title rather than stand empty.
func runCharts(runs []runLog, smooth int) []viz.Chart {
	type panel struct {
		title, ylabel string
		value         func(p train.RLProgress) (float64, bool)
		smoothed      bool
		none          string // why no run may have a point
	}
	batch := func(f func(p train.RLProgress) float64) func(p train.RLProgress) (float64, bool) {
		return func(p train.RLProgress) (float64, bool) { return f(p), p.Step > 0 }
	}
	panels := []panel{
		{"reward of the final outputs", "reward", batch(func(p train.RLProgress) float64 { return p.FinalReward }), true, ""},
		{"held-out output alignment", "judge, 0-100", func(p train.RLProgress) (float64, bool) {
			if p.HeldOut == nil {
				return 0, false
			}
			return *p.HeldOut, true
		}, false, "none: the runs made no check (eval_every = 0)"},
		{"KL to the starting model", "per decoded token", batch(func(p train.RLProgress) float64 { return p.KL }), true, ""},
		{"informative groups", "share of prompts drawn", batch(func(p train.RLProgress) float64 { return p.Informative }), true, ""},
	}
	var charts []viz.Chart
	for _, pn := range panels {
		c := viz.Chart{Title: pn.title, XLabel: "batch", YLabel: pn.ylabel}
		if pn.smoothed && smooth > 1 {
			c.Title += fmt.Sprintf(" (mean of %d batches)", smooth)
		}
		points := 0
		for _, r := range runs {
			s := viz.Series{Name: r.name}
			for _, p := range r.lines {
				if v, ok := pn.value(p); ok {
					s.X, s.Y = append(s.X, float64(p.Step)), append(s.Y, v)
				}
			}
			if pn.smoothed {
				s.Y = movingMean(s.Y, smooth)
			}
			points += len(s.X)
			c.Series = append(c.Series, s)
		}
		if points == 0 && pn.none != "" {
			c.Title += ": " + pn.none
		}
		charts = append(charts, c)
	}
	return charts
}

// movingMean is the mean of each value and the n−1 before it (fewer at
// the start).
func movingMean(y []float64, n int) []float64 {
	out := make([]float64, len(y))
	sum := 0.0
	for i, v := range y {
		sum += v
		if i >= n {
			sum -= y[i-n]
		}
		out[i] = sum / float64(min(i+1, n))
	}
	return out
}
