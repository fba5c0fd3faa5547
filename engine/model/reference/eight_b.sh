#!/bin/sh
# Usage (from the repository root):
#     engine/model/reference/eight_b.sh DIR
# measures what an LLaDA-8B-shaped bfloat16 checkpoint costs on this
# machine, in two runs of the Go benchmarks, each its own process:
#
#   1. BenchmarkLLaDALayer: one 8B block over 512 tokens with float32 and
#      with bfloat16 weights, and the ratio of their speeds (goal ≥ 0.9);
#   2. BenchmarkEightBillion: open DIR (writing it first, 16 GB of random
#      bfloat16 weights, when it holds no config.json), one forward over
#      512 tokens, and the process's peak resident memory (goal < 18 GB).
#
# Not part of CI: it needs 16 GB of disk and about 20 GB of memory, and
# the forward alone takes minutes on two cores.
set -eu
dir=${1:?usage: $0 DIR}
cd "$(dirname "$0")/../../.."

layer=$(go test -run '^$' -bench 'LLaDALayer' -benchtime 3x ./engine/model)
echo "$layer" | grep Benchmark
echo "$layer" | awk '/LLaDALayer\/f32/ {f = $(NF-1)} /LLaDALayer\/bf16/ {h = $(NF-1)}
	END {printf "bf16/f32 layer speed: %.2f\n", h / f}'

PARASCOPE_8B_DIR=$dir go test -run '^$' -bench 'EightBillion' -benchtime 1x -timeout 2h ./engine/model | grep -E 'Benchmark|wrote'
