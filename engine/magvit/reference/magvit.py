"""Show-o's MAGVIT-v2 (the image tokenizer of MMaDA-Parallel-M, Hugging
Face showlab/magvitv2) in plain PyTorch, with module names that give the
official MAGVITv2 module's state-dict names, to check engine/magvit against.

    /usr/bin/python3 engine/magvit/reference/magvit.py

builds the model at reduced channel widths (and fewer groups per norm) with
random weights rounded to bfloat16, writes the folder testdata/tiny
(config.json, pytorch_model.safetensors in bf16 with the LFQ buffers), a few
pictures, and testdata/reference.safetensors: the latents and codes of each
picture, the decoder's output for its codes, and for a partly masked grid.
Only torch 1.13 and the standard library are needed; speed.py imports the
model from here.
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.join(HERE, "..", "testdata")
sys.path.insert(0, os.path.join(HERE, "..", "..", "vqgan", "reference"))
from vqgan import picture, write_png  # noqa: E402  the same fixed pictures

EPS = 1e-6  # the taming-style Normalize: GroupNorm(32, c, eps=1e-6)

# The official module takes no arguments: these are VQGANEncoder's and
# VQGANDecoder's defaults, and LFQuantizer's codebook_dim 13 (8192 codes).
OFFICIAL = {
    "encoder": {"ch": 128, "ch_mult": [1, 2, 2, 4, 4], "num_res_blocks": [4, 3, 4, 3, 4], "z_channels": 13},
    "decoder": {"ch": 128, "ch_mult": [1, 1, 2, 2, 4], "num_res_blocks": [4, 4, 3, 4, 3], "z_channels": 13},
    "norm_num_groups": 32,
}


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=EPS)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, cout, eps=EPS)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        if hasattr(self, "nin_shortcut"):
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    """One head over all pixels, 1×1 convolutions, residual."""

    def __init__(self, c, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, c, eps=EPS)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(c, c, 1) for _ in range(4))

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.norm(x)
        q = self.q(t).reshape(b, c, h * w).permute(0, 2, 1)
        k = self.k(t).reshape(b, c, h * w)
        p = torch.softmax(torch.bmm(q, k) * c ** -0.5, dim=2)
        out = torch.bmm(self.v(t).reshape(b, c, h * w), p.permute(0, 2, 1)).reshape(b, c, h, w)
        return x + self.proj_out(out)


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Mid(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.block_1 = ResnetBlock(c, c, groups)
        self.attn_1 = AttnBlock(c, groups)
        self.block_2 = ResnetBlock(c, c, groups)

    def forward(self, x):
        return self.block_2(self.attn_1(self.block_1(x)))


class Encoder(nn.Module):
    def __init__(self, cfg, groups):
        super().__init__()
        ch, mult, blocks, z = cfg["ch"], cfg["ch_mult"], cfg["num_res_blocks"], cfg["z_channels"]
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1)
        self.down = nn.ModuleList()
        cin = ch
        for i, m in enumerate(mult):
            level = nn.Module()
            level.block = nn.ModuleList()
            for _ in range(blocks[i]):
                level.block.append(ResnetBlock(cin, ch * m, groups))
                cin = ch * m
            if i < len(mult) - 1:
                level.downsample = Downsample(cin)
            self.down.append(level)
        self.mid = Mid(cin, groups)
        self.norm_out = nn.GroupNorm(groups, cin, eps=EPS)
        self.conv_out = nn.Conv2d(cin, z, 3, padding=1)
        self.quant_conv = nn.Conv2d(z, z, 1)

    def forward(self, x):
        x = self.conv_in(x)
        for level in self.down:
            for b in level.block:
                x = b(x)
            if hasattr(level, "downsample"):
                x = level.downsample(x)
        x = self.mid(x)
        return self.quant_conv(self.conv_out(F.silu(self.norm_out(x))))


class Decoder(nn.Module):
    def __init__(self, cfg, groups):
        super().__init__()
        ch, mult, blocks, z = cfg["ch"], cfg["ch_mult"], cfg["num_res_blocks"], cfg["z_channels"]
        cin = ch * mult[-1]
        self.post_quant_conv = nn.Conv2d(z, z, 1)
        self.conv_in = nn.Conv2d(z, cin, 3, padding=1)
        self.mid = Mid(cin, groups)
        up = []
        for i in reversed(range(len(mult))):
            level = nn.Module()
            level.block = nn.ModuleList()
            for _ in range(blocks[i]):
                level.block.append(ResnetBlock(cin, ch * mult[i], groups))
                cin = ch * mult[i]
            if i > 0:
                level.upsample = Upsample(cin)
            up.insert(0, level)
        self.up = nn.ModuleList(up)  # up[i] works at level i, finest first
        self.norm_out = nn.GroupNorm(groups, cin, eps=EPS)
        self.conv_out = nn.Conv2d(cin, 3, 3, padding=1)

    def forward(self, z):
        x = self.mid(self.conv_in(self.post_quant_conv(z)))
        for level in reversed(self.up):
            for b in level.block:
                x = b(x)
            if hasattr(level, "upsample"):
                x = level.upsample(x)
        return self.conv_out(F.silu(self.norm_out(x)))


class LFQuantizer(nn.Module):
    def __init__(self, dim):
        super().__init__()
        idx = torch.arange(2 ** dim)
        bits = (idx.unsqueeze(1) >> torch.arange(dim - 1, -1, -1)) & 1
        self.register_buffer("embedding", bits.float() * 2 - 1)
        self.register_buffer("power_vals", 2 ** torch.arange(dim - 1, -1, -1))

    def indices(self, z):
        """get_indices of the quantised latents: bit i is z_i > 0, the
        first channel the most significant."""
        return (self.power_vals.reshape(1, -1, 1, 1) * (z > 0).float()).sum(1).long().flatten()

    def codes(self, idx, h, w):
        """get_codebook_entry: ±1 per bit, as a 1×dim×h×w tensor."""
        return self.embedding[idx].view(1, h, w, -1).permute(0, 3, 1, 2)


class MAGVITv2(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        g = cfg["norm_num_groups"]
        self.encoder = Encoder(cfg["encoder"], g)
        self.decoder = Decoder(cfg["decoder"], g)
        self.quantize = LFQuantizer(cfg["encoder"]["z_channels"])


def folder_config(cfg):
    """config.json as the official module saves it (ConfigMixin with no
    arguments), plus, for a reduced model, the shape Parascope reads."""
    out = {"_class_name": "MAGVITv2", "_diffusers_version": "0.30.0"}
    if cfg != OFFICIAL:
        out.update(cfg)
    return out


def randomize(model, seed):
    """Random weights that keep activations in range: PyTorch's default
    initialisation, norms' gains and shifts near 1 and 0, all rounded to
    bfloat16 so the bf16 file holds exactly what the reference computes with."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".norm" in name:
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=g))
            else:
                bound = 1 / math.sqrt(p[0].numel()) if p.dim() > 1 else 0.05
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * bound * math.sqrt(3))
            p.copy_(p.to(torch.bfloat16).float())


