"""Preparing a run, for every harness: options → validated data, integrity checks, documents, provenance
and strict mode; then settling each judge prompt for the model that will receive it.

Two steps, because harnesses learn about the model at different times (lm-eval when it builds requests,
OpenCompass in its inferencer, Inspect when the task starts):

1. :func:`prepare_run` reads and checks the data and presents every row (harness-free documents);
2. :func:`settle_judge_docs` / :func:`settle_audit_docs` render each prompt with the model's
   :class:`~longrm_tasks.rendering.Renderer`, apply parity truncation (spec §6) or context-only
   truncation, check the prompt fits the model's context length, and record per document what happened
   (``truncation``, ``prompt_tokens``, ``system_placement``, ``prompt_sha256``, ``context_cut``).

Adapters call these and translate; the rules are all here and in the modules they call.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import __version__
from .audit import audit_docs, nocontext_docs, variant_frame
from .constants import HUB_REVISION, ORDER_SEED, PARITY_MAX_TOKENS, TASK_TYPES
from .data import BenchmarkData, load_benchmark
from .errors import LongRMError
from .integrity import IntegrityReport, check_integrity
from .items import judge_items, reward_items
from .options import CONTEXT_MODE, OptionError, RunOptions
from .prep_cache import cache_dir, cached, splice, unsplice
from .prompts import PROMPT_SET_ID, QUESTION_PREFIX, prompt_set_sha256
from .rendering import Renderer
from .truncation import NOT_CUT, UNCHECKED
from .truncation.budgets import (
    AUDIT_BUDGET,
    PromptTooLongError,
    budget_source,
    prompt_budget,
    too_long_message,
)
from .truncation.context import (
    ContextCut,
    ContextTruncator,
    CutJob,
    cut_fields,
    progress_bar,
    truncation_summary,
)
from .truncation.parity import ParityTruncator
from .truncation.tokenizers import tokenizer_name

log = logging.getLogger("longrm_tasks")

JUDGE, REWARD, AUDIT, NOCONTEXT = "judge", "rm", "audit", "nocontext"
KINDS = (JUDGE, REWARD, AUDIT, NOCONTEXT)

_BUILDERS: dict[str, Callable[[BenchmarkData, Sequence[str]], list[dict[str, Any]]]] = {
    JUDGE: lambda data, formats: [item.to_doc() for item in judge_items(data, formats)],
    REWARD: lambda data, formats: [item.to_doc() for item in reward_items(data, formats)],
    AUDIT: audit_docs,
    NOCONTEXT: nocontext_docs,
}
_CONTROL = {
    AUDIT: "position-bias audit (not parity)",
    NOCONTEXT: "no-context ablation: question only (not parity)",
}


@dataclass
class PreparedRun:
    """Everything a harness needs to build its dataset, before the model is known."""

    kind: str
    formats: list[str]
    options: RunOptions
    data: BenchmarkData
    integrity: IntegrityReport
    docs: list[dict[str, Any]]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def strict(self) -> bool:
        return self.options.strict


def check_formats(formats: Sequence[str]) -> list[str]:
    """The formats of a task (``PairWise``, ``BestOfN`` or both), in canonical order."""
    chosen = list(formats)
    unknown = sorted(set(chosen) - set(TASK_TYPES))
    if unknown or not chosen:
        raise OptionError(f"formats must be a non-empty subset of {list(TASK_TYPES)}, got {chosen}")
    return [tasktype for tasktype in TASK_TYPES if tasktype in chosen]


def prepare_run(
    kind: str, options: Mapping[str, Any] | RunOptions | None, *, formats: Sequence[str], sample: bool
) -> PreparedRun:
    """Load (bundled sample, ``data_dir``, ``$LONGRM_DATA_DIR`` or the pinned hub revision), validate,
    check integrity (warnings; errors in strict mode) and present the rows of ``formats``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    run_options = options if isinstance(options, RunOptions) else RunOptions.from_mapping(options)
    chosen = check_formats(formats)
    data = load_benchmark(run_options.data_dir, sample=sample)
    integrity = check_integrity(
        data, full_set=not sample, strict=run_options.strict, partial=run_options.partial_data
    )
    for problem in integrity.problems:
        log.warning("Long-RewardBench: %s", problem)
    provenance = {
        "package_version": __version__,
        "prompt_set": PROMPT_SET_ID,
        "prompt_set_sha256": prompt_set_sha256(),
        "order_seed": ORDER_SEED,
        "pinned_hub_revision": HUB_REVISION,
        "data": data.provenance(),
        "formats": chosen,
        "integrity": integrity.to_provenance(),
        "strict": run_options.strict,
        "partial_data": run_options.partial_data,
    }
    if kind in _CONTROL:
        provenance["control"] = _CONTROL[kind]
    if kind == REWARD:
        provenance["parity_truncation"] = "applied by the reward model per sequence (spec §6)"
    docs = _BUILDERS[kind](data, chosen)
    return PreparedRun(kind, chosen, run_options, data, integrity, docs, provenance)


