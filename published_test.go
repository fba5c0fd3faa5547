package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The published models' fixtures run end to end through the commands:
// sample with each official preset writes a trace that replay reads back
// into the same picture and text, without the model's weights.
func TestPublishedModelsSampleAndReplay(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.toml")
	if err := os.WriteFile(small, []byte("steps = 12\ntext_length = 24\n[image]\nimage_steps = 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ variant, picture, rules string }{
		{"a", "engine/vqgan/testdata/pic512.png", "official-a"},
		{"m", "engine/magvit/testdata/pic512.png", "official-m"},
		{"m", "engine/magvit/testdata/pic512.png", ""}, // Parascope's own rules on the same model
	} {
		t.Run(c.variant+"/"+c.rules, func(t *testing.T) {
			model := filepath.Join("engine", "mmada", "testdata", "parallel-"+c.variant)
			name := filepath.Join(dir, c.variant+c.rules)
			trace, png, text := name+".jsonl", name+".png", name+".txt"
			args := []string{"sample", "--model", model, "--config", small, "--instruction", "Make the sky red.", "--input", c.picture, "--trace", trace, "--png", png}
			if c.rules != "" {
				args = append(args, "--preset", c.rules)
			}
			out, err := capture(t, args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(out, "step 12/12  image 1024/1024") {
				t.Errorf("sample's last step is not complete:\n%s", out)
			}
			f, err := os.Open(trace)
			if err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(f).ReadBytes('\n')
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			var h struct {
				Config struct{ Rules, Model string }
			}
			if err := json.Unmarshal(line, &h); err != nil {
				t.Fatal(err)
			}
			if h.Config.Rules != c.rules || h.Config.Model != model {
				t.Errorf("trace header: rules %q, model %q", h.Config.Rules, h.Config.Model)
			}
			again := name + "-replay.png"
			if out, err := capture(t, "replay", trace, "--png", again, "--text", text); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			want, _ := os.ReadFile(png)
			got, _ := os.ReadFile(again)
			if len(want) == 0 || string(got) != string(want) {
				t.Errorf("replay's picture differs from sample's (%d and %d bytes)", len(got), len(want))
			}
		})
	}
}

// A ShapeWorld-only command or input refuses a published model by name.
func TestPublishedModelsRefuseShapeWorldWork(t *testing.T) {
	model := filepath.Join("engine", "mmada", "testdata", "parallel-a")
	cases := filepath.Join(t.TempDir(), "w")
	if _, err := capture(t, "world", "--seed", "1", "--n", "1", "--task", "thinkedit", "--out", cases); err != nil {
		t.Fatal(err)
	}
	folders, _ := filepath.Glob(filepath.Join(cases, "*"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--model", model, "--cases", "1"}, "ShapeWorld models only"},
		{[]string{"sample", "--model", "no-such-folder", "--instruction", "x", "--input", "engine/vqgan/testdata/pic512.png"}, "--model: stat no-such-folder"},
		{[]string{"sample", "--model", model, "--prompt", "draw a red circle"}, "edits a picture"},
		{[]string{"sample", "--model", model, "--preset", "official-b", "--prompt", "x"}, `"official-b" is not one of official-a, official-m`},
		{[]string{"sample", "--model", model, "--case", folders[0]}, "ShapeWorld"},
	} {
		out, err := capture(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error saying %q\n%s", c.args, err, c.want, out)
		}
	}
}
