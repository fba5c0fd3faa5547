package sample

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"

	"parascope/engine/bf16"
	"parascope/engine/model"
	"parascope/engine/world"
)

// The official rules against reference/official.py, a port of the
// published generators written from their code: the same fake model and
// fixed draws give the same revealed sets and tokens at every step.

// officialCase is one trajectory of testdata/official.json.
type officialCase struct {
	Preset  string             `json:"preset"`
	Prompt  int                `json:"prompt"`
	Setting string             `json:"setting"`
	Seed    uint64             `json:"seed"`
	Knobs   map[string]any     `json:"knobs"`
	Layout  map[string]int     `json:"layout"`
	Cond    []int              `json:"cond"`
	Uncond  []int              `json:"uncond"`
	UncondT []int              `json:"uncond_text"`
	UncondI []int              `json:"uncond_image"`
	Image   []int              `json:"image_positions"`
	Text    []int              `json:"text_positions"`
	Steps   []officialStep     `json:"steps"`
	Final   map[string][]int64 `json:"final"`
}

type officialStep struct {
	Text  []int `json:"text"`
	Image []int `json:"image"`
}

func readOfficialCases(t testing.TB) []officialCase {
	t.Helper()
	data, err := os.ReadFile("testdata/official.json")
	if err != nil {
		t.Fatal(err)
	}
	var dump struct{ Cases []officialCase }
	if err := json.Unmarshal(data, &dump); err != nil {
		t.Fatal(err)
	}
	return dump.Cases
}

// dumpTemplate lays out a case's sequences as the port built them.
type dumpTemplate struct{ c officialCase }

func (d dumpTemplate) Size() int         { return d.c.Layout["V"] }
func (d dumpTemplate) MaskID() int       { return d.c.Layout["MASK"] }
func (d dumpTemplate) IsEnd(int) bool    { return false }
func (d dumpTemplate) ImageOffset() int  { return d.c.Layout["O"] }
func (d dumpTemplate) Codes() int        { return d.c.Layout["K"] }
func (d dumpTemplate) ImageLen() int     { return len(d.c.Image) }
func (d dumpTemplate) ReasoningLen() int { return len(d.c.Text) }
func (d dumpTemplate) Hash() string      { return "official dump" }
func (d dumpTemplate) Positions(world.Task, int) []int {
	return append(slices.Clone(d.c.Image), d.c.Text...)
}

func (d dumpTemplate) TextChoices() []int {
	var ids []int
	for id := range d.ImageOffset() {
		ids = append(ids, id)
	}
	return ids
}

func (d dumpTemplate) Start(world.Task, string, []int) (cond, uncond, uncondImage []int, err error) {
	if d.c.Preset == OfficialA {
		return d.c.Cond, d.c.UncondT, d.c.UncondI, nil
	}
	return d.c.Cond, d.c.Uncond, nil, nil
}

// fakeModel is the port's model: bfloat16 logits hashed from the whole
// sequence, the position and the id, so any difference in what a step
// reveals changes every later step.
type fakeModel struct{ vocab int }

func (m fakeModel) logit(ctx uint64, p, v int) float32 {
	h := splitmix(splitmix(12345^ctx) + uint64(p))
	x := splitmix(h + uint64(v))
	return bf16.ToF32(bf16.FromF32(float32(float64((x>>40)&0xffffff)/(1<<24)*8 - 4)))
}

func (m fakeModel) LogitsSpans(ids []int32, batch, seq int, spans []model.Span) ([]float32, error) {
	ctx := make([]uint64, batch)
	for b := range batch {
		for p, id := range ids[b*seq : (b+1)*seq] {
			ctx[b] += uint64(p+1) * uint64(id)
		}
	}
	var out []float32
	for _, s := range spans {
		for _, at := range s.Sel {
			b, p := int(at)/seq, int(at)%seq
			for v := s.Lo; v < s.Hi; v++ {
				out = append(out, m.logit(ctx[b], p, v))
			}
		}
	}
	return out, nil
}

