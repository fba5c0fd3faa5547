package tui

import (
	"context"
	"fmt"
	"image"
	"io"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	uv "github.com/charmbracelet/ultraviolet"
)

// Terminal is where a viewer runs. The zero value is this process's own
// terminal; a remote one (an SSH session's) gives its input, output,
// environment and size, and the viewer learns the rest (colours,
// background, picture protocol, cell size) from its answers.
type Terminal struct {
	In            io.Reader
	Out           io.Writer
	Env           []string // TERM, COLORTERM, NO_COLOR, TMUX, …
	Width, Height int      // the window's size in cells, until it says
	// Context ends the program when it is done; nil for none.
	Context context.Context
}

// remote reports whether t is another terminal than this process's.
func (t Terminal) remote() bool { return t.In != nil || t.Out != nil }

// getenv reads a remote terminal's environment.
func (t Terminal) getenv(key string) string {
	v := ""
	for _, kv := range t.Env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val // the last one wins, as in a shell
		}
	}
	return v
}

// Run opens the viewer on this process's terminal and returns when the
// user quits.
func Run(o Options) error {
	p, err := NewProgram(o, Terminal{})
	if err != nil {
		return err
	}
	_, err = p.Run()
	return err
}

// NewProgram builds the viewer on terminal t, ready to Run. The first
// run starts here, so it may take a model step's time.
func NewProgram(o Options, t Terminal) (*tea.Program, error) {
	if o.Theme != "" && !slices.Contains(themeNames, o.Theme) {
		return nil, fmt.Errorf("theme %q: want %s", o.Theme, strings.Join(themeNames, ", "))
	}
	var opts []tea.ProgramOption
	var idle *io.PipeWriter // the end of the program's own input, when remote
	switch o.Color {
	case "", "auto": // what the terminal and NO_COLOR say
		if t.remote() {
			// No tty here to look at: the session's TERM, COLORTERM and
			// NO_COLOR say.
			opts = append(opts, tea.WithColorProfile(colorprofile.Env(t.Env)))
		}
	case "truecolor":
		opts = append(opts, tea.WithColorProfile(colorprofile.TrueColor))
	case "256":
		opts = append(opts, tea.WithColorProfile(colorprofile.ANSI256))
	case "16":
		opts = append(opts, tea.WithColorProfile(colorprofile.ANSI))
	case "none":
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	default:
		return nil, fmt.Errorf("colours %q: want auto, truecolor, 256, 16 or none", o.Color)
	}
	a, err := newApp(o)
	if err != nil {
		return nil, err
	}
	if t.remote() {
		a.tmux = t.getenv("TMUX") != ""
		// The window size in pixels is the remote terminal's to say
		// (CSI 16 t), not this process's tty's.
		a.cellSize = func() (image.Point, bool) { return image.Point{}, false }
		// Bubble Tea's own input reader can block for good sending a key
		// that arrives as the program ends; with many programs in one
		// process that is a goroutine lost per session. So the remote
		// input is read here (forwardInput) and the program's own reader
		// gets a pipe that only ever ends.
		var in *io.PipeReader
		in, idle = io.Pipe()
		opts = append(opts, tea.WithInput(in), tea.WithOutput(t.Out), tea.WithEnvironment(t.Env),
			// The process's signals are the server's, not this viewer's.
			tea.WithoutSignalHandler(),
			// A remote session has no job control to suspend into.
			tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
				if _, ok := msg.(tea.SuspendMsg); ok {
					return tea.ResumeMsg{}
				}
				return msg
			}))
		if t.Width > 0 && t.Height > 0 {
			opts = append(opts, tea.WithWindowSize(t.Width, t.Height))
		}
	}
	if t.Context != nil {
		opts = append(opts, tea.WithContext(t.Context))
	}
	p := tea.NewProgram(a, opts...)
	if t.remote() {
		go func() {
			forwardInput(t.Context, t.In, t.getenv("TERM"), p)
			idle.Close()
		}()
	}
	return p, nil
}

// forwardInput reads a remote terminal's input as events and sends them
// to p until ctx is done and the input has ended; once p has ended, the
// events are read and dropped, so the reader never waits on it.
func forwardInput(ctx context.Context, in io.Reader, term string, p *tea.Program) {
	if ctx == nil {
		ctx = context.Background()
	}
	events := make(chan uv.Event)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = uv.NewTerminalReader(in, term).StreamEvents(ctx, events)
	}()
	for {
		select {
		case ev := <-events:
			p.Send(ev) // returns at once when p has ended
		case <-done:
			return
		}
	}
}
