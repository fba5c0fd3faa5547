package mmada

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"parascope/engine/world"
)

const (
	fixtureA = "testdata/parallel-a"
	fixtureM = "testdata/parallel-m"
)

// reference holds the Rust tokenizers library's ids for the fixtures'
// prompts (reference/prompts.mjs, tokenizers 0.22 through
// @anush008/tokenizers), special tokens added unless noted.
var reference = []struct {
	folder, text string
	special      bool
	ids          []int
}{
	{fixtureA, "<system>" + SystemA + "</system><user>Make the sky blue.</user>", true,
		[]int{126080, 126340, 373, 264, 299, 516, 258, 528, 526, 498, 519, 280, 258, 353, 299, 46, 126341, 126342, 302, 258, 355, 520, 46, 126343}},
	{fixtureM, "Make the sky blue.", true, []int{126080, 302, 258, 355, 520, 46}},
	{fixtureA, "<system>" + SystemA + "</system><user>Turn the cat into a dog, café 漢字 😀</user>", true,
		[]int{126080, 126340, 373, 264, 299, 516, 258, 528, 526, 498, 519, 280, 258, 353, 299, 46, 126341, 126342, 379, 258, 521, 499, 259, 494, 44, 267, 97, 102, 195, 169, 32, 230, 188, 481, 347, 152, 128, 126343}},
	{fixtureM, "Turn the cat into a dog, café 漢字 😀", true,
		[]int{126080, 379, 258, 521, 499, 259, 494, 44, 267, 97, 102, 195, 169, 32, 230, 188, 481, 347, 152, 128}},
	{fixtureA, "<system>" + SystemA + "</system><user></user>", true,
		[]int{126080, 126340, 373, 264, 299, 516, 258, 528, 526, 498, 519, 280, 258, 353, 299, 46, 126341, 126342, 126343}},
	{fixtureM, "", true, []int{126080}},
	{fixtureA, "<system>" + SystemA + "</system><user><uncondition></user>", true,
		[]int{126080, 126340, 373, 264, 299, 516, 258, 528, 526, 498, 519, 280, 258, 353, 299, 46, 126341, 126342, 126351, 126343}},
	{fixtureA, "</answer>", false, []int{126355}},
}

