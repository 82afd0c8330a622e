"""The lm-eval task class behind every ``longrewardbench*`` generative task.

What varies per task (formats, data source) is in the YAML; everything else comes from the
harness-agnostic core, so lm-eval and OpenCompass score identically by construction.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import datasets
import jinja2
from lm_eval.api.task import ConfigurableTask

from longrm_tasks import __version__
from longrm_tasks.constants import HUB_REVISION, ORDER_SEED, TASK_TYPES
from longrm_tasks.data import load_benchmark
from longrm_tasks.errors import install_excepthook
from longrm_tasks.items import judge_items
from longrm_tasks.prompts import PROMPT_SET_ID, prompt_set_sha256
from longrm_tasks.scoring import (
    BEST_OF_N_METRICS,
    METRIC_REDUCERS,
    PAIRWISE_METRICS,
    PARSE_FAILURE_METRIC,
    TRUNCATION_METRICS,
    metric_inputs,
    score_output,
)
from longrm_tasks.truncation import load_truncator, plain_layout

log = logging.getLogger("longrm_tasks")
install_excepthook()

#: Task options read from the YAML's ``dataset_kwargs`` (prefixed: metadata shares the namespace).
FORMATS_KEY, SAMPLE_KEY = "longrm_formats", "longrm_sample"
#: User options read from ``--metadata`` (and ``model_args``).
DATA_DIR_KEY = "data_dir"


def metric_names(formats: list[str]) -> list[str]:
    """Metrics a task over ``formats`` reports (the headline ``avg`` first)."""
    names = ["avg"]
    if "PairWise" in formats:
        names += PAIRWISE_METRICS
    if "BestOfN" in formats:
        names += BEST_OF_N_METRICS
    return [*names, PARSE_FAILURE_METRIC, *TRUNCATION_METRICS]


def process_results(doc: dict[str, Any], results: list[str], metrics: list[str]) -> dict[str, Any]:
    """Score one judge output with the core; return this task's per-metric values."""
    _, sample = score_output(
        results[0],
        task_file=doc["task_file"],
        tasktype=doc["tasktype"],
        subtype=doc["subtype"],
        length_bucket=doc["length_bucket"],
        order=doc["order"],
        truncation=doc["truncation"],
    )
    values = metric_inputs(sample)
    return {name: values[name] for name in metrics}


def doc_to_text(doc: dict[str, Any]) -> str:
    """The user message (used by lm-eval for logging; prompts are built in ``fewshot_context``)."""
    return doc["user_prompt"]


def doc_to_target(doc: dict[str, Any]) -> str:
    """Gold rank of each presented slot, e.g. ``[1, 0]`` (slot B holds the chosen response)."""
    return str(doc["order"])


class LongRewardBenchTask(ConfigurableTask):
    """Generative-judge task: one request per presented row, scored by the core."""

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        config = {key: value for key, value in (config or {}).items() if key != "class"}
        formats = list((config.get("dataset_kwargs") or {}).get(FORMATS_KEY, TASK_TYPES))
        names = metric_names(formats)
        config["metric_list"] = [
            {
                "metric": name,
                "aggregation": METRIC_REDUCERS[name],
                "higher_is_better": name == "avg" or name not in (PARSE_FAILURE_METRIC, *TRUNCATION_METRICS),
            }
            for name in names
        ]
        config["process_results"] = functools.partial(process_results, metrics=names)
        config.setdefault("doc_to_text", doc_to_text)
        config.setdefault("doc_to_target", doc_to_target)
        super().__init__(config=config, **kwargs)

    def download(self, dataset_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Load, validate, order and render the rows with the core (no ``datasets`` hub call)."""
        options = {**(self.config.metadata or {}), **(dataset_kwargs or {})}
        formats = list(options.get(FORMATS_KEY, TASK_TYPES))
        data = load_benchmark(options.get(DATA_DIR_KEY), sample=bool(options.get(SAMPLE_KEY)))
        notes: list[str] = []
        truncator = load_truncator(options, notes.append)
        for note in notes:
            log.warning("%s: %s", self.config.task, note)
        docs = [item.to_doc() for item in judge_items(data, formats, truncator)]
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
                "parity_truncation": "applied" if truncator else f"not applied ({'; '.join(notes)})",
                "truncation_tokenizer": getattr(getattr(truncator, "tokenizer", None), "name_or_path", None),
            },
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
