"""The lm-eval task classes behind every ``longrewardbench*`` task: translation between lm-eval and the core.

What varies per task (formats, data source) is in the YAML. Rows, orders, prompts, rendering,
truncation, parsing and metrics come from the harness-agnostic core (:mod:`longrm_tasks.run`,
:mod:`longrm_tasks.scoring`), so every harness scores identically by construction. The judge prompts are
settled when lm-eval builds its requests, because only then does the task see the model (its tokenizer,
chat template arguments and context length) and whether ``--apply_chat_template`` is on.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

import datasets
from lm_eval.api.task import ConfigurableTask

from longrm_tasks.adapters.lm_eval.registration import STDERR_ATTRIBUTE, patch_stderr
from longrm_tasks.constants import MAX_NEW_TOKENS, TASK_TYPES, TEMPERATURE
from longrm_tasks.errors import LongRMError, install_excepthook
from longrm_tasks.options import CONTEXT_MODE, RunOptions, parse_bool
from longrm_tasks.prompts import implicit_reward_context
from longrm_tasks.rendering import JudgePrompt, Renderer, with_instruction
from longrm_tasks.run import (
    JUDGE,
    REWARD,
    ModelLimits,
    PreparedRun,
    data_cache_parts,
    limits_for,
    prepare_run,
    refuse_empty_output,
    settle_judge_docs,
)
from longrm_tasks.scoring import (
    CONTEXT_CUT_METRIC,
    JUDGE_EXTRA_METRICS,
    LOWER_IS_BETTER,
    METRIC_REDUCERS,
    ScoredSample,
    metric_inputs,
    metric_keys,
    score_judged_doc,
    score_rewarded_doc,
    standard_error_of_present,
)
from longrm_tasks.truncation.tokenizers import TokenizerLoadError, chat_tokenizer, tokenizer_from_options

log = logging.getLogger("longrm_tasks")
install_excepthook()
patch_stderr()

#: Task options read from the YAML's ``dataset_kwargs`` (prefixed: metadata shares the namespace).
FORMATS_KEY, SAMPLE_KEY = "longrm_formats", "longrm_sample"
#: Generation settings of every judge task (spec §3): greedy, no stop strings (lm-eval's default
#: ``"\n\n"`` would cut the judge's explanation), the protocol's budget of new tokens.
JUDGE_GENERATION: dict[str, Any] = {
    "until": [],
    "do_sample": False,
    "temperature": TEMPERATURE,
    "max_gen_toks": MAX_NEW_TOKENS,
}
USE_CACHE_HINT = (
    "--use_cache keeps the answered requests, but also caches this empty one: delete the cache file or run "
    "without strict to score it as unparsed"
)

MetricSpec = tuple[str, Callable[..., float], bool]


# --------------------------------------------------------------------------------------------
# lm-eval's model, as the core needs it
# --------------------------------------------------------------------------------------------


def _is_api(lm: Any) -> bool:
    try:
        from lm_eval.models.api_models import TemplateAPI
    except ImportError:  # lm-eval without the API extras
        return False
    return isinstance(lm, TemplateAPI)


def sends_messages(lm: Any, chat_template: Callable[..., Any] | None) -> bool:
    """Whether the backend sends chat messages (a server renders them) rather than a prompt text; a
    completions endpoint always takes text."""
    if chat_template is None or not _is_api(lm):
        return False
    from lm_eval.models.openai_completions import LocalChatCompletion, LocalCompletionsAPI

    if isinstance(lm, LocalCompletionsAPI) and not isinstance(lm, LocalChatCompletion):
        return False
    return not isinstance(chat_template([{"role": "user", "content": "probe"}]), str)


def renderer_for(lm: Any, apply_chat_template: bool, options: RunOptions) -> Renderer:
    """The core renderer for lm-eval's model: its own tokenizer and template arguments when it has them
    (``hf``, ``vllm``, completions with a HF tokenizer), else the tokenizer named in the options."""
    tokenizer = chat_tokenizer(getattr(lm, "tokenizer", None))  # vLLM's is a HF one too
    if tokenizer is None:
        try:
            tokenizer = tokenizer_from_options(options, purpose="parity truncation")
        except TokenizerLoadError as error:
            if options.truncation == CONTEXT_MODE:
                raise
            log.warning("%s; parity truncation not applied", error)
    args = dict(options.chat_template_args)
    thinking = options.enable_thinking
    if lm is not None and not _is_api(lm):
        args.update(getattr(lm, "chat_template_args", None) or {})
        if getattr(lm, "enable_thinking", None) is not None:
            thinking = lm.enable_thinking
    if thinking is not None:
        args["enable_thinking"] = thinking
    return Renderer(tokenizer, args, chat=apply_chat_template)


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


def model_limits(lm: Any, options: RunOptions, renderer: Renderer) -> ModelLimits:
    """Local backends know their context length (``hf``: ``max_length``; ``vllm``: ``max_model_len``);
    API models only through an explicit ``max_length`` option (their default is a placeholder)."""
    length = None if lm is None or _is_api(lm) else getattr(lm, "max_length", None)
    return limits_for(options, length if isinstance(length, int) else None, renderer.tokenizer)


# --------------------------------------------------------------------------------------------
# Task classes
# --------------------------------------------------------------------------------------------


def _process_results(task: _LongRewardBenchBase, doc: dict[str, Any], results: list[Any]) -> dict[str, Any]:
    values = task.sample_values(doc, results)
    return {name: values[name] for name in task.metric_names}


class _LongRewardBenchBase(ConfigurableTask):
    """Shared set-up: metric list from the core, data preparation, provenance in the results."""

    #: Documents of this task (``longrm_tasks.run`` kinds).
    KIND: ClassVar[str]
    #: Metrics beyond the paper's columns that this kind of task reports.
    EXTRA_METRICS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        config = {key: value for key, value in (config or {}).items() if key != "class"}
        self.options = RunOptions.from_mapping({**(config.get("metadata") or {})})
        formats = list((config.get("dataset_kwargs") or {}).get(FORMATS_KEY, TASK_TYPES))
        specs = self.metric_specs(formats)
        self.metric_names = [name for name, _, _ in specs]
        config["metric_list"] = [
            {"metric": name, "aggregation": aggregation, "higher_is_better": higher}
            for name, aggregation, higher in specs
        ]
        self.strict = False
        self.prepared: PreparedRun | None = None
        config["process_results"] = functools.partial(_process_results, self)
        super().__init__(config=config, **kwargs)

    def extra_metrics(self) -> tuple[str, ...]:
        return self.EXTRA_METRICS

    def metric_specs(self, formats: list[str]) -> list[MetricSpec]:
        """``(key, aggregation, higher_is_better)`` of every metric this task reports."""
        return [
            (name, lm_eval_aggregation(name), name not in LOWER_IS_BETTER)
            for name in metric_keys(formats, self.extra_metrics())
        ]

    def to_sample(self, doc: dict[str, Any], results: list[Any]) -> ScoredSample:
        """The core's scored sample of one document and the harness's results for it."""
        raise NotImplementedError

    def sample_values(self, doc: dict[str, Any], results: list[Any]) -> dict[str, Any]:
        """Per-metric values of one document (``None`` where it does not count)."""
        return metric_inputs(self.to_sample(doc, results))

    def download(self, dataset_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Load, validate, order and present the rows with the core (no ``datasets`` hub call)."""
        options = {**(self.config.metadata or {}), **(dataset_kwargs or {})}
        formats = list(options.get(FORMATS_KEY, TASK_TYPES))
        sample = parse_bool(options.get(SAMPLE_KEY), SAMPLE_KEY)
        self.prepared = prepare_run(self.KIND, options, formats=formats, sample=sample)
        self.options = self.prepared.options
        self.strict = self.prepared.strict
        self._set_docs(self.prepared.docs, {})

    def _set_docs(self, docs: list[dict[str, Any]], provenance: dict[str, Any]) -> None:
        assert self.prepared is not None
        self.dataset = datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})
        self.config.metadata = {
            **(self.config.metadata or {}),
            "longrm": {**self.prepared.provenance, **provenance},
        }