func open(t testing.TB, dir string) *Folder {
	t.Helper()
	f, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestTokenizerMatchesReference(t *testing.T) {
	tok := map[string]*Folder{fixtureA: open(t, fixtureA), fixtureM: open(t, fixtureM)}
	for _, r := range reference {
		if got := tok[r.folder].Tokenizer.Encode(r.text, r.special); !slices.Equal(got, r.ids) {
			t.Errorf("%s %q:\n got %v\nwant %v", r.folder, r.text, got, r.ids)
		}
	}
}

func TestOpenFixtures(t *testing.T) {
	a, m := open(t, fixtureA), open(t, fixtureM)
	for _, c := range []struct {
		f                        *Folder
		v                        Variant
		offset, text, grid, size int
	}{{a, A, 126356, 256, 32, 134656}, {m, M, 126464, 255, 32, 134656}} {
		tm := c.f.Template
		if c.f.Variant != c.v || tm.ImageOffset() != c.offset || tm.ReasoningLen() != c.text || tm.Grid() != c.grid ||
			tm.Size() != c.size || tm.Codes() != 8192 || tm.MaskID() != 126336 || c.f.Images.K() != 8192 {
			t.Errorf("%s: offset %d, text %d, grid %d, size %d, codes %d, mask %d", c.v, tm.ImageOffset(), tm.ReasoningLen(), tm.Grid(), tm.Size(), tm.Codes(), tm.MaskID())
		}
		if !tm.IsEnd(126081) || tm.IsEnd(126080) {
			t.Errorf("%s: IsEnd wrong for <|endoftext|> or <|startoftext|>", c.v)
		}
	}
	if !a.Template.IsEnd(126355) || !a.Template.IsEnd(126348) || m.Template.IsEnd(126355) {
		t.Error("-A ends at </answer> and <|eot_id|>; -M does not")
	}
	if a.Template.Hash() == m.Template.Hash() {
		t.Error("-A and -M share a hash")
	}
	small, err := Open(fixtureA, Options{TextLength: 16, ImageSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if small.Template.Grid() != 4 || small.Template.ReasoningLen() != 16 || small.Template.Hash() == a.Template.Hash() {
		t.Errorf("options: grid %d, text %d", small.Template.Grid(), small.Template.ReasoningLen())
	}
}

// The real templates lay out what the spec's formulas give with the
// reference tokenizer's ids.
func TestFixtureSequences(t *testing.T) {
	a, err := Open(fixtureA, Options{ImageSize: 64, TextLength: 8})
	if err != nil {
		t.Fatal(err)
	}
	uncond := reference[6].ids
	for _, r := range []int{0, 2, 4} {
		ins := strings.TrimSuffix(strings.TrimPrefix(reference[r].text, "<system>"+SystemA+"</system><user>"), "</user>")
		in := codes(16, 8192)
		cond, ut, ui, err := a.Template.Start(world.ThinkEdit, ins, in)
		if err != nil {
			t.Fatal(err)
		}
		wc, wut, wui, wpos := expectA(reference[r].ids, uncond, in, 4, 8, 126356, 126336, 126084, 126349, 126350, 126354, []int{126355})
		if !slices.Equal(cond, wc) || !slices.Equal(ut, wut) || !slices.Equal(ui, wui) {
			t.Errorf("-A %q: sequences differ from the spec's", ins)
		}
		if got := a.Template.Positions(world.ThinkEdit, len(cond)); !slices.Equal(got, wpos) {
			t.Errorf("-A %q: positions %v, want %v", ins, got, wpos)
		}
	}
	m, err := Open(fixtureM, Options{ImageSize: 64, TextLength: 8})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []int{1, 3, 5} {
		in := codes(16, 8192)
		cond, un, ui, err := m.Template.Start(world.ThinkEdit, reference[r].text, in)
		if err != nil {
			t.Fatal(err)
		}
		wc, wu, wpos := expectM(reference[r].ids, reference[5].ids, in, 4, 8, 126464, 126336, 126084, 126085, 126095, 126080, 126081)
		if !slices.Equal(cond, wc) || !slices.Equal(un, wu) || ui != nil {
			t.Errorf("-M %q: sequences differ from the spec's\n%v\n%v", reference[r].text, cond, wc)
		}
		if got := m.Template.Positions(world.ThinkEdit, len(cond)); !slices.Equal(got, wpos) {
			t.Errorf("-M %q: positions %v, want %v", reference[r].text, got, wpos)
		}
	}
}

// copyFolder copies a fixture to a temporary folder, following links.
func copyFolder(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefuses(t *testing.T) {
	for _, c := range []struct {
		name, src string
		change    func(dir string)
		want      []string
	}{
		{"no tokenizer", fixtureA, func(d string) { os.Remove(filepath.Join(d, "tokenizer.json")) }, []string{"tokenizer.json"}},
		{"codebook", fixtureA, func(d string) {
			edit(t, filepath.Join(d, "config.json"), `"codebook_size": 8192`, `"codebook_size": 4096`)
		}, []string{"config.json", "codebook_size 4096"}},
		{"LLaDA", fixtureA, func(d string) {
			edit(t, filepath.Join(d, "config.json"), `"LLaDAForMultiModalGeneration"`, `"LLaDAModelLM"`)
		}, []string{"config.json", "a LLaDA text model has no image codes"}},
		{"special token", fixtureA, func(d string) {
			edit(t, filepath.Join(d, "tokenizer.json"), `"content": "<uncondition>"`, `"content": "<uncond>"`)
			edit(t, filepath.Join(d, "tokenizer.json"), `"<uncondition>": 126351`, `"<uncond>": 126351`)
		}, []string{"tokenizer.json", `"<uncondition>"`}},
		{"-M special token", fixtureM, func(d string) {
			edit(t, filepath.Join(d, "tokenizer.json"), `"content": "<|interleave|>"`, `"content": "<|inter|>"`)
			edit(t, filepath.Join(d, "tokenizer.json"), `"<|interleave|>": 126095`, `"<|inter|>": 126095`)
		}, []string{"tokenizer.json", `"<|interleave|>"`}},
		{"offset", fixtureM, func(d string) {
			edit(t, filepath.Join(d, "config.json"), `"llm_vocab_size": 126464`, `"llm_vocab_size": 130000`)
		}, []string{"config.json", "llm_vocab_size 130000", "vocab_size 134656"}},
		{"no magvitv2", fixtureM, func(d string) { os.RemoveAll(filepath.Join(d, "magvitv2")) }, []string{"magvitv2/"}},
	} {
		dir := copyFolder(t, c.src)
		c.change(dir)
		_, err := Open(dir, Options{ImageSize: 64})
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want it to name %q", c.name, err, w)
			}
		}
	}
}
