"""``longrm plan``: a dry run that says what a Long-RewardBench run will cost before it starts.

With the model's tokenizer and a token budget it reports tokens per task file and length bucket,
how many samples each truncation mode would cut, the prefill tokens of every path (generative
judge; scalar RM with and without prefix sharing; position-bias audit with and without prefix
caching; no-context ablation), and compute (FLOPs ≈ 2 × parameters × tokens) and GPU time at a
given prefill throughput. With ``--gpus N`` (and the model's shape) it also sizes the run: tensor- and
data-parallel sizes, memory per GPU (weights + key/value cache at the longest prompt), ``max_model_len``
and wall time (:mod:`~longrm_tasks.sizing`).

Each context is tokenized once (parallel batches, progress bar on stderr); prompt sizes are sums
of separately tokenized parts (exact to a few tokens per sample at the joins). Counts are cached,
so a second plan with another budget or model size is instant.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .audit import question_only, variant_orders
from .constants import (
    LENGTH_BUCKETS,
    MAX_NEW_TOKENS,
    PARITY_HEAD_TOKENS,
    PARITY_MAX_TOKENS,
    PARITY_TAIL_TOKENS,
    TASK_FILES,
    TASK_TYPES,
)
from .data import BenchmarkData, load_benchmark
from .errors import LongRMError
from .items import presented_rows
from .order import gold_answers
from .prep_cache import cache_dir, cached
from .prompts import context_text, system_prompt, user_prompt_frame
from .rendering import Renderer
from .sizing import (
    DEFAULT_GPU_MEMORY_UTILIZATION,
    DTYPE_BYTES,
    MODEL_SHAPES,
    GPUPlan,
    ModelShape,
    resolve_shape,
    size_run,
)
from .truncation.budgets import AUDIT_BUDGET
from .truncation.context import ContextTruncator, progress_bar
from .truncation.tokenizers import load_tokenizer

PARITY_KEPT = PARITY_HEAD_TOKENS + PARITY_TAIL_TOKENS
_SENTINELS = [f"\ue000LONGRM-PART-{i}\ue000" for i in range(16)]
_RESPONSE_SENTINEL = "\ue000LONGRM-RESPONSE\ue000"


@dataclass
class RowCounts:
    """Budget-independent token counts of one row (all a plan needs)."""

    task_file: str
    tasktype: str
    length_bucket: str
    context: int
    #: Judge prompt around the context: tokens before it, and after it per presentation variant
    #: (variant 0 is the official order; the others are the audit's).
    judge_prefix: int
    judge_suffixes: list[int]
    question_only: int
    #: Scalar RM: template tokens around the messages before the response, the messages' contents,
    #: template tokens after the response, and each response (by gold rank). ``None``: no template.
    rm_template: int | None
    rm_contents: int | None
    rm_after: int | None
    responses: list[int]


def _count(tokenizer: Any, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else 0


def _rm_template(tokenizer: Any, prompt_template: Sequence[Mapping[str, str]]) -> tuple[int, int] | None:
    """Tokens of the chat template's own text before and after the response of an RM sequence."""
    if not getattr(tokenizer, "chat_template", None) or len(prompt_template) > len(_SENTINELS):
        return None
    messages = [
        {"role": message["role"], "content": _SENTINELS[i]} for i, message in enumerate(prompt_template)
    ]
    messages.append({"role": "assistant", "content": _RESPONSE_SENTINEL})
    try:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
    except Exception:  # a template that rejects these roles: no RM estimate
        return None
    before, _, after = text.partition(_RESPONSE_SENTINEL)
    pieces = re.split("|".join(map(re.escape, _SENTINELS[: len(prompt_template)])), before)
    return sum(_count(tokenizer, piece) for piece in pieces), _count(tokenizer, after)


