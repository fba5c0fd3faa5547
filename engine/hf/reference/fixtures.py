#!/usr/bin/python3
# Usage (from the repository root):
#     /usr/bin/python3 engine/hf/reference/fixtures.py
# regenerates engine/hf/testdata/: one tiny model folder per LLaDA-family
# checkpoint kind, with random weights, in the layout the official code
# (ML-GSAI/LLaDA, tyfeld/MMaDA-Parallel) loads:
#
#     llada-bf16/   LLaDAModelLM (LLaDA-8B-Base/Instruct), model.safetensors
#     mmada-bf16/   MMadaModelLM (MMaDA-8B, MMaDA-Parallel-M), model.safetensors
#     dimoo-bf16/   LLaDAForMultiModalGeneration (Lumina-DiMOO, MMaDA-Parallel-A)
#     llada-f32/, mmada-f32/, dimoo-f32/   the same weights in float32, sharded
#                   in three files with model.safetensors.index.json
#
# The tensor names follow the official module tree, written out here apart
# from the Go table so that each checks the other. Standard library only,
# so it runs anywhere; the output is the same on every run.

import json
import os
import random
import struct
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata")

# Tiny sizes; every key that selects code has LLaDA-8B's value, and as in
# every published checkpoint of the family n_kv_heads is n_heads, so that
# engine/model runs these folders (reference/logits.py gives their logits).
D_MODEL, N_HEADS, N_KV_HEADS, N_LAYERS, MLP = 16, 4, 4, 2, 24
VOCAB, EMBEDDING = 36, 40


def base_config():
    """LLaDA-8B-Instruct's config.json keys at tiny sizes."""
    return {
        "activation_type": "silu", "alibi": False, "alibi_bias_max": 8.0,
        "architectures": ["LLaDAModelLM"], "attention_dropout": 0.0,
        "attention_layer_norm": False, "attention_layer_norm_with_affine": True,
        "auto_map": {"AutoConfig": "configuration_llada.LLaDAConfig",
                     "AutoModel": "modeling_llada.LLaDAModelLM",
                     "AutoModelForCausalLM": "modeling_llada.LLaDAModelLM"},
        "bias_for_layer_norm": False, "block_group_size": 1, "block_type": "llama",
        "d_model": D_MODEL, "embedding_dropout": 0.0, "embedding_size": EMBEDDING,
        "eos_token_id": 31, "flash_attention": False, "include_bias": False,
        "include_qkv_bias": False, "init_cutoff_factor": None, "init_device": "meta",
        "init_fn": "mitchell", "init_std": 0.02, "input_emb_norm": False,
        "layer_norm_type": "rms", "layer_norm_with_affine": True, "mask_token_id": 33,
        "max_sequence_length": 64, "mlp_hidden_size": MLP, "mlp_ratio": 4,
        "model_type": "llada", "multi_query_attention": None, "n_heads": N_HEADS,
        "n_kv_heads": N_KV_HEADS, "n_layers": N_LAYERS, "pad_token_id": 31,
        "precision": "amp_bf16", "residual_dropout": 0.0, "rms_norm_eps": 1e-05,
        "rope": True, "rope_full_precision": True, "rope_theta": 500000.0,
        "scale_logits": False, "transformers_version": "4.46.3", "use_cache": False,
        "vocab_size": VOCAB, "weight_tying": False,
    }


def family_config(family):
    c = base_config()
    if family == "mmada":
        c["architectures"], c["model_type"] = ["MMadaModelLM"], "mmada"
        c["auto_map"] = {"AutoConfig": "modeling_mmada.MMadaConfig",
                         "AutoModel": "modeling_mmada.MMadaModelLM",
                         "AutoModelForCausalLM": "modeling_mmada.MMadaModelLM"}
        c.update(llm_vocab_size=30, codebook_size=8, num_vq_tokens=4, new_vocab_size=EMBEDDING)
    elif family == "dimoo":
        c["architectures"] = ["LLaDAForMultiModalGeneration"]
        c.update(text_vocab_size=30, codebook_size=8)
    return c


