#!/usr/bin/python3
# Usage (from the repository root, after fixtures.py):
#     /usr/bin/python3 engine/hf/reference/logits.py
# writes engine/hf/testdata/logits.safetensors: for each folder fixtures.py
# writes (llada, mmada, dimoo; bf16 and f32), the logits of its weights at
# every position of a fixed batch, as the official LLaDA modelling
# (ML-GSAI/LLaDA modeling_llada.py, which MMaDA-8B and Lumina-DiMOO reuse
# unchanged for their backbone) computes them in float32:
#
#   x = wte[ids]
#   per block:  h = RMSNorm(x)·attn_norm
#               q, k, v = h·q_projᵀ, h·k_projᵀ, h·v_projᵀ, split into heads
#               q, k rotated by RoPE (rotate-half; inv_freq and the angles in
#               float32, as the official RotaryEmbedding computes them)
#               x += softmax(q·kᵀ/√hd)·v · attn_outᵀ     (no mask: bidirectional)
#               h = RMSNorm(x)·ff_norm
#               x += (silu(h·ff_projᵀ) * (h·up_projᵀ)) · ff_outᵀ
#   logits = (RMSNorm(x)·ln_f) · headᵀ   (head = ff_out, or wte when tied)
#
# The bf16 folders' weights are their stored bfloat16 values, widened: the
# computation is float32 in both, as Parascope runs them on the CPU.
# Needs Debian's python3-torch; single-threaded, so the file is the same on
# every run.

import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures  # noqa: E402  (the weights and configs come from there)

BATCH, SEQ = 2, 12


def load(folder):
    """The config and the float32 weights of a fixtures folder, read back
    from its safetensors files (so the reference sees what Go opens)."""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    weights = {}
    files = [n for n in os.listdir(folder) if n.endswith(".safetensors")]
    for name in files:
        with open(os.path.join(folder, name), "rb") as f:
            raw = f.read()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        data = raw[8 + n:]
        for key, e in header.items():
            if key == "__metadata__":
                continue
            lo, hi = e["data_offsets"]
            chunk = data[lo:hi]
            if e["dtype"] == "BF16":
                bits = torch.tensor(struct.unpack(f"<{len(chunk) // 2}H", chunk), dtype=torch.int32)
                t = (bits << 16).view(torch.float32)
            else:
                t = torch.tensor(struct.unpack(f"<{len(chunk) // 4}f", chunk), dtype=torch.float32)
            weights[key] = t.reshape(e["shape"])
    return cfg, weights


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, theta):
    """Rotate-half RoPE over x [B, H, T, hd], as the official code does."""
    hd, t = x.shape[-1], x.shape[-2]
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float) / hd))
    freqs = torch.einsum("i,j->ij", torch.arange(t, dtype=torch.float), inv_freq)
    pos = torch.cat((freqs, freqs), dim=-1)
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return x * pos.cos() + torch.cat((-x2, x1), dim=-1) * pos.sin()


def forward(cfg, w, ids):
    p = "model.transformer."
    d, nh, eps = cfg["d_model"], cfg["n_heads"], cfg["rms_norm_eps"]
    hd, b, t = d // nh, ids.shape[0], ids.shape[1]
    x = w[p + "wte.weight"][ids]
    for i in range(cfg["n_layers"]):
        blk = lambda n: w[f"{p}blocks.{i}.{n}.weight"]  # noqa: E731
        h = rms_norm(x, blk("attn_norm"), eps)
        heads = lambda m: m.view(b, t, -1, hd).transpose(1, 2)  # noqa: E731
        q, k, v = heads(h @ blk("q_proj").T), heads(h @ blk("k_proj").T), heads(h @ blk("v_proj").T)
        q, k = rope(q, cfg["rope_theta"]), rope(k, cfg["rope_theta"])
        att = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5, dim=-1) @ v
        x = x + att.transpose(1, 2).reshape(b, t, d) @ blk("attn_out").T
        h = rms_norm(x, blk("ff_norm"), eps)
        x = x + (torch.nn.functional.silu(h @ blk("ff_proj").T) * (h @ blk("up_proj").T)) @ blk("ff_out").T
    head = w[p + "wte.weight"] if cfg["weight_tying"] else w[p + "ff_out.weight"]
    return rms_norm(x, w[p + "ln_f.weight"], eps) @ head.T


def main():
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(20261206)
    ids = torch.randint(0, fixtures.VOCAB, (BATCH, SEQ), generator=g)
    out = [("ids", [BATCH, SEQ], [float(v) for v in ids.flatten().tolist()])]
    for family in ("llada", "mmada", "dimoo"):
        for dtype in ("bf16", "f32"):
            name = f"{family}-{dtype}"
            cfg, w = load(os.path.join(fixtures.OUT, name))
            logits = forward(cfg, w, ids)
            out.append((name, list(logits.shape), logits.flatten().tolist()))
    fixtures.write(os.path.join(fixtures.OUT, "logits.safetensors"), fixtures.encode(out, "F32"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
