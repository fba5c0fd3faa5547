package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"parascope/engine/atomicfile"
	"parascope/engine/casedir"
	"parascope/engine/judge"
	"parascope/engine/model"
	"parascope/engine/safetensors"
	"parascope/engine/sample"
	"parascope/engine/session"
	"parascope/engine/token"
	"parascope/engine/train"
	"parascope/engine/vq"
	"parascope/engine/world"
	"parascope/tui/cli"
)

// capture runs the command line and returns what it printed.
func capture(t *testing.T, args ...string) (string, error) {
	t.Helper()
	old := os.Stdout
	r, w, _ := os.Pipe()
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	err := run(args)
	w.Close()
	os.Stdout = old
	return string(<-done), err
}

func TestWorldThenJudgeScores100(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "w")
	if _, err := capture(t, "world", "--seed", "1", "--n", "50", "--task", "mixed", "--out", dir); err != nil {
		t.Fatal(err)
	}
	out, err := capture(t, "judge", dir, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := json.Unmarshal([]byte(out), &top); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, k := range []string{"text_quality", "text_alignment", "image_consistency", "image_alignment", "image_quality", "output_alignment", "overall"} {
		if top[k] != 100.0 {
			t.Errorf("%s = %v, want 100", k, top[k])
		}
	}
	if top["cases"] != 50.0 {
		t.Errorf("cases = %v", top["cases"])
	}
}

func TestWorldFoldersHoldEverything(t *testing.T) {
	dir := t.TempDir()
	if _, err := capture(t, "world", "--seed", "3", "--n", "6", "--task", "thinkedit", "--out", dir); err != nil {
		t.Fatal(err)
	}
	dirs, err := casedir.List(dir)
	if err != nil || len(dirs) != 6 {
		t.Fatalf("%d folders, %v", len(dirs), err)
	}
	l, err := casedir.Read(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	want := world.Generate(3, 0, world.MixEdit)
	if l.Meta.Instruction != want.Instruction || !l.Meta.Input.Equal(want.Input) || !l.Meta.Target.Equal(want.Target) {
		t.Fatalf("case.json does not hold case 0: %+v", l.Meta.Case)
	}
	// the token ids decode back to the case
	vocab := token.New(vq.Default().K())
	parts, err := vocab.Split(*l.Meta.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := vq.Default().Decode(parts.Input)
	if parts.Reasoning != want.Reasoning || !bytes.Equal(in.Pix, world.Render(want.Input).Pix) {
		t.Fatal("token ids do not decode to the case")
	}
	for _, f := range []string{casedir.InputPNG, casedir.TargetPNG, casedir.TargetTxt} {
		if _, err := os.Stat(filepath.Join(dirs[0], f)); err != nil {
			t.Error(err)
		}
	}
}

func TestJudgeReadsModelOutputs(t *testing.T) {
	dir := t.TempDir()
	if _, err := capture(t, "world", "--seed", "4", "--n", "3", "--task", "thinkgen", "--out", dir); err != nil {
		t.Fatal(err)
	}
	dirs, _ := casedir.List(dir)
	// An empty picture and no text for the first case.
	os.WriteFile(filepath.Join(dirs[0], casedir.OutputText), []byte(""), 0o644)
	var b bytes.Buffer
	png.Encode(&b, world.Render(world.Scene{}))
	os.WriteFile(filepath.Join(dirs[0], casedir.OutputPNG), b.Bytes(), 0o644)
	out, err := capture(t, "judge", dir, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r judge.Report
	json.Unmarshal([]byte(out), &r)
	if r.TextQuality > 200.0/3+1e-9 || r.ImageAlignment > 200.0/3+1e-9 {
		t.Fatalf("an empty output should cost a third: %+v", r.Metrics)
	}
}

// world --force replaces the cases in its folder and nothing else of the
// user's; sample --force writes a case over another, leaving none of the
// old one; a second sample of the same case needs no --force.
func TestForceReplacesOnlyCases(t *testing.T) {
	dir := t.TempDir()
	w := filepath.Join(dir, "w")
	if _, err := capture(t, "world", "--seed", "2", "--n", "3", "--task", "mixed", "--out", w); err != nil {
		t.Fatal(err)
	}
	old, _ := casedir.List(w)
	notes, mine := filepath.Join(w, "notes.txt"), filepath.Join(old[2], "mine.txt")
	os.WriteFile(notes, []byte("mine\n"), 0o644)
	os.WriteFile(mine, []byte("mine\n"), 0o644)
	if _, err := capture(t, "world", "--seed", "5", "--n", "1", "--task", "thinkgen", "--out", w, "--force"); err != nil {
		t.Fatal(err)
	}
	if dirs, err := casedir.List(w); err != nil || len(dirs) != 1 {
		t.Errorf("after world --force: cases %q, %v; want the one new case", dirs, err)
	}
	for _, f := range []string{notes, mine} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("world --force removed the user's %s", f)
		}
	}

	// A generation sampled over an edit's folder: no input.png is left.
	cases := filepath.Join(dir, "cases")
	if _, err := capture(t, "world", "--seed", "2", "--n", "3", "--task", "mixed", "--out", cases); err != nil {
		t.Fatal(err)
	}
	dirs, _ := casedir.List(cases)
	var gen, edit string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, casedir.InputPNG)); err == nil {
			edit = d
		} else {
			gen = d
		}
	}
	if gen == "" || edit == "" {
		t.Fatalf("want a generation and an edit: %q", dirs)
	}
	if _, err := capture(t, "sample", "--case", gen, "--out", edit, "--force"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(edit, casedir.InputPNG)); err == nil {
		t.Error("sample --force left the edit's input.png beside the generation")
	}
	a, _ := os.ReadFile(filepath.Join(gen, casedir.CaseJSON))
	b, _ := os.ReadFile(filepath.Join(edit, casedir.CaseJSON))
	if !bytes.Equal(a, b) {
		t.Error("sample --force did not write the case's case.json")
	}
	if _, err := capture(t, "sample", "--case", gen, "--out", edit); err != nil {
		t.Errorf("a second sample of the same case: %v", err)
	}
	// An answer to a prompt has no case: none is left to judge it against.
	if _, err := capture(t, "sample", "--prompt", "draw a big red circle at the top left", "--out", edit, "--force"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{casedir.CaseJSON, casedir.TargetPNG, casedir.TargetTxt} {
		if _, err := os.Stat(filepath.Join(edit, name)); err == nil {
			t.Errorf("sample --prompt --force left the old case's %s beside the answer", name)
		}
	}
	if _, err := os.Stat(filepath.Join(edit, casedir.OutputText)); err != nil {
		t.Error("no answer written")
	}
}

func TestBadInputErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := capture(t, "world", "--seed", "5", "--n", "2", "--task", "thinkedit", "--out", dir); err != nil {
		t.Fatal(err)
	}
	dirs, _ := casedir.List(dir)
	caseFile := filepath.Join(dirs[0], casedir.CaseJSON)
	orig, _ := os.ReadFile(caseFile)
	writeOutput := func(txt string, img image.Image, raw []byte) {
		os.WriteFile(filepath.Join(dirs[1], casedir.OutputText), []byte(txt), 0o644)
		if raw == nil {
			var b bytes.Buffer
			png.Encode(&b, img)
			raw = b.Bytes()
		}
		os.WriteFile(filepath.Join(dirs[1], casedir.OutputPNG), raw, 0o644)
	}
	tests := []struct {
		name  string
		setup func()
		want  []string
	}{
		{"missing folder", func() {}, []string{"no-such-folder"}},
		{"malformed case.json", func() { os.WriteFile(caseFile, []byte("{\n  \"task\": \"thinkedit\",\n  oops\n}"), 0o644) }, []string{caseFile + ":3"}},
		{"unknown task", func() {
			os.WriteFile(caseFile, bytes.Replace(orig, []byte(`"thinkedit"`), []byte(`"thinkdraw"`), 1), 0o644)
		}, []string{caseFile, `unknown task "thinkdraw"`}},
		{"unknown key", func() {
			os.WriteFile(caseFile, bytes.Replace(orig, []byte(`"task"`), []byte(`"tusk"`), 1), 0o644)
		}, []string{caseFile, `"tusk"`}},
		{"two objects in a cell", func() {
			var m map[string]any
			json.Unmarshal(orig, &m)
			objs := m["target"].(map[string]any)["objects"].([]any)
			m["target"].(map[string]any)["objects"] = append(objs, objs[0])
			b, _ := json.Marshal(m)
			os.WriteFile(caseFile, b, 0o644)
		}, []string{caseFile, "target scene", "holds two objects"}},
		{"unreadable PNG", func() { writeOutput("", nil, []byte("not a png")) }, []string{filepath.Join(dirs[1], casedir.OutputPNG), "not a PNG file"}},
		{"wrong image size", func() { writeOutput("", image.NewRGBA(image.Rect(0, 0, 64, 64)), nil) }, []string{casedir.OutputPNG, "64×64"}},
		{"text without image", func() {
			os.WriteFile(filepath.Join(dirs[1], casedir.OutputText), []byte("x"), 0o644)
		}, []string{dirs[1], "output.txt has no output.png"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(caseFile, orig, 0o644)
			os.Remove(filepath.Join(dirs[1], casedir.OutputText))
			os.Remove(filepath.Join(dirs[1], casedir.OutputPNG))
			tc.setup()
			target := dir
			if tc.name == "missing folder" {
				target = filepath.Join(dir, "no-such-folder")
			}
			_, err := capture(t, "judge", target)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"world"}, {"world", "--out", "x", "--task", "paint"}, {"judge"}, {"train", "gan"},
		{"--preview", "ascii-art"}, {"replay", "t.jsonl", "--preview", "ascii-art"}, {"sample", "--prompt", "x", "--case", "y"}} {
		_, err := capture(t, args...)
		var u cli.UsageError
		if err == nil || !errors.As(err, &u) {
			t.Errorf("%v: got %v, want a usage error", args, err)
		}
	}
	if _, err := capture(t, "--preview", "ascii-art"); err == nil || !strings.Contains(err.Error(), "kitty, sixel, blocks") {
		t.Errorf("an unknown protocol: %v, want the ones there are", err)
	}
	// Without a terminal the bare command points to the headless commands.
	if _, err := capture(t); err == nil || !strings.Contains(err.Error(), "parascope sample") {
		t.Fatalf("bare command without a terminal: %v", err)
	}
	out, err := capture(t, "help")
	if err != nil || !strings.Contains(out, "parascope world") || !strings.Contains(out, "opens the viewer") {
		t.Fatalf("help: %v\n%s", err, out)
	}
}

