"""lm-eval glue of context-only truncation: options → truncator → (cached) documents + provenance."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from longrm_tasks.context_truncation import (
    BUDGET_KEY,
    CONTEXT_MODE,
    MAX_LENGTH_KEYS,
    ContextTruncator,
    truncation_summary,
    truncator_from_options,
)
from longrm_tasks.data import BenchmarkData
from longrm_tasks.prep_cache import cache_dir, cached

log = logging.getLogger("longrm_tasks")

#: Default generation budget (the task YAML's ``max_gen_toks``).
DEFAULT_MAX_GEN_TOKS = 2048

DocBuilder = Callable[..., list[dict[str, Any]]]


def generation_budget(config: Any, options: dict[str, Any]) -> int:
    """New tokens reserved for the judge's answer: ``max_gen_toks`` in the options, else the task's."""
    if options.get("max_gen_toks") is not None:
        return int(options["max_gen_toks"])
    generation = getattr(config, "generation_kwargs", None) or {}
    return int(generation.get("max_gen_toks", DEFAULT_MAX_GEN_TOKS))


def context_mode_docs(
    config: Any,
    data: BenchmarkData,
    formats: Sequence[str],
    options: dict[str, Any],
    kind: str,
    build: DocBuilder,
    truncator: ContextTruncator | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Documents built by ``build(data, formats, truncator, progress=True)``, through the cache."""
    max_gen_toks = generation_budget(config, options)
    truncator = truncator or truncator_from_options(options, max_gen_toks)
    folder = cache_dir(options)
    parts = {
        "formats": list(formats),
        "data_sha256": data.sha256,
        "data_source": data.source,
        "truncator": truncator.fingerprint(),
    }
    docs, hit = cached(folder, kind, parts, lambda: build(data, formats, truncator, progress=True))
    summary = truncation_summary(docs)
    cut = sum(entry["cut"] for entry in summary.values())
    over = sum(entry["over_budget"] for entry in summary.values())
    message = "%s: context-only truncation to %d tokens cut %d of %d rows"
    log.info(message, config.task, truncator.budget, cut, len(docs))
    if over:
        log.warning(
            "%s: %d rows exceed %d tokens even with their context cut down to the question (system "
            "prompt, question and responses alone are longer); they are sent beyond the budget",
            config.task,
            over,
            truncator.budget,
        )
    tokenizer = truncator.tokenizer
    return docs, {
        "truncation_mode": CONTEXT_MODE,
        "parity_truncation": "not applied (context-only truncation)",
        "truncation_tokenizer": getattr(tokenizer, "name_or_path", None),
        "context_truncation": {
            "budget": truncator.budget,
            "budget_from": BUDGET_KEY if options.get(BUDGET_KEY) is not None else _length_source(options),
            "max_gen_toks": max_gen_toks,
            "special_tokens_reserved": truncator.reserve,
            "head_share": truncator.head_share,
            "marker": truncator.marker,
            "tokenizer_sha256": truncator.fingerprint()["tokenizer_sha256"],
            "cache": "off" if folder is None else ("hit" if hit else "miss"),
            "by_bucket": summary,
        },
    }


def _length_source(options: dict[str, Any]) -> str:
    key = next((key for key in MAX_LENGTH_KEYS if options.get(key) is not None), None)
    return f"{key} - max_gen_toks" if key else "tokenizer.model_max_length - max_gen_toks"
