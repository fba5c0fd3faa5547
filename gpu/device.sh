#!/bin/sh
# The GPU checks in one go, for a machine that has a GPU but no Go.
#
# Here (with Go):      gpu/device.sh build
#   builds gpu/device/gpu.test (the parity tests and benchmarks) and
#   gpu/device/parascope, both with -tags cuda, against gpu/sdk.sh's headers.
# There (in the repository root, with gpu/device carried over):
#                      gpu/device.sh run [RESULTS_DIR]
#   runs the parity tests, the benchmarks and PyTorch's GEMM on the same GPU,
#   and writes everything to RESULTS_DIR (default $OUT, else gpu/device/out).
#   The LLaDA-8B-shaped forward needs ~35 GB, but it is slow to set up, so
#   it runs only on a GPU with more than 110 GB (an H200); its bfloat16
#   twin needs ~20 GB and runs on any of them.
set -eu
cd "$(dirname "$0")/.."

case "${1:-}" in
build)
	eval "$(gpu/sdk.sh)"
	mkdir -p gpu/device
	go test -c -tags cuda -o gpu/device/gpu.test ./gpu
	go build -tags cuda -o gpu/device/parascope .
	ls -l gpu/device
	;;
run)
	res=${2:-${OUT:-gpu/device/out}}
	mkdir -p "$res"
	log="$res/gpu-results.txt"
	: >"$log"
	say() { echo "$@" | tee -a "$log"; }
	nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee -a "$log"
	# cuBLAS: PyTorch's wheels carry it under site-packages/nvidia.
	if [ -z "${PARASCOPE_CUBLAS:-}" ]; then
		lib=$(python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null ||
			dirname "$(find / -name 'libcublas.so.1[12]' 2>/dev/null | head -1)")
		export LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}"
	fi
	say "== version"
	gpu/device/parascope version 2>&1 | tee -a "$log"
	say "== parity"
	(cd gpu && ./device/gpu.test -test.v -test.count 1 2>&1) | tee -a "$log" | grep -E '^(---|ok|FAIL|PASS)|SKIP|exceeds' || true
	mem=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits | head -1)
	if [ "$mem" -gt 110000 ]; then
		export PARASCOPE_BENCH_8B=1
	fi
	say "== benchmarks"
	(cd gpu && ./device/gpu.test -test.run '^$' -test.bench . -test.benchtime 3s 2>&1) | tee -a "$log"
	say "== LLaDA-8B-shaped forward with bfloat16 weights: 2,400 tokens, device memory in use"
	(cd gpu && PARASCOPE_BENCH_8B_BF16=1 ./device/gpu.test -test.run '^$' -test.bench 'LLaDA8BForwardBF16' -test.benchtime 5x 2>&1) | tee -a "$log"
	say "== PyTorch GEMM on the same GPU"
	python3 - <<'PY' | tee -a "$log"
import torch, time
for n in (1024, 4096):
    a, b = torch.randn(n, n, device="cuda"), torch.randn(n, n, device="cuda")
    for tf32 in (False, True):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        for _ in range(3):
            a @ b
        torch.cuda.synchronize()
        reps, t = 0, time.perf_counter()
        while time.perf_counter() - t < 2:
            a @ b
            reps += 1
        torch.cuda.synchronize()
        s = (time.perf_counter() - t) / reps
        print(f"torch sgemm {n} {'tf32' if tf32 else 'fp32'} {2 * n**3 / s / 1e12:.2f} TFLOP/s")
PY
	say "== ours / PyTorch"
	awk '/^torch sgemm/ { torch[$3 " " $4] = $5 }
		/^BenchmarkSgemm/ { split($1, p, "/"); n = p[3]; sub(/-.*/, "", n)
			kind = (p[2] == "cublas-tf32") ? "tf32" : "fp32"
			for (i = 1; i <= NF; i++) if ($(i+1) == "TFLOP/s") ours[p[2] " " n " " kind] = $i }
		END { for (k in ours) { split(k, f, " "); t = torch[f[2] " " f[3]]
			if (t > 0) printf "%-12s %5s %s: %6.2f vs %6.2f TFLOP/s = %.2f\n", f[1], f[2], f[3], ours[k], t, ours[k] / t } }' "$log" | sort | tee -a "$log"
	echo "results in $log"
	;;
*)
	echo "usage: gpu/device.sh build | run [RESULTS_DIR]" >&2
	exit 2
	;;
esac
