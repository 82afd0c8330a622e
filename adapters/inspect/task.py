"""One Long-RewardBench Inspect task, built from the core: translation only.

The core prepares the documents (:func:`longrm_tasks.run.prepare_run`: rows, integrity checks, official
presentation orders, prompts, provenance, strict mode) and settles every judge prompt for the model being
evaluated (:func:`longrm_tasks.run.settle_judge_docs`: the chat-template policy, parity or context-only
truncation, length checks). This module turns each settled document into an Inspect ``Sample`` (the
prompt's messages; the document's fields as metadata, which the scorer and the report reader read) and
records the provenance in the eval log's metadata under ``longrm``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessage, ChatMessageSystem, ChatMessageUser
from inspect_ai.solver import generate

from longrm_tasks.constants import BEST_OF_N
from longrm_tasks.errors import LongRMError, install_excepthook
from longrm_tasks.options import CONTEXT_MODE
from longrm_tasks.rendering import JudgePrompt, Renderer
from longrm_tasks.run import NOCONTEXT, data_cache_parts, limits_for, prepare_run, settle_judge_docs
from longrm_tasks.scoring import CONTEXT_CUT_METRIC, EXACT_MATCH_METRICS, JUDGE_EXTRA_METRICS, metric_keys

from .model import InspectJudge, inspect_judge
from .scorer import longrm_verdict

install_excepthook()

#: How the length and truncation options are named on Inspect's command line (for error messages).
LENGTH_OPTION = "-T max_length"
CONTEXT_HINT = "-T truncation=context"
TOKENIZER_HINT = "-T tokenizer=<the judge's tokenizer>"
#: Fields of a settled document that are the prompt itself: sent as the sample's messages, not metadata.
PROMPT_FIELDS = ("system_prompt", "user_prompt", "context_end", "question")
_MESSAGES = {"system": ChatMessageSystem, "user": ChatMessageUser}


def sample_messages(prompt: JudgePrompt) -> list[ChatMessage]:
    """The settled prompt as Inspect chat messages (a real system message unless it was merged)."""
    return [_MESSAGES[message["role"]](content=message["content"]) for message in prompt.message_list()]


def judge_sample(doc: Mapping[str, Any], renderer: Renderer) -> Sample:
    """One presented row: the prompt that was measured, the row's fields for the scorer and reader."""
    prompt = renderer.render(doc["system_prompt"], doc["user_prompt"])
    if doc.get("prompt_sha256") and prompt.sha256() not in (None, doc["prompt_sha256"]):
        raise LongRMError(f"{doc['uid']}: the prompt to send differs from the prompt measured")
    return Sample(
        input=sample_messages(prompt),
        target=str(doc["order"]),
        id=doc["uid"],
        metadata={key: value for key, value in doc.items() if key not in PROMPT_FIELDS},
    )


def task_metric_keys(kind: str, formats: Sequence[str], truncation: str) -> list[str]:
    """The figures a task reports: the lm-eval task's keys for the same kind, formats and mode."""
    extra = [*JUDGE_EXTRA_METRICS, *([CONTEXT_CUT_METRIC] if truncation == CONTEXT_MODE else [])]
    keys = metric_keys(formats, extra)
    if kind == NOCONTEXT and BEST_OF_N in formats:
        keys += EXACT_MATCH_METRICS
    return keys


def judge_task(
    name: str, kind: str, formats: Sequence[str], sample: bool, parameters: Mapping[str, Any]
) -> Task:
    """The Inspect task ``name``: the core's documents of ``kind`` and ``formats`` (the bundled sample
    when ``sample``), settled for the model being evaluated, with the task ``parameters`` as options."""
    prepared = prepare_run(kind, parameters, formats=formats, sample=sample)
    judge: InspectJudge = inspect_judge(prepared.options)
    renderer, options = judge.renderer, judge.options
    limits = limits_for(
        options,
        None,
        renderer.tokenizer,
        length_option=LENGTH_OPTION,
        context_hint=CONTEXT_HINT,
        tokenizer_hint=TOKENIZER_HINT,
    )
    settled, provenance = settle_judge_docs(
        prepared.docs, renderer, options, limits=limits, cache_parts=data_cache_parts(prepared)
    )
    keys = task_metric_keys(kind, prepared.formats, options.truncation)
    return Task(
        dataset=MemoryDataset([judge_sample(doc, renderer) for doc in settled], name=name),
        solver=generate(),
        scorer=longrm_verdict(keys, strict=prepared.strict, exact_match=kind == NOCONTEXT),
        config=judge.generate_config(),
        metadata={"longrm": {**prepared.provenance, **provenance}},
    )
