// Prints the Rust tokenizers library's ids (through its Node binding) for
// the fixtures' prompt strings, as JSON lines {"file", "text", "special",
// "ids"}; prompts_test.go holds the result. Run from a folder where
// `npm install @anush008/tokenizers` was done:
//
//   node /path/to/engine/mmada/reference/prompts.mjs /path/to/engine/mmada/testdata
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.cwd(), 'x.js'));
const { Tokenizer } = require('@anush008/tokenizers');
const dir = process.argv[2];
const system = 'Generate an image applying the following editing instruction based on the original image.';
const instructions = ['Make the sky blue.', 'Turn the cat into a dog, café 漢字 😀', ''];
const cases = [];
for (const ins of instructions) {
  cases.push(['parallel-a', `<system>${system}</system><user>${ins}</user>`, true]);
  cases.push(['parallel-m', ins, true]);
}
cases.push(['parallel-a', `<system>${system}</system><user><uncondition></user>`, true]);
cases.push(['parallel-a', '</answer>', false]);
for (const [file, text, special] of cases) {
  const tok = Tokenizer.fromFile(path.join(dir, file, 'tokenizer.json'));
  const enc = await tok.encode(text, null, { addSpecialTokens: special });
  console.log(JSON.stringify({ file, text, special, ids: Array.from(enc.getIds()) }));
}