def measure_rows(
    data: BenchmarkData,
    truncator: ContextTruncator,
    formats: Sequence[str] = TASK_TYPES,
    *,
    progress: bool = True,
) -> list[RowCounts]:
    """Token counts of every row of ``formats``, in the official run order."""
    tokenizer = truncator.tokenizer
    rows = list(presented_rows(data, formats))
    joiner = _count(tokenizer, "\n\n")
    update, close = progress_bar(len(rows), progress, "tokenizing")
    result: list[RowCounts] = []
    try:
        for start in range(0, len(rows), 16):
            batch = rows[start : start + 16]
            contexts = [context_text(row["prompt_template"]) for _, _, row, _ in batch]
            for (task_file, _, row, order), ids in zip(batch, truncator.count_many(contexts), strict=True):
                answers = gold_answers(row)
                system = system_prompt(row["tasktype"], len(order))
                frames = [
                    truncator.frame(system, *user_prompt_frame([answers[rank] for rank in variant]))
                    for variant in variant_orders(order, row["tasktype"])
                ]
                prefix = _count(tokenizer, frames[0].prefix)
                rm = _rm_template(tokenizer, row["prompt_template"])
                n_messages = len(row["prompt_template"])
                result.append(
                    RowCounts(
                        task_file=task_file,
                        tasktype=row["tasktype"],
                        length_bucket=row["ctx_length_for_length"],
                        context=len(ids),
                        judge_prefix=prefix,
                        judge_suffixes=[frame.tokens - prefix for frame in frames],
                        question_only=_count(tokenizer, question_only(row)),
                        rm_template=None if rm is None else rm[0],
                        rm_contents=None if rm is None else max(len(ids) - joiner * (n_messages - 1), 0),
                        rm_after=None if rm is None else rm[1],
                        responses=[_count(tokenizer, answer) for answer in answers],
                    )
                )
            if update is not None:
                update(len(batch))
    finally:
        close()
    return result


# --------------------------------------------------------------------------------------------
# Costs
# --------------------------------------------------------------------------------------------


def parity_kept(tokens: int) -> int:
    """Tokens left by the parity cut (spec §6)."""
    return PARITY_KEPT if tokens >= PARITY_MAX_TOKENS else tokens


def context_kept(row: RowCounts, budget: int, variant: int = 0) -> tuple[int, bool]:
    """Prompt tokens of a variant after a context-only cut to ``budget``, and whether it was cut."""
    frame = row.judge_prefix + max(row.judge_suffixes)
    if frame + row.context <= budget:
        return row.judge_prefix + row.judge_suffixes[variant] + row.context, False
    kept_context = max(budget - frame, 0)
    return row.judge_prefix + row.judge_suffixes[variant] + kept_context, True


def rm_costs(row: RowCounts) -> tuple[int, int] | None:
    """Scalar-RM prefill tokens of a row: (each sequence alone, prefix-shared), parity-cut."""
    if row.rm_template is None or row.rm_contents is None or row.rm_after is None:
        return None
    shared = row.rm_template + row.rm_contents
    # Pairwise rows score the two responses presented; best-of-N rows all N.
    own = [tokens + row.rm_after for tokens in row.responses]
    full = [shared + tokens for tokens in own]
    kept = [parity_kept(tokens) for tokens in full]
    plain = sum(kept)
    if any(tokens >= PARITY_MAX_TOKENS for tokens in full):
        common = PARITY_HEAD_TOKENS if len(set(own)) > 1 else min(kept) - own[0]
    else:
        common = shared
    return plain, common + sum(tokens - common for tokens in kept)


def _empty_bucket() -> dict[str, Any]:
    return {
        "rows": 0,
        "context_tokens": 0,
        "max_prompt": 0,
        "prompt_tokens": 0,
        "parity_cut": 0,
        "context_cut": 0,
    }


