"""The lm-eval task classes behind every ``longrewardbench*`` task.

What varies per task (formats, data source) is in the YAML; rows, orders, prompts, parsing and
metrics come from the harness-agnostic core, so every harness scores identically by construction.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import datasets
import jinja2
from lm_eval.api.task import ConfigurableTask

from longrm_tasks import __version__
from longrm_tasks.adapters.lm_eval.long_context import context_mode_docs
from longrm_tasks.adapters.lm_eval.registration import STDERR_ATTRIBUTE, patch_stderr
from longrm_tasks.constants import HUB_REVISION, ORDER_SEED, TASK_TYPES
from longrm_tasks.context_truncation import CONTEXT_MODE, context_judge_docs, truncation_mode
from longrm_tasks.data import BenchmarkData, load_benchmark
from longrm_tasks.errors import LongRMError, install_excepthook
from longrm_tasks.integrity import check_integrity
from longrm_tasks.items import judge_items, reward_items
from longrm_tasks.prompts import PROMPT_SET_ID, context_text, prompt_set_sha256
from longrm_tasks.scoring import (
    BEST_OF_N_METRICS,
    EMPTY_OUTPUT_METRIC,
    METRIC_REDUCERS,
    PAIRWISE_METRICS,
    PARSE_FAILURE_METRIC,
    TRUNCATION_METRICS,
    ScoredSample,
    metric_inputs,
    score_output,
    score_rewards,
    standard_error_of_present,
)
from longrm_tasks.truncation import load_truncator, plain_layout

log = logging.getLogger("longrm_tasks")
install_excepthook()
patch_stderr()

#: Task options read from the YAML's ``dataset_kwargs`` (prefixed: metadata shares the namespace).
FORMATS_KEY, SAMPLE_KEY = "longrm_formats", "longrm_sample"
#: User options read from ``--metadata`` (and ``model_args``).
DATA_DIR_KEY, STRICT_KEY = "data_dir", "strict"
#: Environment switch for strict mode (same as ``--metadata '{"strict": true}'``).
STRICT_ENV = "LONGRM_STRICT"
_LOWER_IS_BETTER = (PARSE_FAILURE_METRIC, *TRUNCATION_METRICS, EMPTY_OUTPUT_METRIC)


def strict_mode(options: dict[str, Any]) -> bool:
    """Strict mode turns integrity warnings and empty judge outputs into errors."""
    value = options.get(STRICT_KEY, os.environ.get(STRICT_ENV, ""))
    return value is True or str(value).lower() in ("1", "true", "yes")


class EmptyJudgeOutputError(LongRMError):
    """Strict mode: the backend returned no text for a sample (often a swallowed API failure)."""


def metric_names(formats: list[str], extra: tuple[str, ...]) -> list[str]:
    """Metrics a task over ``formats`` reports (the headline ``avg`` first, then ``extra``)."""
    names = ["avg"]
    if "PairWise" in formats:
        names += PAIRWISE_METRICS
    if "BestOfN" in formats:
        names += BEST_OF_N_METRICS
    return [*names, *extra]


#: What lm-eval shows for a metric none of the task's samples count for (its own word for "no value").
NO_ROWS = "N/A"
#: The metric whose standard error lm-eval shows (the headline; intervals for the subsets come from
#: ``longrm report``'s bootstrap, which resamples within task files).
STDERR_METRICS = ("avg",)


def lm_eval_aggregation(name: str) -> Callable[[Iterable[Any]], float | str]:
    """lm-eval's aggregation of metric ``name``: the core reducer, unchanged, over the per-sample values.

    A subset without rows shows ``N/A`` instead of the official evaluator's 0 (which reads as 0 %
    accuracy). The headline carries its standard error (see :func:`registration.patch_stderr`).
    """
    reducer = METRIC_REDUCERS[name]

    def aggregate(values: Iterable[Any]) -> float | str:
        values = list(values)
        if all(value is None for value in values):
            return NO_ROWS
        return reducer(values)

    aggregate.__name__ = aggregate.__qualname__ = f"longrm_{name}"
    if name in STDERR_METRICS:
        setattr(aggregate, STDERR_ATTRIBUTE, standard_error_of_present)
    return aggregate


def _doc_fields(doc: dict[str, Any]) -> dict[str, Any]:
    keys = ("task_file", "tasktype", "subtype", "length_bucket", "order")
    return {key: doc[key] for key in keys}


def judge_sample(doc: dict[str, Any], results: list[str]) -> ScoredSample:
    """A generative judge's output for one document, scored by the core."""
    return score_output(results[0], truncation=doc["truncation"], **_doc_fields(doc))[1]