// The figures the README quotes: the embedded codebook on fresh scenes.
func TestCodebookRoundTrip(t *testing.T) {
	rt := vq.MeasureRoundTrip(vq.Default(), 99, 1000)
	t.Log(rt)
	if float64(rt.SceneOK) < 0.99*float64(rt.Scenes) {
		t.Fatalf("scene round trip %d/%d is below 99%%", rt.SceneOK, rt.Scenes)
	}
}

// BenchmarkCaseToTokens is the data path training will draw from:
// generate a case, render it, encode the images, build the sequence.
func BenchmarkCaseToTokens(b *testing.B) {
	cb := vq.Default()
	vocab := token.New(cb.K())
	n := 0
	for b.Loop() {
		if _, err := vocab.BuildCase(cb, world.Generate(1, n, world.MixBoth)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "cases/s")
}

func TestSampleWritesArtefactsReproducibly(t *testing.T) {
	dir := t.TempDir()
	cases := filepath.Join(dir, "w")
	if _, err := capture(t, "world", "--seed", "1", "--n", "3", "--task", "thinkedit", "--out", cases); err != nil {
		t.Fatal(err)
	}
	dirs, _ := casedir.List(cases)
	sampleOnce := func(tag string) []byte {
		out := filepath.Join(dir, "judged", "o"+tag)
		tr, g := filepath.Join(dir, "t"+tag+".jsonl"), filepath.Join(dir, "t"+tag+".gif")
		printed, err := capture(t, "sample", "--config", "examples/thinkedit.toml", "--case", dirs[0], "--seed", "7",
			"--trace", tr, "--gif", g, "--out", out, "--png", filepath.Join(dir, "final.png"), "--strip", filepath.Join(dir, "strip.png"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(printed, "step 40/40") || !strings.Contains(printed, "steps/s") {
			t.Fatalf("output:\n%s", printed)
		}
		for _, f := range []string{tr, g, filepath.Join(out, casedir.OutputText), filepath.Join(out, casedir.OutputPNG)} {
			if st, err := os.Stat(f); err != nil || st.Size() == 0 {
				t.Fatalf("%s: %v", f, err)
			}
		}
		b, _ := os.ReadFile(tr)
		return b
	}
	if a, b := sampleOnce("1"), sampleOnce("2"); !bytes.Equal(a, b) {
		t.Fatal("two runs with the same seed wrote different traces")
	}
	// The output folders are what the judge reads.
	if _, err := capture(t, "judge", filepath.Join(dir, "judged")); err != nil {
		t.Fatal(err)
	}
	// And the trace replays without a model.
	if _, err := capture(t, "replay", filepath.Join(dir, "t1.jsonl"), "--gif", filepath.Join(dir, "r.gif")); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "t1.gif"))
	b, _ := os.ReadFile(filepath.Join(dir, "r.gif"))
	if !bytes.Equal(a, b) {
		t.Fatal("the replayed GIF differs from the sampled one")
	}
}

func TestSampleConfigErrorsNameKeyAndLine(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.toml")
	os.WriteFile(cfg, []byte("seed = 3\nstpes = 4\n\n[image]\ncfg = 1.0\n"), 0o644)
	_, err := capture(t, "sample", "--config", cfg, "--prompt", "draw a big red circle at the top")
	if err == nil || !strings.Contains(err.Error(), cfg+":2") || !strings.Contains(err.Error(), `"stpes"`) {
		t.Fatalf("got %v", err)
	}
	os.WriteFile(cfg, []byte("[text]\nblock = 7\n"), 0o644)
	if _, err := capture(t, "sample", "--config", cfg, "--prompt", "draw"); err == nil || !strings.Contains(err.Error(), cfg+":2: text.block: 7 does not divide") {
		t.Fatalf("got %v", err)
	}
	os.WriteFile(cfg, []byte("steps = \"ten\"\n"), 0o644)
	if _, err := capture(t, "sample", "--config", cfg, "--prompt", "draw"); err == nil || !strings.Contains(err.Error(), cfg) {
		t.Fatalf("got %v", err)
	}
	if _, err := capture(t, "sample", "--config", "examples/thinkgen.toml", "--prompt", "draw a purple unicorn"); err == nil || !strings.Contains(err.Error(), `"unicorn"`) {
		t.Fatalf("got %v", err)
	}
}

func TestExampleConfigsLoad(t *testing.T) {
	paths, _ := filepath.Glob("examples/*.toml")
	if len(paths) < 5 {
		t.Fatalf("%d example configs", len(paths))
	}
	// A file a config names must be in a fresh clone, unless the config's
	// own header gives the command that makes it ("--out runs/sft-default").
	exists := func(p, named, key string) {
		t.Helper()
		if !model.NamesFile(named) || named == "none" {
			return
		}
		if _, err := os.Stat(named); err == nil {
			return
		}
		if src, _ := os.ReadFile(p); bytes.Contains(src, []byte("--out "+filepath.Dir(named)+"\n")) {
			return
		}
		t.Errorf("%s: %s names %s, which a fresh clone lacks and no command in the file makes", p, key, named)
	}
	for _, p := range paths {
		var err error
		switch {
		case strings.HasPrefix(filepath.Base(p), "sft"):
			var c train.SFTConfig
			c, err = train.LoadSFT(p)
			exists(p, c.Init, "init")
		case strings.HasPrefix(filepath.Base(p), "clip"):
			var c train.CLIPConfig
			c, err = train.LoadCLIP(p)
			// clip.toml is the embedded scorer's recipe, the defaults; the others change some.
			if filepath.Base(p) == "clip.toml" && !reflect.DeepEqual(c, train.DefaultCLIP()) {
				t.Errorf("%s does not hold the defaults (the embedded scorer's recipe)", p)
			}
			if err == nil {
				err = c.Validate()
			}
			exists(p, c.Init, "init")
		case strings.HasPrefix(filepath.Base(p), "pararl"):
			var c train.ParaRLConfig
			c, err = train.LoadParaRL(p)
			exists(p, c.Sampler.Model, "sampler.model")
			exists(p, c.Sampler.Clip, "sampler.clip")
			exists(p, c.Sampler.Codebook, "sampler.codebook")
			if err == nil {
				err = c.Validate()
			}
			// pararl.toml spells out every default; the others change some.
			if filepath.Base(p) == "pararl.toml" && !reflect.DeepEqual(c, train.DefaultParaRL()) {
				t.Errorf("%s does not hold the defaults:\n%+v\nwant\n%+v", p, c, train.DefaultParaRL())
			}
		default:
			var c sample.Config
			c, err = session.LoadConfig(p, "", "")
			exists(p, c.Model, "model")
			exists(p, c.Clip, "clip")
			exists(p, c.Codebook, "codebook")
		}
		if err != nil {
			t.Error(err)
		}
	}
}

func TestBackendFlag(t *testing.T) {
	for _, tc := range []struct {
		args, rest []string
		backend    string
	}{
		{[]string{"sample", "--backend", "cpu", "--case", "x"}, []string{"sample", "--case", "x"}, "cpu"},
		{[]string{"--backend=cuda", "bench"}, []string{"bench"}, "cuda"},
		{[]string{"-backend", "auto"}, nil, "auto"},
		{[]string{"bench", "--cases", "3"}, []string{"bench", "--cases", "3"}, "auto"},
	} {
		rest, backend, err := takeBackendFlag(tc.args)
		if err != nil || !slices.Equal(rest, tc.rest) || backend != tc.backend {
			t.Errorf("%q: rest %q, backend %q, err %v; want %q, %q", tc.args, rest, backend, err, tc.rest, tc.backend)
		}
	}
	for _, args := range [][]string{{"bench", "--backend"}, {"--backend", "tpu"}} {
		var u cli.UsageError
		if _, _, err := takeBackendFlag(args); !errors.As(err, &u) {
			t.Errorf("%q: got %v, want a usage error", args, err)
		}
	}
	// This build has no CUDA: auto runs on the CPU.
	out, err := capture(t, "version")
	if err != nil || !strings.Contains(out, "backend: cpu") {
		t.Errorf("version: %v\n%s", err, out)
	}
}

func TestTrainParaRLNamesWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rl.toml")
	os.WriteFile(cfg, []byte("steps = 1\nwarmup = 0\n[sampler]\nmodel = \"random:1\"\nclip = \""+filepath.Join(dir, "nope.safetensors")+"\"\n"), 0o644)
	if _, err := capture(t, "train", "pararl", "--config", cfg, "--out", dir); err == nil || !strings.Contains(err.Error(), "sampler.clip") {
		t.Errorf("a missing scorer: %v", err)
	}
	var u cli.UsageError
	if _, err := capture(t, "train", "pararl", "--config", cfg, "--resume", "x"); !errors.As(err, &u) {
		t.Errorf("--resume with --config: %v, want a usage error", err)
	}
	os.WriteFile(cfg, []byte("group = 1\n"), 0o644)
	if _, err := capture(t, "train", "pararl", "--config", cfg); err == nil || !strings.Contains(err.Error(), "group") {
		t.Errorf("a group of one: %v", err)
	}
}

