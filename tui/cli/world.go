package cli

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"parascope/engine/atomicfile"
	"parascope/engine/casedir"
	"parascope/engine/session"
	"parascope/engine/world"
	"parascope/viz"
)

// maxWorldCases bounds --n: a million case folders is some gigabytes
// and hours of writing; a larger number is a typing mistake.
const maxWorldCases = 1_000_000

// World writes ShapeWorld cases, one folder each.
func (e *Env) World(args []string) error {
	fs := flag.NewFlagSet("world", flag.ContinueOnError)
	seed := fs.Uint64("seed", 1, "seed of the case stream")
	n := fs.Int("n", 50, "number of cases")
	task := fs.String("task", "mixed", "thinkgen, thinkedit or mixed (each case a generation with probability 1/3: about two edits per generation)")
	out := fs.String("out", "", "folder to write the case folders into (required)")
	force := fs.Bool("force", false, "write into an --out folder that already holds files, replacing the cases there")
	sheet := fs.String("sheet", "", "also write a contact sheet of the first 24 cases (input, target) to this PNG")
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	mix, err := world.ParseMix(*task)
	switch {
	case err != nil:
		return UsageError{"world: " + err.Error()}
	case len(pos) > 0:
		return UsageError{fmt.Sprintf("world: unexpected argument %q", pos[0])}
	case *out == "":
		return UsageError{"world: --out DIR is required"}
	case *n < 1 || *n > maxWorldCases:
		return usagef("world: --n %d: want 1 to %d", *n, maxWorldCases)
	}
	if err := checkOutputFolder("world", *out); err != nil {
		return err
	}
	if err := checkOutputs("world", *sheet); err != nil {
		return err
	}
	cb, vocab, err := session.Tokenizers("")
	if err != nil {
		return err
	}
	// Last before the writing: with --force it removes the old cases.
	if err := checkWorldFolder(*out, *force); err != nil {
		return err
	}
	ctx, stop := untilInterrupt()
	defer stop()
	counts := map[world.Task]int{}
	var tiles []image.Image
	for i := range *n {
		// A case folder is whole once written: stop between them.
		if ctx.Err() != nil {
			return Interrupted{fmt.Sprintf("world: stopped after %d of %d cases; the %d folders in %s are complete", i, *n, i, *out)}
		}
		c := world.Generate(*seed, i, mix)
		seq, err := vocab.BuildCase(cb, c)
		if err != nil {
			return fmt.Errorf("world: case %d: %w", i, err)
		}
		if err := casedir.Write(filepath.Join(*out, casedir.Name(i, c)), casedir.Meta{Seed: *seed, Index: i, Case: c, Tokens: &seq}); err != nil {
			return fmt.Errorf("world: %w", err)
		}
		counts[c.Task]++
		if i < 24 {
			var in image.Image
			if c.Task == world.ThinkEdit {
				in = world.Render(c.Input)
			}
			tiles = append(tiles, in, world.Render(c.Target))
		}
	}
	fmt.Printf("wrote %d cases to %s (%d thinkgen, %d thinkedit)\n", *n, *out, counts[world.ThinkGen], counts[world.ThinkEdit])
	if *sheet != "" {
		img := viz.Grid(tiles, 8, 4, 4, color.RGBA{60, 60, 70, 255})
		if err := atomicfile.Write(*sheet, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
			return fmt.Errorf("world: sheet: %w", err)
		}
	}
	return nil
}

// checkWorldFolder refuses, before any work, an --out folder that already
// holds files: new cases mixed with old ones would be judged together.
// With force, it removes the case folders there (any folder with a
// case.json, which is what judge reads as a case), so that none of the
// old world is left among the new. It clears in place rather than
// writing a fresh folder and swapping it in: a swap would take the
// user's other files in the folder with the old world, and an
// interruption between its two renames would leave neither at --out.
func checkWorldFolder(dir string, force bool) error {
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 { // a folder not there yet is made
		return nil
	}
	if !force {
		return fmt.Errorf("world: %s already holds files; replace the cases there with --force, or choose another --out", dir)
	}
	for _, e := range ents {
		sub := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(sub, casedir.CaseJSON)); err != nil || !e.IsDir() {
			continue
		}
		if err := casedir.Remove(sub); err != nil {
			return fmt.Errorf("world: --force: %w", err)
		}
	}
	return nil
}