# --------------------------------------------------------------------------------------------
# Settling judge prompts for a model
# --------------------------------------------------------------------------------------------


#: How lm-eval users switch to context-only truncation (other harnesses name their own option).
CONTEXT_MODE_HINT = """--metadata '{"truncation": "context"}'"""


@dataclass(frozen=True)
class ModelLimits:
    """What is known about the receiving model: its context length (a hard limit: a longer prompt would
    be cut or rejected by the backend), the special tokens its backend adds to a prompt, and how the
    harness names the length option, the switch to context-only truncation and the tokenizer option
    (for messages)."""

    context_length: int | None = None
    added_tokens: int = 0
    length_option: str = "max_length"
    context_hint: str = CONTEXT_MODE_HINT
    tokenizer_hint: str | None = None


def limits_for(
    options: RunOptions, backend_context_length: int | None, tokenizer: Any = None, **names: str
) -> ModelLimits:
    """An explicit ``max_length``/``max_model_len`` option wins over what the backend reports."""
    counter = getattr(tokenizer, "num_special_tokens_to_add", None)
    added = int(counter(pair=False)) if callable(counter) else 0
    return ModelLimits(options.max_length or backend_context_length, added, **names)


def _context_span(doc: Mapping[str, Any]) -> tuple[str, str, str]:
    """The user message of a judge document as ``(before, context, after)``."""
    user, end = doc["user_prompt"], int(doc["context_end"])
    start = len(QUESTION_PREFIX)
    return user[:start], user[start:end], user[end:]


def _settled(doc: Mapping[str, Any], user: str, placement: str, sha256: str | None, **fields: Any) -> dict:
    return {
        **doc,
        "user_prompt": user,
        "context_end": len(user) - len(_context_span(doc)[2]),
        "system_placement": placement,
        "prompt_sha256": sha256,
        **fields,
    }


def _length_limit(renderer: Renderer, limits: ModelLimits, new_tokens: int) -> int | None:
    """Most prompt tokens the model can take (context length - ``new_tokens`` - the backend's special
    tokens), or ``None`` when it cannot be checked (no context length, no tokenizer, no prompt text)."""
    if limits.context_length is None or renderer.tokenizer is None or not renderer.knows_text:
        return None
    return limits.context_length - new_tokens - limits.added_tokens


def _refuse_too_long(
    docs: Sequence[Mapping[str, Any]], chosen: Sequence[int], limit: int, limits: ModelLimits, new_tokens: int
) -> None:
    """Raises :class:`PromptTooLongError` naming the prompts that do not fit (prompt + the backend's
    special tokens + ``new_tokens`` > context length); the token counts were taken when settling."""
    too_long = [
        i for i in chosen if docs[i]["prompt_tokens"] is not None and docs[i]["prompt_tokens"] > limit
    ]
    if too_long:
        first = docs[too_long[0]]
        raise PromptTooLongError(
            too_long_message(first, first["prompt_tokens"], limits, new_tokens, too_long[1:])
        )