// -h on a training job prints its flags and starts nothing.
func TestTrainHelpStartsNothing(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, job := range []string{"sft", "clip", "pararl"} {
		out, err := capture(t, "train", job, "-h")
		if err != nil || !strings.Contains(out, "-resume") {
			t.Errorf("train %s -h: %v\n%s", job, err, out)
		}
	}
	if _, err := os.Stat("runs"); !os.IsNotExist(err) {
		t.Errorf("-h created runs/: %v", err)
	}
}

// A fine-tune's promoted record holds every stage, and no folder of the
// machine it was promoted on.
func TestProvenanceFollowsInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs&<co>") // characters JSON escapes
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "stage1.safetensors")
	one := &safetensors.File{Tensors: []safetensors.Tensor{{Name: "w", Shape: []int{1}, Data: []float32{1}}},
		Metadata: map[string]string{"step": "12000", "train": `{"seed":1,"steps":12000}`}}
	if err := safetensors.Write(base, one, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	record, _ := json.Marshal(map[string]any{"seed": 2, "init": base})
	got := train.Provenance(filepath.Join(dir, "model.safetensors"), map[string]string{"step": "3000", "train": string(record)})
	js, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"init":{"metadata":{"step":"12000","train":"{\"seed\":1,\"steps\":12000}"},"source":"stage1.safetensors"},` +
		`"metadata":{"step":"3000","train":"{\"init\":\"stage1.safetensors\",\"seed\":2}"},"source":"model.safetensors"}`
	if string(js) != want {
		t.Errorf("record\n got %s\nwant %s", js, want)
	}
	if strings.Contains(string(js), "runs") {
		t.Errorf("the record names this machine's folder %s", dir)
	}
}

// Bad command lines: each fails with the right exit status, a message
// naming the fault, no panic, and before any work, so a file already at
// an output path keeps its bytes.
func TestBadInputs(t *testing.T) {
	t.Chdir(t.TempDir())
	keep := []byte("the user's own file\n")
	for _, f := range []string{"keep.png", "keep.gif", "keep.jsonl", "keep.txt", "codebook.safetensors"} {
		os.WriteFile(f, keep, 0o644)
	}
	os.Mkdir("folder", 0o755)
	os.WriteFile("trace.jsonl", []byte("{\"x\":1}\n"), 0o644)
	runs := checkpointFixtures(t)
	// Configs that must be refused, each naming its file, line and key.
	os.Mkdir("conf", 0o755)
	configs := map[string]string{}
	conf := func(name, text string) string {
		path := filepath.Join("conf", name)
		os.WriteFile(path, []byte(text), 0o644)
		configs[path] = text
		return path
	}
	badFiles(t, "in")
	oddFiles(t, "odd", "in")
	placed, _ := os.ReadDir(".")
	const usage, failure = 2, 1
	prompt := []string{"sample", "--prompt", "draw a big red circle at the top left"}
	with := func(base []string, more ...string) []string { return append(slices.Clone(base), more...) }
	nd := neverDestroyFixtures(t, "in") // never destroy: files the block below must leave as they are
	tests := []struct {
		args []string
		code int
		want []string // in the message
	}{
		// never destroy: an output that is an input, or another output;
		// a folder or file that holds something else; all refused before any work
		{with(prompt[:1], "--case", nd.caseA, "--out", nd.caseB), failure, []string{nd.caseB + " already holds another case", "--force"}},
		{with(prompt, "--out", "in/cases"), failure, []string{"in/cases already holds files", "--force"}},
		{[]string{"world", "--n", "2", "--out", "in/cases"}, failure, []string{"in/cases already holds files", "--force"}},
		{with(prompt[:1], "--case", nd.caseA, "--png", filepath.Join(nd.caseA, "input.png")), usage, []string{"--png and --case both name " + filepath.Join(nd.caseA, "input.png")}},
		{[]string{"replay", "trace.jsonl", "--gif", "trace.jsonl"}, usage, []string{"--gif and the trace both name trace.jsonl"}},
		{[]string{"replay", "trace.jsonl", "--text", "./in/../trace.jsonl"}, usage, []string{"--text and the trace both name ./in/../trace.jsonl"}},
		{[]string{"bench", "--config", "tiny.toml", "--results", "tiny.toml"}, usage, []string{"--results and --config both name tiny.toml"}},
		{with(prompt, "--trace", "out.jsonl", "--gif", "out.jsonl"), usage, []string{"--trace and --gif both name out.jsonl"}},
		{with(prompt, "--out", "out", "--png", "out/output.png"), usage, []string{"--png and --out both name out/output.png"}},
		{[]string{"train", "vq", "--out", "sft/model.safetensors"}, failure, []string{"--out sft/model.safetensors is a model, not a VQ codebook", "not written over"}},
		{[]string{"train", "vq", "--out", "codebook.safetensors", "--force"}, failure, []string{"--out codebook.safetensors: a text file", "not written over"}},
		{[]string{"train", "vq", "--out", nd.codebook}, failure, []string{nd.codebook + " already holds a VQ codebook", "--force"}},
		{[]string{"train", "promote", "clip/model.safetensors", "--to", nd.promoted}, failure, []string{filepath.Join(nd.promoted, "default.safetensors") + " is a model, not a CLIP scorer"}},
		{[]string{"train", "sft", "--config", "tiny.toml", "--out", nd.locked}, failure, []string{nd.locked + " is in use by process " + strconv.Itoa(os.Getpid())}},
		{[]string{"train", "clip", "--out", nd.locked, "--force"}, failure, []string{nd.locked + " is in use by process"}},
		{[]string{"train", "pararl", "--out", nd.locked, "--force"}, failure, []string{nd.locked + " is in use by process"}},
		{[]string{"train", "sft", "--resume", nd.renamed}, failure, []string{filepath.Join(filepath.Dir(nd.renamed), "model.safetensors") + " is not of the run in " + nd.renamed, "--force"}},
		{[]string{"train", "sft", "--resume", nd.older}, failure, []string{filepath.Join(filepath.Dir(nd.older), "checkpoint.safetensors") + " is a later checkpoint of this run (step 2, not 1)"}},
		// exit 2: the command line
		{[]string{"frobnicate"}, usage, []string{`"frobnicate"`}},
		{[]string{"train"}, usage, []string{"sft, clip, pararl"}},
		{[]string{"train", "gan"}, usage, []string{`"gan"`}},
		{[]string{"version", "extra"}, usage, []string{`"extra"`}},
		{[]string{"world", "--n", "99999999999", "--out", "w"}, usage, []string{"--n"}},
		{[]string{"world", "--n", "0", "--out", "w"}, usage, []string{"--n"}},
		{[]string{"world", "--n", "-5", "--out", "w"}, usage, []string{"--n"}},
		{[]string{"world", "--seed", "-1", "--out", "w"}, usage, []string{"seed"}},
		{[]string{"world", "--n", "2"}, usage, []string{"--out"}},
		{[]string{"bench", "--cases", "0"}, usage, []string{"--cases"}},
		{[]string{"bench", "--cases", "99999999999999"}, usage, []string{"--cases"}},
		{[]string{"bench", "--cases", "-3"}, usage, []string{"--cases"}},
		{[]string{"bench", "stray"}, usage, []string{`"stray"`}},
		{[]string{"scorer", "--cases", "0"}, usage, []string{"--cases"}},
		{[]string{"scorer", "--group", "1"}, usage, []string{"--group 1", "at least 2"}},
		{[]string{"scorer", "--clip", "none"}, usage, []string{"--clip"}},
		{[]string{"scorer", "stray"}, usage, []string{`"stray"`}},
		{[]string{"scorer", "--config", "tiny.toml", "--samples", "tiny.toml"}, usage, []string{"--samples and --config both name tiny.toml"}},
		{[]string{"sample", "--seed", "-1", "--prompt", "draw"}, usage, []string{"--seed"}},
		{[]string{"sample", "--seed", "99999999999999999999999", "--prompt", "draw"}, usage, []string{"--seed"}},
		{[]string{"sample", "--prompt", ""}, usage, []string{"--prompt"}},
		{with(prompt, "--strip-steps", "99", "--strip", "keep.png"), usage, []string{"--strip-steps"}},
		{[]string{"train", "vq", "--codes", "0", "--out", "codebook.safetensors"}, usage, []string{"--codes"}},
		{[]string{"train", "vq", "--iters", "-1"}, usage, []string{"--iters"}},
		{[]string{"train", "vq", "--eval", "-1"}, usage, []string{"--eval"}},
		{[]string{"train", "vq", "--cases", "0"}, usage, []string{"--cases"}},
		{[]string{"train", "clip", "--eval", "5"}, usage, []string{"--eval"}},
		{[]string{"train", "reward", "--rollouts", "0", "--z", "-1"}, usage, []string{"--clip"}},
		{[]string{"train", "reward", "--clip", "c.safetensors", "--rollouts", "0"}, usage, []string{"--rollouts"}},
		{[]string{"train", "reward", "--clip", "c.safetensors", "--z", "nan"}, usage, []string{"flag -z", "finite"}},
		{[]string{"train", "reward", "--clip", "c.safetensors", "--z", "-1"}, usage, []string{"--z"}},
		{[]string{"train", "reward", "--clip", "c.safetensors", "--z", "+Inf"}, usage, []string{"flag -z", "finite"}},
		{[]string{"train", "reward", "--clip", "none"}, usage, []string{"--clip"}},
		{[]string{"train", "sft", "stray"}, usage, []string{`"stray"`}},
		{[]string{"replay"}, usage, []string{"trace"}},
		// exit 1: an output path that cannot be written, found before the work
		{[]string{"world", "--n", "2", "--out", "keep.png"}, failure, []string{"keep.png", "not a folder"}},
		{[]string{"world", "--n", "2", "--out", "w", "--sheet", "folder"}, failure, []string{"folder", "is a folder"}},
		{[]string{"world", "--n", "2", "--out", "w", "--sheet", "keep.png/s.png"}, failure, []string{"keep.png/s.png"}},
		{[]string{"bench", "--results", "folder"}, failure, []string{"folder"}},
		{[]string{"bench", "--results", "keep.txt/r.jsonl"}, failure, []string{"keep.txt/r.jsonl"}},
		{[]string{"scorer", "--samples", "keep.txt/s.jsonl"}, failure, []string{"keep.txt/s.jsonl"}},
		{[]string{"scorer", "--clip", "sft/model.safetensors"}, failure, []string{"sft/model.safetensors is a model, not a CLIP scorer"}},
		{with(prompt, "--png", "folder"), failure, []string{"folder"}},
		{with(prompt, "--gif", "keep.png/a.gif", "--png", "keep.png"), failure, []string{"keep.png/a.gif"}},
		{with(prompt, "--trace", "folder", "--gif", "keep.gif"), failure, []string{"folder"}},
		{with(prompt, "--strip", "keep.txt/s.png"), failure, []string{"keep.txt/s.png"}},
		{with(prompt, "--out", "keep.png", "--trace", "keep.jsonl"), failure, []string{"keep.png"}},
		{[]string{"replay", "trace.jsonl", "--gif", "folder"}, failure, []string{"folder"}},
		{[]string{"replay", "trace.jsonl", "--text", "keep.png/t.txt"}, failure, []string{"keep.png/t.txt"}},
		{[]string{"replay", "trace.jsonl", "--png", "keep.png"}, failure, []string{"trace.jsonl"}},
		{[]string{"train", "vq", "--out", "folder"}, failure, []string{"folder"}},
		{[]string{"train", "vq", "--out", "keep.txt/cb.safetensors"}, failure, []string{"keep.txt/cb.safetensors"}},
		{[]string{"train", "sft", "--out", "keep.txt"}, failure, []string{"keep.txt"}},
		{[]string{"train", "pararl", "--out", "keep.txt/run"}, failure, []string{"keep.txt/run"}},
		{[]string{"train", "reward", "--clip", "keep.txt/c.safetensors"}, failure, []string{"keep.txt"}},
		// exit 1: an input that is not what it should be
		{[]string{"replay", "folder"}, failure, []string{"folder"}},
		{[]string{"replay", "missing.jsonl"}, failure, []string{"missing.jsonl"}},
		{[]string{"judge", "keep.png"}, failure, []string{"keep.png"}},
		{[]string{"train", "promote", "keep.png"}, failure, []string{"keep.png"}},
		{[]string{"train", "sft", "--resume", "keep.png", "--out", "run"}, failure, []string{"keep.png"}},
		// exit 1: a file of the wrong kind, or not a checkpoint at all
		{[]string{"bench", "--model", "sft/checkpoint.safetensors"}, failure, []string{"sft/checkpoint.safetensors is an SFT training checkpoint, not a model: use sft/model.safetensors"}},
		{[]string{"bench", "--model", "clip/model.safetensors"}, failure, []string{"clip/model.safetensors is a CLIP scorer, not a model"}},
		{[]string{"bench", "--model", "clip/checkpoint.safetensors"}, failure, []string{"clip/checkpoint.safetensors is a CLIP training checkpoint", "train clip --resume"}},
		{[]string{"bench", "--model", "picture.png"}, failure, []string{"picture.png: a PNG picture, not a safetensors file"}},
		{[]string{"bench", "--model", "results.jsonl"}, failure, []string{"results.jsonl: a JSON lines file"}},
		{[]string{"bench", "--model", "empty.safetensors"}, failure, []string{"empty.safetensors: an empty file"}},
		{[]string{"train", "sft", "--resume", "keep.txt"}, failure, []string{"keep.txt: a text file"}},
		{[]string{"train", "sft", "--resume", "sft/model.safetensors"}, failure, []string{"sft/model.safetensors is a model", "use sft/checkpoint.safetensors", "init"}},
		{[]string{"train", "pararl", "--resume", "sft/checkpoint.safetensors"}, failure, []string{"is an SFT training checkpoint, not a ParaRL training checkpoint", `sampler.model = "sft/model.safetensors"`}},
		{[]string{"train", "clip", "--resume", "sft/checkpoint.safetensors", "--out", "c2"}, failure, []string{"sft/checkpoint.safetensors is an SFT training checkpoint, not a CLIP training checkpoint"}},
		{[]string{"train", "clip", "--resume", "clip/model.safetensors"}, failure, []string{"clip/model.safetensors is a CLIP scorer", "use clip/checkpoint.safetensors"}},
		{[]string{"train", "reward", "--clip", "sft/model.safetensors"}, failure, []string{"sft/model.safetensors is a model, not a CLIP scorer"}},
		{[]string{"train", "promote", "sft/checkpoint.safetensors", "--to", "promoted"}, failure, []string{"use sft/model.safetensors"}},
		{[]string{"train", "promote", "clip/checkpoint.safetensors", "--to", "promoted"}, failure, []string{"not a CLIP scorer: use clip/model.safetensors"}},
		// exit 1: resume metadata that cannot be right
		{[]string{"train", "sft", "--resume", "sft/checkpoint.safetensors"}, failure, []string{"sft/checkpoint.safetensors: the run is finished (step 2 of 2)", `init = "sft/model.safetensors"`}},
		{[]string{"train", "sft", "--resume", "bad/negative.safetensors"}, failure, []string{"bad/negative.safetensors", `metadata "step" is -3`}},
		{[]string{"train", "sft", "--resume", "bad/huge.safetensors"}, failure, []string{"bad/huge.safetensors", `metadata "step" is 999999999, past the run's 2 steps`}},
		{[]string{"train", "sft", "--resume", "bad/words.safetensors"}, failure, []string{"bad/words.safetensors", `metadata "step" is "two"`}},
		{[]string{"train", "sft", "--resume", "bad/config.safetensors"}, failure, []string{"bad/config.safetensors", `metadata "train": batch: 0`}},
		{[]string{"train", "sft", "--resume", "bad/json.safetensors"}, failure, []string{"bad/json.safetensors", `metadata "train"`}},
		{[]string{"train", "sft", "--resume", "bad/seed.safetensors"}, failure, []string{"bad/seed.safetensors", `metadata "train"`, "seed"}},
		// exit 1: a run already in the output folder
		{[]string{"train", "sft", "--config", "tiny.toml", "--out", "sft"}, failure, []string{"sft already holds a run", "--resume sft/checkpoint.safetensors", "--force"}},
		{[]string{"train", "clip", "--out", "clip"}, failure, []string{"clip already holds a run", "--resume clip/checkpoint.safetensors", "--force"}},
		{[]string{"train", "pararl", "--out", "sft"}, failure, []string{"sft already holds a run", "--force"}},
		{[]string{"train", "sft", "--resume", "bad/negative.safetensors", "--out", "sft"}, failure, []string{"sft already holds a run", "--force"}},
		// exit 2: a float flag that is not a finite number
		{[]string{"train", "reward", "--clip", "c.safetensors", "--z", "1e999"}, usage, []string{"flag -z", "finite"}},
		{[]string{"train", "reward", "--clip", "c.safetensors", "--z", "-inf"}, usage, []string{"flag -z", "finite"}},
		// exit 1: a config value that is not finite, or a size this machine cannot hold
		{with(prompt, "--config", conf("nan.toml", "[text]\ntemperature = nan\n")), failure, []string{"conf/nan.toml:2: text.temperature: NaN", "finite"}},
		{with(prompt, "--config", conf("inf.toml", "seed = 3\n[image]\ncfg = inf\n")), failure, []string{"conf/inf.toml:3: image.cfg: +Inf"}},
		{with(prompt, "--config", conf("remask.toml", "[image]\nremask_temperature = -inf\n")), failure, []string{"conf/remask.toml:2: image.remask_temperature"}},
		{with(prompt, "--config", conf("steps.toml", "steps = 99999999999\n")), failure, []string{"conf/steps.toml:1: steps: 99999999999", "needs about", "this machine has"}},
		{with(prompt, "--config", conf("cfg.toml", "[text]\ncfg = 1e9\n")), failure, []string{"conf/cfg.toml:2: text.cfg", "want 0 to 100"}},
		{[]string{"bench", "--config", "conf/steps.toml"}, failure, []string{"conf/steps.toml:1: steps", "needs about"}},
		{[]string{"train", "sft", "--out", "run", "--config", conf("lr.toml", "steps = 3\nlr = nan\n")}, failure, []string{"conf/lr.toml:2: lr: NaN"}},
		{[]string{"train", "sft", "--out", "run", "--config", conf("mask.toml", "min_mask = inf\n")}, failure, []string{"conf/mask.toml:1: min_mask: +Inf"}},
		{[]string{"train", "sft", "--out", "run", "--config", conf("decay.toml", "steps = 3\nweight_decay = -nan\n")}, failure, []string{"conf/decay.toml:2: weight_decay: NaN"}},
		{[]string{"train", "sft", "--out", "run", "--config", conf("big.toml", "steps = 3\n[model]\nd_model = 1000000\nlayers = 1000\n")}, failure,
			[]string{"conf/big.toml:2: model: layers 1000, d_model 1000000", "needs about", "this machine has"}},
		{[]string{"train", "sft", "--out", "run", "--config", conf("overflow.toml", "[model]\nd_model = 4611686018427387904\nheads = 2\n")}, failure,
			[]string{"conf/overflow.toml:1: model", "8.0 EiB or more"}},
		{[]string{"train", "sft", "--out", "run", "--config", conf("batch.toml", "steps = 3\nbatch = 100000\n")}, failure, []string{"conf/batch.toml:2: batch: 100000", "needs about"}},
		{[]string{"train", "clip", "--out", "run", "--config", conf("partial.toml", "partial = nan\n")}, failure, []string{"conf/partial.toml:1: partial: NaN"}},
		{[]string{"train", "clip", "--out", "run", "--config", conf("scale.toml", "[model]\nlayers = 1\nscale = inf\n")}, failure, []string{"conf/scale.toml:3: model.scale: +Inf"}},
		{[]string{"train", "clip", "--out", "run", "--config", conf("beta.toml", "beta1 = nan\n")}, failure, []string{"conf/beta.toml:1: beta1: NaN"}},
		{[]string{"train", "clip", "--out", "run", "--config", conf("pairs.toml", "batch = 100000\n")}, failure, []string{"conf/pairs.toml:1: batch: 100000", "needs about"}},
		{[]string{"train", "clip", "--out", "run", "--config", conf("clipinit.toml", "init = \"nope.safetensors\"\n")}, failure, []string{"conf/clipinit.toml:1: init: nope.safetensors: no such file"}},
		{[]string{"train", "clip", "--out", "run", "--config", conf("clipdeeper.toml", "init = \"embedded\"\n[model]\nlayers = 3\n")}, failure, []string{"conf/clipdeeper.toml:1: init: embedded", `"vision.blocks.2.attn_norm" of this scorer is not in the one it starts from`}},
		{[]string{"train", "pararl", "--out", "run", "--config", conf("kl.toml", "kl = nan\n")}, failure, []string{"conf/kl.toml:1: kl: NaN"}},
		{[]string{"train", "pararl", "--out", "run", "--config", conf("rltemp.toml", "[sampler.text]\ntemperature = inf\n")}, failure, []string{"conf/rltemp.toml:2: sampler.text.temperature: +Inf"}},
		{[]string{"train", "pararl", "--out", "run", "--config", conf("rlsteps.toml", "steps = 2\n[sampler]\nsteps = 99999999999\n")}, failure, []string{"conf/rlsteps.toml:3: sampler.steps: 99999999999", "needs about"}},
		{[]string{"train", "pararl", "--out", "run", "--config", conf("group.toml", "prompts = 1000\ngroup = 1000000\n")}, failure, []string{"conf/group.toml:2: group: 1000000", "needs about"}},
		// exit 1: traces and case folders that are not what they claim
		{[]string{"replay", "in/outside.jsonl", "--png", "out.png"}, failure, []string{"in/outside.jsonl:3: tokens[0]: id 99999 is outside the vocabulary"}},
		{[]string{"replay", "in/truncated.jsonl", "--text", "out.txt"}, failure, []string{"in/truncated.jsonl:3: truncated"}},
		{[]string{"replay", "in/header.jsonl", "--png", "out.png"}, failure, []string{"in/header.jsonl:1: config: steps: 0"}},
		{[]string{"replay", "in/order.jsonl", "--png", "out.png"}, failure, []string{"in/order.jsonl:2: step: 1 where step 0 belongs"}},
		{[]string{"replay", "in/revealed.jsonl", "--png", "out.png"}, failure, []string{"in/revealed.jsonl:3: revealed_at[0]: 7, want -1 (masked) or a step from 1 to 1"}},
		{[]string{"replay", "in/nan.jsonl", "--png", "out.png"}, failure, []string{"in/nan.jsonl:3: confidence: string"}},
		{[]string{"replay", "in/mask.jsonl", "--png", "out.png"}, failure, []string{"in/mask.jsonl:3: tokens[0]: the mask id"}},
		{[]string{"judge", "in/empty"}, failure, []string{"in/empty/case.json: empty file"}},
		{[]string{"judge", "in/cut"}, failure, []string{"in/cut/case.json: truncated"}},
		{[]string{"judge", "in/typo"}, failure, []string{"in/typo/case.json:3: field \"index\": string"}},
		{[]string{"judge", "in/corrupt"}, failure, []string{"in/corrupt/input.png: not a PNG file"}},
		{[]string{"judge", "in/big"}, failure, []string{"in/big/input.png: image is 64×64, want 48×48"}},
		{[]string{"judge", "in/notarget"}, failure, []string{"in/notarget/target.png: missing"}},
		{[]string{"judge", "in/mixed"}, failure, []string{"in/mixed/0001-", "case.json: tokens.ids[0]: id 99999 is outside the vocabulary"}},
		{[]string{"judge", "in/answer"}, failure, []string{"in/answer: holds output.png but no case.json"}},
		{[]string{"--instruction", "make it red", "--input", "keep.txt"}, failure, []string{"--input: keep.txt: not a PNG file"}},
		{[]string{"--case", "in/notarget"}, failure, []string{"--case: in/notarget/target.png: missing"}},
		{[]string{"--case", "in/mixed"}, failure, []string{"--case: in/mixed: not a case folder: no case.json"}},
		{with(prompt[:1], "--case", "in/corrupt", "--out", "out", "--png", "out.png"), failure, []string{"in/corrupt/input.png: not a PNG file"}},
		{with(prompt[:1], "--instruction", "make it red", "--input", "in/outside.jsonl", "--trace", "out.jsonl"), failure, []string{"in/outside.jsonl: not a PNG file"}},
		// never unclear: a byte order mark is read past, a device or pipe is
		// refused by name, a config names the key of a missing file, and no
		// Go type name, empty list item or fault reported twice shows.
		{with(prompt, "--config", conf("bom.toml", "\ufeffsteps = -4\n")), failure, []string{"conf/bom.toml:1: steps: -4, want at least 1"}},
		{with(prompt, "--config", conf("nomodel.toml", "model = \"missing.safetensors\"\n")), failure, []string{"conf/nomodel.toml:1: model: missing.safetensors: no such file"}},
		{[]string{"train", "sft", "--out", "run", "--config", conf("noinit.toml", "init = \"missing.safetensors\"\n")}, failure, []string{"conf/noinit.toml:1: init: missing.safetensors: no such file"}},
		{[]string{"train", "pararl", "--out", "run", "--config", conf("rlnone.toml", "[sampler]\nclip = \"none\"\n")}, failure, []string{`conf/rlnone.toml:2: sampler.clip: "none"`, "CLIP scorer"}},
		{[]string{"sample", "--seed", "-3", "--prompt", "draw"}, usage, []string{`--seed "-3": want a whole number from 0`}},
		{with(prompt, "--config", "odd/big.toml"), failure, []string{"odd/big.toml: larger than 1 MiB"}},
		{with(prompt, "--config", "/dev/zero"), failure, []string{"/dev/zero: is not a regular file"}},
		{[]string{"bench", "--model", "/dev/zero"}, failure, []string{"/dev/zero: is not a regular file"}},
		{[]string{"train", "sft", "--resume", "/dev/zero"}, failure, []string{"/dev/zero: is not a regular file"}},
		{[]string{"replay", "/dev/zero", "--png", "out.png"}, failure, []string{"replay: /dev/zero: is not a regular file"}},
		{[]string{"judge", "odd/zero-case"}, failure, []string{"odd/zero-case/case.json: is not a regular file"}},
		{[]string{"judge", "odd/fifo-target"}, failure, []string{"odd/fifo-target/target.txt: is not a regular file"}},
		{[]string{"judge", "odd/bom-case"}, failure, []string{`odd/bom-case/case.json: unknown edit kind "mvoe" (want one of recolour, remove,`}},
		{[]string{"replay", "odd/noheader.jsonl", "--png", "out.png"}, failure, []string{"odd/noheader.jsonl:1: no trace header"}},
		{[]string{"replay", "odd/modality.jsonl", "--png", "out.png"}, failure, []string{"odd/modality.jsonl:1: config.text: number where an object belongs"}},
		{[]string{"replay", "odd/good.jsonl", "--strip", "out.png", "--strip-steps", "99"}, usage, []string{`replay: --strip-steps: "99" is not a step from 0 to 1`}},
		{[]string{"replay", "odd/bom.jsonl", "--strip", "out.png", "--strip-steps", "99"}, usage, []string{`replay: --strip-steps: "99"`}},
		// never silent: inputs that used to mean something else without a word
		{with(prompt, "--seed", "1", "--seed", "2"), usage, []string{"--seed given 2 times"}},
		{with(prompt, "--png", "out.png", "--png", "out.png"), usage, []string{"--png given 2 times"}},
		{[]string{"--backend", "cpu", "--backend=cpu", "version"}, usage, []string{"--backend given 2 times"}},
		{with(prompt, "--out="), usage, []string{"--out is empty"}},
		{with(prompt, "--mode", ""), usage, []string{"--mode is empty"}},
		{with(prompt, "--config="), usage, []string{"--config is empty"}},
		{[]string{"bench", "--model="}, usage, []string{"--model is empty"}},
		{[]string{"train", "promote", "sft/model.safetensors", "--to="}, usage, []string{"--to is empty"}},
		{with(prompt, "--config", conf("seed.toml", "seed = -1\n")), failure, []string{"conf/seed.toml:1: seed: -1, want 0 or more"}},
		{[]string{"train", "sft", "--out", "run", "--config", conf("sftseed.toml", "steps = 3\nseed = -2\n")}, failure, []string{"conf/sftseed.toml:2: seed: -2"}},
		{[]string{"train", "clip", "--out", "run", "--config", conf("clipseed.toml", "seed = -1\n")}, failure, []string{"conf/clipseed.toml:1: seed: -1"}},
		{[]string{"train", "pararl", "--out", "run", "--config", conf("rlseed.toml", "seed = -1\n[sampler]\nseed = -1\n")}, failure,
			[]string{"conf/rlseed.toml:1: seed: -1", "conf/rlseed.toml:3: sampler.seed: -1"}},
		{[]string{"sample", "--prompt", "   "}, usage, []string{"--prompt holds only spaces"}},
		{[]string{"sample", "--instruction", " \t ", "--input", "keep.png"}, usage, []string{"--instruction holds only spaces"}},
		{with(prompt, "--strip-steps", "0,5"), usage, []string{"--strip-steps without --strip"}},
		{[]string{"replay", "trace.jsonl", "--strip-steps", "0"}, usage, []string{"replay: --strip-steps without --strip"}},
		{with(prompt, "--strip", "out.png", "--strip-steps", strings.Repeat("1,", 100)+"1"), usage, []string{"--strip-steps: 101 steps, want at most 100"}},
		{[]string{"train", "clip", "--eval", "1000000000"}, usage, []string{"--eval 1000000000", "100 to 10000"}},
		{[]string{"replay", "in/steps.jsonl", "--png", "out.png"}, failure, []string{"in/steps.jsonl:1: steps: 1000000000000, want 0 to the 40 steps"}},
		{[]string{"replay", "in/short.jsonl", "--png", "out.png"}, failure, []string{"in/short.jsonl:3: ends at step 1 of the header's 40", "the last frames are missing"}},
		{[]string{"train", "sft", "--out", "run", "--config", conf("initshape.toml", "init = \"sft/model.safetensors\"\n[model]\nlayers = 1\nd_model = 64\n")}, failure,
			[]string{"conf/initshape.toml:4: model.d_model: 64, but init sft/model.safetensors has 32"}},
		{[]string{"train", "sft", "--out", "run", "--config", conf("warmup.toml", "steps = 10\nwarmup = 300\n")}, failure, []string{"conf/warmup.toml:2: warmup: 300, more than the run's 10 steps"}},
		{[]string{"train", "clip", "--out", "run", "--config", conf("clipwarmup.toml", "steps = 10\n")}, failure, []string{"conf/clipwarmup.toml: warmup: 200, more than the run's 10 steps"}},
		{[]string{"train", "promote", "sft/model.safetensors"}, failure, []string{"no engine/model/weights here", "source tree's root", "--to DIR"}},
		{[]string{"train", "promote", "clip/model.safetensors", "--to", "promoted"}, failure, []string{"clip/model.safetensors has no reward.json beside it", "train reward --clip clip/model.safetensors"}},
		{[]string{"bench", "--cases", "301"}, usage, []string{"--cases 301: the suite holds 300 cases"}},
		{[]string{"train", "pararl", "--out", "run", "--config", conf("rewardsteps.toml", "reward_steps = 30\n[sampler]\nsteps = 20\n")}, failure,
			[]string{"conf/rewardsteps.toml:1: reward_steps: 30, more than the 20 steps of a rollout"}},
	}
	before := snapshot(t, append(runs, "in")...)
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := capture(t, tc.args...)
			if got := exitCode(err); got != tc.code {
				t.Fatalf("exit status %d, want %d (%v)", got, tc.code, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not name %q", err, w)
				}
			}
			for _, bad := range []string{"panic", "goroutine", ".tmp-"} {
				if strings.Contains(err.Error()+out, bad) {
					t.Errorf("%q in the output: %v\n%s", bad, err, out)
				}
			}
			for _, f := range []string{"keep.png", "keep.gif", "keep.jsonl", "keep.txt", "codebook.safetensors"} {
				if b, _ := os.ReadFile(f); !bytes.Equal(b, keep) {
					t.Errorf("%s changed", f)
				}
			}
			if now := snapshot(t, append(runs, "in")...); !reflect.DeepEqual(now, before) {
				t.Errorf("a run's or an input's files changed")
			}
			for path, text := range configs {
				if b, _ := os.ReadFile(path); string(b) != text {
					t.Errorf("%s changed", path)
				}
			}
			for _, f := range []string{"w", "run", "runs", "reward.json", "c2", "promoted", "out", "out.png", "out.txt", "out.jsonl"} {
				if _, err := os.Stat(f); err == nil {
					t.Errorf("%s was made by a command that failed", f)
				}
			}
		})
	}
	if ents, _ := os.ReadDir("conf"); len(ents) != len(configs) {
		t.Errorf("conf holds %d entries, want the %d configs", len(ents), len(configs))
	}
	if ents, _ := os.ReadDir("."); len(ents) != len(placed) {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("the folder holds %q, want only what the test put there", names)
	}
}

