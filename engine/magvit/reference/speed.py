#!/usr/bin/python3
"""Decoding one 512×512 picture (32×32 codes) with MAGVIT-v2 at the official
widths and random weights: PyTorch (2 threads) and Parascope's
BenchmarkDecode512, taken in turns so that both see the same load, each
after one untimed decode, then the medians and the ratio PyTorch time /
Parascope time (above 1: Parascope is faster), both as the ratio of the
medians and as the median of each round's ratio.

    /usr/bin/python3 engine/magvit/reference/speed.py [--rounds N]

Run from the repository root. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
dropped from the environment (the script re-executes itself without them)
so OpenBLAS picks its own kernels; the Go side runs with GOMAXPROCS=2.
"""
import os
import sys

_DROP = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(k in os.environ for k in _DROP) and "torch" not in sys.modules:
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import argparse  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from magvit import OFFICIAL, MAGVITv2  # noqa: E402


def go_decode(binary):
    """One run of BenchmarkDecode512 (one decode): seconds per picture."""
    out = subprocess.run([binary, "-test.run", "^$", "-test.bench", "^BenchmarkDecode512$", "-test.benchtime", "1x"],
                         capture_output=True, text=True, check=True, env=dict(os.environ, GOMAXPROCS="2")).stdout
    m = re.search(r"([\d.]+) s/picture", out)
    if not m:
        sys.exit("no s/picture in the benchmark's output:\n" + out)
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(2)
    model = MAGVITv2(OFFICIAL).eval()
    q = model.quantize
    codes = torch.randint(0, 2 ** 13, (32 * 32,), generator=torch.Generator().manual_seed(3))
    z = q.codes(codes, 32, 32)
    with tempfile.TemporaryDirectory() as tmp:
        binary = os.path.join(tmp, "magvit.test")
        subprocess.run(["go", "test", "-c", "-o", binary, "./engine/magvit"], check=True)
        py, go = [], []
        with torch.no_grad():
            model.decoder(z)  # warm up, as the Go benchmark does before timing
            for r in range(args.rounds):
                t = time.perf_counter()
                model.decoder(z)
                py.append(time.perf_counter() - t)
                go.append(go_decode(binary))
                print(f"round {r + 1}: PyTorch {py[-1]:.2f} s, Parascope {go[-1]:.2f} s, ratio {py[-1] / go[-1]:.2f}×",
                      flush=True)
    p, g = statistics.median(py), statistics.median(go)
    # The load can change between rounds; a round's two runs are neighbours.
    r = statistics.median(a / b for a, b in zip(py, go))
    print(f"decode 512×512, official widths (medians of {args.rounds}): PyTorch {p:.2f} s, Parascope {g:.2f} s, "
          f"ratio of medians {p / g:.2f}×, median of the rounds' ratios {r:.2f}×")


if __name__ == "__main__":
    main()