def build_plan(
    counts: Sequence[RowCounts],
    *,
    budget: int,
    max_gen_toks: int = MAX_NEW_TOKENS,
    params: float | None = None,
    throughput: float | None = None,
) -> dict[str, Any]:
    """Every figure of a plan from row counts (pure arithmetic: no tokenizer needed)."""
    audit_budget = AUDIT_BUDGET
    by_bucket = {bucket: _empty_bucket() for bucket in LENGTH_BUCKETS}
    by_file = {task: _empty_bucket() for task in TASK_FILES if any(r.task_file == task for r in counts)}
    totals = dict.fromkeys(
        (
            "judge_uncut",
            "judge_parity",
            "judge_context",
            "nocontext",
            "audit_requests",
            "audit_no_prefix_cache",
            "audit_prefix_cache",
            "audit_budget_no_prefix_cache",
            "audit_budget_prefix_cache",
            "rm_sequences",
            "rm_plain",
            "rm_prefix_shared",
        ),
        0,
    )
    rm_available = True
    for row in counts:
        uncut = row.judge_prefix + row.judge_suffixes[0] + row.context
        parity = parity_kept(uncut)
        kept, cut = context_kept(row, budget)
        for table, key in ((by_bucket, row.length_bucket), (by_file, row.task_file)):
            entry = table.setdefault(key, _empty_bucket())
            entry["rows"] += 1
            entry["context_tokens"] += row.context
            entry["max_prompt"] = max(entry["max_prompt"], uncut)
            entry["prompt_tokens"] += uncut
            entry["parity_cut"] += int(uncut >= PARITY_MAX_TOKENS)
            entry["context_cut"] += int(cut)
        totals["judge_uncut"] += uncut
        totals["judge_parity"] += parity
        totals["judge_context"] += kept
        totals["nocontext"] += row.judge_prefix + row.judge_suffixes[0] + row.question_only
        totals["audit_requests"] += len(row.judge_suffixes)
        for prefix_key, plain_key, limit in (
            ("audit_prefix_cache", "audit_no_prefix_cache", audit_budget),
            ("audit_budget_prefix_cache", "audit_budget_no_prefix_cache", budget),
        ):
            prompts = [context_kept(row, limit, v)[0] for v in range(len(row.judge_suffixes))]
            totals[plain_key] += sum(prompts)
            shared = prompts[0] - row.judge_suffixes[0]  # system prompt + question: identical in all orders
            totals[prefix_key] += shared + sum(tokens - shared for tokens in prompts)
        rm = rm_costs(row)
        if rm is None:
            rm_available = False
        else:
            totals["rm_sequences"] += len(row.responses)
            totals["rm_plain"] += rm[0]
            totals["rm_prefix_shared"] += rm[1]
    requests = len(counts)
    paths = {
        "judge (parity truncation)": totals["judge_parity"],
        f"judge (context-only, budget {budget})": totals["judge_context"],
        "judge (uncut)": totals["judge_uncut"],
        "no-context ablation": totals["nocontext"],
        "audit (cut at the parity threshold), no prefix cache": totals["audit_no_prefix_cache"],
        "audit (cut at the parity threshold), prefix cache": totals["audit_prefix_cache"],
        f"audit at budget {budget}, no prefix cache": totals["audit_budget_no_prefix_cache"],
        f"audit at budget {budget}, prefix cache": totals["audit_budget_prefix_cache"],
    }
    if rm_available:
        paths["scalar RM, each sequence alone"] = totals["rm_plain"]
        paths["scalar RM, prefix-shared"] = totals["rm_prefix_shared"]
    compute = {
        name: {
            "prefill_tokens": tokens,
            "flops": 2.0 * params * tokens if params else None,
            "gpu_hours": tokens / throughput / 3600 if throughput else None,
        }
        for name, tokens in paths.items()
    }
    return {
        "rows": requests,
        "budget": budget,
        "max_gen_toks": max_gen_toks,
        "params": params,
        "prefill_throughput": throughput,
        "by_bucket": {key: value for key, value in by_bucket.items() if value["rows"]},
        "by_task_file": by_file,
        "paths": compute,
        "requests": {
            "judge": requests,
            "audit": totals["audit_requests"],
            "scalar_rm_sequences": totals["rm_sequences"] if rm_available else None,
        },
        "decode_tokens_at_most": {
            "judge": requests * max_gen_toks,
            "audit": totals["audit_requests"] * max_gen_toks,
        },
    }


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def _human(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    for scale, suffix in ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.2f} {suffix}{unit}".rstrip()
    return f"{value:.0f} {unit}".rstrip()


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def plan_markdown(plan: dict[str, Any], label: str = "") -> str:
    """The plan as Markdown tables."""
    budget = plan["budget"]
    parts = [f"# Long-RewardBench run plan{f' — {label}' if label else ''}", ""]
    header = [
        "",
        "rows",
        "mean context tok",
        "max prompt tok",
        "prompt tokens",
        "parity cut",
        f"cut at {budget}",
    ]

    def lines(table: dict[str, Any]) -> list[list[Any]]:
        return [
            [
                key,
                entry["rows"],
                f"{entry['context_tokens'] / max(entry['rows'], 1):,.0f}",
                f"{entry['max_prompt']:,}",
                _human(entry["prompt_tokens"]),
                entry["parity_cut"],
                entry["context_cut"],
            ]
            for key, entry in table.items()
        ]

    parts += ["## By length bucket", "", _table(["bucket", *header[1:]], lines(plan["by_bucket"])), ""]
    parts += ["## By task file", "", _table(["task file", *header[1:]], lines(plan["by_task_file"])), ""]
    parts += ["## Prefill cost per path", ""]
    parts.append(
        _table(
            ["path", "prefill tokens", "compute (2·N·T)", "GPU time"],
            [
                [
                    name,
                    _human(entry["prefill_tokens"]),
                    _human(entry["flops"], "FLOP"),
                    _gpu_time(entry["gpu_hours"]),
                ]
                for name, entry in plan["paths"].items()
            ],
        )
    )
    requests = plan["requests"]
    parts += [
        "",
        f"Requests: judge {requests['judge']:,}, audit {requests['audit']:,}"
        + (
            f", scalar-RM sequences {requests['scalar_rm_sequences']:,}"
            if requests["scalar_rm_sequences"] is not None
            else ""
        )
        + f". Decode: at most {plan['decode_tokens_at_most']['judge']:,} new tokens for the judge run "
        f"({plan['max_gen_toks']} per request).",
    ]
    if plan["params"] is None or plan["prefill_throughput"] is None:
        parts.append("Give --params and --throughput for FLOPs and GPU time.")
    return "\n".join(parts) + "\n"