// badFiles writes, under dir, traces and case folders each spoilt in one
// way: the inputs TestBadInputs gives replay, judge, sample and the viewer.
func badFiles(t *testing.T, dir string) {
	t.Helper()
	cb := vq.Default()
	v := token.New(cb.K())
	cfg := sample.Defaults()
	h := sample.HeaderFor(cfg, v, sample.Prompt{Task: world.ThinkGen, Instruction: "draw a red circle"}, cfg.Steps, "test", nil)
	n := v.ImageLen() + v.ReasoningLen()
	frame := func(step int) sample.Frame {
		f := sample.Frame{Step: step, Tokens: make([]int32, n), RevealedAt: make([]int16, n), Confidence: make([]float32, n), Guess: make([]int32, n)}
		for i := range n {
			f.RevealedAt[i] = -1
		}
		f.Image.Total, f.Text.Total = v.ImageLen(), v.ReasoningLen()
		return f
	}
	// Each trace is the start and step 1, which reveals position 0 as
	// spoil leaves it; the lines are JSON, spoilt further by edit.
	trace := func(name string, spoil func(h *sample.Header, f *sample.Frame), edit func(string) string) {
		hh, f := h, frame(1)
		f.Tokens[0], f.Guess[0], f.RevealedAt[0], f.Image.Actual = int32(v.ImageOffset()), int32(v.ImageOffset()), 1, 1
		spoil(&hh, &f)
		var b strings.Builder
		if err := sample.WriteTrace(&b, hh, []sample.Frame{frame(0), f}); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), []byte(edit(b.String())), 0o644)
	}
	same := func(s string) string { return s }
	os.Mkdir(dir, 0o755)
	trace("outside.jsonl", func(_ *sample.Header, f *sample.Frame) { f.Tokens[0] = 99999 }, same)
	trace("truncated.jsonl", func(*sample.Header, *sample.Frame) {}, func(s string) string { return s[:len(s)-len(s)/4] })
	trace("header.jsonl", func(h *sample.Header, _ *sample.Frame) { h.Config.Steps = 0 }, same)
	lines := func(edit func(l []string)) func(string) string {
		return func(s string) string {
			l := strings.Split(s, "\n")
			edit(l)
			return strings.Join(l, "\n")
		}
	}
	trace("order.jsonl", func(*sample.Header, *sample.Frame) {}, lines(func(l []string) { l[1], l[2] = l[2], l[1] }))
	trace("revealed.jsonl", func(_ *sample.Header, f *sample.Frame) { f.RevealedAt[0] = 7 }, same)
	trace("nan.jsonl", func(*sample.Header, *sample.Frame) {}, lines(func(l []string) {
		l[2] = strings.Replace(l[2], `"confidence":[0,`, `"confidence":["NaN",`, 1)
	}))
	trace("mask.jsonl", func(_ *sample.Header, f *sample.Frame) {
		f.Tokens[0], f.Guess[0] = int32(v.MaskID()), int32(v.MaskID())
	}, same)
	trace("steps.jsonl", func(h *sample.Header, _ *sample.Frame) { h.Steps = 1e12 }, same)
	trace("short.jsonl", func(*sample.Header, *sample.Frame) {}, same) // steps 0 and 1 of 40, not stopped

	// Case folders: three good edits, then copies spoilt one way each.
	cases := filepath.Join(dir, "cases")
	if _, err := capture(t, "world", "--n", "3", "--task", "thinkedit", "--out", cases); err != nil {
		t.Fatal(err)
	}
	good, _ := casedir.List(cases)
	spoilt := func(name string, spoil func(d string)) {
		d := filepath.Join(dir, name)
		if err := os.CopyFS(d, os.DirFS(good[0])); err != nil {
			t.Fatal(err)
		}
		spoil(d)
	}
	put := func(name string, data []byte) func(string) {
		return func(d string) { os.WriteFile(filepath.Join(d, name), data, 0o644) }
	}
	caseJSON, _ := os.ReadFile(filepath.Join(good[0], casedir.CaseJSON))
	spoilt("empty", put(casedir.CaseJSON, nil))
	spoilt("cut", put(casedir.CaseJSON, caseJSON[:len(caseJSON)/2]))
	spoilt("typo", put(casedir.CaseJSON, bytes.Replace(caseJSON, []byte(`"index": 0`), []byte(`"index": "first"`), 1)))
	spoilt("corrupt", put(casedir.InputPNG, []byte("not a picture\n")))
	var big bytes.Buffer
	png.Encode(&big, image.NewRGBA(image.Rect(0, 0, 64, 64)))
	spoilt("big", put(casedir.InputPNG, big.Bytes()))
	spoilt("notarget", func(d string) { os.Remove(filepath.Join(d, casedir.TargetPNG)) })
	spoilt("answer", func(d string) {
		for _, name := range []string{casedir.CaseJSON, casedir.InputPNG, casedir.TargetPNG, casedir.TargetTxt} {
			os.Remove(filepath.Join(d, name))
		}
		put(casedir.OutputPNG, big.Bytes())(d)
	})
	mixed := filepath.Join(dir, "mixed")
	if err := os.CopyFS(mixed, os.DirFS(cases)); err != nil {
		t.Fatal(err)
	}
	second, _ := casedir.List(mixed)
	data, _ := os.ReadFile(filepath.Join(second[1], casedir.CaseJSON))
	put(casedir.CaseJSON, bytes.Replace(data, []byte("\"ids\": [\n      7,"), []byte("\"ids\": [\n      99999,"), 1))(second[1])
}