def settle_judge_docs(
    docs: Sequence[Mapping[str, Any]],
    renderer: Renderer,
    options: RunOptions,
    *,
    limits: ModelLimits = ModelLimits(),
    indices: Sequence[int] | None = None,
    cache_parts: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The judge documents with their prompts settled for ``renderer``'s model (only ``indices``, when
    given: the documents a harness will actually send), and the provenance entries that say how."""
    chosen = list(range(len(docs))) if indices is None else list(indices)
    settled = [dict(doc) for doc in docs]
    if options.truncation == CONTEXT_MODE:
        provenance = _settle_context(settled, chosen, renderer, options, limits, cache_parts, progress)
    else:
        provenance = _settle_parity(settled, chosen, renderer, options, limits, cache_parts, progress)
    provenance["rendering"] = renderer.provenance()
    provenance["system_placement"] = placement_counts(settled[i] for i in chosen)
    if provenance["system_placement"].get("merged"):
        log.warning(
            "Long-RewardBench: the chat template refuses a system message: the judge instructions are "
            "merged into the user turn (%d samples; not parity)",
            provenance["system_placement"]["merged"],
        )
    return settled, provenance


def placement_counts(docs: Iterator[Mapping[str, Any]] | Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many documents had their instructions in each placement."""
    counts: dict[str, int] = {}
    for doc in docs:
        placement = doc.get("system_placement") or "unsettled"
        counts[placement] = counts.get(placement, 0) + 1
    return counts


def _settle_parity(
    docs: list[dict[str, Any]],
    chosen: Sequence[int],
    renderer: Renderer,
    options: RunOptions,
    limits: ModelLimits,
    cache_parts: Mapping[str, Any] | None,
    progress: bool,
) -> dict[str, Any]:
    if renderer.tokenizer is None or not renderer.knows_text:
        for index in chosen:
            doc = docs[index]
            prompt = renderer.render(doc["system_prompt"], doc["user_prompt"])
            docs[index] = _settled(
                doc,
                doc["user_prompt"],
                prompt.placement,
                prompt.sha256(),
                truncation=UNCHECKED,
                prompt_tokens=None,
            )
        why = (
            f"no tokenizer known (pass {limits.tokenizer_hint or 'tokenizer=... in model_args'})"
            if renderer.tokenizer is None
            else "the server renders the chat template"
        )
        return {"parity_truncation": f"not applied ({why})", "truncation_tokenizer": None}
    truncator = ParityTruncator(renderer)
    limit = _length_limit(renderer, limits, options.new_tokens)
    # Prompts that may not fit are counted with those the parity cut must measure: one pass.
    count_above = PARITY_MAX_TOKENS - 1 if limit is None else min(limit, PARITY_MAX_TOKENS - 1)

    def build() -> list[dict[str, Any]]:
        update, close = progress_bar(len(chosen), progress, "parity truncation")
        items = ((index, docs[index]["system_prompt"], docs[index]["user_prompt"]) for index in chosen)
        records = []
        try:
            for index, result in truncator.truncate_many(items, count_above=count_above):
                records.append(
                    {
                        "index": index,
                        "user": splice(docs[index]["user_prompt"], result.user),
                        "truncation": result.status,
                        "prompt_tokens": result.prompt_tokens,
                        "system_placement": result.prompt.placement,
                        "prompt_sha256": result.prompt.sha256(),
                    }
                )
                if update is not None:
                    update(1)
        finally:
            close()
        return records

    fingerprint = {**truncator.fingerprint(), "count_above": count_above}
    records, cache = _cached_records("parity-judge", options, cache_parts, docs, chosen, fingerprint, build)
    for record in records:
        doc = docs[record["index"]]
        docs[record["index"]] = _settled(
            doc,
            unsplice(doc["user_prompt"], record["user"]),
            record["system_placement"],
            record["prompt_sha256"],
            truncation=record["truncation"],
            prompt_tokens=record["prompt_tokens"],
        )
    if limit is not None:
        _refuse_too_long(docs, chosen, limit, limits, options.new_tokens)
    return {
        "parity_truncation": "applied",
        "truncation_tokenizer": tokenizer_name(renderer.tokenizer),
        "context_length": limits.context_length,
        "parity_cache": cache,
    }


