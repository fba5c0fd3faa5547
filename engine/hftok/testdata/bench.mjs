// Encode throughput of the Rust tokenizers library on a dump's corpus.
// It prints two figures: one string per call, as the Go benchmark does,
// which includes the binding's per-call cost (a promise and a thread
// hop); and the whole corpus in one encodeBatch call, which has almost
// none of that cost but runs on every core. Run through bench.sh.
//
//   node bench.mjs TOKENIZER_JSON DUMP.jsonl.gz   (from the npm scratch folder)
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const require = createRequire(path.join(process.cwd(), 'x.js'));
const { Tokenizer } = require('@anush008/tokenizers');
const [file, dump] = process.argv.slice(2);
const tok = Tokenizer.fromFile(file);
const texts = zlib.gunzipSync(fs.readFileSync(dump)).toString('utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l).text);
const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);

async function pass() {
  for (const t of texts) await tok.encode(t, null, { addSpecialTokens: true });
}
await pass(); // warm the word cache, as the Go benchmark's first round does
const rounds = 5;
const start = process.hrtime.bigint();
for (let i = 0; i < rounds; i++) await pass();
const secs = Number(process.hrtime.bigint() - start) / 1e9;
const single = (bytes * rounds) / secs;

await tok.encodeBatch(texts, { addSpecialTokens: true });
const bstart = process.hrtime.bigint();
for (let i = 0; i < rounds; i++) await tok.encodeBatch(texts, { addSpecialTokens: true });
const batch = (bytes * rounds) / (Number(process.hrtime.bigint() - bstart) / 1e9);
console.log(Math.round(single), Math.round(batch));
