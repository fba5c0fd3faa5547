package sample

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"parascope/engine/infile"
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
	// Stopped marks the trace of a run stopped before its end (Ctrl-C):
	// its last frame is the last step taken, not the run's end.
	Stopped bool `json:"stopped,omitempty"`
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

// ReadTrace reads a whole trace made with template t and checks every
// line against it; name is used in errors, which give the line and the
// field at fault.
func ReadTrace(r io.Reader, name string, t Template) (Header, []Frame, error) {
	return ReadTraceFor(r, name, func(Header) (Template, error) { return t, nil })
}

// ReadTraceFor is ReadTrace with the template the header claims: what
// templateFor returns for it (a trace names its codebook in its config,
// and the codebook sizes the vocabulary).
func ReadTraceFor(r io.Reader, name string, templateFor func(Header) (Template, error)) (Header, []Frame, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), maxTraceLine)
	var h Header
	var t Template
	var frames []Frame
	line := 0
	for sc.Scan() {
		line++
		var err error
		if line == 1 {
			if err = decodeHeader(infile.StripBOM(sc.Bytes()), &h); err == nil {
				t, err = checkHeader(h, templateFor)
			}
		} else {
			var f Frame
			if err = decodeLine(sc.Bytes(), &f); err == nil {
				err = checkFrame(f, frames, h, t)
			}
			frames = append(frames, f)
		}
		if err != nil {
			return h, nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return h, nil, fmt.Errorf("%s:%d: the line is longer than %s, more than a frame can be", name, line+1, infile.Size(maxTraceLine))
	} else if err != nil {
		return h, nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if line == 0 {
		return h, nil, fmt.Errorf("%s: empty trace", name)
	}
	if len(frames) == 0 {
		return h, nil, fmt.Errorf("%s: a header and no frames", name)
	}
	if last := frames[len(frames)-1]; !h.Stopped && !Finished(last, h.Steps) {
		return h, nil, fmt.Errorf("%s:%d: ends at step %d of the header's %d with positions still masked, and the header does not say the run was stopped: the last frames are missing", name, line, last.Step, h.Steps)
	}
	return h, frames, nil
}

// maxTraceLine caps a trace's line: a frame is a few kilobytes.
const maxTraceLine = 16 << 20

// decodeHeader reads the first line, which must be a trace's header: a
// line without "format" is something else, most likely a frame.
func decodeHeader(data []byte, h *Header) error {
	var keys map[string]json.RawMessage
	if json.Unmarshal(data, &keys) == nil && keys["format"] == nil {
		return fmt.Errorf("no trace header: a trace starts with a line holding \"format\": %q", TraceFormat)
	}
	return decodeLine(data, h)
}

// decodeLine reads one JSON object, naming the field of a value of the
// wrong type; keys the format does not have are mistakes.
func decodeLine(data []byte, v any) error {
	err := infile.DecodeJSON(data, v, true)
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("a blank line where a JSON object belongs")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("truncated: the line ends inside its JSON object")
	}
	return err
}

// checkHeader checks the header against the template it names.
func checkHeader(h Header, templateFor func(Header) (Template, error)) (Template, error) {
	if h.Format != TraceFormat {
		return nil, fmt.Errorf("format %q, want %q", h.Format, TraceFormat)
	}
	t, err := templateFor(h)
	if err != nil {
		return nil, err
	}
	if h.VocabHash != t.Hash() {
		return nil, fmt.Errorf("vocab_hash: made with vocabulary %s, this build has %s", h.VocabHash, t.Hash())
	}
	if err := h.Config.ValidateFor(t); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	switch {
	case h.Steps < 0 || h.Steps > h.Config.RunSteps():
		return nil, fmt.Errorf("steps: %d, want 0 to the %d steps of a run with its config", h.Steps, h.Config.RunSteps())
	case h.Seed != h.Config.Seed:
		return nil, fmt.Errorf("seed: %d, the config's is %d", h.Seed, h.Config.Seed)
	case h.Task == world.ThinkGen && len(h.Prompt.Input) > 0:
		return nil, errors.New("prompt.input: a thinkgen prompt has no input picture")
	case h.Case != nil && h.Case.Task != h.Task:
		return nil, fmt.Errorf("case.task: %s, the trace's task is %s", h.Case.Task, h.Task)
	}
	if _, _, _, err := t.Start(h.Task, h.Prompt.Instruction, h.Prompt.Input); err != nil {
		return nil, fmt.Errorf("prompt: %w", err)
	}
	if h.Case != nil {
		for field, s := range map[string]world.Scene{"case.input": h.Case.Input, "case.target": h.Case.Target} {
			if err := s.Validate(); err != nil {
				return nil, fmt.Errorf("%s: %w", field, err)
			}
		}
	}
	return t, nil
}