def reward_sample(doc: dict[str, Any], results: list[tuple[float, bool]]) -> ScoredSample:
    """The rewards (one log-likelihood-shaped result per presented slot), scored by the core."""
    return score_rewards([reward for reward, _ in results], **_doc_fields(doc))[1]


def process_results(
    doc: dict[str, Any],
    results: list[Any],
    metrics: list[str],
    to_sample: Callable[[dict[str, Any], list[Any]], ScoredSample],
    strict: Callable[[], bool] = lambda: False,
) -> dict[str, Any]:
    """Per-metric values of one document for the metrics this task reports."""
    sample = to_sample(doc, results)
    if sample.empty_output and strict():
        raise EmptyJudgeOutputError(
            f"{doc['uid']}: the judge returned no text (a swallowed API failure?); strict mode stops here. "
            "Fix the backend and rerun (--use_cache keeps the answered requests, but also caches this "
            "empty one: delete the cache file or run without strict to score it as unparsed)"
        )
    values = metric_inputs(sample)
    return {name: values[name] for name in metrics}


class _LongRewardBenchBase(ConfigurableTask):
    """Shared set-up: metric list from the core, data loading, provenance in the results."""

    #: Metrics beyond the paper's columns that this kind of task reports.
    EXTRA_METRICS: ClassVar[tuple[str, ...]] = ()
    #: Turns a document and the harness's results into a scored sample.
    TO_SAMPLE: ClassVar[Callable[[dict[str, Any], list[Any]], ScoredSample]]

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        config = {key: value for key, value in (config or {}).items() if key != "class"}
        formats = list((config.get("dataset_kwargs") or {}).get(FORMATS_KEY, TASK_TYPES))
        specs = self.metric_specs(formats)
        names = [name for name, _, _ in specs]
        config["metric_list"] = [
            {"metric": name, "aggregation": aggregation, "higher_is_better": higher}
            for name, aggregation, higher in specs
        ]
        self.strict = False
        config["process_results"] = functools.partial(
            process_results, metrics=names, to_sample=type(self).TO_SAMPLE, strict=lambda: self.strict
        )
        super().__init__(config=config, **kwargs)

    def metric_specs(self, formats: list[str]) -> list[tuple[str, Callable[..., float], bool]]:
        """``(key, aggregation, higher_is_better)`` of every metric this task reports."""
        return [
            (name, lm_eval_aggregation(name), name not in _LOWER_IS_BETTER)
            for name in metric_names(formats, self.EXTRA_METRICS)
        ]

    def build_docs(
        self, data: BenchmarkData, formats: list[str], options: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Documents for ``formats`` and the task-specific provenance entries."""
        raise NotImplementedError

    def download(self, dataset_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Load, validate, order and render the rows with the core (no ``datasets`` hub call)."""
        options = {**(self.config.metadata or {}), **(dataset_kwargs or {})}
        formats = list(options.get(FORMATS_KEY, TASK_TYPES))
        sample = bool(options.get(SAMPLE_KEY))
        self.strict = strict_mode(options)
        data = load_benchmark(options.get(DATA_DIR_KEY), sample=sample)
        integrity = check_integrity(data, full_set=not sample, strict=self.strict)
        for problem in integrity.problems:
            log.warning("%s: %s", self.config.task, problem)
        docs, extra_provenance = self.build_docs(data, formats, options)
        self.dataset = datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})
        self.config.metadata = {
            **(self.config.metadata or {}),
            "longrm": {
                "package_version": __version__,
                "prompt_set": PROMPT_SET_ID,
                "prompt_set_sha256": prompt_set_sha256(),
                "order_seed": ORDER_SEED,
                "pinned_hub_revision": HUB_REVISION,
                "data": data.provenance(),
                "formats": formats,
                "integrity": integrity.to_provenance(),
                "strict": self.strict,
                **extra_provenance,
            },
        }


def doc_to_user_prompt(doc: dict[str, Any]) -> str:
    """The judge's user message (logged by lm-eval; prompts are built in ``fewshot_context``)."""
    return doc["user_prompt"]


def doc_to_order(doc: dict[str, Any]) -> str:
    """Gold rank of each presented slot, e.g. ``[1, 0]`` (slot B holds the chosen response)."""
    return str(doc["order"])


