#!/usr/bin/python3
# Usage (from the repository root):
#     /usr/bin/python3 engine/model/reference/reference.py
# regenerates engine/model/testdata/reference.safetensors.
#
# PyTorch reference for engine/model: a tiny bidirectional mask-predictor
# transformer (RMSNorm, rotate-half RoPE, SwiGLU MLP, untied head), its
# logits at selected positions, the weighted cross-entropy loss, every
# parameter gradient, and five AdamW steps. The Go tests compare against the
# dump; Python is not needed to run them.
#
# Needs Debian's python3-torch (torch 1.13, CPU). Runs single-threaded so the
# output is byte-identical from run to run.
#
# AdamW here is torch.optim.AdamW (torch 1.13, for-loop implementation), one
# step t (1-based) for a parameter p with gradient g and decay wd:
#     p   *= 1 - lr*wd
#     m    = b1*m + (1-b1)*g
#     v    = b2*v + (1-b2)*g*g
#     p   -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps)
# with wd = 0.1 for the 2-D matrices and 0 for the 1-D norm gains.

import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

CONFIG = {
    "layers": 2,
    "d_model": 32,
    "heads": 4,
    "mlp": 48,
    "vocab": 50,
    "rope_theta": 10000,
    "norm_eps": 1e-5,
    "max_len": 12,
}
ADAMW = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.1}
BATCH = {"B": 2, "T": 12}
N_SEL_PER_SEQ = 5
STEPS = 5

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "testdata", "reference.safetensors")


# ---------------------------------------------------------------- model

def param_shapes(cfg):
    """Native parameter names and shapes, in a fixed order."""
    d, f, v = cfg["d_model"], cfg["mlp"], cfg["vocab"]
    shapes = [("wte", (v, d))]
    for i in range(cfg["layers"]):
        p = "blocks.%d." % i
        shapes += [
            (p + "attn_norm", (d,)),
            (p + "wq", (d, d)),
            (p + "wk", (d, d)),
            (p + "wv", (d, d)),
            (p + "wo", (d, d)),
            (p + "ff_norm", (d,)),
            (p + "w_gate", (f, d)),
            (p + "w_up", (f, d)),
            (p + "w_down", (d, f)),
        ]
    shapes += [("ln_f", (d,)), ("head", (v, d))]
    return shapes


def init_params(cfg):
    """Initial weights; the caller seeds torch's global generator first."""
    params = {}
    for name, shape in param_shapes(cfg):
        if len(shape) == 1:
            t = 1.0 + 0.1 * torch.randn(shape, dtype=torch.float32)
        elif name == "wte":
            t = 0.2 * torch.randn(shape, dtype=torch.float32)
        else:
            t = 0.1 * torch.randn(shape, dtype=torch.float32)
        params[name] = t
    return params


def rope_tables(T, hd, theta, dtype):
    """cos, sin of shape [T, hd/2]: angles in float64, then cast."""
    half = hd // 2
    i = torch.arange(half, dtype=torch.float64)
    freq = torch.pow(torch.tensor(float(theta), dtype=torch.float64), -2.0 * i / hd)
    pos = torch.arange(T, dtype=torch.float64)
    ang = pos[:, None] * freq[None, :]
    return torch.cos(ang).to(dtype), torch.sin(ang).to(dtype)


