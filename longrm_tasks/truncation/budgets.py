"""Token budgets: how long a judge prompt may be, and the check that it is.

A judge needs room for its prompt and for its answer (``max_gen_toks``, 2,048 by the protocol). When the
model's context length is known, a prompt that leaves less room than that would be cut silently by the
backend (lm-eval ``hf`` and ``vllm`` cut from the left, losing the instructions) or fail late; it stops
the run here instead, naming the sample, unless context-only truncation makes it fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..constants import PARITY_MAX_TOKENS
from ..errors import LongRMError
from ..options import RunOptions

#: Prompt tokens that trigger the parity cut; the audit cuts its contexts (context-only) to this budget
#: so that every presentation order of a row shares one context and none reaches the threshold.
AUDIT_BUDGET = PARITY_MAX_TOKENS - 1


class BudgetError(LongRMError):
    """No prompt budget can be derived from the options."""


class PromptTooLongError(LongRMError, ValueError):
    """A judge prompt does not fit the model's context length; names the sample and what to change."""


def prompt_budget(options: RunOptions, context_length: int | None = None, tokenizer: Any = None) -> int:
    """Prompt tokens allowed to context-only truncation: ``context_budget``, else the context length
    (``max_length``/``max_model_len`` option, else the backend's, else the tokenizer's
    ``model_max_length``) minus the generation budget."""
    if options.context_budget is not None:
        return options.context_budget
    length = options.max_length or context_length
    source = "the model's context length"
    if length is None:
        model_max = getattr(tokenizer, "model_max_length", None)
        if isinstance(model_max, int) and 0 < model_max < 10_000_000:
            length, source = model_max, "the tokenizer's model_max_length"
    if length is None:
        raise BudgetError(
            "context truncation needs the model's context length: pass max_length=N in model_args or "
            '--metadata (or "context_budget": N prompt tokens)'
        )
    budget = length - options.new_tokens
    if budget <= 0:
        raise BudgetError(
            f"{source} {length} leaves no room for a prompt after max_gen_toks={options.new_tokens}"
        )
    return budget


def budget_source(options: RunOptions) -> str:
    """Where :func:`prompt_budget` took its number from (for provenance)."""
    if options.context_budget is not None:
        return "context_budget"
    if options.max_length is not None:
        return "max_length - max_gen_toks"
    return "model context length - max_gen_toks"


def too_long_message(
    sample: Any,
    tokens: int,
    limits: Any,
    new_tokens: int,
    others: Sequence[Any] = (),
    budget: int | None = None,
) -> str:
    """One line: which sample, how long, the limit, and the ways out. ``limits`` is the model's
    :class:`~longrm_tasks.run.ModelLimits`; ``budget`` is given when context-only truncation was on."""
    more = f" (and {len(others)} more samples)" if others else ""
    where = f"sample {sample.get('uid')} (id {sample.get('row_id')}, {sample.get('length_bucket')})"
    if budget is not None:
        return (
            f"{where}{more}: even with its context cut to the question, the judge prompt has {tokens} "
            f"tokens, more than the budget of {budget} (the responses alone are too long)"
        )
    length, option = limits.context_length, limits.length_option
    return (
        f"{where}{more}: the judge prompt has {tokens} tokens after parity truncation, but {option}={length} "
        f"leaves {length - new_tokens} after {new_tokens} new tokens; the backend would cut it silently "
        "(losing the judge instructions) or fail. Give the model its real context length (parity needs up "
        f"to 131,067 prompt tokens + the new tokens), or use {limits.context_hint} to cut the middle of long "
        "contexts to fit (not parity)"
    )
