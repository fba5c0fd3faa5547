// Package hftok reads a Hugging Face tokenizer.json and encodes and
// decodes text exactly as the Rust tokenizers library does, for the BPE
// tokenizers real checkpoints ship (byte-level like GPT-2, Llama 3 and
// Qwen, and Metaspace with byte fallback like Llama 2).
//
// The pipeline follows the file: added tokens are cut out first, the rest
// is normalized, pre-tokenized into words, each word is split by the BPE
// model, and the post-processor adds special tokens. Decoding maps ids
// back to tokens and runs the decoders.
//
// Supported components: the BPE model (merges as "a b" or [a, b],
// byte_fallback, ignore_merges, fuse_unk, unk_token, subword prefix and
// suffix; no dropout); normalizers NFC, NFKC, NFD, NFKD, Lowercase,
// Strip, Replace, Prepend and Sequence; pre-tokenizers ByteLevel, Split,
// Metaspace and Sequence; post-processors ByteLevel, TemplateProcessing
// (single sequences) and Sequence; decoders ByteLevel, Metaspace,
// ByteFallback, Fuse, Strip, Replace and Sequence. Any other type is an
// error naming its key.
//
// Split patterns: the GPT-2, GPT-4 (Llama 3) and Qwen 2/3 patterns use a
// lookahead Go's regexp lacks; they are matched by their exact text and
// run by a hand-written scanner (scanner.go). Any other pattern must be
// one Go's RE2 syntax accepts, and is an error naming it otherwise.
//
// The references are dumps written by testdata/dump.mjs with the Rust
// library (through its Node binding); the tests compare every string.
package hftok