def rope(x, cos, sin):
    """Rotate-half RoPE on x [B, H, T, hd]."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


def rmsnorm(x, gain, eps):
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * gain


def hidden(params, ids, cfg):
    """Final normalised hidden states h [B, T, d]."""
    B, T = ids.shape
    d, H = cfg["d_model"], cfg["heads"]
    hd = d // H
    eps = cfg["norm_eps"]
    dtype = params["wte"].dtype
    cos, sin = rope_tables(T, hd, cfg["rope_theta"], dtype)
    x = params["wte"][ids]
    for i in range(cfg["layers"]):
        p = "blocks.%d." % i
        a = rmsnorm(x, params[p + "attn_norm"], eps)
        q = (a @ params[p + "wq"].t()).view(B, T, H, hd).transpose(1, 2)
        k = (a @ params[p + "wk"].t()).view(B, T, H, hd).transpose(1, 2)
        v = (a @ params[p + "wv"].t()).view(B, T, H, hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, d)
        x = x + o @ params[p + "wo"].t()
        f = rmsnorm(x, params[p + "ff_norm"], eps)
        x = x + (F.silu(f @ params[p + "w_gate"].t()) * (f @ params[p + "w_up"].t())) @ params[p + "w_down"].t()
    return rmsnorm(x, params["ln_f"], eps)


def logits_at(params, ids, sel, cfg):
    """Logits [N, V] at flat positions sel (b*T + t)."""
    B, T = ids.shape
    h = hidden(params, ids, cfg).reshape(B * T, cfg["d_model"])
    return h[sel] @ params["head"].t()


def weighted_loss(logits, targets, weights):
    """sum_j w_j * CE(logits_j, target_j)."""
    ce = F.cross_entropy(logits, targets, reduction="none")
    return (weights * ce).sum()


def is_matrix(name):
    return not (name.endswith("_norm") or name == "ln_f")


# ---------------------------------------------------------------- safetensors

def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, float32 tensor) in data order."""
    header = {}
    chunks = []
    offset = 0
    for name, t in tensors:
        t = t.detach().to(torch.float32).contiguous()
        raw = struct.pack("<%df" % t.numel(), *t.reshape(-1).tolist())
        header[name] = {
            "dtype": "F32",
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    header["__metadata__"] = metadata
    js = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    js += b" " * (-len(js) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(struct.pack("<Q", len(js)))
        fh.write(js)
        for c in chunks:
            fh.write(c)
    os.replace(tmp, path)


# ---------------------------------------------------------------- checks

def gradcheck_f64(params, ids, sel, targets, weights, cfg, names):
    """torch.autograd.gradcheck (finite differences, float64) for some
    parameters, the others held fixed; returns max |grad64 - grad32| too."""
    base = {k: v.detach().to(torch.float64) for k, v in params.items()}
    w64 = weights.to(torch.float64)

    def fn(*xs):
        p = dict(base)
        for n, x in zip(names, xs):
            p[n] = x
        return weighted_loss(logits_at(p, ids, sel, cfg), targets, w64)

    xs = tuple(base[n].clone().requires_grad_(True) for n in names)
    ok = torch.autograd.gradcheck(fn, xs, eps=1e-6, atol=1e-7, rtol=1e-5)
    return ok


def grads_f64(params, ids, sel, targets, weights, cfg):
    p = {k: v.detach().to(torch.float64).requires_grad_(True) for k, v in params.items()}
    loss = weighted_loss(logits_at(p, ids, sel, cfg), targets, weights.to(torch.float64))
    loss.backward()
    return {k: v.grad for k, v in p.items()}


# ---------------------------------------------------------------- main

def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    cfg = CONFIG
    B, T = BATCH["B"], BATCH["T"]
    V = cfg["vocab"]

    torch.manual_seed(1234)
    params = init_params(cfg)
    ids = torch.randint(0, V, (B, T), dtype=torch.int64)
    # N_SEL_PER_SEQ distinct positions in every sequence, sorted.
    sel = []
    for b in range(B):
        sel += sorted((b * T + torch.randperm(T)[:N_SEL_PER_SEQ]).tolist())
    sel = torch.tensor(sel, dtype=torch.int64)
    N = sel.numel()
    targets = torch.randint(0, V, (N,), dtype=torch.int64)
    weights = (0.5 + torch.rand(N, dtype=torch.float32)) / N

    init = {k: v.clone() for k, v in params.items()}
    names = [n for n, _ in param_shapes(cfg)]

    # Forward + backward once.
    live = {k: v.clone().requires_grad_(True) for k, v in init.items()}
    logits = logits_at(live, ids, sel, cfg)
    loss = weighted_loss(logits, targets, weights)
    loss.backward()
    logits = logits.detach().clone()
    grads = {k: live[k].grad.detach().clone() for k in names}

    # AdamW, five steps from the initial weights.
    live = {k: torch.nn.Parameter(v.clone()) for k, v in init.items()}
    opt = torch.optim.AdamW(
        [
            {"params": [live[n] for n in names if is_matrix(n)], "weight_decay": ADAMW["weight_decay"]},
            {"params": [live[n] for n in names if not is_matrix(n)], "weight_decay": 0.0},
        ],
        lr=ADAMW["lr"],
        betas=(ADAMW["beta1"], ADAMW["beta2"]),
        eps=ADAMW["eps"],
    )
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        l = weighted_loss(logits_at(live, ids, sel, cfg), targets, weights)
        l.backward()
        losses.append(l.item())
        opt.step()
    final = {k: live[k].detach().clone() for k in names}
    assert losses[0] == loss.item(), (losses[0], loss.item())

    # Self-checks.
    ok = gradcheck_f64(init, ids, sel, targets, weights, cfg,
                       ["blocks.0.wq", "blocks.1.attn_norm", "wte", "head"])
    g64 = grads_f64(init, ids, sel, targets, weights, cfg)

    print("torch %s" % torch.__version__)
    print("sel      %s" % sel.tolist())
    print("max|logit| %.6f" % logits.abs().max().item())
    print("loss       %.8f" % loss.item())
    print("adamw_losses %s" % " ".join("%.8f" % x for x in losses))
    print("gradcheck (float64, finite differences): %s" % ok)
    print("%-20s %12s %12s %12s" % ("grad", "norm", "max|g|", "rel err f32"))
    worst = 0.0
    for n in names:
        g = grads[n]
        rel = ((g.double() - g64[n]).abs().max() / g64[n].abs().max()).item()
        worst = max(worst, rel)
        print("%-20s %12.4e %12.4e %12.2e" % (n, g.norm().item(), g.abs().max().item(), rel))
    print("worst float32 vs float64 gradient (max abs err / max |g|): %.2e" % worst)
    delta = max((final[n] - init[n]).abs().max().item() for n in names)
    print("max |final - initial| parameter change: %.4e" % delta)

    tensors = [(n, init[n]) for n in names]
    tensors += [
        ("ids", ids.to(torch.float32)),
        ("sel", sel.to(torch.float32)),
        ("targets", targets.to(torch.float32)),
        ("weights", weights),
        ("logits", logits),
        ("loss", loss.detach().reshape(1)),
    ]
    tensors += [("grad." + n, grads[n]) for n in names]
    tensors += [("adamw_losses", torch.tensor(losses, dtype=torch.float32))]
    tensors += [("final." + n, final[n]) for n in names]
    metadata = {
        "config": json.dumps(CONFIG, separators=(",", ":")),
        "adamw": json.dumps(ADAMW, separators=(",", ":")),
        "batch": json.dumps(BATCH, separators=(",", ":")),
        "generator": "engine/model/reference/reference.py (torch %s)" % torch.__version__,
    }
    write_safetensors(OUT, tensors, metadata)
    print("wrote %s (%d bytes, %d tensors)" % (os.path.relpath(OUT), os.path.getsize(OUT), len(tensors)))


if __name__ == "__main__":
    sys.exit(main())
