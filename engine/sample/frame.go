package sample

import (
	"fmt"
	"image"
	"reflect"
	"strings"
)

// Frame is the state of the output after one step: data, not colours.
// Positions index the output: the image's patches in raster order, then
// the reasoning span's positions.
type Frame struct {
	Step int `json:"step"` // 0 is the all-masked start
	// Tokens holds the vocabulary id at every output position, or the
	// template's mask id while the position is masked.
	Tokens []int32 `json:"tokens"`
	// RevealedAt is the step that committed each position, -1 while masked.
	RevealedAt []int16 `json:"revealed_at"`
	// Confidence is the remasking score a position had when committed (0
	// while masked): what the rule ranked it by. It is not a probability:
	// entropy's is ≤ 0, the image's is a log-probability plus annealed
	// noise.
	Confidence []float32 `json:"confidence"`
	// Probability is the model's probability of the committed token when
	// it was committed (under guidance, at temperature 1), 0 while masked:
	// the confidence a reader means. Traces written before it have none.
	Probability []float32 `json:"probability,omitempty"`
	// Guess is the model's most likely token at every position at this
	// step; for a revealed position it is the committed token.
	Guess []int32 `json:"guess"`
	// Top holds, for each position masked when the step began, the
	// model's most likely tokens there at this step (TopChoices of them,
	// most likely first); nil elsewhere. Like Nanos it is what the
	// viewer's inspector shows, not part of a trace.
	Top [][]Choice `json:"-"`
	// Scheduled and revealed counts so far, per modality.
	Text  Count `json:"text"`
	Image Count `json:"image"`
	// Alignment is the text–picture agreement of this step's partial
	// output, when the stepper has a scorer.
	Alignment *float64 `json:"alignment,omitempty"`
	// Nanos is the step's wall time. It is a measurement, not part of the
	// trajectory: traces leave it out so a run reproduces byte for byte.
	Nanos int64 `json:"-"`
}

// TopChoices is how many of a position's most likely tokens a frame
// keeps.
const TopChoices = 3

// Choice is a token the model proposed at a position, with its
// probability (under guidance, at temperature 1).
type Choice struct {
	ID int32
	P  float32
}

// Count compares the schedule with what happened.
type Count struct {
	Target int `json:"target"` // positions the schedule meant to reveal by now
	Actual int `json:"actual"` // positions revealed by now
	Total  int `json:"total"`
}

// ImageCodes returns the image's codebook indices, -1 where masked.
func (f Frame) ImageCodes(t Template) []int { return imageCodes(f.Tokens, t) }

// imageCodes returns the codebook indices of the image positions of ids,
// -1 where an id is not an image code.
func imageCodes(ids []int32, t Template) []int {
	out := make([]int, t.ImageLen())
	for i, id := range ids[:len(out)] {
		out[i] = -1
		if isImage(t, int(id)) {
			out[i] = int(id) - t.ImageOffset()
		}
	}
	return out
}

// GuessCodes returns the model's current best image, every patch filled.
func (f Frame) GuessCodes(t Template) []int {
	out := make([]int, t.ImageLen())
	for i, id := range f.Guess[:len(out)] {
		out[i] = max(0, int(id)-t.ImageOffset())
	}
	return out
}

// TextTokens returns the reasoning span's ids.
func (f Frame) TextTokens(t Template) []int32 { return f.Tokens[t.ImageLen():] }

// Words renders the reasoning span up to its end token, masked positions
// as the mask's name: the text as it stands at this step.
func (f Frame) Words(v Vocabulary) []string {
	var out []string
	for _, id := range f.TextTokens(v) {
		if v.IsEnd(int(id)) {
			break
		}
		out = append(out, v.Name(int(id)))
	}
	return out
}

// Reasoning is the text as it stands: the words before the end token,
// or for a vocabulary of pieces the pieces as the text reads, a masked
// position as "·".
func (f Frame) Reasoning(v Vocabulary) string {
	if pieces, ok := f.TextPieces(v); ok {
		return joinPieces(f, v, pieces, "·", false)
	}
	return strings.Join(f.Words(v), " ")
}

// MaskedText is the reasoning as it stands, each masked position shown as
// placeholder; on one line, a vocabulary of pieces' line breaks shown as
// spaces.
func (f Frame) MaskedText(v Vocabulary, placeholder string) string {
	if pieces, ok := f.TextPieces(v); ok {
		return joinPieces(f, v, pieces, placeholder, true)
	}
	words := f.Words(v)
	for i, w := range words {
		if w == v.Name(v.MaskID()) {
			words[i] = placeholder
		}
	}
	return strings.Join(words, " ")
}

