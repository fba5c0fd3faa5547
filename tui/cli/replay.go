package cli

import (
	"flag"
	"fmt"
	"os"

	"parascope/engine/infile"
	"parascope/engine/sample"
	"parascope/engine/session"
	"parascope/engine/world"
	"parascope/tui"
	"parascope/viz/export"
)

// Replay prints a saved trajectory step by step and exports it, or opens
// it in the viewer, without a model.
func (e *Env) Replay(args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	gifPath := fs.String("gif", "", "write an animated GIF of the run")
	pngPath := fs.String("png", "", "write the final picture")
	stripPath := fs.String("strip", "", "write a PNG strip of the picture at --strip-steps")
	stripSteps := fs.String("strip-steps", "", "comma-separated steps for --strip (default: five evenly spaced)")
	textPath := fs.String("text", "", "write the final reasoning text")
	preview, colors, theme := lookFlags(fs)
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) != 1 {
		return UsageError{"replay: want one trace file"}
	}
	if err := checkPreview(*preview); err != nil {
		return err
	}
	outputs := []named{{"--gif", *gifPath}, {"--png", *pngPath}, {"--strip", *stripPath}, {"--text", *textPath}}
	if err := checkDistinct("replay", []named{{"the trace", pos[0]}}, outputs); err != nil {
		return err
	}
	if err := checkStrip("replay", *stripPath, *stripSteps); err != nil {
		return err
	}
	if err := checkOutputs("replay", *gifPath, *pngPath, *stripPath, *textPath); err != nil {
		return err
	}
	f, err := infile.Open(pos[0])
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	// The codebook the header names sizes the vocabulary the frames are
	// checked against.
	var cb sample.ImageTokenizer
	var vocab sample.Vocabulary
	h, frames, err := sample.ReadTraceFor(f, pos[0], func(h sample.Header) (sample.Template, error) {
		if session.IsRealModel(h.Config.Model) { // a published model's layout, without its weights
			folder, err := session.OpenLayout(h.Config)
			if err != nil {
				return nil, fmt.Errorf("config.model: %w", err)
			}
			cb, vocab = folder.Images, folder.Template
			return vocab, nil
		}
		c, v, err := session.Tokenizers(h.Config.Codebook)
		if err != nil {
			return nil, fmt.Errorf("config.codebook: %w", err)
		}
		cb, vocab = c, v
		return vocab, nil
	})
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	t := export.Trajectory{Header: h, Frames: frames, Vocab: vocab, Codebook: cb}
	files := export.Files{GIF: *gifPath, PNG: *pngPath, Strip: *stripPath, Text: *textPath}
	// The trace's last step bounds --strip-steps; a mistake in them is
	// found before anything is printed or written.
	if files.StripSteps, err = parseSteps("replay", *stripSteps, frames[len(frames)-1].Step); err != nil {
		return err
	}
	if *gifPath == "" && *pngPath == "" && *stripPath == "" && *textPath == "" && isTerminal(os.Stdout) {
		var input *world.Scene
		if h.Case != nil {
			input = &h.Case.Input
		}
		return tui.Run(tui.Options{ModelName: h.Model + " (replay)", Vocab: vocab, Codebook: cb, Config: h.Config,
			Prompt: sample.Prompt{Task: h.Task, Instruction: h.Prompt.Instruction, Input: h.Prompt.Input},
			Case:   h.Case, Input: input, Frames: frames, Steps: h.Steps, Preview: *preview, Color: *colors, Theme: *theme})
	}
	for _, fr := range frames {
		fmt.Printf("step %2d/%d  image %2d/%d  %s\n", fr.Step, h.Steps, fr.Image.Actual, fr.Image.Total, maskedLine(fr, vocab))
	}
	if err := t.Write(files); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}
