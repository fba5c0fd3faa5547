package sample

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"parascope/engine/world"
)

// A trace is a trajectory on disk, JSON Lines: a header, then one frame
// per line. It replays without a model; the codebook named by the
// config (or the embedded one) draws its pictures.

// TraceFormat names the file format in every header.
const TraceFormat = "parascope-trajectory/1"

// Header is a trace's first line.
type Header struct {
	Format    string      `json:"format"`
	Model     string      `json:"model"`
	Config    Config      `json:"config"`
	Seed      uint64      `json:"seed"`
	VocabHash string      `json:"vocab_hash"`
	Task      world.Task  `json:"task"`
	Prompt    PromptJSON  `json:"prompt"`
	Case      *world.Case `json:"case,omitempty"` // ground truth, when sampled from a case
	Steps     int         `json:"steps"`
}

// PromptJSON is a Prompt as it is written down.
type PromptJSON struct {
	Instruction string `json:"instruction"`
	Input       []int  `json:"input,omitempty"`
}

// NewHeader describes a stepper's trajectory.
func NewHeader(s *Stepper, model string, c *world.Case) Header {
	return HeaderFor(s.cfg, s.tmpl, s.prompt, s.total, model, c)
}

// HeaderFor describes a trajectory from its parts.
func HeaderFor(cfg Config, t Template, p Prompt, steps int, model string, c *world.Case) Header {
	return Header{
		Format: TraceFormat, Model: model, Config: cfg, Seed: cfg.Seed,
		VocabHash: t.Hash(), Task: p.Task,
		Prompt: PromptJSON{Instruction: p.Instruction, Input: p.Input},
		Case:   c, Steps: steps,
	}
}

// WriteTrace writes a whole trajectory.
func WriteTrace(w io.Writer, h Header, frames []Frame) error {
	tw, err := NewTraceWriter(w, h)
	if err != nil {
		return err
	}
	for _, f := range frames {
		if err := tw.Frame(f); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// TraceWriter writes a trace as the steps happen.
type TraceWriter struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewTraceWriter writes the header.
func NewTraceWriter(w io.Writer, h Header) (*TraceWriter, error) {
	bw := bufio.NewWriter(w)
	t := &TraceWriter{w: bw, enc: json.NewEncoder(bw)}
	return t, t.enc.Encode(h)
}

// Frame appends one frame.
func (t *TraceWriter) Frame(f Frame) error { return t.enc.Encode(f) }

// Flush writes what is buffered.
func (t *TraceWriter) Flush() error { return t.w.Flush() }

// ReadTrace reads a whole trace; name is used in errors. The template,
// when given, must be the one the trace was made with; without one, each
// frame must hold the positions its own totals count.
func ReadTrace(r io.Reader, name string, t Template) (Header, []Frame, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	var h Header
	var frames []Frame
	line := 0
	for sc.Scan() {
		line++
		var err error
		if line == 1 {
			err = json.Unmarshal(sc.Bytes(), &h)
			if err == nil && h.Format != TraceFormat {
				err = fmt.Errorf("format %q, want %q", h.Format, TraceFormat)
			}
			if err == nil && t != nil && h.VocabHash != t.Hash() {
				err = fmt.Errorf("made with vocabulary %s, this build has %s", h.VocabHash, t.Hash())
			}
		} else {
			var f Frame
			err = json.Unmarshal(sc.Bytes(), &f)
			if err == nil {
				err = checkFrame(f, len(frames), t)
			}
			frames = append(frames, f)
		}
		if err != nil {
			return h, nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return h, nil, fmt.Errorf("%s: %w", name, err)
	}
	if line == 0 {
		return h, nil, fmt.Errorf("%s: empty trace", name)
	}
	if len(frames) == 0 {
		return h, nil, fmt.Errorf("%s: a header and no frames", name)
	}
	return h, frames, nil
}

func checkFrame(f Frame, want int, t Template) error {
	n := f.Image.Total + f.Text.Total
	if t != nil {
		n = t.ImageLen() + t.ReasoningLen()
	}
	switch {
	case f.Step != want:
		return fmt.Errorf("frame of step %d where step %d belongs", f.Step, want)
	case len(f.Tokens) != n || len(f.RevealedAt) != n || len(f.Confidence) != n || len(f.Guess) != n:
		return errors.New("a frame needs tokens, revealed_at, confidence and guess for every output position")
	}
	return nil
}
