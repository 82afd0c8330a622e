"""lm-eval task classes of the controls (opt-in, separate task names, never mixed into parity numbers).

- ``LongRewardBenchAuditTask``: position-bias audit. One document per row, one request per
  presentation variant (pairwise both orders, best-of-N all cyclic rotations); metrics from
  :mod:`longrm_tasks.audit`.
- ``LongRewardBenchNoContextTask``: the no-context ablation (question only); the parity metric
  keys plus the labelled exact-match best-of-N accuracy.
"""

from __future__ import annotations

import copy
from typing import Any

from lm_eval.api.instance import Instance

from longrm_tasks.adapters.lm_eval import task as base
from longrm_tasks.audit import (
    AUDIT_LOWER_IS_BETTER,
    AUDIT_REDUCERS,
    audit_metric_inputs,
    audit_metric_keys,
    audit_sample,
    variant_user_prompt,
)
from longrm_tasks.constants import BEST_OF_N
from longrm_tasks.parsing import parse_verdict
from longrm_tasks.rendering import JudgePrompt
from longrm_tasks.run import AUDIT, NOCONTEXT, settle_audit_docs
from longrm_tasks.scoring import EXACT_MATCH_METRICS, EXACT_MATCH_REDUCERS, exact_match_inputs


def doc_to_official_prompt(doc: dict[str, Any]) -> str:
    """User message of the official order (variant 0), as lm-eval's text of an audit document."""
    return variant_user_prompt(doc, 0)


class LongRewardBenchAuditTask(base.LongRewardBenchTask):
    """Position-bias audit: every row in all its presentation variants, scored as one sample.

    Truncation: with ``--metadata '{"truncation": "context", "max_length": N}'`` contexts are cut to
    the budget; otherwise, when the model's tokenizer is known, prompts of 131,072+ tokens (the parity
    threshold) are cut context-only, once per row. Either way all variants share the same context.
    """

    KIND = AUDIT
    SETTLE = staticmethod(settle_audit_docs)

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        config = dict(config or {})
        config.setdefault("doc_to_text", doc_to_official_prompt)
        super().__init__(config=config, **kwargs)

    def metric_specs(self, formats: list[str]) -> list[base.MetricSpec]:
        return [
            (key, AUDIT_REDUCERS[key], key not in AUDIT_LOWER_IS_BETTER) for key in audit_metric_keys(formats)
        ]

    def prompts_for(self, doc: dict[str, Any]) -> list[JudgePrompt]:
        """One prompt per presentation variant, all sharing the (possibly cut) context."""
        return [
            self.renderer.render(doc["system_prompt"], variant_user_prompt(doc, variant))
            for variant in range(len(doc["orders"]))
        ]

    def fewshot_context(self, doc: dict[str, Any], num_fewshot: int, **kwargs: Any) -> list[Any]:  # type: ignore[override]
        """Every variant's prompt (read back by :meth:`construct_requests`)."""
        contexts = super().fewshot_context(doc, num_fewshot, **kwargs)
        return contexts if isinstance(contexts, list) else [contexts]

    def construct_requests(self, doc: dict[str, Any], ctx: Any, **kwargs: Any) -> list[Instance]:
        """One generation request per variant; ``idx`` is the variant number."""
        kwargs.pop("apply_chat_template", None)
        kwargs.pop("chat_template", None)
        generation = dict(self.config.generation_kwargs)
        if self.chat_api and self.renderer.thinking_switch():
            generation["chat_template_kwargs"] = self.renderer.template_args
        return [
            Instance(
                request_type="generate_until",
                doc=doc,
                arguments=(context, copy.deepcopy(generation)),
                idx=variant,
                **kwargs,
            )
            for variant, context in enumerate(ctx)
        ]

    def sample_values(self, doc: dict[str, Any], results: list[Any]) -> dict[str, Any]:
        return audit_metric_inputs(audit_sample([str(text or "") for text in results], doc))


class LongRewardBenchNoContextTask(base.LongRewardBenchTask):
    """No-context ablation: the judge sees the question alone, not the long context."""

    KIND = NOCONTEXT

    def metric_specs(self, formats: list[str]) -> list[base.MetricSpec]:
        specs = super().metric_specs(formats)
        exact = list(EXACT_MATCH_METRICS) if BEST_OF_N in formats else []
        return [*specs, *((key, EXACT_MATCH_REDUCERS[key], True) for key in exact)]

    def sample_values(self, doc: dict[str, Any], results: list[Any]) -> dict[str, Any]:
        prediction = parse_verdict(str(results[0] or ""), doc["tasktype"])
        exact = exact_match_inputs(doc["tasktype"], doc["subtype"], doc["order"], prediction)
        return {**super().sample_values(doc, results), **exact}