// oddFiles writes, under dir, inputs made from badFiles' (in from): a
// good trace, one with a byte order mark, one without its header, case
// folders whose files are a device or a pipe, and a config too large.
// They stay out of TestBadInputs' snapshot, which would read the device.
func oddFiles(t *testing.T, dir, from string) {
	t.Helper()
	os.Mkdir(dir, 0o755)
	put := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// order.jsonl with its frames put back in order is a trace that reads.
	order, _ := os.ReadFile(filepath.Join(from, "order.jsonl"))
	l := strings.Split(string(order), "\n")
	l[1], l[2] = l[2], l[1]
	l[0] = strings.Replace(l[0], "{", `{"stopped":true,`, 1) // its run stopped at step 1
	put("good.jsonl", []byte(strings.Join(l, "\n")))
	put("bom.jsonl", []byte("\ufeff"+strings.Join(l, "\n")))
	put("noheader.jsonl", []byte(l[1]+"\n"+l[2]+"\n"))
	at := strings.Index(l[0], `"text":{`)
	end := at + strings.Index(l[0][at:], "}") + 1
	put("modality.jsonl", []byte(l[0][:at]+`"text":5`+l[0][end:]+"\n"+strings.Join(l[1:], "\n")))
	put("big.toml", bytes.Repeat([]byte("# a comment line\n"), 1<<17))

	good, _ := casedir.List(filepath.Join(from, "cases"))
	folder := func(name string) string {
		d := filepath.Join(dir, name)
		if err := os.CopyFS(d, os.DirFS(good[0])); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := folder("zero-case")
	os.Remove(filepath.Join(d, casedir.CaseJSON))
	os.Symlink("/dev/zero", filepath.Join(d, casedir.CaseJSON))
	d = folder("fifo-target")
	os.Remove(filepath.Join(d, casedir.TargetTxt))
	if err := syscall.Mkfifo(filepath.Join(d, casedir.TargetTxt), 0o644); err != nil {
		t.Fatal(err)
	}
	d = folder("bom-case")
	caseJSON, _ := os.ReadFile(filepath.Join(d, casedir.CaseJSON))
	caseJSON = regexp.MustCompile(`"edit": "[a-z]+"`).ReplaceAll(caseJSON, []byte(`"edit": "mvoe"`))
	os.WriteFile(filepath.Join(d, casedir.CaseJSON), append([]byte("\ufeff"), caseJSON...), 0o644)
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("x"), 1},
		{cli.UsageError{Msg: "x"}, 2},
		{fmt.Errorf("sample: %w", cli.UsageError{Msg: "x"}), 2},
		{cli.Interrupted{Msg: "train sft: stopped at step 3; resume with: ..."}, 130},
		{fmt.Errorf("bench: %w", context.Canceled), 130},
		{fmt.Errorf("sample: %w", context.DeadlineExceeded), 1},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// A panic that escapes a command becomes an error naming the command.
func TestPanicBecomesAnError(t *testing.T) {
	defer func(saved []command) { commands = saved }(commands)
	commands = append(slices.Clone(commands), command{name: "boom", run: func(*cli.Env, []string) error {
		panic("boom")
	}})
	_, err := capture(t, "boom")
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "parascope boom") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v", err)
	}
}

