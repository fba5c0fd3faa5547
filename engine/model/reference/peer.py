#!/usr/bin/python3
# Usage (from the repository root):
#     /usr/bin/python3 engine/model/reference/peer.py [--no-go] [--go-output FILE] [--self-test]
#
# Speed peer for Parascope's CPU engine: times PyTorch (2 threads) on the
# shapes the Go benchmarks use, runs those Go benchmarks, and prints both
# figures and the ratio Parascope/PyTorch in one table.
#
#   sgemm n        fp32 square C = A*B at n = 256, 512, 1024, in GFLOP/s (2n^3/time)
#   forward        the default model (L=6, d=256, H=8, F=768, V=1536, B=8, T=200),
#                  logits at positions t >= 100 of every sequence, tokens/s = B*T/time
#   fwd+bwd        the same forward with grad, weighted cross-entropy, backward
#   SFT step       a whole optimiser step at the training shape (see TRAIN below)
#
# Go side:
#   go test -run '^$' -bench 'Sgemm/(256|512|1024)$' -benchtime 2s ./engine/gemm
#   go test -run '^$' -bench 'Forward$|ForwardBackward$|TrainStep$' -benchtime 3x ./engine/model
# A Go figure that is missing (package absent, benchmark failed) prints as n/a.
#
#   --no-go          time PyTorch only
#   --go-output FILE parse saved `go test -bench` output instead of running Go
#   --self-test      check the benchmark-output parser on a sample and exit
#
# Needs Debian's python3-torch; with OpenBLAS as the system BLAS
# (libopenblas0-openmp) torch.set_num_threads also sets BLAS's threads.
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are dropped from the environment (the
# script re-executes itself without them) so OpenBLAS picks its own kernels.

import os
import sys

_DROP = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(k in os.environ for k in _DROP) and "torch" not in sys.modules:
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import argparse
import re
import statistics
import subprocess
import time

THREADS = 2
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

SGEMM_SIZES = (256, 512, 1024)
MODEL = {
    "layers": 6,
    "d_model": 256,
    "heads": 8,
    "mlp": 768,
    "vocab": 1536,
    "rope_theta": 10000,
    "norm_eps": 1e-5,
    "max_len": 200,
}
B, T, SEL_FROM = 8, 200, 100

GO_RUNS = [
    ["go", "test", "-run", "^$", "-bench", "Sgemm/(256|512|1024)$", "-benchtime", "2s", "./engine/gemm"],
    ["go", "test", "-run", "^$", "-bench", "Forward$|ForwardBackward$|TrainStep$", "-benchtime", "3x", "./engine/model"],
]

# (row label, PyTorch key, Go benchmark name without the -GOMAXPROCS suffix, Go metric unit)
ROWS = [("sgemm %d (GFLOP/s)" % n, "sgemm%d" % n, "BenchmarkSgemm/%d" % n, "GFLOP/s") for n in SGEMM_SIZES] + [
    ("forward (tokens/s)", "forward", "BenchmarkForward", "tokens/s"),
    ("forward+backward (tokens/s)", "fwdbwd", "BenchmarkForwardBackward", "tokens/s"),
    ("SFT step (tokens/s)", "train", "BenchmarkTrainStep", "tokens/s"),
]

# The SFT step: the default SFT model (4 layers), 32 thinkedit sequences of
# 140 tokens, every other output position ([62, 98) and [100, 140)) masked,
# weighted cross-entropy, backward, gradient clipping at 1, AdamW.
TRAIN = dict(MODEL, layers=4, vocab=388, max_len=140)
TRAIN_B, TRAIN_T = 32, 140


# ---------------------------------------------------------------- Go output

_BENCH_LINE = re.compile(r"^(Benchmark\S+)\s+(\d+)\s+(.*)$")
_PROCS_SUFFIX = re.compile(r"-\d+$")


def parse_bench(text):
    """Parse `go test -bench` output into {name: {unit: value}}. The name
    loses its -GOMAXPROCS suffix; every `value unit` pair after the
    iteration count is kept (ns/op, B/op, custom ReportMetric units)."""
    out = {}
    for line in text.splitlines():
        m = _BENCH_LINE.match(line.strip())
        if not m:
            continue
        name = _PROCS_SUFFIX.sub("", m.group(1))
        fields = m.group(3).split()
        metrics = {}
        for i in range(0, len(fields) - 1, 2):
            try:
                metrics[fields[i + 1]] = float(fields[i])
            except ValueError:
                break
        if metrics:
            out[name] = metrics
    return out


SAMPLE = """goos: linux
goarch: amd64
pkg: parascope/engine/gemm
cpu: AMD EPYC
BenchmarkSgemm/256-2   	    1234	   1800000 ns/op	    18.64 GFLOP/s
BenchmarkSgemm/512-2   	     100	  2235000 ns/op	   123.4 GFLOP/s
BenchmarkSgemm/1024       	      10	 20000000 ns/op	   107.4 GFLOP/s	       0 B/op	       0 allocs/op
PASS
ok  	parascope/engine/gemm	12.345s
pkg: parascope/engine/model
BenchmarkForward-2          	       3	 412345678 ns/op	      3880 tokens/s
BenchmarkForwardBackward-16 	       3	1234567890 ns/op	      1296 tokens/s
--- FAIL: BenchmarkBroken-2
BenchmarkSgemm/2048-2 FAIL
"""


def self_test():
    got = parse_bench(SAMPLE)
    want = {
        "BenchmarkSgemm/256": {"ns/op": 1800000.0, "GFLOP/s": 18.64},
        "BenchmarkSgemm/512": {"ns/op": 2235000.0, "GFLOP/s": 123.4},
        "BenchmarkSgemm/1024": {"ns/op": 20000000.0, "GFLOP/s": 107.4, "B/op": 0.0, "allocs/op": 0.0},
        "BenchmarkForward": {"ns/op": 412345678.0, "tokens/s": 3880.0},
        "BenchmarkForwardBackward": {"ns/op": 1234567890.0, "tokens/s": 1296.0},
    }
    assert got == want, got
    table = format_table({"sgemm512": 190.3, "forward": 2000.0}, got)
    assert "sgemm 512 (GFLOP/s)" in table and "0.65" in table, table
    print(table)
    print("parser self-test ok")


def run_go():
    """Run the Go benchmarks; returns ({name: {unit: value}}, [notes])."""
    results, notes = {}, []
    for cmd in GO_RUNS:
        try:
            p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, timeout=1800)
            text = p.stdout
            if p.returncode != 0:
                tail = " | ".join(l for l in text.strip().splitlines()[-3:])
                notes.append("%s: exit %d: %s" % (cmd[-1], p.returncode, tail))
        except (OSError, subprocess.TimeoutExpired) as e:
            notes.append("%s: %s" % (cmd[-1], e))
            text = getattr(e, "output", None) or ""
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
        results.update(parse_bench(text))
    return results, notes