func (m fakeModel) Logits(ids []int32, batch, seq int, sel []int32) ([]float32, error) {
	return m.LogitsSpans(ids, batch, seq, []model.Span{{Sel: sel, Hi: m.vocab}})
}

// rowsOnly hides LogitsSpans, so the stepper asks for whole rows.
type rowsOnly struct{ fakeModel }

func (m rowsOnly) LogitsSpans() {}

// officialConfig is a case's knobs as a Config.
func officialConfig(t *testing.T, c officialCase) Config {
	t.Helper()
	cfg, err := Preset(c.Preset)
	if err != nil {
		t.Fatal(err)
	}
	num := func(k string) float64 { return c.Knobs[k].(float64) }
	cfg.Seed, cfg.Steps = c.Seed, int(num("text_steps"))
	cfg.Text.Remasking = c.Knobs["remasking"].(string)
	cfg.Text.Temperature = num("text_temperature")
	if c.Preset == OfficialA {
		cfg.Image.ImageSteps = int(num("timesteps"))
		cfg.Image.CFG, cfg.Image.CFGImage = num("cfg_scale"), num("cfg_img")
		// One knob, temperature, both samples and scales the noise there.
		cfg.Image.Temperature, cfg.Image.RemaskTemperature = num("temperature"), num("temperature")
	} else {
		cfg.Image.ImageSteps = int(num("image_steps"))
		cfg.Text.CFG, cfg.Image.CFG = num("text_cfg"), num("image_cfg")
		cfg.Image.Temperature, cfg.Image.RemaskTemperature = 1, num("image_temperature")
	}
	return cfg
}

func TestOfficialRulesMatchTheReferencePort(t *testing.T) {
	cases := readOfficialCases(t)
	if len(cases) != 20 {
		t.Fatalf("%d cases, want 20", len(cases))
	}
	for _, c := range cases {
		for _, m := range []Model{fakeModel{c.Layout["V"]}, rowsOnly{fakeModel{c.Layout["V"]}}} {
			name := fmt.Sprintf("%s/%d/%s/%T", c.Preset, c.Prompt, c.Setting, m)
			t.Run(name, func(t *testing.T) {
				tmpl := dumpTemplate{c}
				st, err := New(m, tmpl, officialConfig(t, c), Prompt{Task: world.ThinkEdit})
				if err != nil {
					t.Fatal(err)
				}
				if st.Steps() != len(c.Steps) {
					t.Fatalf("%d steps, the port took %d", st.Steps(), len(c.Steps))
				}
				for i, want := range c.Steps {
					f, err := st.Step(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					got := officialStep{Text: ints(f.Tokens[tmpl.ImageLen():]), Image: ints(f.Tokens[:tmpl.ImageLen()])}
					if i == len(c.Steps)-1 { // the port records the last step before its end fill
						want.Image = slices.Clone(want.Image)
						for n, id := range want.Image {
							if id == tmpl.MaskID() {
								want.Image[n] = tmpl.ImageOffset() + int(c.Final["image"][n])
							}
						}
					}
					if !slices.Equal(got.Text, want.Text) || !slices.Equal(got.Image, want.Image) {
						t.Fatalf("step %d:\n text %v\n want %v\nimage %v\n want %v", i, got.Text, want.Text, got.Image, want.Image)
					}
				}
				last := st.Last()
				if got, want := ints(last.Tokens[tmpl.ImageLen():]), c.Final["text"]; !equal64(got, want) {
					t.Errorf("final text %v, want %v", got, want)
				}
				codes := last.ImageCodes(tmpl)
				if !equal64(codes, c.Final["image"]) {
					t.Errorf("final picture %v, want %v", codes, c.Final["image"])
				}
				if !st.Done() {
					t.Error("not done after the last step")
				}
			})
		}
	}
}

func ints(x []int32) []int {
	out := make([]int, len(x))
	for i, v := range x {
		out[i] = int(v)
	}
	return out
}

func equal64(a []int, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if int64(a[i]) != b[i] {
			return false
		}
	}
	return true
}