// -h, and help COMMAND, begin with a usage line naming the positional
// arguments, then the flags; train -h lists the jobs.
func TestHelpStartsWithUsage(t *testing.T) {
	t.Chdir(t.TempDir())
	check := func(args []string, first string) {
		t.Helper()
		for _, a := range [][]string{append(slices.Clone(args), "-h"), append([]string{"help"}, args...)} {
			out, err := capture(t, a...)
			line, _, _ := strings.Cut(out, "\n")
			if err != nil || line != "usage: "+first {
				t.Errorf("%q: %v, first line %q, want %q", a, err, line, "usage: "+first)
			}
		}
	}
	for _, c := range commands {
		if c.name != "train" {
			check([]string{c.name}, strings.TrimSpace("parascope "+c.name+" "+c.args))
		}
	}
	check([]string{"train"}, "parascope train JOB [flags]")
	for _, a := range []string{"-h", "--help", "help"} {
		if out, err := capture(t, a); err != nil || !strings.HasPrefix(out, "usage: parascope [--backend auto|cpu|cuda] [COMMAND] [ARGS]\n") {
			t.Errorf("parascope %s: %v, output begins %.60q", a, err, out)
		}
	}
	for _, job := range cli.TrainJobs() {
		out, err := capture(t, "train", job, "-h")
		if err != nil || !strings.HasPrefix(out, "usage: parascope train "+job) || !strings.Contains(out, "\nflags:\n") {
			t.Errorf("train %s -h: %v\n%s", job, err, out)
		}
	}
	if out, _ := capture(t, "train", "-h"); !strings.Contains(out, "train promote MODEL") || !strings.Contains(out, "train reward --clip CKPT") {
		t.Errorf("train -h does not list the jobs:\n%s", out)
	}
	if ents, _ := os.ReadDir("."); len(ents) != 0 {
		t.Errorf("-h wrote %d files", len(ents))
	}
}

