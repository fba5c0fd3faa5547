package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"parascope/engine/casedir"
	"parascope/engine/judge"
)

// Judge scores a case folder, or the case folders in a folder, with the
// exact judge.
func (e *Env) Judge(args []string) error {
	fs := flag.NewFlagSet("judge", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) != 1 {
		return UsageError{"judge: want one case folder, or one folder of case folders"}
	}
	dirs, single, err := casedir.Find(pos[0])
	if err != nil {
		return fmt.Errorf("judge: %w", err)
	}
	var tally judge.Tally
	outputs := 0
	for _, d := range dirs {
		l, err := casedir.Read(d)
		if err != nil {
			return fmt.Errorf("judge: %w", err)
		}
		s, err := judge.Score(l.Meta.Case, l.Text, l.Image)
		if err != nil {
			return fmt.Errorf("judge: %s: %w", d, err)
		}
		tally.Add(l.Meta.Case, s)
		if l.HasOutput {
			outputs++
		}
	}
	r := tally.Report()
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	what := fmt.Sprintf("%d case folders in %s", len(dirs), pos[0])
	if single {
		what = "the case folder " + pos[0]
	}
	fmt.Printf("judged %s: %d model outputs, %d ground-truth targets\n\n", what, outputs, len(dirs)-outputs)
	return r.WriteTable(os.Stdout)
}
