"""lm-eval task classes of the controls (opt-in, separate task names, never mixed into parity numbers).

- ``LongRewardBenchAuditTask``: position-bias audit. One document per row, one request per
  presentation variant (pairwise both orders, best-of-N all cyclic rotations); metrics from
  :mod:`longrm_tasks.audit`.
- ``LongRewardBenchNoContextTask``: the no-context ablation (question only); the parity metric
  keys plus the labelled exact-match best-of-N accuracy.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

from lm_eval.api.instance import Instance

from longrm_tasks.adapters.lm_eval import task as base
from longrm_tasks.adapters.lm_eval.long_context import context_mode_docs
from longrm_tasks.audit import (
    AUDIT_LOWER_IS_BETTER,
    AUDIT_REDUCERS,
    audit_docs,
    audit_metric_inputs,
    audit_metric_keys,
    audit_sample,
    nocontext_docs,
    variant_user_prompt,
)
from longrm_tasks.constants import BEST_OF_N, PARITY_MAX_TOKENS
from longrm_tasks.context_truncation import (
    BUDGET_KEY,
    CONTEXT_MODE,
    ContextTruncationError,
    truncation_mode,
)
from longrm_tasks.data import BenchmarkData
from longrm_tasks.parsing import parse_verdict
from longrm_tasks.scoring import EXACT_MATCH_METRICS, EXACT_MATCH_REDUCERS, exact_match_inputs
from longrm_tasks.truncation import plain_layout

log = logging.getLogger("longrm_tasks")

MetricSpec = tuple[str, Callable[..., float], bool]


def doc_to_official_prompt(doc: dict[str, Any]) -> str:
    """User message of the official order (variant 0), as lm-eval's text of an audit document."""
    return variant_user_prompt(doc, 0)


class LongRewardBenchAuditTask(base.LongRewardBenchTask):
    """Position-bias audit: every row in all its presentation variants, scored as one sample.

    Truncation: with ``--metadata '{"truncation": "context", "max_length": N}'`` contexts are cut to
    the budget; otherwise, when the model's tokenizer is known, prompts of 131,072+ tokens (the parity
    threshold) are cut context-only, once per row. Either way all variants share the same context.
    """

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        config = dict(config or {})
        config.setdefault("doc_to_text", doc_to_official_prompt)
        super().__init__(config=config, **kwargs)

    def metric_specs(self, formats: list[str]) -> list[MetricSpec]:
        self.audit_keys = audit_metric_keys(formats)
        return [(key, AUDIT_REDUCERS[key], key not in AUDIT_LOWER_IS_BETTER) for key in self.audit_keys]

    def build_docs(
        self, data: BenchmarkData, formats: list[str], options: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        provenance: dict[str, Any] = {"control": "position-bias audit (not parity)"}
        explicit = truncation_mode(options) == CONTEXT_MODE
        if not explicit:  # the parity threshold, but cut context-only and once per row
            options = {**options, BUDGET_KEY: PARITY_MAX_TOKENS - 1}
        try:
            docs, extra = context_mode_docs(self.config, data, formats, options, "audit", audit_docs)
        except ContextTruncationError as error:
            if explicit:
                raise
            log.warning("%s: %s; nothing is cut", self.config.task, error)
            return audit_docs(data, formats), {**provenance, "truncation_mode": f"none ({error})"}
        return docs, {**provenance, **extra}

    def fewshot_context(
        self,
        doc: dict[str, Any],
        num_fewshot: int,
        system_instruction: str | None = None,
        apply_chat_template: bool = False,
        fewshot_as_multiturn: bool = False,
        chat_template: Any = None,
        gen_prefix: str | None = None,
    ) -> list[Any]:  # type: ignore[override]
        """One prompt per presentation variant (read back by :meth:`construct_requests`)."""
        if num_fewshot:
            raise ValueError(f"{self.config.task} is zero-shot by definition; drop --num_fewshot")
        system = doc["system_prompt"]
        if system_instruction:
            system = system_instruction + "\n\n" + system
        contexts = []
        for variant in range(len(doc["orders"])):
            messages = [
                {"role": "system", "content": system},
                {"role": "user", "content": variant_user_prompt(doc, variant)},
            ]
            if apply_chat_template and chat_template:
                contexts.append(base.render_chat(chat_template, messages))
            else:
                contexts.append(plain_layout(messages))
        return contexts

    def construct_requests(self, doc: dict[str, Any], ctx: Any, **kwargs: Any) -> list[Instance]:
        """One generation request per variant; ``idx`` is the variant number."""
        kwargs.pop("apply_chat_template", None)
        kwargs.pop("chat_template", None)
        return [
            Instance(
                request_type="generate_until",
                doc=doc,
                arguments=(context, copy.deepcopy(self.config.generation_kwargs)),
                idx=variant,
                **kwargs,
            )
            for variant, context in enumerate(ctx)
        ]

    def process_results(self, doc: dict[str, Any], results: list[Any]) -> dict[str, Any]:
        values = audit_metric_inputs(audit_sample([str(text or "") for text in results], doc))
        return {key: values[key] for key in self.audit_keys}


class LongRewardBenchNoContextTask(base.LongRewardBenchTask):
    """No-context ablation: the judge sees the question alone, not the long context."""

    def metric_specs(self, formats: list[str]) -> list[MetricSpec]:
        specs = super().metric_specs(formats)
        self.base_keys = [name for name, _, _ in specs]
        self.exact_keys = list(EXACT_MATCH_METRICS) if BEST_OF_N in formats else []
        return [*specs, *((key, EXACT_MATCH_REDUCERS[key], True) for key in self.exact_keys)]

    def build_docs(
        self, data: BenchmarkData, formats: list[str], options: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return nocontext_docs(data, formats), {
            "control": "no-context ablation: question only (not parity)",
            "parity_truncation": "not applied (no long context)",
        }

    def process_results(self, doc: dict[str, Any], results: list[Any]) -> dict[str, Any]:
        values = base.process_results(
            doc, results, metrics=self.base_keys, to_sample=base.judge_sample, strict=lambda: self.strict
        )
        prediction = parse_verdict(results[0], doc["tasktype"])
        exact = exact_match_inputs(doc["tasktype"], doc["subtype"], doc["order"], prediction)
        return {**values, **{key: exact[key] for key in self.exact_keys}}