# ---------------------------------------------------------------- table

def _fmt(x):
    if x is None:
        return "n/a"
    if x >= 100:
        return "%.1f" % x
    return "%.2f" % x


def format_table(torch_figs, go_figs):
    lines = ["%-28s %12s %12s %8s" % ("shape", "PyTorch", "Parascope", "ratio")]
    for label, tkey, gname, unit in ROWS:
        t = torch_figs.get(tkey)
        g = go_figs.get(gname, {}).get(unit)
        r = "%.2f" % (g / t) if (t and g is not None) else "n/a"
        lines.append("%-28s %12s %12s %8s" % (label, _fmt(t), _fmt(g), r))
    return "\n".join(lines)


# ---------------------------------------------------------------- PyTorch

def timed(fn, min_time=0.2, runs=7, warmup=2):
    """Median seconds per call: warm up, then `runs` timed runs of at least
    min_time each (several calls per run where one call is shorter)."""
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-9)
    reps = max(1, int(min_time / one) + 1)
    per = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        per.append((time.perf_counter() - t0) / reps)
    return statistics.median(per)


def bench_torch():
    import torch

    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.path.insert(0, HERE)
    import reference as ref

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    figs = {}

    for n in SGEMM_SIZES:
        a = torch.randn(n, n, dtype=torch.float32)
        b = torch.randn(n, n, dtype=torch.float32)
        c = torch.empty(n, n, dtype=torch.float32)
        s = timed(lambda: torch.mm(a, b, out=c))
        figs["sgemm%d" % n] = 2.0 * n ** 3 / s / 1e9
        print("torch sgemm %4d: %8.1f GFLOP/s (%.3f ms)" % (n, figs["sgemm%d" % n], s * 1e3), flush=True)

    cfg = MODEL
    params = ref.init_params(cfg)
    V = cfg["vocab"]
    ids = torch.randint(0, V, (B, T), dtype=torch.int64)
    sel = torch.tensor([b * T + t for b in range(B) for t in range(SEL_FROM, T)], dtype=torch.int64)
    targets = torch.randint(0, V, (sel.numel(),), dtype=torch.int64)
    weights = torch.full((sel.numel(),), 1.0 / sel.numel(), dtype=torch.float32)

    def forward():
        with torch.no_grad():
            ref.logits_at(params, ids, sel, cfg)

    s = timed(forward, warmup=1)
    figs["forward"] = B * T / s
    print("torch forward:          %8.0f tokens/s (%.1f ms)" % (figs["forward"], s * 1e3), flush=True)

    live = {k: v.clone().requires_grad_(True) for k, v in params.items()}

    def fwdbwd():
        for p in live.values():
            p.grad = None
        loss = ref.weighted_loss(ref.logits_at(live, ids, sel, cfg), targets, weights)
        loss.backward()

    s = timed(fwdbwd, warmup=1)
    figs["fwdbwd"] = B * T / s
    print("torch forward+backward: %8.0f tokens/s (%.1f ms)" % (figs["fwdbwd"], s * 1e3), flush=True)

    tcfg = TRAIN
    tparams = {k: v.clone().requires_grad_(True) for k, v in ref.init_params(tcfg).items()}
    tV = tcfg["vocab"]
    tids = torch.randint(0, tV, (TRAIN_B, TRAIN_T), dtype=torch.int64)
    tsel = torch.tensor([b * TRAIN_T + t for b in range(TRAIN_B) for t in range(TRAIN_T)
                         if ((62 <= t < 98) or t >= 100) and t % 2 == 0], dtype=torch.int64)
    ttargets = torch.randint(0, tV, (tsel.numel(),), dtype=torch.int64)
    tweights = torch.full((tsel.numel(),), 1.0 / tsel.numel(), dtype=torch.float32)
    decay = [p for k, p in tparams.items() if p.dim() == 2]
    no_decay = [p for k, p in tparams.items() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = ref.weighted_loss(ref.logits_at(tparams, tids, tsel, tcfg), ttargets, tweights)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(tparams.values(), 1.0)
        opt.step()

    s = timed(train_step, warmup=1)
    figs["train"] = TRAIN_B * TRAIN_T / s
    print("torch SFT step:         %8.0f tokens/s (%.1f ms)" % (figs["train"], s * 1e3), flush=True)
    return figs, torch.__version__


class OtherLoad:
    """CPU time used by other processes while timing, in CPUs on average:
    all busy time in /proc/stat minus this process's own."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as fh:
                f = [int(x) for x in fh.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        busy = (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / os.sysconf("SC_CLK_TCK")
        t = os.times()
        return busy, t.user + t.system, time.monotonic()

    def cpus(self):
        end = self._sample()
        if self.start is None or end is None:
            return None
        wall = end[2] - self.start[2]
        other = (end[0] - self.start[0]) - (end[1] - self.start[1])
        return max(other, 0.0) / wall if wall > 0 else None


def main():
    ap = argparse.ArgumentParser(description="PyTorch vs Parascope speed table")
    ap.add_argument("--no-go", action="store_true", help="time PyTorch only")
    ap.add_argument("--go-output", metavar="FILE", help="parse saved go test -bench output instead of running Go")
    ap.add_argument("--self-test", action="store_true", help="test the benchmark-output parser and exit")
    args = ap.parse_args()
    if args.self_test:
        self_test()
        return 0

    other = OtherLoad()
    torch_figs, version = bench_torch()
    other_cpus = other.cpus()

    notes = []
    if args.no_go:
        go_figs = {}
        notes.append("Go benchmarks skipped (--no-go)")
    elif args.go_output:
        with open(args.go_output) as fh:
            go_figs = parse_bench(fh.read())
    else:
        print("running Go benchmarks ...", flush=True)
        go_figs, notes = run_go()

    print()
    print("PyTorch %s, %d threads; Go GOMAXPROCS %s; %d CPUs" % (
        version, THREADS, os.environ.get("GOMAXPROCS", "default"), os.cpu_count()))
    print(format_table(torch_figs, go_figs))
    if other_cpus is not None:
        busy = " (the machine was shared: PyTorch figures are low and noisy)" if other_cpus > 0.1 else ""
        print("note: other processes used %.2f CPUs on average during the PyTorch timings%s" % (other_cpus, busy))
    for n in notes:
        print("note: " + n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
