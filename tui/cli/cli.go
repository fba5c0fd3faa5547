// Package cli is Parascope's command line: one file a command, each
// parsing its own flags and working through engine/session. main.go
// dispatches to the methods of Env; the viewer is the default command.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"parascope/engine/atomicfile"
	pmodel "parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/sample"
	"parascope/engine/session"
	"parascope/engine/tomlconf"
)

// Version is the program's version.
const Version = "0.1.0"

// Env is what every command shares: the compute backend, opened on first
// use from --backend (auto, cpu or cuda).
type Env struct {
	BackendName string
	// Usage is the running command's synopsis, "parascope judge DIR
	// [--json]": the first line -h prints.
	Usage string
	be    nn.Backend
}

// Backend opens the backend --backend names, once.
func (e *Env) Backend() (nn.Backend, error) {
	if e.be == nil {
		be, err := session.OpenBackend(e.BackendName, os.Stderr)
		if err != nil {
			return nil, err
		}
		e.be = be
	}
	return e.be, nil
}

// open opens a session for a sampler config on the backend.
func (e *Env) open(cfg sample.Config) (*session.Session, error) {
	be, err := e.Backend()
	if err != nil {
		return nil, err
	}
	return session.Open(cfg, be)
}

// UsageError marks a mistake in the command line (exit status 2).
type UsageError struct{ Msg string }

func (u UsageError) Error() string { return u.Msg }

func usagef(format string, args ...any) error { return UsageError{fmt.Sprintf(format, args...)} }

// Interrupted marks a command stopped by Ctrl-C or SIGTERM after it
// saved what it had; its message says what was saved and how to go on.
// It matches context.Canceled, which main maps to exit status 130 (143
// when the signal was SIGTERM, as ExitStatus says).
type Interrupted struct{ Msg string }

func (i Interrupted) Error() string { return i.Msg }
func (Interrupted) Unwrap() error   { return context.Canceled }

// stopSignal is the signal that stopped the last command, nil until one
// did: the exit status follows the shell's 128 + its number.
var stopSignal atomic.Value

// untilInterrupt is the context of a command that Ctrl-C or SIGTERM (a
// kill, a service manager, a job scheduler's timeout) stops: it is done
// at the first one, and the command saves what it has.
func untilInterrupt() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			stopSignal.Store(s)
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel()
	}
}

// InterruptStatus is the exit status of a command stopped by a signal:
// 143 (128 + 15) after SIGTERM, else 130 (128 + 2), Ctrl-C's.
func InterruptStatus() int {
	if s, ok := stopSignal.Load().(os.Signal); ok && s == syscall.SIGTERM {
		return 143
	}
	return 130
}

// checkOutputs reports, before any work, an output file that could not
// be written; empty paths are flags not given.
func checkOutputs(cmd string, files ...string) error {
	for _, f := range files {
		if f == "" {
			continue
		}
		if err := atomicfile.Check(f); err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
	}
	return nil
}

// checkOutputFolder reports, before any work, an output folder that could
// not be written in.
func checkOutputFolder(cmd, dir string) error {
	if err := atomicfile.CheckFolder(dir); err != nil {
		return fmt.Errorf("%s: %s: %w", cmd, dir, err)
	}
	return nil
}

// parseFlags parses flags that may come before or after the positional
// arguments and returns the positionals; after -h it prints the command's
// synopsis and flags and returns errHelpShown.
func (e *Env) parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	given := map[string]int{}
	fs.VisitAll(func(f *flag.Flag) { f.Value = &counted{f.Value, given, f.Name} })
	pos, err := parseAll(fs, args)
	// The flags are left as defined, for -h's list and the callers.
	fs.VisitAll(func(f *flag.Flag) { f.Value = f.Value.(*counted).Value })
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage := e.Usage
		if usage == "" {
			usage = "parascope " + fs.Name() + " [flags]"
		}
		fmt.Printf("usage: %s\n\nflags:\n", usage)
		fs.SetOutput(os.Stdout)
		fs.PrintDefaults()
		return nil, errHelpShown
	case err != nil:
		return nil, usagef("%s: %v", fs.Name(), err)
	}
	// A flag given twice would silently mean its last value, and an
	// empty path or choice its default: both are mistakes.
	fs.Visit(func(f *flag.Flag) {
		switch {
		case err != nil:
		case given[f.Name] > 1:
			err = usagef("%s: --%s given %d times; give it once", fs.Name(), f.Name, given[f.Name])
		case f.Value.String() == "":
			err = usagef("%s: --%s is empty; give a value, or leave the flag out", fs.Name(), f.Name)
		}
	})
	return pos, err
}

