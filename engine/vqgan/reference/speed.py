"""Decode one 512×512 picture (a 32×32 grid of codes) with aMUSEd's VQ-GAN
at its real channel widths and random weights, in PyTorch (2 threads) and
in Go (BenchmarkDecode512), back to back, and print both and the ratio.

    sh engine/vqgan/reference/speed.sh [RUNS]

Not part of CI: it writes a 300 MB folder to a temporary directory and
takes minutes. Each side reports the median of RUNS decodes (default 3).
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vqgan  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = vqgan.VQModel(vqgan.AMUSED).eval()
    codes = torch.randint(0, 8192, (1024,))
    with tempfile.TemporaryDirectory() as tmp:
        vqgan.write_folder(tmp, vqgan.AMUSED, model, "BF16")
        with torch.no_grad():
            model.decode_codes(codes, 32, 32)  # warm-up
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                model.decode_codes(codes, 32, 32)
                times.append(time.perf_counter() - t0)
        torch_s = statistics.median(times)
        out = subprocess.run(
            ["go", "test", "-run", "^$", "-bench", "^BenchmarkDecode512$", "-benchtime", f"{runs}x", "-count", "1", "./engine/vqgan"],
            cwd=ROOT, env={**os.environ, "PARASCOPE_VQGAN_DIR": tmp}, capture_output=True, text=True)
        m = re.search(r"BenchmarkDecode512\S*\s+\d+\s+([\d.]+) ns/op", out.stdout)
        if not m:
            sys.exit("go benchmark failed:\n" + out.stdout + out.stderr)
        go_s = float(m.group(1)) / 1e9
    print(f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads): {torch_s:.2f} s a decode (median of {runs}: {', '.join(f'{t:.2f}' for t in times)})")
    print(f"Go (GOMAXPROCS {os.environ.get('GOMAXPROCS', 'default')}):              {go_s:.2f} s a decode (mean of {runs})")
    print(f"ratio (PyTorch time / Go time): {torch_s / go_s:.2f}")


if __name__ == "__main__":
    main()
