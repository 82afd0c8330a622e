"""Benchmark: scalar-RM scoring of Best-of-4 samples, plain path vs prefix-shared path.

A small randomly initialised Llama-style classifier is built locally (no download). For contexts
of 4k and 16k tokens and four ~300-token responses, each measurement runs in a fresh process:
wall time and peak resident memory above the loaded model of (a) one pass over the context alone,
(b) the plain path (each of the 4 full sequences alone, as the official evaluator does) and
(c) the prefix-shared path. Printed as ratios to (a), measured side by side in one run.

    python benchmarks/rm_prefix_sharing.py [--contexts 4096 16384] [--hidden 256] [--layers 4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import resource
import time

RESPONSES, RESPONSE_TOKENS, VOCAB = 4, 300, 512


def _model(hidden: int, layers: int):
    import torch
    from transformers import LlamaConfig, LlamaForSequenceClassification

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=hidden,
        intermediate_size=hidden * 4,
        num_hidden_layers=layers,
        num_attention_heads=8,
        num_key_value_heads=4,
        max_position_embeddings=32_768,
        num_labels=1,
        pad_token_id=None,
    )
    return LlamaForSequenceClassification(config).eval()


def _sequences(context_tokens: int) -> list[list[int]]:
    import random

    rng = random.Random(context_tokens)
    context = [rng.randrange(VOCAB) for _ in range(context_tokens)]
    return [context + [rng.randrange(VOCAB) for _ in range(RESPONSE_TOKENS)] for _ in range(RESPONSES)]


def _measure(mode: str, context_tokens: int, hidden: int, layers: int, queue) -> None:
    import torch

    from longrm_tasks.rm.scorer import RewardScorer

    torch.set_num_threads(torch.get_num_threads())
    model = _model(hidden, layers)
    sequences = _sequences(context_tokens)
    scorer = RewardScorer(model, prefix_sharing=mode == "shared")
    scorer.score_plain([list(range(64))])  # warm-up
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if mode == "one-pass":
        rewards = scorer.score_plain([sequences[0][:context_tokens]])
    else:
        rewards = scorer.score(sequences)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put({"seconds": elapsed, "peak_mib": (peak - baseline) / 1024, "rewards": rewards})


def measure(mode: str, context_tokens: int, hidden: int, layers: int) -> dict:
    """Run one measurement in a fresh process (clean peak-memory counter)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(mode, context_tokens, hidden, layers, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contexts", type=int, nargs="+", default=[4096, 16384])
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    args = parser.parse_args()
    import torch

    print(
        f"machine: {platform.machine()}, {multiprocessing.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; model: Llama-style classifier hidden {args.hidden}, "
        f"{args.layers} layers; Best-of-{RESPONSES}, {RESPONSE_TOKENS}-token responses"
    )
    header = "| context | path | wall s | × one pass | peak MiB above model | × one pass |"
    print(header + "\n|---|---|---|---|---|---|")
    for context_tokens in args.contexts:
        runs = {
            mode: measure(mode, context_tokens, args.hidden, args.layers)
            for mode in ("one-pass", "plain", "shared")
        }
        drift = max(
            abs(a - b) / max(abs(b), 1e-12)
            for a, b in zip(runs["shared"]["rewards"], runs["plain"]["rewards"], strict=True)
        )
        base = runs["one-pass"]
        for mode, run in runs.items():
            time_ratio = run["seconds"] / base["seconds"]
            memory_ratio = run["peak_mib"] / max(base["peak_mib"], 1e-9)
            print(
                f"| {context_tokens} | {mode} | {run['seconds']:.2f} | {time_ratio:.2f} | "
                f"{run['peak_mib']:.0f} | {memory_ratio:.2f} |"
            )
        print(f"| {context_tokens} | shared vs plain max relative reward difference | {drift:.1e} | | | |")


if __name__ == "__main__":
    main()
