// Command parascope is a terminal microscope for parallel multimodal
// diffusion: one model that denoises a reasoning text and an image
// together. With no arguments it opens the interactive viewer; the
// subcommands do the headless work. This file parses the flag every
// command shares and dispatches; the commands live in tui/cli.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"parascope/engine/nn"
	_ "parascope/gpu" // registers the cuda backend
	"parascope/tui/cli"
)

type command struct {
	name, args, summary string
	run                 func(e *cli.Env, args []string) error
}

var commands = []command{
	{"world", "--seed S --n N [--task thinkgen|thinkedit|mixed] --out DIR [--force] [--sheet FILE]", "write ShapeWorld cases, one folder each", (*cli.Env).World},
	{"judge", "DIR [--json]", "score the case folder DIR, or the case folders in it, with the exact judge (ParaBench-mini metrics)", (*cli.Env).Judge},
	{"train", "sft|clip|pararl --config FILE [--resume CKPT] [--out DIR] | reward --clip CKPT | promote MODEL | vq [flags]", "fit the model (SFT, then ParaRL) or the CLIP scorer, make a trained model the embedded default, or learn the image tokenizer's codebook", (*cli.Env).Train},
	{"version", "", "print the version", (*cli.Env).Version},
	{"sample", "[--config FILE] [--model M] [--preset official-a|official-m] (--case DIR | --prompt TEXT | --instruction TEXT --input PNG) [flags]", "denoise one answer step by step and export it (trace, GIF, PNG, judge folder)", (*cli.Env).Sample},
	{"bench", "[--model CKPT] [--mode parallel|sequential] [--cases N] [--seed S] [--config FILE] [--json] [--results FILE]", "run ParaBench-mini: sample held-out cases and judge them", (*cli.Env).Bench},
	{"tokenize", "--tokenizer FILE [--decode] TEXT…", "encode TEXT with a Hugging Face tokenizer.json and print the ids as JSON, or with --decode print the text of ids", (*cli.Env).Tokenize},
	{"vq", "encode --tokenizer DIR [--size 512] PNG | decode --tokenizer DIR [--size 512] --out PNG CODES…", "encode a picture into codes, or decode codes into a picture, with a real image tokenizer (the aMUSEd VQ-GAN of MMaDA-Parallel-A or the MAGVIT-v2 of MMaDA-Parallel-M, told by the folder's config.json)", (*cli.Env).VQ},
	{"serve", "[--listen ADDR] [--authorized-keys FILE] [--host-key FILE] [--config FILE] [--model M] [--preset P] [--case DIR | --prompt TEXT | --instruction TEXT --input PNG] [--demo] [--allow-jobs] [--max-sessions N] [--max-per-key N] [--idle D] [--export-dir DIR]", "serve the viewer over SSH to the keys in an authorized_keys file, every session on one loaded model", (*cli.Env).Serve},
	{"scorer", "[--config PARARL.toml] [--clip CKPT] [--model CKPT] [--cases N] [--seed S] [--group G] [--json] [--samples FILE]", "measure how a CLIP scorer tracks the judge on a model's own rollouts, final and partial, per edit kind", (*cli.Env).Scorer},
	{"plot", "RUN... --out FILE.png [--smooth N]", "draw ParaRL runs' curves (final reward, held-out output alignment, KL, informative share) from their progress.jsonl", (*cli.Env).Plot},
	{"replay", "TRACE [--gif FILE] [--png FILE] [--strip FILE [--strip-steps LIST]] [--text FILE]", "replay a saved trajectory without a model, and export it", (*cli.Env).Replay},
}

func main() {
	err := run(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "parascope:", err)
	}
	os.Exit(exitCode(err))
}

// exitCode is the process's exit status for what run returned: 0 for
// success, 2 for a mistake in the command line, 130 (the shell's code for
// SIGINT) for a command stopped by Ctrl-C, 143 for one stopped by
// SIGTERM, 1 for any other error.
func exitCode(err error) int {
	var u cli.UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u):
		return 2
	case errors.Is(err, context.Canceled):
		return cli.InterruptStatus()
	}
	return 1
}

func run(args []string) (err error) {
	name := "parascope"
	// The last line of defence: a panic becomes an error naming the
	// command, not a stack trace. Every known one is checked for before
	// it can happen.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: internal error: %v (please report it, with the command line)", name, r)
		}
	}()
	args, backend, err := takeBackendFlag(args)
	if err != nil {
		return err
	}
	env := &cli.Env{BackendName: backend}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "-help" && args[0] != "--help" {
		env.Usage = viewerUsage
		return env.View(args)
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[1] != "-h" && args[1] != "-help" && args[1] != "--help" {
			// help COMMAND [JOB] is COMMAND [JOB] -h.
			return run(append(slices.Clone(args[1:]), "-h"))
		}
		usage(os.Stdout)
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			name = "parascope " + c.name
			env.Usage = strings.TrimSpace("parascope " + c.name + " " + c.args)
			return c.run(env, args[1:])
		}
	}
	usage(os.Stderr)
	return cli.UsageError{Msg: fmt.Sprintf("unknown command %q", args[0])}
}

const viewerUsage = "parascope [--config FILE] [--model M] [--preset official-a|official-m] [--preview auto|sixel|kitty|blocks] [--color auto|truecolor|256|16|none] [--theme auto|dark|light|contrast] [--case DIR | --prompt TEXT | --instruction TEXT --input PNG] [--export DIR] [--demo]"

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: parascope [--backend auto|cpu|cuda] [COMMAND] [ARGS]\n\n")
	fmt.Fprintf(w, "parascope %s: watch a model denoise reasoning text and an image together.\n\n", cli.Version)
	fmt.Fprintf(w, "With no command, it opens the viewer (keys: ? inside it):\n  %s\n\ncommands:\n", viewerUsage)
	for _, c := range commands {
		fmt.Fprintf(w, "  parascope %-8s %s\n      %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'parascope COMMAND -h' (or 'parascope help COMMAND') for a command's flags.\n")
}

// takeBackendFlag removes --backend NAME (or --backend=NAME) from anywhere
// on the command line and returns the name: auto (the default), cpu or
// cuda, for every command that runs a model.
func takeBackendFlag(args []string) (rest []string, backend string, err error) {
	backend = "auto"
	given := 0
	for i := 0; i < len(args); i++ {
		a := strings.TrimPrefix(args[i], "-")
		switch {
		case a == "-backend" || a == "backend":
			if i+1 == len(args) {
				return nil, "", cli.UsageError{Msg: "--backend needs a value: auto, " + strings.Join(nn.Names(), ", ")}
			}
			backend = args[i+1]
			given++
			i++
		case strings.HasPrefix(a, "-backend=") || strings.HasPrefix(a, "backend="):
			backend = a[strings.Index(a, "=")+1:]
			given++
		default:
			rest = append(rest, args[i])
		}
	}
	if given > 1 {
		return nil, "", cli.UsageError{Msg: fmt.Sprintf("--backend given %d times; give it once", given)}
	}
	if backend != "auto" && !slices.Contains(nn.Names(), backend) {
		return nil, "", cli.UsageError{Msg: fmt.Sprintf("--backend %q: want auto, %s", backend, strings.Join(nn.Names(), ", "))}
	}
	return rest, backend, nil
}
