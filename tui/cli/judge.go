package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"parascope/engine/casedir"
	"parascope/engine/judge"
)

// Judge scores case folders with the exact judge.
func (e *Env) Judge(args []string) error {
	fs := flag.NewFlagSet("judge", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) != 1 {
		return UsageError{"judge: want exactly one folder of case folders"}
	}
	dirs, err := casedir.List(pos[0])
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
	fmt.Printf("judged %d cases in %s: %d model outputs, %d ground-truth targets\n\n", len(dirs), pos[0], outputs, len(dirs)-outputs)
	return r.WriteTable(os.Stdout)
}
