"""Reference port of the two official MMaDA-Parallel sampling loops.

This script re-implements, in Python with numpy only, the published sampling
loops of MMaDA-Parallel:

  * -A: ``generate_ti2ti`` (MMaDA-Parallel-A, generators/parallel_generator.py)
    with the sequence layout built by its inference.py;
  * -M: ``interleave_generate`` (MMaDA-Parallel-M, models/modeling_mmada.py)
    with the layout built by its inference.py.

It follows the published loops step for step, but so that a Go port can match
it bit for bit it replaces

  * every random call by a fixed draw ``u(seed, step, stream, index)`` built
    on the splitmix64 finaliser;
  * every PyTorch dtype by explicit rounding (float32 and bfloat16, round to
    nearest even, computed from float64 values);
  * every sort / top-k by a stable one (ties: lower index first);
  * the network by a fake model whose logits are a hash of the whole input
    sequence, the position and the vocabulary id.

The mini layouts (small vocabulary, 6x6 picture, 24 text tokens) run 20
cases: 2 presets x 5 prompts x 2 settings. For each case the dump records the
inputs, the built sequences, the text and image output tokens after every
global step, and the final text ids and image codes.

Regenerate the dump the Go test compares against with

    /usr/bin/python3 engine/sample/reference/official.py > engine/sample/testdata/official.json

or

    /usr/bin/python3 engine/sample/reference/official.py --out engine/sample/testdata/official.json

``--check`` runs the sanity checks instead and prints their figures.

exp, log and cos come from numpy (float64), which is not correctly rounded;
the results are rounded to float32 / bfloat16 or only ranked, and the dump is
unchanged when glibc's math.exp / math.log / math.cos are used instead.
"""

import argparse
import json
import math
import sys

import numpy as np

U64 = (1 << 64) - 1
BF16_MAX = 3.3895313892515355e38  # 0x7F7F


# ---------------------------------------------------------------------------
# Rounding
# ---------------------------------------------------------------------------

def f32(x):
    """Round float64 value(s) to float32, returned as float64."""
    return np.asarray(x, dtype=np.float64).astype(np.float32).astype(np.float64)


def bf16(x):
    """Round to float32, then to bfloat16 (nearest even); float64 result."""
    a = np.atleast_1d(np.asarray(x, dtype=np.float64)).astype(np.float32)
    bits = a.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    out = rounded.astype(np.uint32).view(np.float32)
    out = np.where(np.isnan(a), a, out).astype(np.float64)
    if np.ndim(x) == 0:
        return float(out[0])
    return out.reshape(np.shape(x))


def bf16log(x):
    """bf16(f32(log(x))), log in float64."""
    with np.errstate(divide="ignore"):
        return bf16(np.log(np.asarray(x, dtype=np.float64)))


def f32cos(x):
    return float(f32(math.cos(x)))


# ---------------------------------------------------------------------------
# Fixed draws
# ---------------------------------------------------------------------------

def sm(x):
    """splitmix64 finaliser on uint64 (scalar int or numpy uint64 array)."""
    if isinstance(x, np.ndarray):
        with np.errstate(over="ignore"):
            x = x + np.uint64(0x9E3779B97F4A7C15)
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            return x ^ (x >> np.uint64(31))
    x = (x + 0x9E3779B97F4A7C15) & U64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & U64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & U64
    return x ^ (x >> 31)