def layout():
    """(name, shape) of every tensor, in module order: LLaDAModelLM.model
    (LLaDAModel) .transformer (ModuleDict: wte, blocks, ln_f, ff_out)."""
    head_dim = D_MODEL // N_HEADS
    t = [("model.transformer.wte.weight", [EMBEDDING, D_MODEL])]
    for i in range(N_LAYERS):
        b = f"model.transformer.blocks.{i}."
        t += [
            (b + "attn_norm.weight", [D_MODEL]),
            (b + "q_proj.weight", [D_MODEL, D_MODEL]),
            (b + "k_proj.weight", [N_KV_HEADS * head_dim, D_MODEL]),
            (b + "v_proj.weight", [N_KV_HEADS * head_dim, D_MODEL]),
            (b + "attn_out.weight", [D_MODEL, D_MODEL]),
            (b + "ff_norm.weight", [D_MODEL]),
            (b + "ff_proj.weight", [MLP, D_MODEL]),
            (b + "up_proj.weight", [MLP, D_MODEL]),
            (b + "ff_out.weight", [D_MODEL, MLP]),
        ]
    t += [("model.transformer.ln_f.weight", [D_MODEL]),
          ("model.transformer.ff_out.weight", [EMBEDDING, D_MODEL])]
    return t


def weights(seed):
    """Random weights as float32 values (rounded through struct)."""
    r = random.Random(seed)
    out = []
    for name, shape in layout():
        n = 1
        for d in shape:
            n *= d
        if name.endswith("norm.weight") or name.endswith("ln_f.weight"):
            vals = [1.0 + 0.1 * r.gauss(0, 1) for _ in range(n)]
        else:
            vals = [0.2 * r.gauss(0, 1) for _ in range(n)]
        vals = list(struct.unpack(f"<{n}f", struct.pack(f"<{n}f", *vals)))
        out.append((name, shape, vals))
    return out


def bf16_bits(v):
    """Round a float32 to bfloat16, to nearest with ties to even."""
    b = struct.unpack("<I", struct.pack("<f", v))[0]
    b += 0x7FFF + ((b >> 16) & 1)
    return (b >> 16) & 0xFFFF


def encode(tensors, dtype):
    """A safetensors file: 8-byte header length, JSON header padded with
    spaces to 8 bytes, then the data in header order."""
    header, data, off = {"__metadata__": {"format": "pt"}}, bytearray(), 0
    for name, shape, vals in tensors:
        if dtype == "BF16":
            raw = struct.pack(f"<{len(vals)}H", *map(bf16_bits, vals))
        else:
            raw = struct.pack(f"<{len(vals)}f", *vals)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        data += raw
        off += len(raw)
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 8)
    return struct.pack("<Q", len(js)) + js + bytes(data)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def write_folder(family, dtype, shards):
    folder = os.path.join(OUT, f"{family}-{dtype.lower()}")
    os.makedirs(folder, exist_ok=True)
    cfg = family_config(family)
    cfg["torch_dtype"] = {"BF16": "bfloat16", "F32": "float32"}[dtype]
    write(os.path.join(folder, "config.json"), (json.dumps(cfg, indent=2, sort_keys=True) + "\n").encode())
    tensors = weights(seed={"llada": 1, "mmada": 2, "dimoo": 3}[family])
    if shards == 1:
        write(os.path.join(folder, "model.safetensors"), encode(tensors, dtype))
        return
    # Contiguous runs in module order, as save_pretrained fills shards.
    per = -(-len(tensors) // shards)
    weight_map, total = {}, 0
    for s in range(shards):
        part = tensors[s * per:(s + 1) * per]
        name = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        write(os.path.join(folder, name), encode(part, dtype))
        for t, _, vals in part:
            weight_map[t] = name
            total += 4 * len(vals)
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    write(os.path.join(folder, "model.safetensors.index.json"),
          (json.dumps(index, indent=2, sort_keys=True) + "\n").encode())


def main():
    for family in ("llada", "mmada", "dimoo"):
        write_folder(family, "BF16", 1)
        write_folder(family, "F32", 3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
