package train

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"parascope/engine/nn"
	"parascope/engine/safetensors"
	"parascope/engine/vq"
)

func tinySFT(steps int) SFTConfig {
	c := DefaultSFT()
	c.Steps, c.Batch, c.Warmup, c.CheckpointEvery = steps, 4, 2, 2
	c.Model = ModelShape{Layers: 1, DModel: 32, Heads: 2, MLP: 48}
	return c
}

func weightsOf(t *testing.T, s *SFT) []byte {
	t.Helper()
	var b bytes.Buffer
	f, err := s.Model().File(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := safetensors.Encode(&b, f, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	m1, m2 := s.Model().Moments()
	for _, x := range append(m1, m2...) {
		b.WriteString(string(rune(math.Float32bits(x) % 1024)))
	}
	return b.Bytes()
}

func TestResumeMatchesUninterrupted(t *testing.T) {
	cb := vq.Default()
	whole, err := NewSFT(tinySFT(6), nn.CPU{}, cb, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := whole.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	// Stop after three steps through the context, as Ctrl-C does.
	dir := t.TempDir()
	first, _ := NewSFT(tinySFT(6), nn.CPU{}, cb, dir)
	ctx, cancel := context.WithCancel(context.Background())
	err = first.Run(ctx, func(p Progress) {
		if p.Step == 3 {
			cancel()
		}
	})
	if err != context.Canceled || first.Step() != 3 {
		t.Fatalf("stopped with %v at step %d", err, first.Step())
	}
	second, err := ResumeSFT(filepath.Join(dir, CheckpointFile), nn.CPU{}, cb, dir)
	if err != nil {
		t.Fatal(err)
	}
	if second.Step() != 3 {
		t.Fatalf("resumed at step %d", second.Step())
	}
	if err := second.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(weightsOf(t, whole), weightsOf(t, second)) {
		t.Fatal("a stopped and resumed run differs from an uninterrupted one")
	}
}

// The child half of TestKillAndResume: train slowly until killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("PARASCOPE_TRAIN_CHILD"); dir != "" {
		s, err := NewSFT(tinySFT(8), nn.CPU{}, vq.Default(), dir)
		if err != nil {
			os.Exit(3)
		}
		s.Run(context.Background(), func(Progress) { time.Sleep(150 * time.Millisecond) })
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestKillAndResume(t *testing.T) {
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "PARASCOPE_TRAIN_CHILD="+dir)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, CheckpointFile)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if f, err := safetensors.Read(ckpt); err == nil {
			if step, _ := strconv.Atoi(f.Metadata["step"]); step >= 4 {
				break
			}
		}
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatal("the child wrote no checkpoint at step 4")
		}
		time.Sleep(20 * time.Millisecond)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()

	cb := vq.Default()
	resumed, err := ResumeSFT(ckpt, nn.CPU{}, cb, dir)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Step() < 4 || resumed.Step() >= 8 {
		t.Fatalf("resumed at step %d: the kill came too late to test anything", resumed.Step())
	}
	if err := resumed.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	whole, _ := NewSFT(tinySFT(8), nn.CPU{}, cb, t.TempDir())
	whole.Run(context.Background(), nil)
	if !bytes.Equal(weightsOf(t, whole), weightsOf(t, resumed)) {
		t.Fatal("killed and resumed run differs from an uninterrupted one")
	}
}

func TestLearningRateSchedule(t *testing.T) {
	o := DefaultSFT().Optim
	o.Warmup, o.LR, o.MinLR = 10, 1e-3, 1e-4
	cases := map[int]float64{0: 1e-4, 9: 1e-3, 10: 1e-3, 60: 5.5e-4, 109: 1e-4 + 0.9e-3*0.5*(1+math.Cos(math.Pi*0.99))}
	for step, want := range cases {
		if got := o.learningRate(step, 110); math.Abs(got-want) > 1e-12 {
			t.Errorf("step %d: lr %g, want %g", step, got, want)
		}
	}
}

