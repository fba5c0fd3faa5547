"""The aMUSEd VQ-GAN (diffusers' VQModel as aMUSEd configures it) in plain
PyTorch, with module names that give diffusers' state-dict names, to check
engine/vqgan against.

    /usr/bin/python3 engine/vqgan/reference/vqgan.py

builds the model at reduced channel widths with random weights (rounded to
bfloat16), writes the folder testdata/tiny (config.json as diffusers writes
it, diffusion_pytorch_model.safetensors in bf16), a few pictures, and
testdata/reference.safetensors: the latents and codes of each picture, and
the decoder's output for its codes. Only torch 1.13 and the standard
library are needed. speed.py imports the model from here.
"""
import json
import math
import os
import struct
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.join(HERE, "..", "testdata")
EPS = 1e-6  # diffusers' resnet_eps for VQ-GAN blocks and output norms


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=EPS)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, cout, eps=EPS)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return x + h


class Attention(nn.Module):
    """diffusers' Attention as UNetMidBlock2D makes it: one head of the
    full width, group norm first, residual connection, factor 1."""

    def __init__(self, c, groups):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, c, eps=EPS)
        self.to_q = nn.Linear(c, c)
        self.to_k = nn.Linear(c, c)
        self.to_v = nn.Linear(c, c)
        self.to_out = nn.ModuleList([nn.Linear(c, c)])

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.group_norm(x).view(b, c, h * w).transpose(1, 2)
        q, k, v = self.to_q(t), self.to_k(t), self.to_v(t)
        p = torch.softmax(q @ k.transpose(1, 2) * c ** -0.5, dim=-1)
        out = self.to_out[0](p @ v).transpose(1, 2).reshape(b, c, h, w)
        return out + x


class MidBlock(nn.Module):
    def __init__(self, c, groups, attention):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(c, c, groups), ResnetBlock2D(c, c, groups)])
        self.attentions = nn.ModuleList([Attention(c, groups)]) if attention else None

    def forward(self, x):
        x = self.resnets[0](x)
        if self.attentions is not None:
            x = self.attentions[0](x)
        return self.resnets[1](x)


class Resample(nn.Module):
    """Downsample2D (padding 0: pad right and bottom by one, stride 2) or
    Upsample2D (nearest 2×, then a 3×3 convolution)."""

    def __init__(self, c, down):
        super().__init__()
        self.down = down
        self.conv = nn.Conv2d(c, c, 3, stride=2 if down else 1, padding=0 if down else 1)

    def forward(self, x):
        if self.down:
            return self.conv(F.pad(x, (0, 1, 0, 1)))
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Block(nn.Module):
    """DownEncoderBlock2D or UpDecoderBlock2D."""

    def __init__(self, cin, cout, layers, groups, resample):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if i == 0 else cout, cout, groups) for i in range(layers)])
        if resample == "down":
            self.downsamplers = nn.ModuleList([Resample(cout, True)])
        if resample == "up":
            self.upsamplers = nn.ModuleList([Resample(cout, False)])

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        for s in getattr(self, "downsamplers", []) or getattr(self, "upsamplers", []):
            x = s(x)
        return x


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        b, g, n = cfg["block_out_channels"], cfg["norm_num_groups"], len(cfg["block_out_channels"])
        self.conv_in = nn.Conv2d(cfg["in_channels"], b[0], 3, padding=1)
        self.down_blocks = nn.ModuleList([
            Block(b[max(i - 1, 0)], b[i], cfg["layers_per_block"], g, "down" if i < n - 1 else None) for i in range(n)])
        self.mid_block = MidBlock(b[-1], g, cfg["mid_block_add_attention"])
        self.conv_norm_out = nn.GroupNorm(g, b[-1], eps=EPS)
        self.conv_out = nn.Conv2d(b[-1], cfg["latent_channels"], 3, padding=1)

    def forward(self, x):
        x = self.conv_in(x)
        for blk in self.down_blocks:
            x = blk(x)
        x = self.mid_block(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        b, g, n = cfg["block_out_channels"], cfg["norm_num_groups"], len(cfg["block_out_channels"])
        r = list(reversed(b))
        self.conv_in = nn.Conv2d(cfg["latent_channels"], b[-1], 3, padding=1)
        self.mid_block = MidBlock(b[-1], g, cfg["mid_block_add_attention"])
        self.up_blocks = nn.ModuleList([
            Block(r[max(i - 1, 0)], r[i], cfg["layers_per_block"] + 1, g, "up" if i < n - 1 else None) for i in range(n)])
        self.conv_norm_out = nn.GroupNorm(g, b[0], eps=EPS)
        self.conv_out = nn.Conv2d(b[0], cfg["out_channels"], 3, padding=1)

    def forward(self, x):
        x = self.mid_block(self.conv_in(x))
        for blk in self.up_blocks:
            x = blk(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class VectorQuantizer(nn.Module):
    def __init__(self, n, dim):
        super().__init__()
        self.embedding = nn.Embedding(n, dim)

    def forward(self, z):
        """The legacy VectorQuantizer's indices: argmin of torch.cdist."""
        flat = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])
        return torch.argmin(torch.cdist(flat, self.embedding.weight), dim=1)


class VQModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        dim = cfg["vq_embed_dim"] or cfg["latent_channels"]
        self.encoder = Encoder(cfg)
        self.quant_conv = nn.Conv2d(cfg["latent_channels"], dim, 1)
        self.quantize = VectorQuantizer(cfg["num_vq_embeddings"], dim)
        self.post_quant_conv = nn.Conv2d(dim, cfg["latent_channels"], 1)
        self.decoder = Decoder(cfg)

    def latents(self, x):
        return self.quant_conv(self.encoder(x))

    def decode_codes(self, codes, h, w):
        """lookup_from_codebook: the codes' vectors, then the decoder."""
        q = self.quantize.embedding(codes).view(1, h, w, -1).permute(0, 3, 1, 2)
        return self.decoder(self.post_quant_conv(q))


def config(block_out, layers, latent, codes, groups, attention):
    """config.json as diffusers saves a VQModel."""
    n = len(block_out)
    return {
        "_class_name": "VQModel",
        "_diffusers_version": "0.30.0",
        "act_fn": "silu",
        "block_out_channels": block_out,
        "down_block_types": ["DownEncoderBlock2D"] * n,
        "force_upcast": False,
        "in_channels": 3,
        "latent_channels": latent,
        "layers_per_block": layers,
        "lookup_from_codebook": True,
        "mid_block_add_attention": attention,
        "norm_num_groups": groups,
        "norm_type": "group",
        "num_vq_embeddings": codes,
        "out_channels": 3,
        "sample_size": 32,
        "scaling_factor": 0.18215,
        "up_block_types": ["UpDecoderBlock2D"] * n,
        "vq_embed_dim": None,
    }


# aMUSEd's vqvae (diffusers scripts/convert_amused.py).
AMUSED = config([128, 256, 256, 512, 768], 2, 64, 8192, 32, False)


def randomize(model, seed):
    """Random weights that keep activations in range: PyTorch's default
    initialisation, norms' gains and shifts near 1 and 0, all rounded to
    bfloat16 so the bf16 file holds exactly what the reference computes with."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".norm" in name or "group_norm" in name or "conv_norm_out" in name:
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=g))
            elif name == "quantize.embedding.weight":
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                bound = 1 / math.sqrt(p[0].numel()) if p.dim() > 1 else 0.05
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * bound * math.sqrt(3))
            p.copy_(p.to(torch.bfloat16).float())


def write_safetensors(path, tensors, dtype="F32"):
    """A safetensors file: tensors (name → tensor) as F32 or BF16; integer
    tensors (codes) as F32, which holds them exactly."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if dtype == "BF16" and t.is_floating_point():
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


def write_folder(path, cfg, model, dtype):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    write_safetensors(os.path.join(path, "diffusion_pytorch_model.safetensors"), model.state_dict(), dtype)


def write_png(path, pixels):
    """An 8-bit RGB PNG from an H×W×3 uint8 tensor."""
    h, w, _ = pixels.shape
    raw = b"".join(b"\x00" + bytes(pixels[y].flatten().tolist()) for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def picture(size, seed):
    """A fixed picture: smooth gradients, a disc and a square, as uint8."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size).float() / size, torch.arange(size).float() / size, indexing="ij")
    a, b, c = (torch.rand(3, generator=g) * 6).tolist()
    img = torch.stack([0.5 + 0.4 * torch.sin(a * xx + b * yy), 0.5 + 0.4 * torch.cos(b * xx - c * yy), 0.3 + 0.5 * xx * yy], -1)
    cx, cy, r = (torch.rand(3, generator=g) * 0.5 + 0.25).tolist()
    disc = ((xx - cx) ** 2 + (yy - cy) ** 2) < (r * 0.4) ** 2
    img[disc] = torch.tensor(torch.rand(3, generator=g).tolist())
    sq = ((xx - cy).abs() < 0.15) & ((yy - cx).abs() < 0.1)
    img[sq] = torch.tensor(torch.rand(3, generator=g).tolist())
    return (img.clamp(0, 1) * 255).round().to(torch.uint8)


def main():
    torch.manual_seed(0)
    cfg = config([16, 32, 32, 48, 64], 2, 16, 512, 8, True)
    model = VQModel(cfg).eval()
    randomize(model, 1)
    write_folder(os.path.join(TESTDATA, "tiny"), cfg, model, "BF16")
    dumps = {}
    with torch.no_grad():
        for name, size in [("pic0", 64), ("pic1", 96), ("pic512", 512)]:
            pix = picture(size, {"pic0": 3, "pic1": 4, "pic512": 5}[name])
            write_png(os.path.join(TESTDATA, name + ".png"), pix)
            x = pix.permute(2, 0, 1).float().unsqueeze(0) / 255
            lat = model.latents(x)
            codes = model.quantize(lat)
            g = size // 16
            dec = model.decode_codes(codes, g, g)[0].permute(1, 2, 0)  # H×W×3
            dumps[name + ".latents"] = lat[0].permute(1, 2, 0)
            dumps[name + ".codes"] = codes
            if size == 512:
                dec = dec[::8]  # every 8th row keeps the dump small
            dumps[name + ".decoded"] = dec
        # A grid of random codes, with the codes the pictures never use.
        codes = torch.randint(0, cfg["num_vq_embeddings"], (36,), generator=torch.Generator().manual_seed(6))
        dumps["random.codes"] = codes
        dumps["random.decoded"] = model.decode_codes(codes, 6, 6)[0].permute(1, 2, 0)
    write_safetensors(os.path.join(TESTDATA, "reference.safetensors"), dumps)
    for k, v in dumps.items():
        print(f"{k:18} {list(v.shape)}")


if __name__ == "__main__":
    main()
