"""Benchmark: scalar-RM scoring of Best-of-4 samples, plain path vs prefix-shared path.

A randomly initialised Llama-style classifier is built locally (no download). For each context
length and four ~300-token responses, each measurement runs in a fresh process: wall time and peak
resident memory above the loaded model of (a) one pass over the context alone, (b) the plain path
(each of the 4 full sequences alone, as the official evaluator does), (c) the prefix-shared path
with the responses run one at a time on the cached context and (d) the prefix-shared path as
shipped (the responses in one forward with a block mask).
Printed as ratios to (a), measured side by side in one run; each mode runs ``--repeats`` times,
interleaved with the others, each time twice in its process, and the fastest run counts (the least
disturbed by other jobs, with kernels already set up for its shapes, as in a long run).

The shared path cannot cost less than one context pass plus the responses' own work: their tokens
through every layer, and their attention over the whole cached context. The ``FLOP floor`` column is
that bound in arithmetic (linear layers per token, attention per query-key pair, causal), so a
measured ratio can be read against it. The default model is narrow (hidden 256): at 4k its attention
costs as much as its linear layers, so the responses' attention over the context sets a floor well
above the token ratio (1.29 at 4k); a wider model (``--hidden 2048 --layers 1``) has the FLOP mix of
a real reward model, whose linear layers dominate at 4k.

    python benchmarks/rm_prefix_sharing.py [--contexts 4096 16384] [--hidden 256] [--layers 4]
        [--heads 8] [--kv-heads 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import time
from dataclasses import dataclass

RESPONSES, RESPONSE_TOKENS, VOCAB = 4, 300, 512
MODES = ("one-pass", "plain", "shared-one-at-a-time", "shared")


@dataclass(frozen=True)
class Shape:
    """The benchmark model's shape (what its FLOPs depend on)."""

    hidden: int
    layers: int
    heads: int
    kv_heads: int

    @property
    def intermediate(self) -> int:
        return self.hidden * 4

    def linear_flops_per_token(self) -> int:
        head_dim = self.hidden // self.heads
        attention_projections = (
            2 * self.hidden * self.heads * head_dim + 2 * self.hidden * self.kv_heads * head_dim
        )
        mlp = 3 * self.hidden * self.intermediate
        return 2 * self.layers * (attention_projections + mlp)

    def attention_flops_per_pair(self) -> int:
        return 2 * 2 * self.hidden * self.layers  # q·k and p·v, all heads

    def flops(self, tokens: int, pairs: int) -> int:
        return tokens * self.linear_flops_per_token() + pairs * self.attention_flops_per_pair()


def flop_floor(shape: Shape, context: int) -> float:
    """FLOPs of the prefix-shared path over those of one context pass (causal attention)."""
    context_pairs = context * (context + 1) // 2
    one_pass = shape.flops(context, context_pairs)
    response_pairs = RESPONSES * sum(context + i for i in range(1, RESPONSE_TOKENS + 1))
    shared = one_pass + shape.flops(RESPONSES * RESPONSE_TOKENS, response_pairs)
    return shared / one_pass


def _model(shape: Shape):
    import torch
    from transformers import LlamaConfig, LlamaForSequenceClassification

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=shape.hidden,
        intermediate_size=shape.intermediate,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        num_key_value_heads=shape.kv_heads,
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


def _measure(mode: str, context_tokens: int, shape: Shape, queue) -> None:
    from longrm_tasks.rm.scorer import RewardScorer

    model = _model(shape)
    sequences = _sequences(context_tokens)
    scorer = RewardScorer(model, prefix_sharing=mode.startswith("shared"), response_block=mode == "shared")
    scorer.score_plain([list(range(64))])  # warm-up
    if mode == "shared":
        warm = list(range(64))
        scorer.score([[*warm, 1, 2], [*warm, 3]])  # and the block's one-time check
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    elapsed = float("inf")
    for _ in range(2):  # the second run is the steady state a long run sees (kernels set up for these shapes)
        start = time.perf_counter()
        if mode == "one-pass":
            rewards = scorer.score_plain([sequences[0][:context_tokens]])
        else:
            rewards = scorer.score(sequences)
        elapsed = min(elapsed, time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if mode == "shared" and not scorer.stats.block_passes:
        raise SystemExit("the block path did not run: this model fails supports_block or its self-check")
    queue.put({"seconds": elapsed, "peak_mib": (peak - baseline) / 1024, "rewards": rewards})


def measure(mode: str, context_tokens: int, shape: Shape) -> dict:
    """Run one measurement in a fresh process (clean peak-memory counter)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(mode, context_tokens, shape, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def fastest(context_tokens: int, shape: Shape, repeats: int) -> dict[str, dict]:
    """Each mode ``repeats`` times, interleaved; the fastest run of each mode."""
    runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
    for _ in range(repeats):
        for mode in MODES:
            runs[mode].append(measure(mode, context_tokens, shape))
    return {mode: min(results, key=lambda run: run["seconds"]) for mode, results in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contexts", type=int, nargs="+", default=[4096, 16384])
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--kv-heads", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import torch

    shape = Shape(args.hidden, args.layers, args.heads, args.kv_heads)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"machine: {platform.machine()}, {multiprocessing.cpu_count()} cores (load average {load}), "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; model: Llama-style classifier "
        f"hidden {shape.hidden}, {shape.layers} layers, {shape.heads} heads ({shape.kv_heads} kv); "
        f"Best-of-{RESPONSES}, {RESPONSE_TOKENS}-token responses; fastest of {args.repeats} runs"
    )
    header = "| context | path | wall s | × one pass | FLOP floor | peak MiB above model | × one pass |"
    print(header + "\n|---|---|---|---|---|---|---|")
    for context_tokens in args.contexts:
        runs = fastest(context_tokens, shape, args.repeats)
        drift = max(
            abs(a - b) / max(abs(b), 1e-12)
            for a, b in zip(runs["shared"]["rewards"], runs["plain"]["rewards"], strict=True)
        )
        base = runs["one-pass"]
        floor = flop_floor(shape, context_tokens)
        floors = {"one-pass": 1.0, "plain": None, "shared-one-at-a-time": floor, "shared": floor}
        for mode, run in runs.items():
            time_ratio = run["seconds"] / base["seconds"]
            memory_ratio = run["peak_mib"] / max(base["peak_mib"], 1e-9)
            floor = "" if floors[mode] is None else f"{floors[mode]:.2f}"
            print(
                f"| {context_tokens} | {mode} | {run['seconds']:.2f} | {time_ratio:.2f} | {floor} | "
                f"{run['peak_mib']:.0f} | {memory_ratio:.2f} |"
            )
        print(f"| {context_tokens} | shared vs plain max relative reward difference | {drift:.1e} | | | | |")
    print(f"load average at the end: {', '.join(f'{value:.1f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