class LongRewardBenchTask(_LongRewardBenchBase):
    """Generative-judge task: one request per presented row, settled and scored by the core."""

    KIND = JUDGE
    EXTRA_METRICS = JUDGE_EXTRA_METRICS
    #: The core function that settles this task's documents for a model.
    SETTLE: ClassVar[Callable[..., tuple[list[dict[str, Any]], dict[str, Any]]]]
    SETTLE = staticmethod(settle_judge_docs)

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        config = dict(config or {})
        config.setdefault("doc_to_text", doc_to_user_prompt)
        config.setdefault("doc_to_target", doc_to_order)
        config["generation_kwargs"] = {**JUDGE_GENERATION, **(config.get("generation_kwargs") or {})}
        self.renderer: Renderer = Renderer(chat=False)
        self.chat_api = False
        super().__init__(config=config, **kwargs)

    def extra_metrics(self) -> tuple[str, ...]:
        context = self.options.truncation == CONTEXT_MODE
        return (*self.EXTRA_METRICS, *((CONTEXT_CUT_METRIC,) if context else ()))

    def to_sample(self, doc: dict[str, Any], results: list[Any]) -> ScoredSample:
        sample = score_judged_doc(doc, results[0])[1]
        refuse_empty_output(sample.empty_output, doc["uid"], self.strict, USE_CACHE_HINT)
        return sample

    def build_all_requests(self, **kwargs: Any) -> None:
        """Settle the prompts of the documents lm-eval will send (rendering, truncation, length check)
        for the model behind ``chat_template``, then let lm-eval build the requests."""
        assert self.prepared is not None
        chat_template = kwargs.get("chat_template")
        lm = getattr(chat_template, "__self__", None)
        budget = (self.config.generation_kwargs or {}).get("max_gen_toks", MAX_NEW_TOKENS)
        options = dataclasses.replace(self.options, max_gen_toks=int(budget))
        self.renderer = renderer_for(lm, bool(kwargs.get("apply_chat_template")), options)
        self.chat_api = sends_messages(lm, chat_template)
        docs = self.prepared.docs
        instruction = kwargs.pop("system_instruction", None)
        if instruction:
            log.warning(
                "%s: --system_instruction is prepended to the judge prompt (not parity)", self.config.task
            )
            docs = [
                {**doc, "system_prompt": with_instruction(doc["system_prompt"], instruction)} for doc in docs
            ]
        indices = None
        if not kwargs.get("cache_requests"):
            self._set_docs(docs, {})
            indices = [doc_id for doc_id, _ in self.doc_iterator(
                rank=kwargs.get("rank", 0), limit=kwargs.get("limit"), samples=kwargs.get("samples"),
                world_size=kwargs.get("world_size", 1),
            )]  # fmt: skip
        settled, provenance = type(self).SETTLE(
            docs,
            self.renderer,
            options,
            limits=model_limits(lm, options, self.renderer),
            indices=indices,
            cache_parts=data_cache_parts(self.prepared),
            progress=True,
        )
        self._set_docs(settled, provenance)
        super().build_all_requests(**kwargs)

    def prompts_for(self, doc: dict[str, Any]) -> list[JudgePrompt]:
        """The settled prompt of each request of ``doc`` (one for a judge task)."""
        prompt = self.renderer.render(doc["system_prompt"], doc["user_prompt"])
        if doc.get("prompt_sha256") and prompt.sha256() not in (None, doc["prompt_sha256"]):
            raise LongRMError(f"{doc['uid']}: the prompt to send differs from the prompt measured")
        return [prompt]

    def fewshot_context(
        self,
        doc: dict[str, Any],
        num_fewshot: int,
        system_instruction: str | None = None,
        apply_chat_template: bool = False,
        fewshot_as_multiturn: bool = False,
        chat_template: Any = None,
        gen_prefix: str | None = None,
    ) -> Any:
        """The settled prompt: its text for text backends, its messages for chat APIs."""
        if num_fewshot:
            raise ValueError(f"{self.config.task} is zero-shot by definition; drop --num_fewshot")
        contexts = []
        for prompt in self.prompts_for(doc):
            if self.chat_api and chat_template is not None:
                contexts.append(chat_template(prompt.message_list()))
            else:
                contexts.append(prompt.text)
        return contexts[0] if len(contexts) == 1 else contexts

    def construct_requests(self, doc: dict[str, Any], ctx: Any, **kwargs: Any) -> Any:
        """lm-eval's requests; chat APIs get the template arguments (e.g. ``enable_thinking``) when the
        model's template reads them, so the server renders what was measured."""
        instances = super().construct_requests(doc=doc, ctx=ctx, **kwargs)
        if self.chat_api and self.renderer.thinking_switch():
            for instance in instances if isinstance(instances, list) else [instances]:
                context, generation = instance.arguments
                generation = {**generation, "chat_template_kwargs": self.renderer.template_args}
                instance.arguments = (context, generation)
        return instances


def doc_to_user_prompt(doc: dict[str, Any]) -> str:
    """The judge's user message (logged by lm-eval; prompts are built in ``fewshot_context``)."""
    return doc["user_prompt"]


def doc_to_order(doc: dict[str, Any]) -> str:
    """Gold rank of each presented slot, e.g. ``[1, 0]`` (slot B holds the chosen response)."""
    return str(doc["order"])


def doc_to_context(doc: dict[str, Any]) -> str:
    """The conversation as text (what ``--model hf`` conditions on; ``longrm-rm`` reads the doc)."""
    return implicit_reward_context(doc["prompt_template"])


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

    KIND = REWARD

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        config = dict(config or {})
        config.setdefault("doc_to_text", doc_to_context)
        config.setdefault("doc_to_choice", doc_to_slots)
        config.setdefault("doc_to_target", doc_to_best_slot)
        config.setdefault("target_delimiter", "")
        super().__init__(config=config, **kwargs)

    def to_sample(self, doc: dict[str, Any], results: list[Any]) -> ScoredSample:
        """The rewards (one log-likelihood-shaped result per presented slot), scored by the core."""
        rewards: Sequence[float] = [reward for reward, _ in results]
        return score_rewarded_doc(doc, rewards)[1]