def _settle_context(
    docs: list[dict[str, Any]],
    chosen: Sequence[int],
    renderer: Renderer,
    options: RunOptions,
    limits: ModelLimits,
    cache_parts: Mapping[str, Any] | None,
    progress: bool,
) -> dict[str, Any]:
    if renderer.tokenizer is None:
        hint = limits.tokenizer_hint or "tokenizer=... (or pretrained=...) in model_args or --metadata"
        raise LongRMError(f"context truncation needs the model's tokenizer: pass {hint}")
    budget = prompt_budget(options, limits.context_length, renderer.tokenizer)
    truncator = ContextTruncator(renderer, budget, marker=options.truncation_marker)

    def jobs() -> Iterator[CutJob]:
        for index in chosen:
            doc = docs[index]
            before, context, after = _context_span(doc)
            frame = truncator.frame(doc["system_prompt"], before, after)
            yield CutJob(context=context, frames=[frame], question=doc.get("question") or "", payload=index)

    def build() -> list[dict[str, Any]]:
        update, close = progress_bar(len(chosen), progress, "context truncation")
        records = []
        try:
            for job, cut in truncator.cut_many(jobs(), progress=update):
                doc = docs[job.payload]
                before, context, after = _context_span(doc)
                prompt = renderer.render(doc["system_prompt"], before + cut.context + after)
                records.append(
                    {
                        "index": job.payload,
                        "context": splice(context, cut.context),
                        "system_placement": prompt.placement,
                        "prompt_sha256": prompt.sha256(),
                        **_cut_record(truncator, cut),
                    }
                )
        finally:
            close()
        return records

    cuts, cache = _cached_records(
        "context-judge", options, cache_parts, docs, chosen, truncator.fingerprint(), build
    )
    over = []
    for record in cuts:
        index = record["index"]
        doc = docs[index]
        before, context, after = _context_span(doc)
        user = before + unsplice(context, record["context"]) + after
        fields = {key: value for key, value in record.items() if key not in _RECORD_KEYS}
        placement, sha256 = record["system_placement"], record["prompt_sha256"]
        docs[index] = _settled(doc, user, placement, sha256, truncation=NOT_CUT, **fields)
        if not record["within_budget"]:
            over.append(index)
    if over:
        first = docs[over[0]]
        tokens = first["prompt_tokens"]
        message = too_long_message(first, tokens, limits, options.new_tokens, over[1:], budget=budget)
        if limits.context_length is not None:
            raise PromptTooLongError(message)
        log.warning("Long-RewardBench: %s; they are sent beyond the budget", message)
    summary = truncation_summary(docs[index] for index in chosen)
    log.info(
        "Long-RewardBench: context-only truncation to %d tokens cut %d of %d rows",
        budget,
        sum(entry["cut"] for entry in summary.values()),
        len(chosen),
    )
    fingerprint = truncator.fingerprint()
    return {
        "truncation_mode": CONTEXT_MODE,
        "parity_truncation": "not applied (context-only truncation)",
        "truncation_tokenizer": tokenizer_name(renderer.tokenizer),
        "context_truncation": {
            "budget": budget,
            "budget_from": budget_source(options),
            "max_gen_toks": options.new_tokens,
            "special_tokens_reserved": truncator.reserve,
            "head_share": truncator.head_share,
            "marker": truncator.marker,
            "tokenizer_sha256": fingerprint["tokenizer_sha256"],
            "cache": cache,
            "by_bucket": summary,
        },
    }


def _cached_records(
    kind: str,
    options: RunOptions,
    cache_parts: Mapping[str, Any] | None,
    docs: Sequence[Mapping[str, Any]],
    chosen: Sequence[int],
    fingerprint: Mapping[str, Any],
    build: Callable[[], list[dict[str, Any]]],
) -> tuple[list[dict[str, Any]], str]:
    """Per-document records of a settling step from the preparation cache (else built, then stored),
    and how the cache served them: ``hit``, ``miss`` or ``off``."""
    folder = cache_dir({"cache_dir": options.cache_dir})
    if cache_parts is None:
        return build(), "off"
    parts = {**cache_parts, "documents": _identity(docs, chosen), "truncator": dict(fingerprint)}
    records, hit = cached(folder, kind, parts, build)
    return records, "off" if folder is None else ("hit" if hit else "miss")


def _identity(docs: Sequence[Mapping[str, Any]], chosen: Sequence[int]) -> str:
    """sha256 of the documents being settled, in order (a harness may settle a shard of a dataset)."""
    digest = hashlib.sha256()
    for index in chosen:
        doc = docs[index]
        digest.update(f"{index}\x00{doc['uid']}\x00{doc['order']}\x00{doc['system_prompt']}\x01".encode())
    return digest.hexdigest()


#: Keys of a cached record that are not document fields as they stand.
_RECORD_KEYS = ("index", "context", "system_placement", "prompt_sha256")


