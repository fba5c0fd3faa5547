package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"parascope/engine/atomicfile"
	"parascope/engine/bench"
	"parascope/engine/session"
)

// scorerShares are the points of a trajectory the study scores: the
// final output, then partial ones.
var scorerShares = []float64{1, 0.75, 0.5, 0.25}

// Scorer measures how a learned scorer tracks the exact judge on a
// model's own rollouts — the ones a ParaRL run would reward — final and
// partial, per edit kind.
func (e *Env) Scorer(args []string) error {
	fs := flag.NewFlagSet("scorer", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "ParaRL config (TOML) whose [sampler] makes the rollouts; defaults when empty")
	clipSpec := fs.String("clip", "", "the scorer's checkpoint, overriding the config's sampler.clip (default: the embedded scorer)")
	modelSpec := fs.String("model", "", "the model that makes the rollouts, overriding the config's sampler.model")
	n := fs.Int("cases", 100, "held-out cases (ParaBench-mini's suite, from the first)")
	seed := fs.Uint64("seed", 777, "seed of the suite")
	group := fs.Int("group", 0, "rollouts a case (default: the config's group)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	samplesPath := fs.String("samples", "", "also write every scored output (case, kind, rollout, step, scorer, judge) to this file, one JSON object a line")
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	switch {
	case len(pos) > 0:
		return usagef("scorer: unexpected argument %q (scorer takes only flags)", pos[0])
	case *n < 1 || *n > bench.DefaultCases:
		return usagef("scorer: --cases %d: want 1 to %d", *n, bench.DefaultCases)
	case *group < 0 || *group == 1:
		return usagef("scorer: --group %d: want at least 2 (rollouts to compare)", *group)
	}
	if err := checkDistinct("scorer", []named{{"--config", *cfgPath}, {"--clip", *clipSpec}, {"--model", *modelSpec}}, []named{{"--samples", *samplesPath}}); err != nil {
		return err
	}
	if err := checkOutputs("scorer", *samplesPath); err != nil {
		return err
	}
	cfg, err := loadParaRL(*cfgPath)
	if err != nil {
		return err
	}
	sc := cfg.Sampler
	if *clipSpec != "" {
		sc.Clip = *clipSpec
	}
	if *modelSpec != "" {
		sc.Model = *modelSpec
	}
	if *group == 0 {
		*group = cfg.Group
	}
	if sc.Clip == "none" {
		return usagef("scorer: sampler.clip is \"none\": name a scorer with --clip")
	}
	if err := sc.Validate(); err != nil {
		return UsageError{"scorer: " + err.Error()}
	}
	if session.IsRealModel(sc.Model) {
		return fmt.Errorf("scorer: the judge knows ShapeWorld's cases only: %w", session.ErrShapeWorldOnly)
	}
	sess, err := e.open(sc)
	if err != nil {
		return fmt.Errorf("scorer: %w", err)
	}
	ctx, stop := untilInterrupt()
	defer stop()
	began := time.Now()
	samples, err := bench.StudyScorer(ctx, sess.Model, sess.Aligner, sess.Vocab, sess.Codebook, sc, bench.Suite(*seed, *n), *group, scorerShares,
		func(done, total int) {
			if done == total || done%10 == 0 {
				fmt.Fprintf(os.Stderr, "%s %d/%d cases  %.1f s\n", bar(done, total, 20), done, total, time.Since(began).Seconds())
			}
		})
	if err != nil {
		return fmt.Errorf("scorer: %w", err)
	}
	if *samplesPath != "" {
		err := atomicfile.Write(*samplesPath, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			for _, s := range samples {
				if err := enc.Encode(s); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("scorer: %w", err)
		}
	}
	study := scorerStudy(samples)
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Shares []float64   `json:"shares"`
			Kinds  []scorerRow `json:"kinds"`
		}{scorerShares, study})
	}
	name := sc.Clip
	if name == "" {
		name = "the embedded scorer"
	}
	fmt.Printf("%s against the judge's output alignment: %d held-out cases (seed %d) × %d rollouts, %d steps;\n", name, *n, *seed, *group, sc.RunSteps())
	fmt.Println("r: Pearson across outputs; ordered: of the pairs of one case's rollouts the judge tells apart, the share the scorer orders alike")
	fmt.Println()
	fmt.Printf("%-10s", "kind")
	for _, s := range scorerShares {
		fmt.Printf("  %-22s", shareName(s))
	}
	fmt.Println()
	for _, row := range study {
		fmt.Printf("%-10s", row.Kind)
		for _, a := range row.At {
			r := "  —  "
			if a.R != nil {
				r = fmt.Sprintf("%5.2f", *a.R)
			}
			ordered := "   — of 0    "
			if a.Pairs > 0 {
				ordered = fmt.Sprintf("%3.0f%% of %-5d", 100*a.Ordered, a.Pairs)
			}
			fmt.Printf("  r %s  %s", r, ordered)
		}
		fmt.Println()
	}
	return nil
}

// scorerRow is one kind's agreement at each share of the trajectory.
type scorerRow struct {
	Kind string            `json:"kind"`
	At   []bench.Agreement `json:"at"` // in the order of scorerShares
}

// scorerStudy groups samples by kind ("all" first) and share of the
// trajectory.
func scorerStudy(samples []bench.ScorerSample) []scorerRow {
	kinds := []string{"all"}
	for _, s := range samples {
		if !slices.Contains(kinds, s.Kind) {
			kinds = append(kinds, s.Kind)
		}
	}
	var rows []scorerRow
	for _, k := range kinds {
		row := scorerRow{Kind: k}
		for _, share := range scorerShares {
			var of []bench.ScorerSample
			for _, s := range samples {
				if (k == "all" || s.Kind == k) && s.Step == bench.StepAt(share, s.Steps) {
					of = append(of, s)
				}
			}
			row.At = append(row.At, bench.Agree(of))
		}
		rows = append(rows, row)
	}
	return rows
}

func shareName(s float64) string {
	if s == 1 {
		return "final"
	}
	return fmt.Sprintf("%.0f%% of the steps", 100*s)
}