// counted is a flag's value that counts how often the command line sets it.
type counted struct {
	flag.Value
	given map[string]int
	name  string
}

func (c *counted) Set(s string) error {
	c.given[c.name]++
	return c.Value.Set(s)
}

// IsBoolFlag keeps a boolean flag one that takes no value.
func (c *counted) IsBoolFlag() bool {
	b, ok := c.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// parseAll parses flags before and after the positional arguments.
func parseAll(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// finite is a float flag's value; it refuses NaN and ±Inf, which no
// setting means and which would slip through the range checks after.
type finite float64

func (f *finite) String() string { return strconv.FormatFloat(float64(*f), 'g', -1, 64) }

func (f *finite) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange): // out of range parses as ±Inf
		return errors.New("not a number")
	case math.IsNaN(v) || math.IsInf(v, 0):
		return errors.New("want a finite number")
	}
	*f = finite(v)
	return nil
}

// floatFlag defines a float flag: every float flag is made here, so none
// takes NaN or ±Inf.
func floatFlag(fs *flag.FlagSet, name string, value float64, usage string) *float64 {
	p := &value
	fs.Var((*finite)(p), name, usage)
	return p
}

// errHelpShown ends a command after -h printed its flags.
var errHelpShown = errors.New("help shown")

// helpOK turns errHelpShown into success.
func helpOK(err error) error {
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

// Version prints the version, commit and Go version, and the backend.
func (e *Env) Version(args []string) error {
	pos, err := e.parseFlags(flag.NewFlagSet("version", flag.ContinueOnError), args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) > 0 {
		return usagef("version: unexpected argument %q", pos[0])
	}
	rev := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value[:min(12, len(s.Value))]
			}
		}
	}
	fmt.Printf("parascope %s (commit %s, %s %s/%s)\n", Version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	be, err := e.Backend()
	if err != nil {
		return err
	}
	desc := be.Name()
	if d, ok := be.(interface{ Describe() string }); ok {
		desc += ": " + d.Describe()
	}
	fmt.Printf("backend: %s (--backend %s)\n", desc, e.BackendName)
	return nil
}

// progressPrinter shows a job's progress: redrawn in place on a terminal,
// otherwise one line every few steps and at each checkpoint.
type progressPrinter struct {
	live  bool
	every int
}

func newProgressPrinter(every int) progressPrinter {
	return progressPrinter{live: isTerminal(os.Stdout), every: every}
}

func (pp progressPrinter) print(step int, checkpoint, line string) {
	switch {
	case pp.live:
		fmt.Printf("\r\x1b[K%s", line)
		if checkpoint != "" {
			fmt.Printf("\n  saved %s\n", checkpoint)
		}
	case step%pp.every == 0 || checkpoint != "":
		fmt.Println(line)
		if checkpoint != "" {
			fmt.Printf("  saved %s\n", checkpoint)
		}
	}
}

// note prints a line that stays, whatever the progress line does.
func (pp progressPrinter) note(line string) {
	if pp.live {
		fmt.Print("\n")
	}
	fmt.Println(line)
}

func (pp progressPrinter) done() {
	if pp.live {
		fmt.Println()
	}
}

// bar draws a progress bar of the given width.
func bar(done, total, width int) string {
	n := width * done / max(total, 1)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// isTerminal reports whether f is a character device, as a terminal is.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// loadConfig reads a sampler config over a preset (the preset's settings
// for path "") with model, where given, in place of its own, and checks
// that the files it names exist, naming the key of a missing one before
// any work.
func loadConfig(path, model, preset string) (sample.Config, error) {
	if _, err := sample.Preset(preset); err != nil {
		return sample.Config{}, UsageError{"--" + err.Error()}
	}
	cfg, err := session.LoadConfig(path, preset, model)
	if err != nil {
		return cfg, err
	}
	if path != "" {
		checked := cfg
		if model != "" {
			checked.Model = "" // replaced by the flag's, which is opened later
		}
		if err := tomlconf.CheckInputs(path, checked); err != nil {
			return cfg, err
		}
	}
	if model != "" {
		// Said before any input is read, which a published model reads
		// differently from ShapeWorld's.
		if _, err := os.Stat(model); pmodel.NamesFile(model) && err != nil {
			return cfg, fmt.Errorf("--model: %w", err)
		}
		cfg.Model = model
	}
	return cfg, nil
}