def _gpu_time(hours: float | None) -> str:
    if hours is None:
        return "—"
    if hours >= 1:
        return f"{hours:,.1f} h"
    return f"{hours * 60:.1f} min" if hours * 60 >= 1 else f"{hours * 3600:.1f} s"


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def parse_count(text: str) -> float:
    """``8B``, ``135M``, ``7e9``, ``1.5k`` → a number."""
    match = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([kKmMbBgGtT]?)\s*", str(text))
    if not match:
        raise argparse.ArgumentTypeError(f"not a number: {text!r} (e.g. 8B, 135M, 7e9)")
    scale = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}[match.group(2).lower()]
    return float(match.group(1)) * scale


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="longrm plan", description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", required=True, help="the judge's tokenizer: hub name or folder")
    parser.add_argument("--gguf-file", help="GGUF file inside --tokenizer's folder (tokenizer taken from it)")
    parser.add_argument("--trust-remote-code", action="store_true")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--sample", action="store_true", help="the bundled sample")
    source.add_argument("--data-dir", type=Path, help="a local copy of the seven <Task>.jsonl files")
    parser.add_argument("--formats", default="PairWise,BestOfN", help="PairWise, BestOfN or both (default)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument(
        "--max-length", type=int, help="the model's context length (budget = it − max-gen-toks)"
    )
    budget.add_argument("--budget", type=int, help="prompt-token budget of context-only truncation")
    parser.add_argument("--max-gen-toks", type=int, default=MAX_NEW_TOKENS)
    parser.add_argument("--params", type=parse_count, help="model parameters, e.g. 8B (for FLOPs)")
    parser.add_argument("--throughput", type=parse_count, help="prefill tokens per second (for GPU time)")
    sizing = parser.add_argument_group("sizing on GPUs (--gpus)")
    sizing.add_argument("--gpus", type=int, help="GPUs of the run: prints memory per GPU and wall time")
    sizing.add_argument("--gpu-memory", type=float, help="memory of one GPU in GiB (e.g. 80)")
    sizing.add_argument(
        "--gpu-memory-utilization",
        type=float,
        default=DEFAULT_GPU_MEMORY_UTILIZATION,
        help="share of GPU memory vLLM may use (default %(default)s)",
    )
    sizing.add_argument("--model-shape", help=f"a preset: {', '.join(MODEL_SHAPES)} (sets --params too)")
    sizing.add_argument("--layers", type=int, help="hidden layers (overrides the preset)")
    sizing.add_argument("--kv-heads", type=int, help="key/value heads (overrides the preset)")
    sizing.add_argument("--head-dim", type=int, help="size of one attention head (overrides the preset)")
    sizing.add_argument("--dtype", default="bfloat16", choices=list(DTYPE_BYTES), help="weights' dtype")
    sizing.add_argument("--kv-cache-dtype", choices=list(DTYPE_BYTES), help="default: --dtype")
    sizing.add_argument("--tensor-parallel", type=int, help="default: the smallest size that fits")
    parser.add_argument("--json", type=Path, help="also write the plan as JSON")
    parser.add_argument("--cache-dir", help="cache folder for token counts ('off' to disable)")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def _shape(args: argparse.Namespace) -> ModelShape:
    fields = {"params": args.params, "layers": args.layers, "kv_heads": args.kv_heads}
    return resolve_shape(args.model_shape, head_dim=args.head_dim, **fields)


