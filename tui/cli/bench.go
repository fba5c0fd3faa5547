package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"parascope/engine/atomicfile"
	"parascope/engine/bench"
	"parascope/engine/sample"
	"parascope/engine/session"
)

// Bench runs ParaBench-mini: it samples held-out cases and judges them.
func (e *Env) Bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	modelSpec := fs.String("model", "", "checkpoint (or random:SEED); default: the config's model")
	mode := fs.String("mode", "", "parallel or sequential, overriding the config")
	n := fs.Int("cases", bench.DefaultCases, "number of suite cases, from the first (the suite holds 300: two edits for each generation)")
	seed := fs.Uint64("seed", bench.DefaultSeed, "seed of the suite")
	cfgPath := fs.String("config", "", "sampler config (TOML); defaults when empty")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	resultsPath := fs.String("results", "", "also write each case (instruction, true and sampled reasoning, scores) to this file, one JSON object a line")
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	switch {
	case len(pos) > 0:
		return usagef("bench: unexpected argument %q (bench takes only flags)", pos[0])
	case *n < 1 || *n > bench.DefaultCases:
		// ParaBench-mini is its 300 cases: more would be another benchmark.
		return usagef("bench: --cases %d: the suite holds %d cases; want 1 to %d", *n, bench.DefaultCases, bench.DefaultCases)
	}
	inputs := []named{{"--config", *cfgPath}, {"--model", *modelSpec}}
	if err := checkDistinct("bench", inputs, []named{{"--results", *resultsPath}}); err != nil {
		return err
	}
	if err := checkOutputs("bench", *resultsPath); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, *modelSpec, "")
	if err != nil {
		return err
	}
	if *mode != "" {
		cfg.Mode = *mode
	}
	if err := cfg.Validate(); err != nil {
		return UsageError{"bench: " + err.Error()}
	}
	if session.IsRealModel(cfg.Model) {
		return fmt.Errorf("bench: ParaBench-mini's cases are ShapeWorld's: %w", session.ErrShapeWorldOnly)
	}
	sess, err := e.open(cfg)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	ctx, stop := untilInterrupt()
	defer stop()
	began := time.Now()
	live := isTerminal(os.Stderr)
	r, results, err := bench.Run(ctx, sess.Model, sess.Aligner, sess.Vocab, sess.Codebook, cfg, bench.Suite(*seed, *n), func(done, total int) {
		if live || done == total || done%25 == 0 {
			elapsed := time.Since(began)
			eta := time.Duration(float64(elapsed) / float64(done) * float64(total-done)).Round(time.Second)
			end := "\n"
			if live {
				end = ""
				fmt.Fprint(os.Stderr, "\r\x1b[K")
			}
			fmt.Fprintf(os.Stderr, "%s %d/%d cases  %.1f cases/s  ETA %s%s", bar(done, total, 20), done, total, float64(done)/elapsed.Seconds(), eta, end)
		}
	})
	if live {
		fmt.Fprintln(os.Stderr)
	}
	// Ctrl-C: report the cases judged so far.
	interrupted := errors.Is(err, context.Canceled) && len(results) > 0
	if err != nil && !interrupted {
		return fmt.Errorf("bench: %w", err)
	}
	if interrupted {
		fmt.Fprintf(os.Stderr, "bench: interrupted after %d of %d cases; what follows covers those\n", len(results), *n)
	}
	if *resultsPath != "" {
		if err := atomicfile.Write(*resultsPath, func(w io.Writer) error { return bench.WriteResults(w, results) }); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	if err := report(r, cfg, *seed, *asJSON); err != nil {
		return err
	}
	if interrupted {
		return Interrupted{fmt.Sprintf("bench: interrupted after %d of %d cases", len(results), *n)}
	}
	return nil
}

// report prints the bench's figures, as a table or as JSON.
func report(r bench.Report, cfg sample.Config, seed uint64, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	name := cfg.Model
	if name == "" {
		name = "the embedded default"
	}
	fmt.Printf("ParaBench-mini: %d cases (seed %d), model %s, %s mode, %d steps\n\n", r.Cases, seed, name, cfg.Mode, cfg.Steps)
	if err := r.WriteTable(os.Stdout); err != nil {
		return err
	}
	if r.ClipFinal != nil {
		fmt.Printf("\nclip_final %.3f (mean CLIP score of the final outputs)\n", *r.ClipFinal)
	}
	if r.ClipJudgeCorr != nil {
		fmt.Printf("clip_judge_corr %.3f (Pearson correlation of the final CLIP score with the judge's output_alignment)\n", *r.ClipJudgeCorr)
	}
	return nil
}