def _cut_record(truncator: ContextTruncator, cut: ContextCut) -> dict[str, Any]:
    return {"prompt_tokens": cut.prompt_tokens[0], **cut_fields(truncator, cut)}


def settle_audit_docs(
    docs: Sequence[Mapping[str, Any]],
    renderer: Renderer,
    options: RunOptions,
    *,
    limits: ModelLimits = ModelLimits(),
    indices: Sequence[int] | None = None,
    cache_parts: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Audit documents settled for a model: the context of each row cut once (context-only), shared by
    every presentation variant, to the user's budget in context mode, else to the parity threshold."""
    chosen = list(range(len(docs))) if indices is None else list(indices)
    settled = [dict(doc) for doc in docs]
    explicit = options.truncation == CONTEXT_MODE
    if renderer.tokenizer is None or not renderer.knows_text:
        if explicit:
            raise LongRMError("context truncation needs the model's tokenizer and its chat template")
        for index in chosen:
            prompt = renderer.render(settled[index]["system_prompt"], "")
            settled[index] = {**settled[index], "system_placement": prompt.placement}
        return settled, {"truncation_mode": "none (no tokenizer known)", "rendering": renderer.provenance()}
    budget = prompt_budget(options, limits.context_length, renderer.tokenizer) if explicit else AUDIT_BUDGET
    truncator = ContextTruncator(renderer, budget, marker=options.truncation_marker)

    def jobs() -> Iterator[CutJob]:
        for index in chosen:
            doc = settled[index]
            frames = [
                truncator.frame(doc["system_prompt"], *variant_frame(doc, variant))
                for variant in range(len(doc["orders"]))
            ]
            yield CutJob(doc["context"], frames, doc.get("question") or "", index)

    def build() -> list[dict[str, Any]]:
        update, close = progress_bar(len(chosen), progress, "audit: context truncation")
        records = []
        try:
            for job, cut in truncator.cut_many(jobs(), progress=update):
                doc = settled[job.payload]
                records.append(
                    {
                        "index": job.payload,
                        "context": splice(doc["context"], cut.context),
                        "system_placement": renderer.render(doc["system_prompt"], cut.context).placement,
                        **cut_fields(truncator, cut),
                        "prompt_tokens": max(cut.prompt_tokens),
                    }
                )
        finally:
            close()
        return records

    cuts, cache = _cached_records(
        "context-audit", options, cache_parts, settled, chosen, truncator.fingerprint(), build
    )
    for record in cuts:
        index = record["index"]
        doc = settled[index]
        fields = {key: value for key, value in record.items() if key not in _RECORD_KEYS}
        context = unsplice(doc["context"], record["context"])
        settled[index] = {
            **doc,
            "context": context,
            **fields,
            "truncation": NOT_CUT,
            "system_placement": record["system_placement"],
        }
    return settled, {
        "truncation_mode": CONTEXT_MODE if explicit else "context-only at the parity threshold",
        "parity_truncation": "not applied (the audit cuts contexts once per row)",
        "truncation_tokenizer": tokenizer_name(renderer.tokenizer),
        "rendering": renderer.provenance(),
        "system_placement": placement_counts(settled[i] for i in chosen),
        "context_truncation": {
            "budget": budget,
            "cache": cache,
            "by_bucket": truncation_summary(settled[index] for index in chosen),
        },
    }


def data_cache_parts(prepared: PreparedRun) -> dict[str, Any]:
    """What identifies a prepared run's documents for the preparation cache."""
    return {
        "kind": prepared.kind,
        "formats": prepared.formats,
        "data_sha256": prepared.data.sha256,
        "data_source": prepared.data.source,
    }


# --------------------------------------------------------------------------------------------
# Judged outputs
# --------------------------------------------------------------------------------------------


class EmptyJudgeOutputError(LongRMError):
    """Strict mode: the backend returned no text for a sample (often a swallowed API failure)."""


def refuse_empty_output(empty: bool, uid: Any, strict: bool, resume_hint: str) -> None:
    """In strict mode an empty judge output stops the run (it would be scored 0 as unparsed)."""
    if empty and strict:
        raise EmptyJudgeOutputError(
            f"{uid}: the judge returned no text (a swallowed API failure?); strict mode stops here. "
            f"Fix the backend and rerun ({resume_hint})"
        )
