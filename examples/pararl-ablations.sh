#!/bin/sh
# The paper's ParaRL ablations at small scale, on ParaBench-mini with the
# exact judge:
#   (a) SFT only vs SFT + ParaRL (s = 3)
#   (b) trajectory-level (s = 3) vs output-only reward, at equal rollouts
#       and updates
#   (c) s = 1, 2, 3, 4
#
#   examples/pararl-ablations.sh SFT_MODEL CLIP_MODEL [BATCHES] [CASES] [SEED]
#
# CLIP_MODEL needs reward.json beside it (parascope train reward --clip ...);
# "" names the embedded model or scorer.
# Every run uses examples/pararl.toml with the starting model, the scorer,
# the batch count and the scored steps set here; results go to
# runs/ablations/<variant>/ and the table to runs/ablations/table.txt.
set -eu
sft=$1 clip=$2 batches=${3:-40} cases=${4:-300} seed=${5:-4242}
cd "$(dirname "$0")/.."
out=runs/ablations
mkdir -p "$out"
go build -o "$out/parascope" .
p="$out/parascope"

# The README's table was judged with the sampler defaults of its day: 20
# steps, the text's end not held back.
printf 'steps = 20\n[text]\nend_last = false\n' >"$out/judge.toml"
bench() { # name model
	"$p" bench --model "$2" --config "$out/judge.toml" --cases "$cases" --seed "$seed" --json >"$out/$1.json"
}

variant() { # name reward_steps output_only
	{
		echo "steps = $batches"
		echo "reward_steps = $2"
		echo "output_only = $3"
		grep -v -e '^steps =' -e '^reward_steps =' -e '^output_only =' examples/pararl.toml |
			sed -e "s|^model = .*|model = \"$sft\"|" -e "s|^clip = \".*|clip = \"$clip\"|"
	} >"$out/$1.toml"
	"$p" train pararl --config "$out/$1.toml" --out "$out/$1" | tail -n 2
	bench "$1" "$out/$1/model.safetensors"
}

bench sft "$sft"
variant s3 3 false
variant output-only 3 true
variant s1 1 false
variant s2 2 false
variant s4 4 false

{
	echo "| run | text_q | text_al | img_con | img_al | img_q | out_al | overall | clip_final |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for r in sft s3 output-only s1 s2 s4; do
		python3 -c "import json; d=json.load(open('$out/$r.json')); print('| $r | ' + ' | '.join('%.1f' % d[k] for k in ['text_quality','text_alignment','image_consistency','image_alignment','image_quality','output_alignment','overall']) + ' | %.3f |' % d.get('clip_final', 0))"
	done
} | tee "$out/table.txt"
