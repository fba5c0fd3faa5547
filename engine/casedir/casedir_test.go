package casedir

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// writeCase writes case i as 'parascope world' does, tokens included,
// and returns its folder.
func writeCase(t testing.TB, root string, i int, c world.Case) string {
	t.Helper()
	cb := vq.Default()
	seq, err := token.New(cb.K()).BuildCase(cb, c)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, Name(i, c))
	if err := Write(dir, Meta{Seed: 2, Index: i, Case: c, Tokens: &seq}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func encodePNG(img image.Image) []byte {
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// Every file of a case folder is checked against case.json, and the
// error names the file and what is wrong with it.
func TestReadRejects(t *testing.T) {
	edit := world.Generate(2, 0, world.MixEdit)
	gen := world.Generate(2, 0, world.MixGen)
	// rewrite changes one value of case.json.
	rewrite := func(change func(m map[string]any)) func(dir string) {
		return func(dir string) {
			path := filepath.Join(dir, CaseJSON)
			var m map[string]any
			data, _ := os.ReadFile(path)
			json.Unmarshal(data, &m)
			change(m)
			data, _ = json.MarshalIndent(m, "", "  ")
			os.WriteFile(path, data, 0o644)
		}
	}
	put := func(name string, data []byte) func(dir string) {
		return func(dir string) { os.WriteFile(filepath.Join(dir, name), data, 0o644) }
	}
	remove := func(name string) func(dir string) {
		return func(dir string) { os.Remove(filepath.Join(dir, name)) }
	}
	ids := func(m map[string]any) []any { return m["tokens"].(map[string]any)["ids"].([]any) }
	other := encodePNG(world.Render(world.Generate(2, 5, world.MixGen).Target))
	for _, tc := range []struct {
		name   string
		c      world.Case
		change func(dir string)
		file   string
		want   string
	}{
		{"missing case.json", edit, remove(CaseJSON), "", "not a case folder: no case.json"},
		{"empty case.json", edit, put(CaseJSON, nil), CaseJSON, "empty file"},
		{"blank case.json", edit, put(CaseJSON, []byte("\n  \n")), CaseJSON, "empty file"},
		{"truncated case.json", edit, put(CaseJSON, []byte(`{"task": "thinkedit", "instruction": "ma`)), CaseJSON, "truncated"},
		{"wrong type", edit, rewrite(func(m map[string]any) { m["index"] = "first" }), CaseJSON, `field "index": string where a whole number belongs`},
		{"unknown task", edit, rewrite(func(m map[string]any) { m["task"] = "thinkdraw" }), CaseJSON, `unknown task "thinkdraw"`},
		{"id outside", edit, rewrite(func(m map[string]any) { ids(m)[5] = 99999 }), CaseJSON, "tokens.ids[5]: id 99999 is outside the vocabulary"},
		{"negative id", edit, rewrite(func(m map[string]any) { ids(m)[0] = -1 }), CaseJSON, "tokens.ids[0]: id -1 is outside"},
		{"short ids", edit, rewrite(func(m map[string]any) { m["tokens"].(map[string]any)["ids"] = ids(m)[1:] }), CaseJSON, "tokens.ids: 139 ids, the thinkedit layout has 140"},
		{"other id", edit, rewrite(func(m map[string]any) { ids(m)[0] = float64(token.ThinkGen) }), CaseJSON, "tokens.ids[0]: <|thinkgen|> where the case lays out <|thinkedit|>"},
		{"spans", gen, rewrite(func(m map[string]any) { m["tokens"].(map[string]any)["spans"].(map[string]any)["len"] = 7 }), CaseJSON, "tokens.spans: not the thinkgen layout"},
		{"unknown word", gen, rewrite(func(m map[string]any) { m["instruction"] = "draw a xyzzy" }), CaseJSON, `instruction: unknown word "xyzzy"`},
		{"corrupt input.png", edit, put(InputPNG, []byte("not a picture")), InputPNG, "not a PNG file"},
		{"truncated input.png", edit, func(dir string) {
			data, _ := os.ReadFile(filepath.Join(dir, InputPNG))
			os.WriteFile(filepath.Join(dir, InputPNG), data[:len(data)/2], 0o644)
		}, InputPNG, "not a readable PNG"},
		{"missing input.png", edit, remove(InputPNG), InputPNG, "missing; a thinkedit case folder holds one"},
		{"wrong input.png", edit, put(InputPNG, other), InputPNG, "does not show the input scene of case.json"},
		{"big input.png", edit, put(InputPNG, encodePNG(image.NewRGBA(image.Rect(0, 0, 96, 96)))), InputPNG, "image is 96×96, want 48×48"},
		{"input.png of a thinkgen", gen, put(InputPNG, other), InputPNG, "a thinkgen case has no input picture"},
		{"missing target.png", gen, remove(TargetPNG), TargetPNG, "missing; a thinkgen case folder holds one"},
		{"wrong target.png", gen, put(TargetPNG, other), TargetPNG, "does not show the target scene"},
		{"missing target.txt", gen, remove(TargetTxt), TargetTxt, "missing"},
		{"wrong target.txt", gen, put(TargetTxt, []byte("a small blue square .\n")), TargetTxt, "does not hold the reasoning of case.json"},
		{"corrupt output.png", gen, func(dir string) {
			put(OutputText, []byte("x"))(dir)
			put(OutputPNG, []byte("GIF89a"))(dir)
		}, OutputPNG, "not a PNG file"},
		{"huge output.txt", gen, func(dir string) {
			put(OutputText, bytes.Repeat([]byte("a "), 40<<10))(dir)
			put(OutputPNG, other)(dir)
		}, OutputText, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeCase(t, t.TempDir(), 0, tc.c)
			if _, err := Read(dir); err != nil {
				t.Fatalf("the good folder: %v", err)
			}
			tc.change(dir)
			_, err := Read(dir)
			if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, tc.file)) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %s and %q", err, filepath.Join(dir, tc.file), tc.want)
			}
		})
	}
}

