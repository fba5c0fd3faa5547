#!/bin/sh
# Encode throughput of this package (one core) against the Rust tokenizers
# library on the Qwen 3 corpus, back to back, as ratios (Go / Rust): Rust
# one string per call through its Node binding, and Rust's encodeBatch on
# every core, the harder bar.
#
#   engine/hftok/testdata/bench.sh SCRATCH
#
# SCRATCH is a folder where `npm install @anush008/tokenizers` ran.
set -eu
scratch=${1:?usage: bench.sh NPM_SCRATCH_FOLDER}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gunzip -c "$here/qwen3-tokenizer.json.gz" > "$tmp/tokenizer.json"
rust=$(cd "$scratch" && node "$here/bench.mjs" "$tmp/tokenizer.json" "$here/qwen3.jsonl.gz")
go=$(cd "$here/.." && go test -run '^$' -bench EncodeQwen3 -benchtime 10x . | awk '/bytes\/s/ {for (i = 1; i < NF; i++) if ($(i+1) == "bytes/s") print $i}')
set -- $rust
cores=$(nproc)
echo "go, one core:              $go bytes/s"
echo "rust, one string per call: $1 bytes/s"
echo "rust, encodeBatch, $cores cores: $2 bytes/s"
awk -v g="$go" -v a="$1" -v b="$2" 'BEGIN { printf "go/rust per call: %.2f\ngo/rust batch:    %.2f\n", g / a, g / b }'