def _judge_paths(plan: dict[str, Any]) -> list[tuple[str, int]]:
    """Generative-judge paths and the longest prompt each sends (parity: the §6 cut; context-only: the
    budget, or less when no prompt reaches it)."""
    longest = max((entry["max_prompt"] for entry in plan["by_bucket"].values()), default=0)
    context = next(name for name in plan["paths"] if name.startswith("judge (context-only"))
    return [("judge (parity truncation)", parity_kept(longest)), (context, min(longest, plan["budget"]))]


def _sized(plan: dict[str, Any], shape: ModelShape, args: argparse.Namespace, path: tuple[str, int]) -> dict:
    name, longest_prompt = path
    sized: GPUPlan = size_run(
        shape,
        gpus=args.gpus,
        longest_sequence=longest_prompt + plan["max_gen_toks"],
        gpu_hours={name: plan["paths"][name]["gpu_hours"]},
        weight_dtype=args.dtype,
        kv_dtype=args.kv_cache_dtype,
        gpu_memory_gib=args.gpu_memory,
        gpu_memory_utilization=args.gpu_memory_utilization,
        tensor_parallel=args.tensor_parallel,
    )
    return {"path": name, "longest_prompt": longest_prompt, **asdict(sized)}


def sizing_markdown(plan: dict[str, Any]) -> str:
    """The ``--gpus`` section: one row per judge path."""
    rows = []
    for entry in plan["sizing"]:
        memory = entry["gpu_memory_gib"]
        fits = "—" if entry["fits"] is None else ("yes" if entry["fits"] else "**no**")
        utilization = entry["total_gib"] / memory if memory else None
        rows.append(
            [
                entry["path"],
                f"{entry['longest_sequence']:,}",
                f"{entry['tensor_parallel']} × {entry['data_parallel']}",
                f"{entry['weights_gib']:.1f}",
                f"{entry['kv_cache_gib']:.1f}",
                f"{entry['total_gib']:.1f}" + (f" ({utilization:.0%})" if utilization else ""),
                fits,
                "—" if entry["concurrent_sequences"] is None else entry["concurrent_sequences"],
                _gpu_time(entry["wall_hours"][entry["path"]]),
            ]
        )
    first = plan["sizing"][0]
    memory = first["gpu_memory_gib"]
    memory = f"{memory:g} GiB" if memory else "unknown memory (--gpu-memory)"
    header = [
        "path",
        "max_model_len ≥",
        "TP × DP",
        "weights GiB/GPU",
        "KV cache GiB/GPU",
        "total GiB/GPU",
        f"fits at {first['gpu_memory_utilization']:g}",
        "longest seqs/replica",
        "wall time",
    ]
    lines = [
        f"## Sizing on {first['gpus']} GPUs of {memory}",
        "",
        _table(header, rows),
        "",
        "KV cache and total: one sequence at the longest prompt + max_gen_toks. Activations and engine "
        "overhead are not modelled (gpu_memory_utilization leaves room for them). Wall time: prefill only, "
        "GPU time / GPUs.",
    ]
    if plan["prefill_throughput"] is None:
        lines.append("Give --throughput (prefill tokens/s per GPU) for wall time.")
    return "\n".join(lines) + "\n"


