// Writes a GPT-2-style variant of the Qwen 3 tokenizer: no normalizer and
// the ByteLevel pre-tokenizer with its own split and a prefix space, the
// parts neither real file here uses. The Go test builds the same variant
// in memory (gpt2Variant in reference_test.go).
//
//   node gpt2-variant.mjs qwen3-tokenizer.json OUT.json
//   node dump.mjs OUT.json qwen3-gpt2.jsonl.gz 1500
import fs from 'node:fs';

const [file, out] = process.argv.slice(2);
const t = JSON.parse(fs.readFileSync(file, 'utf8'));
t.normalizer = null;
t.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
fs.writeFileSync(out, JSON.stringify(t));