// Find takes a case folder or a folder of them; a folder with a case's
// files but no case.json is named, not skipped.
func TestFind(t *testing.T) {
	root := t.TempDir()
	one := writeCase(t, root, 0, world.Generate(2, 0, world.MixEdit))
	two := writeCase(t, root, 1, world.Generate(2, 1, world.MixGen))
	if dirs, single, err := Find(root); err != nil || single || len(dirs) != 2 || dirs[0] != one || dirs[1] != two {
		t.Fatalf("Find(root) = %q, %v, %v", dirs, single, err)
	}
	if dirs, single, err := Find(one); err != nil || !single || len(dirs) != 1 || dirs[0] != one {
		t.Fatalf("Find(case) = %q, %v, %v", dirs, single, err)
	}
	os.Remove(filepath.Join(two, CaseJSON))
	if _, _, err := Find(root); err == nil || !strings.Contains(err.Error(), two+": holds target.png but no case.json") {
		t.Fatalf("got %v", err)
	}
	answer := filepath.Join(root, "answer")
	os.Mkdir(answer, 0o755)
	os.WriteFile(filepath.Join(answer, OutputText), []byte("x"), 0o644)
	if _, _, err := Find(answer); err == nil || !strings.Contains(err.Error(), answer+": holds output.txt but no case.json") {
		t.Fatalf("got %v", err)
	}
	if _, _, err := Find(filepath.Join(one, CaseJSON)); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Fatalf("got %v", err)
	}
}

// Links to case folders are judged as the folders are; a link that leads
// nowhere is named, not skipped.
func TestListFollowsLinks(t *testing.T) {
	cases, root := t.TempDir(), t.TempDir()
	one := writeCase(t, cases, 0, world.Generate(2, 0, world.MixEdit))
	two := writeCase(t, cases, 1, world.Generate(2, 1, world.MixGen))
	if err := os.Symlink(one, filepath.Join(root, "a")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	os.Symlink(two, filepath.Join(root, "b"))
	os.Symlink(filepath.Join(one, CaseJSON), filepath.Join(root, "file")) // a link to a file is no case folder
	dirs, err := List(root)
	if err != nil || len(dirs) != 2 || dirs[0] != filepath.Join(root, "a") || dirs[1] != filepath.Join(root, "b") {
		t.Fatalf("List = %q, %v", dirs, err)
	}
	broken := filepath.Join(root, "c")
	os.Symlink(filepath.Join(cases, "gone"), broken)
	if _, err := List(root); err == nil || !strings.Contains(err.Error(), broken+": a link that leads nowhere") {
		t.Fatalf("got %v", err)
	}
}