// pieceVocabulary is a vocabulary of byte-level pieces (a published
// model's BPE): its text reads as the pieces joined, with no spaces added,
// each position showing what its token completes (mmada.Template).
type pieceVocabulary interface {
	Pieces(ids []int, masked func(i int) bool) []string
}

// TextPieces is, for a vocabulary of pieces, what each reasoning position
// up to the end token shows: the text its token completes ("" while
// masked, and for the first bytes of a character a later position
// completes), a special token or image code as a short mark such as
// ‹eot_id› or ‹img›. ok is false for a vocabulary of whole words
// (ShapeWorld's), which Words shows.
func (f Frame) TextPieces(v Vocabulary) (pieces []string, ok bool) {
	pv, ok := v.(pieceVocabulary)
	if !ok {
		return nil, false
	}
	var ids []int
	for _, id := range f.TextTokens(v) {
		if v.IsEnd(int(id)) {
			break
		}
		ids = append(ids, int(id))
	}
	mask := v.MaskID()
	pieces = pv.Pieces(ids, func(i int) bool { return ids[i] == mask })
	for i, id := range ids {
		pieces[i] = pieceMark(v, id, pieces[i])
	}
	return pieces, true
}

// pieceMark is what a revealed position shows: its piece, or a short mark
// for what is not text (an image code or special token the official rules
// may pick, an id the tokenizer has no text for).
func pieceMark(v Vocabulary, id int, piece string) string {
	switch {
	case id == v.MaskID():
		return ""
	case isImage(v, id):
		return "‹img›"
	case strings.HasPrefix(piece, "<|") && strings.HasSuffix(piece, "|>"):
		return mark(piece)
	case piece == "":
		if name := v.Name(id); !strings.HasPrefix(name, "<0x") {
			return mark(name) // no text at all; a character's first bytes show nothing
		}
		return ""
	}
	return strings.NewReplacer("\t", " ", "\r", "").Replace(piece)
}

// mark shortens a token's name to a mark: <|eot_id|> is ‹eot_id›, an id
// the tokenizer has no text for (<id 17042>, which random weights pick)
// ‹?›; the inspector names it in full.
func mark(name string) string {
	if strings.HasPrefix(name, "<id ") {
		return "‹?›"
	}
	s := strings.TrimSuffix(strings.TrimPrefix(name, "<|"), "|>")
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	if r := []rune(s); len(r) > 10 {
		s = string(r[:9]) + "…"
	}
	return "‹" + s + "›"
}

// joinPieces joins a vocabulary of pieces' text, each masked position as
// placeholder; oneLine turns line breaks into spaces.
func joinPieces(f Frame, v Vocabulary, pieces []string, placeholder string, oneLine bool) string {
	var b strings.Builder
	text, mask := f.TextTokens(v), int32(v.MaskID())
	for i, p := range pieces {
		if text[i] == mask {
			p = placeholder
		}
		b.WriteString(p)
	}
	if oneLine {
		return strings.ReplaceAll(b.String(), "\n", " ")
	}
	return b.String()
}

// Picture is the output image as it stands: revealed patches decoded,
// masked patches painted world.MaskGrey, as the viewer shows them and the
// alignment scorer reads them.
func (f Frame) Picture(t Template, img ImageTokenizer) (*image.RGBA, error) {
	return f.picture(t, img, false)
}

// GuessPicture is Picture with each masked patch showing the model's
// current guess for it, dimmed (vq.Dimmed); a guess that is not an image
// code leaves the patch grey.
func (f Frame) GuessPicture(t Template, img ImageTokenizer) (*image.RGBA, error) {
	return f.picture(t, img, true)
}

func (f Frame) picture(t Template, img ImageTokenizer, guesses bool) (*image.RGBA, error) {
	n := t.ImageLen()
	if len(f.Tokens) < n {
		return nil, fmt.Errorf("step %d: %d tokens, want at least %d", f.Step, len(f.Tokens), n)
	}
	var guess []int
	if guesses {
		if len(f.Guess) < n {
			return nil, fmt.Errorf("step %d: %d guesses, want at least %d", f.Step, len(f.Guess), n)
		}
		guess = imageCodes(f.Guess, t)
	}
	pic, err := img.DecodeMasked(f.ImageCodes(t), guess)
	if err != nil {
		return nil, fmt.Errorf("step %d: %w", f.Step, err)
	}
	return pic, nil
}

// SameStep reports whether f and g record the same step of a trajectory:
// equal in everything but their wall time.
func (f Frame) SameStep(g Frame) bool {
	f.Nanos, g.Nanos = 0, 0
	return reflect.DeepEqual(f, g)
}
