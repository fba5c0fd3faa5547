package cli

import (
	"errors"
	"flag"
	"os"
	"strings"

	"parascope/engine/sample"
	"parascope/engine/session"
	"parascope/engine/world"
	"parascope/tui"
	"parascope/tui/local"
	"parascope/viz/termimg"
)

// View opens the viewer on a ShapeWorld edit, or on the case or prompt
// the flags give.
func (e *Env) View(args []string) error {
	fs := flag.NewFlagSet("parascope", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "sampler config (TOML); defaults when empty")
	modelSpec, preset := modelFlags(fs)
	preview, colors, theme := lookFlags(fs)
	var src promptFlags
	src.add(fs)
	exportDir := fs.String("export", "exports", "folder the x key writes into")
	demo := fs.Bool("demo", false, "talk mode: a contrast theme (unless --theme names one), a larger picture, and ShapeWorld cases played one after another (enter pauses, pgdn/pgup change the case)")
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q (see parascope help)", pos[0])
	}
	if err := checkPreview(*preview); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, *modelSpec, *preset)
	if err != nil {
		return err
	}
	if src.given() {
		if err := src.check(); err != nil {
			return err
		}
		if err := src.load(session.IsRealModel(cfg.Model)); err != nil {
			return err
		}
	}
	if !isTerminal(os.Stdout) || !isTerminal(os.Stdin) {
		return errors.New("the viewer needs a terminal; for headless work use 'parascope sample' (see 'parascope help')")
	}
	be, err := e.Backend()
	if err != nil {
		return err
	}
	sess, err := session.OpenOrUntrained(cfg, be)
	if err != nil {
		return err
	}
	o, err := viewerOptions(sess, cfg, &src, *demo)
	if err != nil {
		return err
	}
	engine := local.New(sess)
	defer engine.Close()
	o.Engine, o.Preview, o.Color, o.Theme, o.ExportDir = engine, *preview, *colors, *theme, *exportDir
	return tui.Run(o)
}

// viewerOptions are what the viewer shows of an open session: the
// prompt src gives, or with none ShapeWorld's cases paged through with
// pgdn / pgup (edits, or in talk mode generations too). The caller adds
// the engine and the look.
func viewerOptions(sess *session.Session, cfg sample.Config, src *promptFlags, demo bool) (tui.Options, error) {
	var p sample.Prompt
	var truth *world.Case
	var caseAt func(int) world.Case
	var err error
	if src == nil || !src.given() {
		mix := world.MixEdit
		if demo {
			mix = world.MixBoth
		}
		caseAt = func(i int) world.Case { return world.Generate(cfg.Seed, i, mix) }
		c := caseAt(0)
		truth = &c
		if p, err = sess.PromptOf(c); err != nil {
			return tui.Options{}, err
		}
	} else if p, truth, err = src.prompt(sess); err != nil {
		return tui.Options{}, err
	}
	o := tui.Options{Vocab: sess.Template, Codebook: sess.Images, Config: cfg, Prompt: p, Case: truth, CaseAt: caseAt, Demo: demo}
	if truth != nil {
		o.Input = &truth.Input
	}
	if src != nil {
		o.InputPicture = src.picture
	}
	return o, nil
}

// modelFlags are the model to sample with and the preset its settings
// start from.
func modelFlags(fs *flag.FlagSet) (modelSpec, preset *string) {
	modelSpec = fs.String("model", "", "a ShapeWorld checkpoint, random:SEED, or a MMaDA-Parallel-A or -M folder (default: the config's, else the embedded model)")
	preset = fs.String("preset", "", "settings to start from, under the config: official-a or official-m (the published generators, step for step)")
	return modelSpec, preset
}

// lookFlags are the viewer's picture protocol, colours and theme.
func lookFlags(fs *flag.FlagSet) (preview, colors, theme *string) {
	preview = fs.String("preview", "auto", "picture protocol: auto (ask the terminal), or one of "+strings.Join(termimg.Names(), ", "))
	colors = fs.String("color", "auto", "colours: auto (the terminal's and NO_COLOR), truecolor, 256, 16 or none")
	theme = fs.String("theme", "auto", "text colours: auto (for the terminal's background), dark, light, or contrast (bold pure colours, for projectors)")
	return preview, colors, theme
}

// checkPreview refuses a picture protocol this build does not have.
func checkPreview(name string) error {
	if _, ok := termimg.Lookup(name); name != "auto" && !ok {
		return usagef("--preview %q: want auto or one of %s", name, strings.Join(termimg.Names(), ", "))
	}
	return nil
}