class LongRewardBenchTask(_LongRewardBenchBase):
    """Generative-judge task: one request per presented row, scored by the core."""

    EXTRA_METRICS = (PARSE_FAILURE_METRIC, EMPTY_OUTPUT_METRIC, *TRUNCATION_METRICS)
    TO_SAMPLE = judge_sample

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        config = dict(config or {})
        config.setdefault("doc_to_text", doc_to_user_prompt)
        config.setdefault("doc_to_target", doc_to_order)
        super().__init__(config=config, **kwargs)

    def build_docs(
        self, data: BenchmarkData, formats: list[str], options: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        if truncation_mode(options) == CONTEXT_MODE:  # opt-in: --metadata '{"truncation": "context"}'
            return context_mode_docs(self.config, data, formats, options, "judge", context_judge_docs)
        notes: list[str] = []
        truncator = load_truncator(options, notes.append)
        for note in notes:
            log.warning("%s: %s", self.config.task, note)
        docs = [item.to_doc() for item in judge_items(data, formats, truncator)]
        tokenizer = getattr(truncator, "tokenizer", None)
        return docs, {
            "parity_truncation": "applied" if truncator else f"not applied ({'; '.join(notes)})",
            "truncation_tokenizer": getattr(tokenizer, "name_or_path", None),
        }

    def fewshot_context(
        self,
        doc: dict[str, Any],
        num_fewshot: int,
        system_instruction: str | None = None,
        apply_chat_template: bool = False,
        fewshot_as_multiturn: bool = False,
        chat_template: Any = None,
        gen_prefix: str | None = None,
    ) -> str:
        """System prompt as a real system message under a chat template; plain layout otherwise."""
        if num_fewshot:
            raise ValueError(f"{self.config.task} is zero-shot by definition; drop --num_fewshot")
        system = doc["system_prompt"]
        if system_instruction:
            log.warning(
                "%s: --system_instruction is prepended to the judge prompt (not parity)", self.config.task
            )
            system = system_instruction + "\n\n" + system
        messages = [{"role": "system", "content": system}, {"role": "user", "content": doc["user_prompt"]}]
        if not (apply_chat_template and chat_template):
            return plain_layout(messages)
        return render_chat(chat_template, messages)


def render_chat(chat_template: Any, messages: list[dict[str, str]]) -> str:
    """Apply the model's chat template like the official evaluator (``enable_thinking=False``).

    For local HF-tokenizer backends the tokenizer is called directly so thinking can be turned off
    (a user's own ``enable_thinking`` in model_args wins); a template that rejects the system role
    gets the system prompt merged into the user turn. API backends get the messages as they are.
    """
    lm = getattr(chat_template, "__self__", None)
    tokenizer = getattr(lm, "tokenizer", None)
    template_args = getattr(lm, "chat_template_args", None)
    if tokenizer is None or template_args is None or not getattr(tokenizer, "chat_template", None):
        return chat_template(messages)
    args = {"enable_thinking": False, **template_args}
    if getattr(lm, "enable_thinking", None) is not None:
        args["enable_thinking"] = lm.enable_thinking
    try:
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **args)
    except jinja2.exceptions.TemplateError:
        merged = [{"role": "user", "content": messages[0]["content"] + "\n\n" + messages[1]["content"]}]
        log.warning(
            "chat template rejects a system message: merged the judge instructions into the user turn"
        )
        return tokenizer.apply_chat_template(merged, tokenize=False, add_generation_prompt=True, **args)


def doc_to_context(doc: dict[str, Any]) -> str:
    """The conversation as text (what ``--model hf`` conditions on; ``longrm-rm`` reads the doc)."""
    return context_text(doc["prompt_template"]) + "\n\n"


def doc_to_slots(doc: dict[str, Any]) -> list[str]:
    """The presented responses, in slot order: the multiple-choice options."""
    return list(doc["slots"])


def doc_to_best_slot(doc: dict[str, Any]) -> int:
    """Slot holding the gold-best response."""
    return list(doc["order"]).index(0)


class LongRewardBenchRMTask(_LongRewardBenchBase):
    """Scalar-RM task: each presented response is a choice whose "log-likelihood" is its reward.

    With ``--model longrm-rm`` that is the first logit of a sequence classifier on
    ``prompt_template + [assistant: response]`` (spec §5). With ``--model hf`` it is the causal
    LM's summed log-probability of the response given the conversation: an implicit reward.
    """

    TO_SAMPLE = reward_sample

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        config = dict(config or {})
        config.setdefault("doc_to_text", doc_to_context)
        config.setdefault("doc_to_choice", doc_to_slots)
        config.setdefault("doc_to_target", doc_to_best_slot)
        config.setdefault("target_delimiter", "")
        super().__init__(config=config, **kwargs)

    def build_docs(
        self, data: BenchmarkData, formats: list[str], options: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        docs = [item.to_doc() for item in reward_items(data, formats)]
        return docs, {"parity_truncation": "applied by the longrm-rm backend per sequence (spec §6)"}