def u(seed, step, stream, index):
    """Fixed uniform draw in [0, 1); index may be an int or an int array."""
    z = sm(seed & U64)
    z = sm((z + step) & U64)
    z = sm((z + stream) & U64)
    if np.ndim(index) == 0:
        z = sm((z + int(index)) & U64)
        return (z >> 11) * 2.0 ** -53
    idx = np.asarray(index, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = sm(np.uint64(z) + idx)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def bf16_uniform(seed, step, stream, index):
    return np.floor(u(seed, step, stream, index) * 256) / 256


def bf16_normal(seed, step, stream, index):
    index = np.asarray(index, dtype=np.int64)
    u1 = u(seed, step, stream, 2 * index)
    u2 = u(seed, step, stream, 2 * index + 1)
    return bf16(np.sqrt(-2 * np.log(1 - u1)) * np.cos(2 * math.pi * u2))


# Streams of the fixed draws.
TEXT_GUMBEL, TEXT_RANDOM, IMAGE_MULTINOMIAL, IMAGE_NOISE, FINAL_FILL = 1, 2, 3, 4, 5


# ---------------------------------------------------------------------------
# Fake model
# ---------------------------------------------------------------------------

def context_hash(ids):
    ctx = 0
    for p, v in enumerate(ids):
        ctx = (ctx + (p + 1) * int(v)) & U64
    return ctx


def fake_logits(ids, positions, vocab):
    """bf16 logits of sequence ids at the given positions over the ids vocab.

    Returns a float64 array [len(positions), len(vocab)].
    """
    c = sm(12345 ^ context_hash(ids))
    pos = np.asarray(positions, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = sm(np.uint64(c) + pos)
        x = sm(h[:, None] + np.asarray(vocab, dtype=np.uint64)[None, :])
    top = ((x >> np.uint64(40)) & np.uint64(0xFFFFFF)).astype(np.float64)
    return bf16(top / 2.0 ** 24 * 8 - 4)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def bf16_op(a, op, s):
    """bf16 op of bf16 values a with Python scalar s: float32 arithmetic, then bf16."""
    a = f32(a)
    s = float(f32(s))
    if op == "+":
        return bf16(a + s)
    if op == "*":
        return bf16(a * s)
    raise ValueError(op)


def bf16_softmax(x):
    """Softmax over the last axis of bf16 values, rounded as the spec says."""
    m = x.max(axis=-1, keepdims=True)
    e = f32(np.exp(f32(x - m)))
    s = f32(np.cumsum(e, axis=-1)[..., -1:])
    return bf16(e / s)


def softmax64(l):
    """float64 softmax over the last axis, summed in index order."""
    m = l.max(axis=-1, keepdims=True)
    e = np.exp(l - m)
    s = np.cumsum(e, axis=-1)[..., -1:]
    return e / s


def argmax(x):
    """First index of the maximum along the last axis."""
    return np.argmax(x, axis=-1)


def multinomial(p, draw):
    """Index drawn from row p with the uniform draw."""
    c = np.cumsum(p)
    return int(np.argmax(draw * c[-1] < c))


def linspace_f32(start, end, n):
    """torch.linspace in float32."""
    if n == 1:
        return [float(f32(start))]
    step = float(f32((end - start) / (n - 1)))
    out = []
    for i in range(n):
        if i < n // 2:
            out.append(float(f32(start + float(f32(step * i)))))
        else:
            out.append(float(f32(end - float(f32(step * (n - i - 1))))))
    return out


def image_step_indices(steps, count):
    return {int(round(v)) for v in linspace_f32(steps // 4, steps - 1, count)}


def mask_ratio(i, steps):
    r = (i + 1) / steps
    pi32 = float(f32(math.pi))
    return f32cos(float(f32(float(f32(float(f32(r)) * pi32)) * 0.5)))


def mask_len(n_tokens, i, steps, unknown):
    ml = math.floor(float(f32(n_tokens * mask_ratio(i, steps))))
    return max(1, min(unknown - 1, ml))


def add_break_line(seq, h, w, newline):
    out = []
    for r in range(h):
        out.extend(list(seq[r * w:(r + 1) * w]) + [newline])
    return out


def top_count(confidence, k):
    """Indices of the k largest confidences (ties: lower index first)."""
    order = np.argsort(-confidence, kind="stable")
    return order[:k]


# ---------------------------------------------------------------------------
# -A: generate_ti2ti
# ---------------------------------------------------------------------------

def build_a(L, prompt_ids, uncond_ids, end_ids, codes):
    g = L["grid"]
    img_tok = [L["BOI"]] + add_break_line([c + L["O"] for c in codes], g, g, L["NEWLINE"]) + [L["EOI"]]
    con = prompt_ids[:-1] + img_tok + prompt_ids[-1:]
    pred = ([L["BOA"], L["BOI"]] + add_break_line([L["MASK"]] * g * g, g, g, L["NEWLINE"])
            + [L["EOI"]] + [L["MASK"]] * L["T"] + end_ids)
    cond = con + pred
    uncon_text = uncond_ids[:-1] + img_tok + uncond_ids[-1:]
    # As in the official loop, the prefix overwrites positions [0, len): when the
    # unconditional prompt is the longer one it also covers the answer's first ids.
    uncond_text = uncon_text + cond[len(uncon_text):]
    uncond_image = list(prompt_ids) + cond[len(prompt_ids):]
    image_start = len(con) + 2
    image_positions = [p for p in range(image_start, image_start + g * g + g) if cond[p] != L["NEWLINE"]]
    text_start = image_start + g * g + g + 1
    text_positions = list(range(text_start, text_start + L["T"]))
    return {
        "cond": cond,
        "uncond_text": uncond_text,
        "uncond_image": uncond_image,
        "uncond_text_prefix": len(uncon_text),
        "uncond_image_prefix": len(prompt_ids),
        "image_positions": image_positions,
        "text_positions": text_positions,
    }


def text_counts_a(M, S):
    counts, remaining = [], M
    for i in range(S):
        c = max(0, remaining - int(M * (1 - (i + 1) / S)))
        counts.append(c)
        remaining -= c
    return counts


def loop_a(L, built, knobs, seed, trace=None):
    S, T, K, O, MASK, V = L["S"], L["T"], L["K"], L["O"], L["MASK"], L["V"]
    seq = list(built["cond"])
    tpos, ipos = built["text_positions"], built["image_positions"]
    N = len(ipos)
    vocab = np.arange(V)
    codebook = np.arange(O, O + K)
    counts = text_counts_a(T, S)
    img_steps = image_step_indices(S, knobs["timesteps"])
    steps = []
    for i in range(S):
        # 1. conditional forward.
        text_l = fake_logits(seq, tpos, vocab)
        cv = fake_logits(seq, ipos, codebook)

        # 2. text.
        cur = np.array([seq[p] for p in tpos])
        masked = cur == MASK
        if masked.any():
            tt = knobs["text_temperature"]
            if tt == 0:
                x0 = argmax(text_l)
            else:
                idx = np.arange(T)[:, None] * V + vocab[None, :]
                ub = bf16_uniform(seed, i, TEXT_GUMBEL, idx)
                a = bf16_op(ub, "+", 1e-10)
                b = -bf16log(a)
                c = bf16_op(b, "+", 1e-10)
                gn = -bf16log(c)
                z = bf16(text_l + bf16_op(gn, "*", tt))
                x0 = argmax(z)
            if knobs["remasking"] == "low_confidence":
                conf = softmax64(text_l)[np.arange(T), x0]
            else:
                conf = u(seed, i, TEXT_RANDOM, np.arange(T))
            x0 = np.where(masked, x0, cur)
            conf = np.where(masked, conf, -np.inf)
            if counts[i] > 0:
                for t in top_count(conf, counts[i]):
                    seq[tpos[t]] = int(x0[t])
                    note(trace, i, "text", (int(t), int(x0[t])))

        # 3. image.
        if i in img_steps:
            cur = np.array([seq[p] for p in ipos])
            unknown = cur == MASK
            known_codes = np.clip(cur - O, 0, K - 1)
            cs, ci = knobs["cfg_scale"], knobs["cfg_img"]
            if cs > 0 or ci > 0:
                ut_seq = list(built["uncond_text"][:built["uncond_text_prefix"]]) + seq[built["uncond_text_prefix"]:]
                ui_seq = list(built["uncond_image"][:built["uncond_image_prefix"]]) + seq[built["uncond_image_prefix"]:]
                ut = fake_logits(ut_seq, ipos, codebook)
                ui = fake_logits(ui_seq, ipos, codebook)
            else:
                ut = ui = np.zeros_like(cv)
            il = cv
            if cs != 0:
                il = bf16(il + bf16_op(bf16(cv - ut), "*", cs))
            if ci != 0:
                il = bf16(il + bf16_op(bf16(cv - ui), "*", ci))
            p = bf16_softmax(il)
            if knobs["temperature"] == 0:
                sampled = argmax(p)
            else:
                draws = u(seed, i, IMAGE_MULTINOMIAL, np.arange(N))
                sampled = np.array([multinomial(p[n], draws[n]) for n in range(N)])
            sampled = np.where(unknown, sampled, known_codes)
            sampled = np.clip(sampled, 0, K - 1)
            sel = p[np.arange(N), sampled]
            sel = np.where(unknown, sel, BF16_MAX)
            ml = mask_len(N, i, S, int(unknown.sum()))
            ml = max(0, min(N - 1, ml))
            img_temp = knobs["temperature"] * (1.0 - (i + 1) / S)
            noise = bf16_normal(seed, i, IMAGE_NOISE, np.arange(N))
            conf = bf16(bf16log(bf16_op(sel, "+", 1e-10)) + bf16_op(noise, "*", img_temp))
            remask = np.zeros(N, dtype=bool)
            remask[np.argsort(conf, kind="stable")[:ml]] = True
            for n in range(N):
                seq[ipos[n]] = MASK if remask[n] else int(sampled[n]) + O
            note(trace, i, "image", {"unknown": int(unknown.sum()), "mask_len": int(ml),
                                     "masked": int(remask.sum())})

        steps.append(record(seq, tpos, ipos))

    text = [seq[p] for p in tpos]
    fill = np.floor(u(seed, S, FINAL_FILL, np.arange(N)) * K).astype(np.int64)
    image = [int(fill[n]) if seq[p] == MASK else min(max(seq[p] - O, 0), K - 1)
             for n, p in enumerate(ipos)]
    return steps, {"text": text, "image": image}


def note(trace, i, kind, value):
    """Collect what step i did, for the sanity checks."""
    if trace is None:
        return
    while len(trace) <= i:
        trace.append({"text": [], "image": None})
    if kind == "text":
        trace[i]["text"].append(value)
    else:
        trace[i]["image"] = value


def record(seq, tpos, ipos):
    return {"text": [int(seq[p]) for p in tpos], "image": [int(seq[p]) for p in ipos]}


# ---------------------------------------------------------------------------
# -M: interleave_generate
# ---------------------------------------------------------------------------

def build_m(L, instruction_ids, empty_ids, codes):
    BOS, EOS, N = L["BOS"], L["EOS"], L["grid"] ** 2
    text = list(instruction_ids)
    if not text or text[0] != BOS:
        text = [BOS] + text
    text = text + [EOS]
    u_text = list(empty_ids)
    if not u_text or u_text[0] != BOS:
        u_text = [BOS] + u_text
    u_text = u_text + [EOS]
    u_text = u_text + [EOS] * max(0, len(text) - len(u_text))
    inp = [L["INTERLEAVE"], L["SOI"]] + [c + L["O"] for c in codes] + [L["EOI"]] + text
    uinp = [L["INTERLEAVE"], L["SOI"]] + [0] * N + [L["EOI"]] + u_text
    out = [L["SOI"]] + [L["MASK"]] * N + [L["EOI"], BOS] + [L["MASK"]] * L["T"]
    cond = inp + out
    uncond = uinp + out
    return {
        "cond": cond,
        "uncond": uncond,
        "input_len": len(inp),
        "uncond_input_len": len(uinp),
        "image_positions": list(range(len(inp) + 1, len(inp) + 1 + N)),
        "text_positions": list(range(len(cond) - L["T"], len(cond))),
    }


def text_counts_m(M, S):
    return [M // S + (1 if i < M % S else 0) for i in range(S)]


def loop_m(L, built, knobs, seed, trace=None):
    S, T, K, O, MASK, V = L["S"], L["T"], L["K"], L["O"], L["MASK"], L["V"]
    if knobs["text_cfg"] == 0 and knobs["image_cfg"] == 0:
        raise ValueError("text_cfg and image_cfg cannot be both 0")
    n_in = built["input_len"]
    if built["uncond_input_len"] != n_in:
        # The official loop batches cond and uncond, so both must have one length.
        raise ValueError("uncond input length %d != input length %d" % (built["uncond_input_len"], n_in))
    seq = list(built["cond"])
    uprefix = built["uncond"][:n_in]
    tpos, ipos = built["text_positions"], built["image_positions"]
    N = len(ipos)
    vocab = np.arange(V)
    codebook = np.arange(O, O + K)
    counts = text_counts_m(T, S)
    img_steps = image_step_indices(S, knobs["image_steps"])
    tcfg, icfg = knobs["text_cfg"], knobs["image_cfg"]
    sampled = None
    steps = []
    for i in range(S):
        # 1. forward [cond, uncond]; both share the current output part.
        useq = list(uprefix) + seq[n_in:]
        c_text = fake_logits(seq, tpos, vocab)
        n_text = fake_logits(useq, tpos, vocab)
        l = bf16(c_text + bf16_op(bf16(n_text - c_text), "*", tcfg))
        if i in img_steps:
            c_img = fake_logits(seq, ipos, codebook)
            n_img = fake_logits(useq, ipos, codebook)

        # 2. text.
        cur = np.array([seq[p] for p in tpos])
        masked = cur == MASK
        tt = knobs["text_temperature"]
        if tt == 0:
            x0 = argmax(l)
        else:
            idx = np.arange(T)[:, None] * V + vocab[None, :]
            ud = u(seed, i, TEXT_GUMBEL, idx)
            with np.errstate(divide="ignore", over="ignore"):
                score = np.exp(l) / (-np.log(ud)) ** tt
            score = np.where(ud == 0, 0.0, score)
            x0 = argmax(score)
        if knobs["remasking"] == "low_confidence":
            conf = softmax64(l)[np.arange(T), x0]
        else:
            conf = u(seed, i, TEXT_RANDOM, np.arange(T))
        x0 = np.where(masked, x0, cur)
        conf = np.where(masked, conf, -np.inf)
        for t in top_count(conf, counts[i]):
            seq[tpos[t]] = int(x0[t])
            note(trace, i, "text", (int(t), int(x0[t])))

        # 3. image, from the logits of step 1.
        if i in img_steps:
            il = bf16(bf16_op(c_img, "*", 1 + icfg) - bf16_op(n_img, "*", icfg))
            p = bf16_softmax(il)
            curi = np.array([seq[q] for q in ipos])
            unknown = curi == MASK
            draws = u(seed, i, IMAGE_MULTINOMIAL, np.arange(N))
            sampled = np.array([multinomial(p[n], draws[n]) for n in range(N)])
            sampled = np.where(unknown, sampled, curi - O)
            sel = p[np.arange(N), sampled]
            sel = np.where(unknown, sel, BF16_MAX)
            ml = mask_len(N, i, S, int(unknown.sum()))
            tau = knobs["image_temperature"] * (1.0 - (i + 1) / S)
            ub = bf16_uniform(seed, i, IMAGE_NOISE, np.arange(N))
            tiny = bf16(1e-20)
            b = bf16log(np.maximum(ub, tiny))
            d = np.maximum(-b, tiny)
            gn = -bf16log(d)
            conf_i = bf16(bf16log(np.maximum(sel, tiny)) + bf16_op(gn, "*", tau))
            cut = np.sort(conf_i)[ml]
            remask = conf_i < cut
            for n in range(N):
                seq[ipos[n]] = MASK if remask[n] else int(sampled[n]) + O
            note(trace, i, "image", {"unknown": int(unknown.sum()), "mask_len": int(ml),
                                     "masked": int(remask.sum())})

        steps.append(record(seq, tpos, ipos))

    text = [seq[p] for p in tpos]
    return steps, {"text": text, "image": [int(s) for s in sampled]}


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

LAYOUT_A = {"V": 640, "MASK": 600, "NEWLINE": 601, "BOI": 602, "EOI": 603, "BOA": 604, "EOA": 605,
            "O": 400, "K": 192, "grid": 6, "T": 24, "S": 32}
LAYOUT_M = {"V": 640, "MASK": 600, "SOI": 380, "EOI": 381, "INTERLEAVE": 382, "BOS": 1, "EOS": 2,
            "O": 400, "K": 192, "grid": 6, "T": 24, "S": 32}


# Inputs: -A prompt k has 5+2k ids drawn from u(100+k, 0, 8, j) in 1..399; -M
# instruction k has 4+2k ids from u(300+k, 0, 8, j) in 3..379, the first one
# replaced by BOS for k = 1 and 3; input codes are floor(u(200+k, 0, 9, n) * K).

def draw_ids(seed, n, lo, hi):
    """n ids in lo..hi from fixed draws."""
    return [lo + int(u(seed, 0, 8, j) * (hi - lo + 1)) for j in range(n)]


def input_codes(k, L):
    N = L["grid"] ** 2
    return [int(v) for v in np.floor(u(200 + k, 0, 9, np.arange(N)) * L["K"]).astype(np.int64)]


def knobs_a(setting, k, L):
    random = setting == "random"
    return {
        "text_steps": L["S"], "timesteps": 12, "text_gen_length": L["T"],
        "cfg_scale": 2.5, "cfg_img": 4.0,
        "temperature": 1.0 if random else 0.0,
        "text_temperature": 0.7 if random else 0.0,
        "remasking": "random" if k == 4 else "low_confidence",
    }


def knobs_m(setting, k, L):
    random = setting == "random"
    return {
        "text_steps": L["S"], "image_steps": 12, "max_seq_length": L["T"] + 1,
        "text_cfg": 2.5, "image_cfg": 4.0,
        "text_temperature": 0.5 if random else 0.0,
        "image_temperature": 1.0 if random else 0.0,
        "remasking": "random" if k == 4 else "low_confidence",
    }


def case_a(k, setting, trace=None):
    L = LAYOUT_A
    prompt_ids = draw_ids(100 + k, 5 + 2 * k, 1, 399)
    uncond_ids = [1, 10, 11, 12, 13, 14, 3]
    end_ids = [L["EOA"]]
    codes = input_codes(k, L)
    knobs = knobs_a(setting, k, L)
    seed = 7 + k
    built = build_a(L, prompt_ids, uncond_ids, end_ids, codes)
    steps, final = loop_a(L, built, knobs, seed, trace)
    return {
        "preset": "official-a", "prompt": k, "setting": setting, "seed": seed,
        "knobs": knobs, "layout": L,
        "prompt_ids": prompt_ids, "uncond_ids": uncond_ids, "end_ids": end_ids, "codes": codes,
        "cond": built["cond"], "uncond_text": built["uncond_text"], "uncond_image": built["uncond_image"],
        "image_positions": built["image_positions"], "text_positions": built["text_positions"],
        "steps": steps, "final": final,
    }


def case_m(k, setting, trace=None):
    L = LAYOUT_M
    instruction_ids = draw_ids(300 + k, 4 + 2 * k, 3, 379)
    if k in (1, 3):
        instruction_ids[0] = L["BOS"]
    empty_ids = [] if k % 2 == 0 else [L["BOS"]]
    codes = input_codes(k, L)
    knobs = knobs_m(setting, k, L)
    seed = 7 + k
    built = build_m(L, instruction_ids, empty_ids, codes)
    steps, final = loop_m(L, built, knobs, seed, trace)
    return {
        "preset": "official-m", "prompt": k, "setting": setting, "seed": seed,
        "knobs": knobs, "layout": L,
        "instruction_ids": instruction_ids, "empty_ids": empty_ids, "codes": codes,
        "cond": built["cond"], "uncond": built["uncond"],
        "image_positions": built["image_positions"], "text_positions": built["text_positions"],
        "steps": steps, "final": final,
    }


def all_cases(traces=None):
    cases = []
    for make in (case_a, case_m):
        for k in range(5):
            for setting in ("deterministic", "random"):
                trace = [] if traces is not None else None
                cases.append(make(k, setting, trace))
                if traces is not None:
                    traces.append(trace)
    return cases


# ---------------------------------------------------------------------------
# Sanity checks
# ---------------------------------------------------------------------------

def check(out):
    traces = []
    cases = all_cases(traces)
    failures = 0
    ties = scheduled_steps = 0
    for c, trace in zip(cases, traces):
        L, S, T, MASK = c["layout"], c["layout"]["S"], c["layout"]["T"], c["layout"]["MASK"]
        name = "%s/%d/%s" % (c["preset"], c["prompt"], c["setting"])
        counts = text_counts_a(T, S) if c["preset"] == "official-a" else text_counts_m(T, S)
        trace = trace + [{"text": [], "image": None}] * (S - len(trace))
        # Per-step text reveals follow the schedule.
        got = [len(s["text"]) for s in trace]
        if got != counts:
            failures += 1
            out.write("FAIL %s: text reveals per step %s, schedule %s\n" % (name, got, counts))
        # Every text position is revealed, unless the MASK id was chosen.
        chosen_mask = sum(1 for s in trace for _, tok in s["text"] if tok == MASK)
        left = sum(1 for tok in c["final"]["text"] if tok == MASK)
        if left != chosen_mask:
            failures += 1
            out.write("FAIL %s: %d text positions masked at the end, %d MASK ids chosen\n" % (name, left, chosen_mask))
        # Image steps: masked after the step against the schedule.
        more = 0
        for s in trace:
            im = s["image"]
            if im is None:
                continue
            scheduled_steps += 1
            if c["preset"] == "official-a":
                if im["masked"] != im["mask_len"]:
                    failures += 1
                    out.write("FAIL %s: image step masked %d, scheduled %d\n" % (name, im["masked"], im["mask_len"]))
            elif im["masked"] < im["mask_len"]:
                more += 1
            elif im["masked"] > im["mask_len"]:
                failures += 1
                out.write("FAIL %s: image step masked %d > scheduled %d\n" % (name, im["masked"], im["mask_len"]))
        ties += more
        out.write("%-32s text left masked %2d (MASK chosen %d), image steps %d, steps revealing more than scheduled %d\n"
                  % (name, left, chosen_mask, sum(1 for s in trace if s["image"]), more))
    out.write("image steps in all: %d; -M steps with ties at the cut: %d\n" % (scheduled_steps, ties))
    # The first three steps of one case, for the eye.
    c, trace = cases[1], traces[1]
    first_image = min(i for i, s in enumerate(trace) if s["image"])
    out.write("\n%s/%d/%s, first three steps and the first image step:\n" % (c["preset"], c["prompt"], c["setting"]))
    for i in (0, 1, 2, first_image):
        prev_img = c["steps"][i - 1]["image"] if i else [c["layout"]["MASK"]] * len(c["image_positions"])
        img = c["steps"][i]["image"]
        shown = [(n, v) for n, v in enumerate(img) if v != prev_img[n]]
        out.write("step %d text revealed (t, id): %s\n" % (i, trace[i]["text"]))
        out.write("step %d image revealed (n, id): %s %s\n" % (i, shown, trace[i]["image"] or ""))
    out.write("%s\n" % ("OK" if failures == 0 else "%d FAILURES" % failures))
    return failures


def write_dump(cases, out):
    out.write('{"cases": [\n')
    for j, c in enumerate(cases):
        out.write(json.dumps(c, separators=(",", ":")))
        out.write(",\n" if j + 1 < len(cases) else "\n")
    out.write("]}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="write the dump to this file instead of stdout")
    ap.add_argument("--check", action="store_true", help="run the sanity checks instead")
    args = ap.parse_args()
    if args.check:
        sys.exit(1 if check(sys.stdout) else 0)
    cases = all_cases()
    if args.out:
        with open(args.out, "w") as f:
            write_dump(cases, f)
    else:
        write_dump(cases, sys.stdout)


if __name__ == "__main__":
    main()
