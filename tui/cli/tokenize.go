package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"parascope/engine/hftok"
)

// Tokenize encodes each TEXT with a Hugging Face tokenizer.json and
// prints its ids as a JSON array, one line per TEXT; with --decode the
// arguments are ids (numbers, or the JSON array encode prints) and it
// prints their text as a JSON string.
func (e *Env) Tokenize(args []string) error {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	file := fs.String("tokenizer", "", "the tokenizer.json to use")
	decode := fs.Bool("decode", false, "read ids and print their text")
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if *file == "" {
		return usagef("tokenize: --tokenizer FILE is required")
	}
	if len(pos) == 0 {
		return usagef("tokenize: want at least one TEXT (or ids with --decode)")
	}
	tok, err := hftok.Load(*file)
	if err != nil {
		return fmt.Errorf("tokenize: %w", err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if *decode {
		ids, err := parseIDs(pos)
		if err != nil {
			return usagef("tokenize: %v", err)
		}
		return enc.Encode(tok.Decode(ids, false))
	}
	for _, text := range pos {
		ids := tok.Encode(text, true)
		if ids == nil {
			ids = []int{}
		}
		if err := enc.Encode(ids); err != nil {
			return err
		}
	}
	return nil
}

// parseIDs reads ids given as separate numbers, or as JSON arrays.
func parseIDs(args []string) ([]int, error) {
	var ids []int
	for _, a := range args {
		if strings.HasPrefix(strings.TrimSpace(a), "[") {
			var more []int
			if err := json.Unmarshal([]byte(a), &more); err != nil {
				return nil, fmt.Errorf("ids %q: %v", a, err)
			}
			ids = append(ids, more...)
			continue
		}
		id, err := strconv.Atoi(a)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("%q is not an id", a)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
