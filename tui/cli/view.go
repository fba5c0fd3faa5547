package cli

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"time"

	"parascope/engine/sample"
	"parascope/engine/session"
	"parascope/engine/train"
	"parascope/engine/world"
	"parascope/tui"
	"parascope/viz/export"
)

// View opens the viewer on a ShapeWorld edit, or on the case or prompt
// the flags give.
func (e *Env) View(args []string) error {
	fs := flag.NewFlagSet("parascope", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "sampler config (TOML); defaults when empty")
	preview := fs.String("preview", "auto", "picture protocol: auto (ask the terminal), sixel, kitty or blocks")
	colors := fs.String("color", "auto", "colours: auto (the terminal's and NO_COLOR), truecolor, 256, 16 or none")
	var src promptFlags
	src.add(fs)
	exportDir := fs.String("export", "exports", "folder the x key writes into")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q (see parascope help)", pos[0])
	}
	switch *preview {
	case "auto", "sixel", "kitty", "blocks":
	default:
		return usagef("--preview %q: want auto, sixel, kitty or blocks", *preview)
	}
	if src.given() {
		if err := src.check(); err != nil {
			return err
		}
	}
	if !isTerminal(os.Stdout) || !isTerminal(os.Stdin) {
		return errors.New("the viewer needs a terminal; for headless work use 'parascope sample' (see 'parascope help')")
	}
	cfg, err := session.LoadConfig(*cfgPath)
	if err != nil {
		return err
	}
	be, err := e.Backend()
	if err != nil {
		return err
	}
	sess, err := session.OpenOrUntrained(cfg, be)
	if err != nil {
		return err
	}
	var p sample.Prompt
	var truth *world.Case
	if !src.given() {
		c := world.Generate(cfg.Seed, 0, world.MixEdit)
		truth = &c
		if p, err = sess.PromptOf(c); err != nil {
			return err
		}
	} else if p, truth, err = src.prompt(sess); err != nil {
		return err
	}
	var inputScene *world.Scene
	if truth != nil {
		inputScene = &truth.Input
	}
	modelName := sess.ModelName
	if modelName == session.Embedded {
		modelName = "default (embedded)"
	}
	cb, vocab := sess.Codebook, sess.Vocab
	return tui.Run(tui.Options{Aligner: sess.Aligner,
		Model: sess.Model, ModelName: modelName, ModelSpec: cfg.Model, Vocab: vocab, Codebook: cb, Config: cfg, Prompt: p, Input: inputScene,
		SFT: func(ctx context.Context, init string, kinds []string, steps int, progress func(tui.JobProgress)) (string, error) {
			out := filepath.Join("runs", "viewer-sft-"+time.Now().Format("20060102-150405"))
			run, err := train.NewSFT(train.QuickSFT(init, kinds, steps), be, cb, out)
			if err != nil {
				return "", err
			}
			err = run.Run(ctx, func(p train.Progress) {
				progress(tui.JobProgress{Step: p.Step, Steps: p.Steps, Loss: p.Loss, Rate: p.TokensPerSec, ETA: p.ETA})
			})
			return filepath.Join(out, train.ModelFile), err
		},
		ParaRL: func(ctx context.Context, init string, batches int, progress func(tui.JobProgress)) (string, error) {
			out := filepath.Join("runs", "viewer-pararl-"+time.Now().Format("20060102-150405"))
			run, err := train.StartParaRL(train.QuickParaRL(init, cfg.Clip, batches), be, cb, out, train.OpenDeps(be, cb))
			if err != nil {
				return "", err
			}
			err = run.Run(ctx, func(p train.RLProgress) {
				progress(tui.JobProgress{Step: p.Step, Steps: p.Steps, Reward: p.Reward, KL: p.KL, Rate: p.TrajectoriesPerSec, ETA: p.ETA})
			})
			return filepath.Join(out, train.ModelFile), err
		},
		Open: func(path string) (sample.Model, error) {
			return sess.OpenModel(path)
		},
		Preview: *preview, Color: *colors, ExportDir: *exportDir,
		Export: func(frames []sample.Frame, cfg sample.Config, dir string) ([]string, error) {
			h := sample.HeaderFor(cfg, vocab, p, frames[len(frames)-1].Step, modelName, truth)
			return export.Trajectory{Header: h, Frames: frames, Vocab: vocab, Codebook: cb}.Snapshot(dir, time.Now())
		},
	})
}