// checkpointFixtures makes, in the current folder, what TestBadInputs
// gives where a checkpoint belongs: a tiny SFT run (sft/) and CLIP run
// (clip/), copies of the SFT checkpoint with tampered metadata (bad/), a
// PNG picture, JSON lines and an empty file. It returns the run folders.
func checkpointFixtures(t *testing.T) []string {
	t.Helper()
	os.WriteFile("tiny.toml", []byte("steps = 2\nbatch = 2\nwarmup = 1\ncheckpoint_every = 1\n[model]\nlayers = 1\nd_model = 32\nheads = 2\nmlp = 64\n"), 0o644)
	os.WriteFile("tinyclip.toml", []byte("steps = 2\nbatch = 2\nwarmup = 1\ncheckpoint_every = 1\n[model]\nlayers = 1\nd_model = 16\nheads = 2\nmlp = 24\nembed = 8\n"), 0o644)
	if _, err := capture(t, "train", "sft", "--config", "tiny.toml", "--out", "sft"); err != nil {
		t.Fatal(err)
	}
	if _, err := capture(t, "train", "clip", "--config", "tinyclip.toml", "--out", "clip", "--eval", "0"); err != nil {
		t.Fatal(err)
	}
	state, err := safetensors.Read(filepath.Join("sft", train.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	os.Mkdir("bad", 0o755)
	for name, edit := range map[string]func(meta map[string]string){
		"negative": func(m map[string]string) { m["step"] = "-3" },
		"huge":     func(m map[string]string) { m["step"] = "999999999" },
		"words":    func(m map[string]string) { m["step"] = "two" },
		"config":   func(m map[string]string) { m["train"] = strings.Replace(m["train"], `"batch":2`, `"batch":0`, 1) },
		"json":     func(m map[string]string) { m["train"] = "{oops" },
		"seed":     func(m map[string]string) { m["train"] = strings.Replace(m["train"], `"seed":1`, `"seed":-1`, 1) },
	} {
		f := &safetensors.File{Tensors: state.Tensors, Metadata: maps.Clone(state.Metadata)}
		f.Metadata["step"] = "1"
		edit(f.Metadata)
		if err := safetensors.Write(filepath.Join("bad", name+".safetensors"), f, safetensors.F32); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, world.Render(world.Scene{}))
	os.WriteFile("picture.png", b.Bytes(), 0o644)
	os.WriteFile("results.jsonl", []byte("{\"case\":1}\n{\"case\":2}\n"), 0o644)
	os.WriteFile("empty.safetensors", nil, 0o644)
	return []string{"sft", "clip", "bad"}
}

// snapshot returns the bytes of every file under the folders.
func snapshot(t *testing.T, dirs ...string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			files[path], err = os.ReadFile(path)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// neverDestroyFixtures are what the never-destroy cases of TestBadInputs
// aim at, made under dir (whose files the test checks are left as they
// were): two good case folders, a codebook, a folder holding a promoted
// model, a run folder a running process (this one) has locked, and the
// SFT run's checkpoint at step 1, renamed, once beside another run's
// model and once beside the run's own later checkpoint.
type neverDestroy struct{ caseA, caseB, codebook, promoted, locked, renamed, older string }

func neverDestroyFixtures(t *testing.T, dir string) neverDestroy {
	t.Helper()
	cases, err := casedir.List(filepath.Join(dir, "cases"))
	if err != nil || len(cases) < 2 {
		t.Fatalf("want two case folders in %s/cases: %v", dir, err)
	}
	nd := neverDestroy{caseA: cases[0], caseB: cases[1], codebook: filepath.Join(dir, "codebook.safetensors"), promoted: filepath.Join(dir, "promoted")}
	if err := vq.Default().Save(nd.codebook); err != nil {
		t.Fatal(err)
	}
	model, err := os.ReadFile(filepath.Join("sft", train.ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	os.Mkdir(nd.promoted, 0o755)
	os.WriteFile(filepath.Join(nd.promoted, "default.safetensors"), model, 0o644)
	nd.locked = filepath.Join(dir, "locked")
	os.Mkdir(nd.locked, 0o755)
	os.WriteFile(filepath.Join(nd.locked, atomicfile.LockFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	nd.renamed = filepath.Join(dir, "other", "ckpt-copy.safetensors")
	nd.older = filepath.Join(dir, "later", "ckpt-copy.safetensors")
	stepOne(t, filepath.Join("sft", train.CheckpointFile), nd.renamed)
	stepOne(t, filepath.Join("sft", train.CheckpointFile), nd.older)
	clipModel, _ := os.ReadFile(filepath.Join("clip", train.ModelFile))
	os.WriteFile(filepath.Join(dir, "other", train.ModelFile), clipModel, 0o644)
	state, _ := os.ReadFile(filepath.Join("sft", train.CheckpointFile))
	os.WriteFile(filepath.Join(dir, "later", train.CheckpointFile), state, 0o644)
	return nd
}

// stepOne writes to path the checkpoint at from as if saved at step 1.
func stepOne(t *testing.T, from, path string) {
	t.Helper()
	f, err := safetensors.Read(from)
	if err != nil {
		t.Fatal(err)
	}
	f.Metadata["step"] = "1"
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := safetensors.Write(path, f, safetensors.F32); err != nil {
		t.Fatal(err)
	}
}

// A renamed checkpoint resumes in its own folder beside its run's model,
// writing the run's files there and nothing over the renamed one.
func TestResumeRenamedCheckpoint(t *testing.T) {
	t.Chdir(t.TempDir())
	os.WriteFile("tiny.toml", []byte("steps = 2\nbatch = 2\nwarmup = 1\ncheckpoint_every = 1\n[model]\nlayers = 1\nd_model = 32\nheads = 2\nmlp = 64\n"), 0o644)
	if _, err := capture(t, "train", "sft", "--config", "tiny.toml", "--out", "run"); err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join("copy", "ckpt-copy.safetensors")
	stepOne(t, filepath.Join("run", train.CheckpointFile), copied)
	model, _ := os.ReadFile(filepath.Join("run", train.ModelFile))
	os.WriteFile(filepath.Join("copy", train.ModelFile), model, 0o644)
	before, _ := os.ReadFile(copied)
	if _, err := capture(t, "train", "sft", "--resume", copied); err != nil {
		t.Fatal(err)
	}
	if _, step, err := train.RunOf(filepath.Join("copy", train.CheckpointFile)); err != nil || step != 2 {
		t.Errorf("copy/%s: step %d, %v; want the run finished there", train.CheckpointFile, step, err)
	}
	if after, _ := os.ReadFile(copied); !bytes.Equal(before, after) {
		t.Error("the resumed checkpoint was written over")
	}
	if _, err := os.Stat(filepath.Join("copy", atomicfile.LockFile)); err == nil {
		t.Error("the lock is left behind")
	}
}

// The scorer study runs on the embedded model and scorer: its JSON has
// every share of the trajectory for every kind, and its samples file a
// line per scored output.
func TestScorerStudy(t *testing.T) {
	samples := filepath.Join(t.TempDir(), "samples.jsonl")
	out, err := capture(t, "scorer", "--cases", "3", "--group", "2", "--json", "--samples", samples)
	if err != nil {
		t.Fatal(err)
	}
	var study struct {
		Shares []float64
		Kinds  []struct {
			Kind string
			At   []struct{ N int }
		}
	}
	if err := json.Unmarshal([]byte(out), &study); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(study.Shares) != 4 || study.Shares[0] != 1 || len(study.Kinds) < 2 || study.Kinds[0].Kind != "all" {
		t.Fatalf("%s", out)
	}
	for _, k := range study.Kinds {
		if len(k.At) != len(study.Shares) {
			t.Fatalf("%s: %d shares", k.Kind, len(k.At))
		}
	}
	if all := study.Kinds[0].At[0].N; all != 3*2 {
		t.Fatalf("%d final outputs, want 6", all)
	}
	b, err := os.ReadFile(samples)
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(b, []byte("\n")); lines != 3*2*4 {
		t.Fatalf("%d sample lines, want 24", lines)
	}
}

// plot draws runs' progress logs into a PNG; a bad line is named.
func TestPlotRuns(t *testing.T) {
	dir := t.TempDir()
	for i, run := range []string{"s3", "output-only"} {
		if err := os.MkdirAll(filepath.Join(dir, run), 0o755); err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		enc := json.NewEncoder(&log)
		held := 89.3
		enc.Encode(train.RLProgress{Steps: 3, HeldOut: &held})
		for step := 1; step <= 3; step++ {
			p := train.RLProgress{Step: step, Steps: 3, FinalReward: 0.8 + 0.05*float64(step+i), KL: 0.001 * float64(step), Informative: 0.5}
			if step == 3 {
				h := held + float64(i)
				p.HeldOut = &h
			}
			enc.Encode(p)
		}
		if err := os.WriteFile(filepath.Join(dir, run, train.LogFile), log.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "curves.png")
	if _, err := capture(t, "plot", filepath.Join(dir, "s3"), filepath.Join(dir, "output-only", train.LogFile), "--out", out); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dx() < 1000 || img.Bounds().Dy() < 600 {
		t.Fatalf("%v: %v", err, img.Bounds())
	}
	bad := filepath.Join(dir, "bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, train.LogFile), []byte("{\"Step\":1}\n{oops\n"), 0o644)
	if _, err := capture(t, "plot", bad, "--out", filepath.Join(dir, "b.png")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("a bad line: %v", err)
	}
	if _, err := capture(t, "plot", bad); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Fatalf("no --out: %v", err)
	}
	if _, err := capture(t, "plot", filepath.Join(dir, "missing"), "--out", filepath.Join(dir, "m.png")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("a missing run: %v", err)
	}
}
