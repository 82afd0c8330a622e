"""Fitting judge prompts to their limits: the official parity cut (spec §6), context-only truncation
(an addition), token budgets, and the one tokenizer loader with its one trust rule.

Per-sample statuses of the parity cut (``truncation`` in every document and result): ``none`` (checked,
not cut), ``cut`` (the official head + tail cut), ``cut-approx`` (the cut fell outside the user message,
which was cut alone to the same budget), ``unchecked`` (no tokenizer known). Context-only cuts are
recorded apart (``context_cut``), never as ``truncation``.
"""

from __future__ import annotations

NOT_CUT, CUT, CUT_APPROX, UNCHECKED = "none", "cut", "cut-approx", "unchecked"
#: Statuses that count as a parity cut (the ``truncated`` metric).
PARITY_CUT_STATUSES = (CUT, CUT_APPROX)
