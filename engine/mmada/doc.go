// Package mmada opens the two published MMaDA-Parallel model folders
// (github tyfeld/MMaDA-Parallel) as far as sampling needs them beyond the
// backbone: config.json's ids, tokenizer.json, the image tokenizer
// (-A: the aMUSEd VQ-GAN in vqvae/; -M: MAGVIT-v2, looked for in
// magvitv2/), and each variant's sequence layout as its official
// inference code builds it (Template: a sample.Template and
// sample.TextTokenizer). The backbone's weights are engine/model's:
// model.Load(dir, backend) opens the same folder.
//
// Both variants edit a 512×512 picture and write reasoning beside the
// output picture; the layouts, their unconditional twins and the ids are
// those of the official scripts (the fixtures in testdata are tiny
// folders with the real ids, written by reference/fixtures.py).
package mmada
