package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parascope/engine/nn"
	"parascope/engine/sample"
	"parascope/engine/session"
	"parascope/engine/world"
	"parascope/tui"
)

func open(t *testing.T) (*Engine, sample.Config) {
	t.Helper()
	cfg := sample.Defaults()
	cfg.Model, cfg.Clip, cfg.Steps = "random:1", "none", 4
	s, err := session.Open(cfg, nn.CPU{})
	if err != nil {
		t.Fatal(err)
	}
	e := New(s)
	t.Cleanup(func() { e.Close() })
	e.now = func() time.Time { return time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC) }
	return e, cfg
}

// The trace a viewer's export writes describes the trajectory it was
// given: its prompt, settings and model, the ground truth only when given.
func TestExportWritesTheTrajectorysPrompt(t *testing.T) {
	e, cfg := open(t)
	p := sample.Prompt{Task: world.ThinkGen, Instruction: "draw a big red circle at the top left"}
	run, err := e.Start(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths, err := e.Export(tui.Trajectory{Frames: run.History(), Steps: 4, Model: e.Model(), Config: cfg, Prompt: p}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 || paths[0] != filepath.Join(dir, "trajectory-20261205-120000.jsonl") {
		t.Fatalf("paths %q", paths)
	}
	f, err := os.Open(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, frames, err := sample.ReadTrace(f, paths[0], e.sess.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	if h.Prompt.Instruction != p.Instruction || h.Case != nil || h.Model != "random:1" || h.Config.Steps != 4 || h.Steps != 4 || !h.Stopped || len(frames) != 2 {
		t.Fatalf("header %+v, %d frames", h, len(frames))
	}
}

// A switch changes what new runs sample with and what jobs start from;
// a checkpoint that cannot be opened leaves the engine as it was.
func TestSwitch(t *testing.T) {
	e, _ := open(t)
	if err := e.Switch("random:2"); err != nil {
		t.Fatal(err)
	}
	if e.Model() != "random:2" || e.spec() != "random:2" {
		t.Fatalf("model %q, spec %q", e.Model(), e.spec())
	}
	if err := e.Switch(filepath.Join(t.TempDir(), "none.safetensors")); err == nil || !strings.Contains(err.Error(), "none.safetensors") {
		t.Fatalf("a missing checkpoint: %v", err)
	}
	if e.Model() != "random:2" {
		t.Fatalf("a failed switch changed the model to %q", e.Model())
	}
}

// Runs side by side step safely on the one model (go test -race).
func TestRunsShareTheModel(t *testing.T) {
	e, cfg := open(t)
	p := sample.Prompt{Task: world.ThinkGen, Instruction: "draw a small blue square at the center"}
	a, _ := e.Start(cfg, p)
	b, _ := e.Start(cfg, p)
	done := make(chan sample.Frame)
	for _, r := range []tui.Stepper{a, b} {
		go func() {
			var last sample.Frame
			for !r.Done() {
				last, _ = r.Step(context.Background())
			}
			done <- last
		}()
	}
	fa, fb := <-done, <-done
	if fa.Reasoning(e.sess.Vocab) != fb.Reasoning(e.sess.Vocab) {
		t.Fatalf("the same seed gave %q and %q", fa.Reasoning(e.sess.Vocab), fb.Reasoning(e.sess.Vocab))
	}
}

// A job on the embedded model fine-tunes it: its first loss is the
// trained model's, far below a fresh one's (ln of the vocabulary, ~4.3).
func TestJobsStartFromTheEmbeddedModel(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg := sample.Defaults()
	cfg.Clip, cfg.Steps = "none", 4
	s, err := session.Open(cfg, nn.CPU{})
	if err != nil {
		t.Fatal(err)
	}
	e := New(s)
	if e.spec() != session.Embedded {
		t.Fatalf("spec %q", e.spec())
	}
	var first tui.JobProgress
	_, err = e.TrainSFT(context.Background(), nil, 1, func(p tui.JobProgress) {
		if first.Step == 0 {
			first = p
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if first.Step != 1 || first.Loss > 2 {
		t.Fatalf("first progress %+v: not the embedded model's loss", first)
	}
}

// Two exports in one second keep both; the GIF's frames say what made
// the run.
func TestExportsNeverOverwrite(t *testing.T) {
	e, cfg := open(t)
	p := sample.Prompt{Task: world.ThinkGen, Instruction: "draw a big red circle at the top left"}
	run, _ := e.Start(cfg, p)
	dir := t.TempDir()
	tr := tui.Trajectory{Frames: run.History(), Model: e.Model(), Config: cfg, Prompt: p}
	first, err := e.Export(tr, dir)
	if err != nil {
		t.Fatal(err)
	}
	tr.Prompt.Instruction = "draw a small blue square at the center"
	second, err := e.Export(tr, dir)
	if err != nil {
		t.Fatal(err)
	}
	if second[0] != filepath.Join(dir, "trajectory-20261205-120000-2.jsonl") {
		t.Fatalf("second export %q", second)
	}
	for i, want := range []string{"big red circle", "small blue square"} {
		data, _ := os.ReadFile([]string{first[0], second[0]}[i])
		if !strings.Contains(string(data), want) {
			t.Errorf("export %d lost its prompt %q", i+1, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 6 {
		t.Fatalf("%d files, want 6", len(entries))
	}
}
