package token

import (
	"fmt"
	"image"

	"parascope/engine/world"
)

// ImageTokens is the number of codes in one image.
const ImageTokens = (world.Canvas / world.PatchPx) * (world.Canvas / world.PatchPx)

// Text regions hold the words, then <|eos|>, then <|pad|> to a fixed
// length, so every sequence of a task has the same layout and batches need
// no ragged handling. The model learns to emit the end and pad tokens.
const (
	InstructionLen = world.MaxInstructionWords + 1
	ReasoningLen   = world.MaxReasoningWords + 1
)

// Span is a half-open range of positions.
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Len is the span's length.
func (s Span) Len() int { return s.End - s.Start }

// Layout is a task's span table. Only the output spans are ever masked.
// thinkedit: <|thinkedit|> <|soi|> in-image <|eoi|> <|bos|> instruction
// then <|soi|> out-image <|eoi|> <|bos|> reasoning; thinkgen has no input
// image.
type Layout struct {
	Task        world.Task `json:"task"`
	Len         int        `json:"len"`
	InputImage  Span       `json:"input_image"`
	Instruction Span       `json:"instruction"`
	OutputImage Span       `json:"output_image"`
	OutputText  Span       `json:"output_text"`
}

// LayoutFor returns the fixed layout of a task.
func LayoutFor(task world.Task) Layout {
	l := Layout{Task: task}
	pos := 1 // the task token
	if task == world.ThinkEdit {
		l.InputImage = Span{pos + 1, pos + 1 + ImageTokens}
		pos = l.InputImage.End + 1
	}
	l.Instruction = Span{pos + 1, pos + 1 + InstructionLen}
	l.OutputImage = Span{l.Instruction.End + 1, l.Instruction.End + 1 + ImageTokens}
	l.OutputText = Span{l.OutputImage.End + 2, l.OutputImage.End + 2 + ReasoningLen}
	l.Len = l.OutputText.End
	return l
}

// Sequence is a built token sequence with its span table.
type Sequence struct {
	IDs    []int  `json:"ids"`
	Layout Layout `json:"spans"`
}

// Parts are what a sequence is built from.
type Parts struct {
	Task        world.Task
	Input       []int // image codes; thinkedit only
	Instruction string
	Output      []int // image codes
	Reasoning   string
}

// Build lays out a sequence. Errors name the part that does not fit.
func (v *Vocab) Build(p Parts) (Sequence, error) {
	l := LayoutFor(p.Task)
	ids := make([]int, l.Len)
	task := ThinkGen
	if p.Task == world.ThinkEdit {
		task = ThinkEdit
		ids[l.InputImage.Start-1], ids[l.InputImage.End] = SOI, EOI
		if err := v.putImage(ids, l.InputImage, p.Input); err != nil {
			return Sequence{}, fmt.Errorf("input image: %w", err)
		}
	}
	ids[0] = task
	ids[l.Instruction.Start-1] = BOS
	if err := v.putText(ids, l.Instruction, p.Instruction); err != nil {
		return Sequence{}, fmt.Errorf("instruction: %w", err)
	}
	ids[l.OutputImage.Start-1], ids[l.OutputImage.End] = SOI, EOI
	if err := v.putImage(ids, l.OutputImage, p.Output); err != nil {
		return Sequence{}, fmt.Errorf("output image: %w", err)
	}
	ids[l.OutputText.Start-1] = BOS
	if err := v.putText(ids, l.OutputText, p.Reasoning); err != nil {
		return Sequence{}, fmt.Errorf("reasoning: %w", err)
	}
	return Sequence{IDs: ids, Layout: l}, nil
}

func (v *Vocab) putImage(ids []int, s Span, codes []int) error {
	if len(codes) != s.Len() {
		return fmt.Errorf("%d codes, want %d", len(codes), s.Len())
	}
	for i, c := range codes {
		if c < 0 || c >= v.codes {
			return fmt.Errorf("code %d at patch %d is outside the codebook (%d codes)", c, i, v.codes)
		}
		ids[s.Start+i] = v.ImageOffset() + c
	}
	return nil
}

func (v *Vocab) putText(ids []int, s Span, text string) error {
	w, err := v.Encode(text)
	if err != nil {
		return err
	}
	if len(w) >= s.Len() {
		return fmt.Errorf("%d words, at most %d fit", len(w), s.Len()-1)
	}
	copy(ids[s.Start:], w)
	ids[s.Start+len(w)] = EOS
	for i := s.Start + len(w) + 1; i < s.End; i++ {
		ids[i] = Pad
	}
	return nil
}

// Split recovers the parts of a sequence; it is Build's inverse.
func (v *Vocab) Split(seq Sequence) (Parts, error) {
	l := seq.Layout
	if len(seq.IDs) != l.Len {
		return Parts{}, fmt.Errorf("sequence has %d ids, layout wants %d", len(seq.IDs), l.Len)
	}
	p := Parts{Task: l.Task, Instruction: v.Text(seq.IDs[l.Instruction.Start:l.Instruction.End]), Reasoning: v.Text(seq.IDs[l.OutputText.Start:l.OutputText.End])}
	var err error
	if l.Task == world.ThinkEdit {
		if p.Input, err = v.Images(seq.IDs[l.InputImage.Start:l.InputImage.End]); err != nil {
			return Parts{}, fmt.Errorf("input image: %w", err)
		}
	}
	if p.Output, err = v.Images(seq.IDs[l.OutputImage.Start:l.OutputImage.End]); err != nil {
		return Parts{}, fmt.Errorf("output image: %w", err)
	}
	return p, nil
}

// Masked builds the sequence a sampler starts from: the input part as
// Build lays it out, every output position [MASK]. p.Output and
// p.Reasoning are ignored.
func (v *Vocab) Masked(p Parts) (Sequence, error) {
	p.Output, p.Reasoning = make([]int, ImageTokens), ""
	seq, err := v.Build(p)
	if err != nil {
		return seq, err
	}
	l := seq.Layout
	for _, s := range []Span{l.OutputImage, l.OutputText} {
		for i := s.Start; i < s.End; i++ {
			seq.IDs[i] = Mask
		}
	}
	return seq, nil
}

// Unconditional returns a copy of seq with the instruction replaced by
// <|uncond|>: the branch classifier-free guidance steers away from, and
// what training's condition dropout shows the model.
func Unconditional(seq Sequence) Sequence {
	ids := append([]int(nil), seq.IDs...)
	s := seq.Layout.Instruction
	ids[s.Start], ids[s.Start+1] = Uncond, EOS
	for i := s.Start + 2; i < s.End; i++ {
		ids[i] = Pad
	}
	return Sequence{IDs: ids, Layout: seq.Layout}
}

// ImageEncoder turns a picture into image codes: the image tokenizer, as
// building a sequence needs it.
type ImageEncoder interface {
	Encode(img image.Image) ([]int, error)
}

// BuildCase lays out a world case: its pictures encoded with enc, its
// instruction and reasoning with v.
func (v *Vocab) BuildCase(enc ImageEncoder, c world.Case) (Sequence, error) {
	p := Parts{Task: c.Task, Instruction: c.Instruction, Reasoning: c.Reasoning}
	var err error
	if c.Task == world.ThinkEdit {
		if p.Input, err = enc.Encode(world.Render(c.Input)); err != nil {
			return Sequence{}, fmt.Errorf("input image: %w", err)
		}
	}
	if p.Output, err = enc.Encode(world.Render(c.Target)); err != nil {
		return Sequence{}, fmt.Errorf("output image: %w", err)
	}
	return v.Build(p)
}
