package sample

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// goodTrace is a scripted run's trace, one line a string.
func goodTrace(t *testing.T) []string {
	t.Helper()
	m, p, _ := fixture(t)
	s, err := New(m, m.v, greedy(4), p)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteTrace(&b, NewHeader(s, "scripted", nil), run(t, s)); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// edit decodes line i of lines into a map, lets change edit it, and
// returns the lines with it written back.
func edit(t *testing.T, lines []string, i int, change func(map[string]any)) []string {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal([]byte(lines[i]), &obj); err != nil {
		t.Fatal(err)
	}
	change(obj)
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]string(nil), lines...)
	out[i] = string(b)
	return out
}

// A trace is checked line by line against the vocabulary and layout its
// header claims; each fault is named by line and field.
func TestReadTraceRejects(t *testing.T) {
	m, _, _ := fixture(t)
	lines := goodTrace(t)
	if _, _, err := ReadTrace(strings.NewReader(strings.Join(lines, "\n")), "t.jsonl", m.v); err != nil {
		t.Fatalf("the good trace: %v", err)
	}
	// A run stopped early says so, and its trace is read as it is.
	stopped := edit(t, lines[:len(lines)-1], 0, func(o map[string]any) { o["stopped"] = true })
	if _, _, err := ReadTrace(strings.NewReader(strings.Join(stopped, "\n")), "t.jsonl", m.v); err != nil {
		t.Fatalf("a stopped run's trace: %v", err)
	}
	set := func(key string, v any) func(map[string]any) {
		return func(o map[string]any) { o[key] = v }
	}
	at := func(key string, i int, v any) func(map[string]any) {
		return func(o map[string]any) { o[key].([]any)[i] = v }
	}
	config := func(key string, v any) func(map[string]any) {
		return func(o map[string]any) { o["config"].(map[string]any)[key] = v }
	}
	last := len(lines) - 1
	for _, tc := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"bad config", edit(t, lines, 0, config("steps", 0)), "t.jsonl:1: config: steps: 0"},
		{"config block", edit(t, lines, 0, func(o map[string]any) { o["config"].(map[string]any)["text"].(map[string]any)["block"] = 7 }), "t.jsonl:1: config: text.block"},
		{"format", edit(t, lines, 0, set("format", "other/1")), "t.jsonl:1: format"},
		{"task", edit(t, lines, 0, set("task", "thinkdraw")), "t.jsonl:1:"},
		{"unknown key", edit(t, lines, 0, set("extra", 1)), `t.jsonl:1: unknown field "extra"`},
		{"header type", edit(t, lines, 0, set("steps", "four")), "t.jsonl:1: steps: string"},
		{"header steps", edit(t, lines, 0, set("steps", 2)), "t.jsonl:5: step: 3, past the header's 2 steps"},
		{"prompt word", edit(t, lines, 0, func(o map[string]any) { o["prompt"].(map[string]any)["instruction"] = "paint it xyzzy" }), "t.jsonl:1: prompt: instruction: unknown word"},
		{"prompt input", edit(t, lines, 0, func(o map[string]any) { o["prompt"].(map[string]any)["input"].([]any)[3] = 1e6 }), "t.jsonl:1: prompt: input image: code 1000000"},
		{"step order", append([]string{lines[0], lines[2]}, lines[1:]...), "t.jsonl:2: step: 1 where step 0 belongs"},
		{"past the steps", append(lines, edit(t, lines, last, set("step", 5))[last]), "t.jsonl:7: step: 5, past the header's 4 steps"},
		{"id outside", edit(t, lines, last, at("tokens", 3, 99999)), "t.jsonl:6: tokens[3]: id 99999 is outside the vocabulary"},
		{"negative id", edit(t, lines, last, at("tokens", 40, -2)), "t.jsonl:6: tokens[40]: id -2 is outside"},
		{"mask revealed", edit(t, lines, last, at("tokens", 3, 0)), "t.jsonl:6: tokens[3]: the mask id"},
		{"word in image", edit(t, lines, last, at("tokens", 0, 20)), "t.jsonl:6: tokens[0]: id 20 in the image"},
		{"code in text", edit(t, lines, last, at("tokens", 40, float64(m.v.ImageOffset()))), "t.jsonl:6: tokens[40]"},
		{"short tokens", edit(t, lines, last, func(o map[string]any) { o["tokens"] = o["tokens"].([]any)[1:] }), "t.jsonl:6: tokens: 75, want"},
		{"short guess", edit(t, lines, 1, func(o map[string]any) { o["guess"] = o["guess"].([]any)[1:] }), "t.jsonl:2: guess: 75"},
		{"revealed beyond", edit(t, lines, 2, at("revealed_at", 5, 3)), "t.jsonl:3: revealed_at[5]: 3, want -1 (masked) or a step from 1 to 1"},
		{"revealed late", edit(t, lines, last, func(o map[string]any) {
			r := o["revealed_at"].([]any)
			r[slices.Index(r, any(1.0))] = 2.0
		}), "changed after it was revealed at step 1"},
		{"confidence NaN", edit(t, lines, last, at("confidence", 3, "NaN")), "t.jsonl:6: confidence: string"},
		{"confidence huge", edit(t, lines, last, at("confidence", 3, 1e300)), "t.jsonl:6: confidence: number 1e+300"},
		{"probability above 1", edit(t, lines, last, at("probability", 3, 2.5)), "t.jsonl:6: probability[3]: 2.5, want a probability from 0 to 1"},
		{"actual", edit(t, lines, last, func(o map[string]any) { o["image"].(map[string]any)["actual"] = 3 }), "t.jsonl:6: image.actual: 3"},
		{"total", edit(t, lines, last, func(o map[string]any) { o["text"].(map[string]any)["total"] = 3 }), "t.jsonl:6: text.total: 3"},
		{"truncated", append(lines[:3:3], lines[3][:len(lines[3])/2]), "t.jsonl:4: truncated"},
		{"blank line", append(append(lines[:3:3], ""), lines[3:]...), "t.jsonl:4: a blank line"},
		{"two values", append(lines[:3:3], lines[3]+"{}"), "t.jsonl:4: more than one"},
		{"only a header", lines[:1], "t.jsonl: a header and no frames"},
		{"steps past the config", edit(t, lines, 0, set("steps", 1e12)), "t.jsonl:1: steps: 1000000000000, want 0 to the 4 steps of a run with its config"},
		{"last frame missing", lines[:last], "t.jsonl:5: ends at step 3 of the header's 4 with positions still masked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadTrace(strings.NewReader(strings.Join(tc.lines, "\n")), "t.jsonl", m.v)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
