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
// The references are dumps written by testdata/dump.mjs with the Rust
// library (through its Node binding); the tests compare every string.
package hftok