func TestTrainingLearns(t *testing.T) {
	cfg := tinySFT(40)
	cfg.LR, cfg.Warmup, cfg.CheckpointEvery = 3e-3, 5, 40
	s, _ := NewSFT(cfg, nn.CPU{}, vq.Default(), t.TempDir())
	var losses []float64
	s.Run(context.Background(), func(p Progress) { losses = append(losses, p.Loss) })
	early, late := mean(losses[:5]), mean(losses[35:])
	if late > early*0.8 {
		t.Fatalf("loss went from %.3f to %.3f in 40 steps", early, late)
	}
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func TestSFTConfigErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sft.toml")
	os.WriteFile(path, []byte("steps = 10\nbatch = 0\nedit_kinds = [\"recolour\", \"paint\"]\n[model]\nlayers = 2\nwidth = 3\n"), 0o644)
	_, err := LoadSFT(path)
	if err == nil || !strings.Contains(err.Error(), path+":6: unknown key \"model.width\"") {
		t.Fatalf("got %v", err)
	}
	os.WriteFile(path, []byte("steps = 10\nbatch = 0\nedit_kinds = [\"recolour\", \"paint\"]\n"), 0o644)
	_, err = LoadSFT(path)
	if err == nil || !strings.Contains(err.Error(), path+":2: batch: 0") || !strings.Contains(err.Error(), path+":3: edit_kinds: \"paint\"") {
		t.Fatalf("got %v", err)
	}
}

func tinyCLIP(steps int) CLIPConfig {
	c := DefaultCLIP()
	c.Steps, c.Batch, c.Warmup, c.CheckpointEvery = steps, 4, 2, 2
	c.Model = CLIPShape{Layers: 1, DModel: 16, Heads: 2, MLP: 24, Embed: 8, Scale: 14, Input: true}
	return c
}

// A run with a joint stack starts from a scorer's towers: their weights
// are the scorer's, the joint stack's are drawn; a scorer of another shape
// is refused with the key and the tensor.
func TestCLIPStartsFromTowers(t *testing.T) {
	cb := vq.Default()
	dir := t.TempDir()
	towers, err := NewCLIP(tinyCLIP(2), nn.CPU{}, cb, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := towers.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	cfg := tinyCLIP(2)
	cfg.Init, cfg.Model.Joint = filepath.Join(dir, ModelFile), 1
	joint, err := NewCLIP(cfg, nn.CPU{}, cb, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]float32{}
	for _, x := range joint.Model().Tensors() {
		got[x.Name] = x.Data
	}
	for _, x := range towers.Model().Tensors() {
		if !slices.Equal(got[x.Name], x.Data) {
			t.Errorf("tensor %s is not the scorer's", x.Name)
		}
	}
	if head := got["joint.head"]; len(head) != cfg.Model.DModel || slices.Max(head) == 0 {
		t.Errorf("joint.head %v: not drawn", head)
	}
	cfg.Model.DModel, cfg.Model.MLP = 8, 12
	_, err = NewCLIP(cfg, nn.CPU{}, cb, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "init: "+cfg.Init) || !strings.Contains(err.Error(), `"vision.patch"`) {
		t.Errorf("got %v", err)
	}
	// Deeper towers than the scorer's would start partly drawn.
	cfg = tinyCLIP(2)
	cfg.Init, cfg.Model.Layers = filepath.Join(dir, ModelFile), cfg.Model.Layers+1
	_, err = NewCLIP(cfg, nn.CPU{}, cb, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "init: "+cfg.Init) || !strings.Contains(err.Error(), "is not in the one it starts from") {
		t.Errorf("deeper towers: got %v", err)
	}
}

// A run resumed from its checkpoint ends where one that was not does,
// with and without a joint stack.
func TestCLIPResumeMatchesUninterrupted(t *testing.T) {
	cb := vq.Default()
	for _, joint := range []int{0, 1} {
		cfg := tinyCLIP(6)
		cfg.Model.Joint = joint
		whole, err := NewCLIP(cfg, nn.CPU{}, cb, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := whole.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		first, _ := NewCLIP(cfg, nn.CPU{}, cb, dir)
		ctx, cancel := context.WithCancel(context.Background())
		first.Run(ctx, func(p Progress) {
			if p.Step == 3 {
				cancel()
			}
		})
		second, err := ResumeCLIP(filepath.Join(dir, CheckpointFile), nn.CPU{}, cb, dir)
		if err != nil || second.Step() != 3 {
			t.Fatalf("joint %d: resume: %v at step %d", joint, err, second.Step())
		}
		if err := second.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(whole.Model().Weights(), second.Model().Weights()) {
			t.Errorf("joint %d: the weights differ after a resume", joint)
		}
	}
}