// checkFrame checks that f follows the frames before it: the next step,
// a token or the mask at every output position as the layout allows, and
// positions once revealed left as they were.
func checkFrame(f Frame, before []Frame, h Header, t Template) error {
	n, imageLen := t.ImageLen()+t.ReasoningLen(), t.ImageLen()
	switch {
	case f.Step != len(before):
		return fmt.Errorf("step: %d where step %d belongs", f.Step, len(before))
	case f.Step > h.Steps:
		return fmt.Errorf("step: %d, past the header's %d steps", f.Step, h.Steps)
	case len(f.Tokens) != n:
		return fmt.Errorf("tokens: %d, want one for each of the %d output positions", len(f.Tokens), n)
	case len(f.RevealedAt) != n:
		return fmt.Errorf("revealed_at: %d, want one for each of the %d output positions", len(f.RevealedAt), n)
	case len(f.Confidence) != n:
		return fmt.Errorf("confidence: %d, want one for each of the %d output positions", len(f.Confidence), n)
	case len(f.Probability) != 0 && len(f.Probability) != n:
		return fmt.Errorf("probability: %d, want none or one for each of the %d output positions", len(f.Probability), n)
	case len(f.Guess) != n:
		return fmt.Errorf("guess: %d, want one for each of the %d output positions", len(f.Guess), n)
	case f.Image.Total != imageLen:
		return fmt.Errorf("image.total: %d, the layout has %d image positions", f.Image.Total, imageLen)
	case f.Text.Total != t.ReasoningLen():
		return fmt.Errorf("text.total: %d, the layout has %d reasoning positions", f.Text.Total, t.ReasoningLen())
	case f.Alignment != nil && (math.IsNaN(*f.Alignment) || math.IsInf(*f.Alignment, 0)):
		return fmt.Errorf("alignment: %g, want a finite number", *f.Alignment)
	}
	text := map[int32]bool{}
	for _, id := range t.TextChoices() {
		text[int32(id)] = true
	}
	mask := int32(t.MaskID())
	revealed := [2]int{} // image, text
	official := h.Config.Rules != ""
	for i, id := range f.Tokens {
		at, conf, guess := f.RevealedAt[i], f.Confidence[i], f.Guess[i]
		inImage := i < imageLen
		switch {
		case at != -1 && (at < 1 || int(at) > f.Step):
			return fmt.Errorf("revealed_at[%d]: %d, want -1 (masked) or a step from 1 to %d", i, at, f.Step)
		case math.IsNaN(float64(conf)) || math.IsInf(float64(conf), 0):
			return fmt.Errorf("confidence[%d]: %g, want a finite number", i, conf)
		case guess < 0 || int(guess) >= t.Size():
			return fmt.Errorf("guess[%d]: id %d is outside the vocabulary (0 to %d)", i, guess, t.Size()-1)
		case len(f.Probability) > 0 && !(f.Probability[i] >= 0 && f.Probability[i] <= 1):
			return fmt.Errorf("probability[%d]: %g, want a probability from 0 to 1", i, f.Probability[i])
		}
		// The official rules may mask a known code again, or change it at
		// the end, where the published code does.
		if len(before) > 0 {
			prev := before[len(before)-1]
			switch was := prev.RevealedAt[i]; {
			case was != -1 && official && inImage:
			case was != -1 && (at != was || id != prev.Tokens[i]):
				return fmt.Errorf("tokens[%d]: changed after it was revealed at step %d", i, was)
			case was == -1 && at != -1 && int(at) != f.Step:
				return fmt.Errorf("revealed_at[%d]: %d, but the position was masked at step %d", i, at, prev.Step)
			}
		}
		switch {
		case at == -1 && id != mask:
			return fmt.Errorf("tokens[%d]: id %d at a position revealed_at calls masked", i, id)
		case at == -1:
			continue
		case id < 0 || int(id) >= t.Size():
			return fmt.Errorf("tokens[%d]: id %d is outside the vocabulary (0 to %d)", i, id, t.Size()-1)
		case id == mask:
			return fmt.Errorf("tokens[%d]: the mask id at a position revealed at step %d", i, at)
		case inImage && !isImage(t, int(id)):
			return fmt.Errorf("tokens[%d]: id %d in the image, not an image code", i, id)
		case !inImage && !official && !text[id]: // the official rules choose from the whole vocabulary
			return fmt.Errorf("tokens[%d]: id %d in the reasoning, not a word or an end", i, id)
		case guess != id:
			return fmt.Errorf("guess[%d]: %d, not the revealed token %d", i, guess, id)
		}
		if inImage {
			revealed[0]++
		} else {
			revealed[1]++
		}
	}
	for _, c := range []struct {
		key      string
		count    Count
		revealed int
	}{{"image", f.Image, revealed[0]}, {"text", f.Text, revealed[1]}} {
		switch {
		case c.count.Actual != c.revealed:
			return fmt.Errorf("%s.actual: %d, but %d positions are revealed", c.key, c.count.Actual, c.revealed)
		case c.count.Target < 0 || c.count.Target > c.count.Total:
			return fmt.Errorf("%s.target: %d, want 0 to %d", c.key, c.count.Target, c.count.Total)
		}
	}
	return nil
}