def write_safetensors(path, tensors, dtype="F32"):
    """A safetensors file: floating tensors as F32 or BF16, int64 ones as
    I64 (as PyTorch saves the LFQ buffer power_vals); codes in dumps are
    float32, which holds them exactly."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.int64 and not name.endswith(".codes"):
            dt, raw = "I64", t.numpy().tobytes()
        elif dtype == "BF16":
            dt, raw = "BF16", t.float().to(torch.bfloat16).view(torch.int16).numpy().tobytes()
        else:
            dt, raw = "F32", t.float().numpy().tobytes()
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def values(pix):
    """The official pre-processing of a size×size picture: ToTensor, then
    Normalize(0.5, 0.5), giving [-1, 1]."""
    x = pix.permute(2, 0, 1).float().unsqueeze(0) / 255
    return (x - 0.5) / 0.5


TINY = {
    "encoder": {"ch": 8, "ch_mult": [1, 2, 2, 4, 4], "num_res_blocks": [4, 3, 4, 3, 4], "z_channels": 13},
    "decoder": {"ch": 8, "ch_mult": [1, 1, 2, 2, 4], "num_res_blocks": [4, 4, 3, 4, 3], "z_channels": 13},
    "norm_num_groups": 4,
}


def main():
    torch.manual_seed(0)
    model = MAGVITv2(TINY).eval()
    randomize(model, 1)
    tiny = os.path.join(TESTDATA, "tiny")
    os.makedirs(tiny, exist_ok=True)
    with open(os.path.join(tiny, "config.json"), "w") as f:
        json.dump(folder_config(TINY), f, indent=2, sort_keys=True)
        f.write("\n")
    write_safetensors(os.path.join(tiny, "pytorch_model.safetensors"), model.state_dict(), "BF16")
    q = model.quantize
    dumps = {}
    with torch.no_grad():
        for name, size in [("pic0", 64), ("pic1", 96), ("pic512", 512)]:
            pix = picture(size, {"pic0": 3, "pic1": 4, "pic512": 5}[name])
            write_png(os.path.join(TESTDATA, name + ".png"), pix)
            lat = model.encoder(values(pix))
            codes = q.indices(lat)
            g = size // 16
            dec = model.decoder(q.codes(codes, g, g))[0].permute(1, 2, 0)  # H×W×3
            dumps[name + ".latents"] = lat[0].permute(1, 2, 0)
            dumps[name + ".codes"] = codes
            if size == 512:
                dec = dec[::8]  # every 8th row keeps the dump small
            dumps[name + ".decoded"] = dec
        # Random codes, and the same grid with every third cell masked: a
        # masked cell is the zero vector, as DecodePartial feeds it.
        codes = torch.randint(0, 2 ** 13, (36,), generator=torch.Generator().manual_seed(6))
        dumps["random.codes"] = codes
        z = q.codes(codes, 6, 6)
        dumps["random.decoded"] = model.decoder(z)[0].permute(1, 2, 0)
        z = z.clone().contiguous()
        z.view(13, 36)[:, ::3] = 0
        dumps["partial.decoded"] = model.decoder(z)[0].permute(1, 2, 0)
    write_safetensors(os.path.join(TESTDATA, "reference.safetensors"), dumps)
    for k, v in dumps.items():
        print(f"{k:18} {list(v.shape)}")


if __name__ == "__main__":
    main()
