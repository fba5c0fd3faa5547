#!/usr/bin/python3
# Usage (from the repository root):
#     /usr/bin/python3 engine/mmada/reference/fixtures.py
# regenerates engine/mmada/testdata/: two tiny model folders in the layouts
# of the published MMaDA-Parallel checkpoints, random but fixed:
#
#     parallel-a/   MMaDA-Parallel-A (LLaDAForMultiModalGeneration): config.json,
#                   model.safetensors (bf16), tokenizer.json,
#                   tokenizer_config.json, vqvae/ (a diffusers VQModel)
#     parallel-m/   MMaDA-Parallel-M (MMadaModelLM): the same, with
#                   magvitv2/ (MAGVIT-v2) for the image tokenizer;
#                   model.safetensors links to parallel-a's (same shapes)
#
# Every id is the real checkpoint's, so the vocabulary is as wide as the
# real one (134656) while the model is tiny (d_model 4, one layer). The
# tokenizer is a small byte-level BPE learned here from a short corpus,
# with the special tokens at their real ids. -A's <system>, </system>,
# <user>, </user> sit at 126340..126343: the fixture's choice, since the
# published tokenizer's ids for them are not in the inference code.
#
# Needs the torch of /usr/bin/python3 (for the image tokenizers, built by
# engine/vqgan/reference/vqgan.py and engine/magvit/reference/magvit.py);
# the output is the same on every run.

import collections
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
OUT = os.path.join(HERE, "..", "testdata")
sys.path.insert(0, os.path.join(ROOT, "engine", "hf", "reference"))
sys.path.insert(0, os.path.join(ROOT, "engine", "vqgan", "reference"))
sys.path.insert(0, os.path.join(ROOT, "engine", "magvit", "reference"))

import fixtures as hf  # noqa: E402  LLaDA's tensor names and safetensors writer

import torch  # noqa: E402
import vqgan  # noqa: E402
import magvit  # noqa: E402

# The real ids.
BOS, EOS, MASK = 126080, 126081, 126336
VOCAB = EMBEDDING = 134656
A_TEXT_VOCAB = 126356  # -A's text_vocab_size: image code 0
M_LLM_VOCAB = 126464  # -M's llm_vocab_size: len(tokenizer)
CODEBOOK = 8192

COMMON_SPECIAL = {"<|startoftext|>": BOS, "<|endoftext|>": EOS, "<|mdm_mask|>": MASK}
A_SPECIAL = {
    "<system>": 126340, "</system>": 126341, "<user>": 126342, "</user>": 126343,  # fixture's ids
    "<|eot_id|>": 126348,
    "<boi>": 126349, "<eoi>": 126350, "<uncondition>": 126351,
    "<answer>": 126354, "</answer>": 126355,
}
M_SPECIAL = {
    "<|soi|>": 126084, "<|eoi|>": 126085, "<|sov|>": 126086, "<|eov|>": 126087,
    "<|t2i|>": 126088, "<|mmu|>": 126089, "<|t2v|>": 126090, "<|v2v|>": 126091,
    "<|lvg|>": 126092, "[iPAD]": 126093, "<|r2i|>": 126094, "<|interleave|>": 126095,
}

CORPUS = """
Generate an image applying the following editing instruction based on the original image.
Make the sky blue and add a red balloon above the house. Turn the cat into a dog.
Replace the apple on the table with an orange, and keep the lighting the same.
The picture shows a small house near a river; the trees are green and the sky is clear.
Remove the person on the left. Change the season to winter with snow on the roof.
First I look at the original image, then I reason about the edit: the colour of the
car should change from white to yellow while the background stays as it is.
Add sunglasses to the woman. Make it look like an oil painting. The answer is here.
Draw a circle, a square and a triangle; move the square to the right of the circle.
Café crème, naïve façade, 漢字の絵, emoji 😀 and 🎨 painted on the wall.
"""


def byte_alphabet():
    """GPT-2's bytes_to_unicode: printable bytes map to themselves, the
    others to code points from 256 up."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def learn_merges(n):
    """BPE training on the corpus's words: the most frequent adjacent pair
    merges first, ties to the smaller pair, n times. The words come from a
    plain approximation of GPT-2's split; any merges make a valid file."""
    alpha = byte_alphabet()
    words = re.findall(r" ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+", CORPUS)
    counts = collections.Counter(tuple(alpha[b] for b in w.encode()) for w in words)
    merges = []
    for _ in range(n):
        pairs = collections.Counter()
        for w, c in counts.items():
            for p in zip(w, w[1:]):
                pairs[p] += c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        merged = collections.Counter()
        for w, c in counts.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] += c
        counts = merged
    return merges