def plan_main(argv: Sequence[str] | None = None) -> int:
    """``longrm plan`` from an argument list (``python -m longrm_tasks.plan``)."""
    return run_plan(_parser().parse_args(list(sys.argv[1:] if argv is None else argv)))


def run_plan(args: argparse.Namespace) -> int:
    """``longrm plan`` with parsed arguments (the ``longrm`` parser adds :func:`_parser`'s options)."""
    formats = [part.strip() for part in args.formats.split(",") if part.strip()]
    if not formats or any(fmt not in TASK_TYPES for fmt in formats):
        print(f"longrm plan: --formats takes {', '.join(TASK_TYPES)}", file=sys.stderr)
        return 2
    try:
        shape = _shape(args) if args.gpus is not None else None  # before any tokenizing
        tokenizer = load_tokenizer(
            args.tokenizer, trust_remote_code=args.trust_remote_code, gguf_file=args.gguf_file, purpose="plan"
        )
        if args.budget is not None:
            budget = args.budget
        elif args.max_length is not None:
            budget = args.max_length - args.max_gen_toks
        else:
            budget = AUDIT_BUDGET
        if budget <= 0:
            raise LongRMError(f"the budget must be positive, got {budget}")
        truncator = ContextTruncator(Renderer(tokenizer), budget)
        data = load_benchmark(args.data_dir, sample=args.sample)
        parts = {
            "formats": formats,
            "data_sha256": data.sha256,
            "data_source": data.source,
            "tokenizer": truncator.fingerprint()["tokenizer_sha256"],
        }
        folder = cache_dir({"cache_dir": args.cache_dir} if args.cache_dir else None)
        raw, hit = cached(
            folder,
            "plan",
            parts,
            lambda: [
                asdict(row) for row in measure_rows(data, truncator, formats, progress=not args.no_progress)
            ],
        )
        counts = [RowCounts(**row) for row in raw]
        plan = build_plan(
            counts,
            budget=budget,
            max_gen_toks=args.max_gen_toks,
            params=shape.params if shape else args.params,
            throughput=args.throughput,
        )
        if shape is not None:
            plan["sizing"] = [_sized(plan, shape, args, path) for path in _judge_paths(plan)]
    except LongRMError as error:
        print(f"longrm plan: {error}", file=sys.stderr)
        return 1
    plan["tokenizer"] = args.tokenizer if not args.gguf_file else f"{args.tokenizer} ({args.gguf_file})"
    plan["data"] = {"source": data.source.split(":", 1)[0], "files_sha256": data.sha256}
    plan["token_counts_cache"] = "off" if folder is None else ("hit" if hit else "miss")
    label = f"{Path(str(args.tokenizer)).name}, budget {budget}"
    print(plan_markdown(plan, label), end="")
    if "sizing" in plan:
        print("\n" + sizing_markdown(plan), end="")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(plan, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(plan_main())
