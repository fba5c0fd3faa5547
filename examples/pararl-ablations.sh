#!/bin/sh
# The paper's ParaRL ablations at small scale, on ParaBench-mini with the
# exact judge, with the recipe under which the oracle control helps
# (examples/pararl-oracle.toml: 8 prompts × 8 rollouts a batch on swap,
# relation and move, informative groups, credit where rollouts differ):
#   (a) SFT only vs SFT + ParaRL (s = 3, the learned scorer)
#   (b) trajectory-level (s = 3) vs output-only reward, at equal rollouts
#       and updates
#   (c) s = 1, 2, 3, 4
# and the oracle (the exact judge as the reward), output only and s = 3,
# beside them: is the trajectory better when the reward is exact?
#
#   examples/pararl-ablations.sh [SFT_MODEL] [CLIP_MODEL] [BATCHES] [CASES] [OUT]
#
# Paths are from the repository root. CLIP_MODEL needs reward.json beside it
# (parascope train reward --clip ...);
# "" (the default) names the embedded model or scorer. Every variant is
# trained with training seeds 1 and 2 and judged on the first CASES (300)
# held-out cases of seeds 4242 and 5151 at the sampler defaults. Results go to
# OUT (runs/ablations: <variant>-seed<k>/ and its <seed>.json benches), the
# table to OUT/table.md. The script can be stopped and run
# again: what is finished is kept, a run it stopped resumes from its
# checkpoint. About half an hour a run on a 2-core CPU.
set -eu
sft=${1:-} clip=${2:-} batches=${3:-20} cases=${4:-300} out=${5:-runs/ablations}
cd "$(dirname "$0")/.."
mkdir -p "$out"
go build -o "$out/parascope" .
p="$out/parascope"

bench() { # name model
	for s in 4242 5151; do
		[ -s "$out/$1-$s.json" ] && continue
		"$p" bench ${2:+--model "$2"} --cases "$cases" --seed "$s" --json >"$out/$1-$s.tmp"
		mv "$out/$1-$s.tmp" "$out/$1-$s.json"
	done
}

variant() { # name seed reward reward_steps output_only
	run=$1-seed$2
	if [ ! -e "$out/$run.trained" ]; then
		echo "training $run (progress in $out/$run.log)"
		if [ -e "$out/$run/checkpoint.safetensors" ]; then
			# The checkpoint holds the run's config.
			"$p" train pararl --resume "$out/$run/checkpoint.safetensors" --out "$out/$run" >>"$out/$run.log" 2>&1
		else
			{
				echo "seed = $2"
				echo "steps = $batches"
				echo "reward = \"$3\""
				echo "reward_steps = $4"
				echo "output_only = $5"
				echo "eval_every = 0"
				grep -v -e '^seed =' -e '^steps =' -e '^reward =' -e '^reward_steps =' \
					-e '^output_only =' -e '^eval_every =' examples/pararl-oracle.toml
				printf '[sampler]\nmodel = "%s"\nclip = "%s"\n' "$sft" "$clip"
			} >"$out/$run.toml"
			"$p" train pararl --config "$out/$run.toml" --out "$out/$run" --force >"$out/$run.log" 2>&1
		fi
		touch "$out/$run.trained"
	fi
	bench "$run" "$out/$run/model.safetensors"
}

bench sft "$sft"
for seed in 1 2; do
	variant s3 "$seed" clip 3 false
	variant output-only "$seed" clip 3 true
done
for seed in 1 2; do
	variant s1 "$seed" clip 1 false
	variant s2 "$seed" clip 2 false
	variant s4 "$seed" clip 4 false
	variant oracle "$seed" judge 3 true
	variant oracle-s3 "$seed" judge 3 false
done

cell() { # bench file: output alignment, swap, relation, move, overall
	python3 -c "import json, sys
d = json.load(open(sys.argv[1])); e = d['edits']
xs = [d['output_alignment']] + [e.get(k, {}).get('output_alignment') for k in ('swap', 'relation', 'move')] + [d['overall']]
print(' | '.join('—' if x is None else '%.1f' % x for x in xs))" "$1"
}
row() { # name training-seed bench-prefix: a row, once both benches exist
	[ -s "$out/$3-4242.json" ] && [ -s "$out/$3-5151.json" ] || return 0
	echo "| $1 | $2 | $(cell "$out/$3-4242.json") | $(cell "$out/$3-5151.json") |"
}
{
	echo "| run | training seed | 4242: out_al | swap | relation | move | overall | 5151: out_al | swap | relation | move | overall |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	row sft — sft
	for r in oracle oracle-s3 s3 output-only s1 s2 s4; do
		for seed in 1 2; do
			row "$r" "$seed" "$r-seed$seed"
		done
	done
} | tee "$out/table.md"