def tokenizer_json(special):
    """A byte-level BPE tokenizer.json as LLaDA's is laid out: the special
    tokens in the vocabulary at their ids and in added_tokens, a
    post-processor that prepends <|startoftext|>, the ByteLevel decoder."""
    alpha = byte_alphabet()
    vocab = {alpha[b]: b for b in range(256)}
    merges = learn_merges(300)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    for tok, i in special.items():
        vocab[tok] = i
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t, i in sorted(special.items(), key=lambda x: x[1])]
    bos = {"id": "<|startoftext|>", "ids": [BOS], "tokens": ["<|startoftext|>"]}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<|startoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<|startoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<|startoftext|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<|startoftext|>": bos},
        },
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": dict(sorted(vocab.items(), key=lambda x: x[1])),
                  "merges": [f"{a} {b}" for a, b in merges]},
    }


def tokenizer_config():
    return {
        "add_bos_token": True, "add_eos_token": False,
        "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
        "mask_token": "<|mdm_mask|>", "model_max_length": 1000000000000000019884624838656,
        "tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False,
    }


def model_config(family):
    c = hf.family_config(family)
    c.update(mask_token_id=MASK, eos_token_id=EOS, pad_token_id=EOS, vocab_size=VOCAB, embedding_size=EMBEDDING,
             max_sequence_length=4096, codebook_size=CODEBOOK, torch_dtype="bfloat16")
    if family == "mmada":
        c.update(llm_vocab_size=M_LLM_VOCAB, num_vq_tokens=1024, new_vocab_size=EMBEDDING)
    else:
        c.update(text_vocab_size=A_TEXT_VOCAB)
    return c


def write_json(path, v, sort=True):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(v, f, indent=2, ensure_ascii=False, sort_keys=sort)
        f.write("\n")


def vqvae_folder(path):
    """aMUSEd's VQModel layout at tiny widths: five levels (scale 16),
    8192 codes of 4 dimensions."""
    torch.manual_seed(0)
    cfg = vqgan.config([4, 4, 4, 4, 4], 1, 4, CODEBOOK, 2, False)
    model = vqgan.VQModel(cfg).eval()
    vqgan.randomize(model, 11)
    vqgan.write_folder(path, cfg, model, "BF16")


def magvit_folder(path):
    """Show-o's MAGVIT-v2 at tiny widths: five levels (scale 16), 13 bits."""
    torch.manual_seed(0)
    tiny = {
        "encoder": {"ch": 4, "ch_mult": [1, 1, 1, 1, 1], "num_res_blocks": [1, 1, 1, 1, 1], "z_channels": 13},
        "decoder": {"ch": 4, "ch_mult": [1, 1, 1, 1, 1], "num_res_blocks": [1, 1, 1, 1, 1], "z_channels": 13},
        "norm_num_groups": 2,
    }
    model = magvit.MAGVITv2(tiny).eval()
    magvit.randomize(model, 12)
    os.makedirs(path, exist_ok=True)
    write_json(os.path.join(path, "config.json"), magvit.folder_config(tiny))
    magvit.write_safetensors(os.path.join(path, "pytorch_model.safetensors"), model.state_dict(), "BF16")


def main():
    hf.D_MODEL, hf.N_HEADS, hf.N_KV_HEADS, hf.N_LAYERS, hf.MLP = 4, 1, 1, 1, 8
    hf.VOCAB, hf.EMBEDDING = VOCAB, EMBEDDING
    a, m = os.path.join(OUT, "parallel-a"), os.path.join(OUT, "parallel-m")
    for d in (a, m):
        os.makedirs(d, exist_ok=True)
    hf.write(os.path.join(a, "model.safetensors"), hf.encode(hf.weights(seed=21), "BF16"))
    link = os.path.join(m, "model.safetensors")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.join("..", "parallel-a", "model.safetensors"), link)

    write_json(os.path.join(a, "config.json"), model_config("dimoo"))
    write_json(os.path.join(m, "config.json"), model_config("mmada"))
    write_json(os.path.join(a, "tokenizer.json"), tokenizer_json({**COMMON_SPECIAL, **A_SPECIAL}), sort=False)
    write_json(os.path.join(m, "tokenizer.json"), tokenizer_json({**COMMON_SPECIAL, **M_SPECIAL}), sort=False)
    for d in (a, m):
        write_json(os.path.join(d, "tokenizer_config.json"), tokenizer_config())
    vqvae_folder(os.path.join(a, "vqvae"))
    magvit_folder(os.path.join(m, "magvitv2"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
