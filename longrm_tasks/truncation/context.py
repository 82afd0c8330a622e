"""Context-only truncation: an opt-in mode next to parity truncation (spec §6 names it an addition).

Given a token budget for the whole rendered prompt (chat template included), only the middle of
the long context (the ``prompt_template`` text shown as the user question) is cut: the judge's
system prompt, the question, and every response keep their full text. The question is found in
the context (the row's ``question`` field; else the last short paragraph) and is never cut.

Token-exact with the model's own fast tokenizer: each long context is tokenized once (in batches on
every core, without offsets), the head and tail cut points are located from the tokens' byte lengths
(byte-level BPE) or by tokenizing small windows whose ids are checked against the full tokenization, and
the final prompt of every cut row is counted exactly (shrinking the cut when a join merges differently).
For byte-level BPE the count tokenizes only windows around the joins (instructions | head, head | marker |
tail, tail | responses): each window reaches far enough into the kept text that its tokens there agree
with the full tokenization, and the tokens between the windows are the context's own; where a window
does not agree, the whole prompt is tokenized. Prompts are rendered by :mod:`longrm_tasks.rendering`, so
what is measured is what is sent.
"""

from __future__ import annotations

import os
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate, groupby
from typing import Any

from ..constants import LENGTH_BUCKETS
from ..errors import LongRMError
from ..rendering import Renderer
from .tokenizers import encode_stream, fast_backend, tokenizer_fingerprint

DEFAULT_HEAD_SHARE = 0.5
#: Totals this close to the budget are checked by tokenizing the rendered prompt exactly.
NEAR_MARGIN = 16
#: A paragraph this short (characters) at the end of a context is protected when no question is known.
TAIL_PARAGRAPH_CHARS = 2000
#: A question's line is protected from its start when the question begins this close to it.
LEAD_IN_CHARS = 200
_MAX_ATTEMPTS = 8
#: A window around a join reaches this many tokens into the kept text on each side ...
JOIN_REACH = 64
#: ... and its tokens nearest the kept text's own (this many) must equal the full tokenization's.
JOIN_AGREE = 32


class ContextTruncationError(LongRMError):
    """Context-only truncation cannot be set up (no fast tokenizer, no budget)."""


@dataclass(frozen=True)
class Frame:
    """A prompt around its context: ``prefix + context + suffix`` is the rendered prompt."""

    prefix: str
    suffix: str
    #: Tokens of prefix and suffix, counted separately (``None``: to be counted with the context).
    tokens: int | None


@dataclass(frozen=True)
class ContextCut:
    """Outcome for one row (all its presentation variants share the cut context)."""

    context: str
    context_tokens: int
    context_tokens_kept: int
    cut: bool
    within_budget: bool
    question_kept: bool
    #: Tokens of each variant's rendered prompt: exact when cut or near the budget, else the sum of
    #: the separately tokenized parts (joins may shift this by a token or two).
    prompt_tokens: list[int]


@dataclass
class CutJob:
    """One row to cut: its context, the frames of its variants, and the question to protect."""

    context: str
    frames: list[Frame]
    question: str = ""
    payload: Any = None


def byte_length_table(backend: Any) -> list[int] | None:
    """UTF-8 bytes of every token id, for byte-level BPE tokenizers (GPT-2 style: Llama 3, Qwen,
    SmolLM, …), whose tokens cover the text's bytes in order; ``None`` for any other kind."""
    import json

    try:
        spec = json.loads(backend.to_str())
    except Exception:
        return None
    pre = spec.get("pre_tokenizer") or {}
    parts = pre.get("pretokenizers", [pre]) if pre.get("type") == "Sequence" else [pre]
    levels = [part for part in parts if part.get("type") == "ByteLevel"]
    if (spec.get("model") or {}).get("type") != "BPE" or not levels or levels[-1].get("add_prefix_space"):
        return None
    vocab = backend.get_vocab(with_added_tokens=False)
    added = backend.get_added_tokens_decoder()
    table = [0] * (max([*vocab.values(), *added.keys()], default=-1) + 1)
    for token, index in vocab.items():
        table[index] = len(token)  # one ByteLevel character per byte
    for index, token in added.items():
        table[index] = len(token.content.encode("utf-8"))
    return table


class _Text:
    """A long text, its full token ids, and exact char positions of token boundaries.

    Positions come from the tokens' byte lengths (byte-level BPE, when the ids cover the text's
    bytes exactly), else from tokenizing small windows whose ids are checked against the full ids.
    """

    def __init__(
        self,
        text: str,
        ids: list[int],
        encode: Callable[[str], Any],
        byte_lengths: list[int] | None = None,
        normalize: Callable[[str], str] | None = None,
    ) -> None:
        self.text, self.ids, self.encode = text, ids, encode
        self.n = len(ids)
        self.chars_per_token = len(text) / max(self.n, 1)
        self._full: Any = None
        self.raw = text.encode("utf-8")
        self.sizes: list[int] | None = None
        if byte_lengths is not None and (normalize is None or normalize(text) == text):
            try:
                sizes = [byte_lengths[token] for token in ids]
            except IndexError:
                sizes = []
            if sum(sizes) == len(self.raw) and all(sizes):
                self.sizes = sizes
        #: Byte offset of every token boundary (``cum[k]``: where token ``k`` starts), with ``sizes``.
        self.cum: list[int] = list(accumulate(self.sizes, initial=0)) if self.sizes is not None else []

    def _char(self, byte: int) -> int:
        if len(self.raw) == len(self.text):  # ASCII: one byte per character
            return byte
        return len(self.raw[:byte].decode("utf-8", "ignore"))

    def _byte(self, char: int) -> int:
        return len(self.text[:char].encode("utf-8"))

    def _width(self, tokens: int) -> int:
        return int((tokens + 64) * self.chars_per_token * 1.3) + 256

    def _full_offsets(self) -> list[tuple[int, int]]:
        if self._full is None:
            self._full = self.encode(self.text).offsets
        return self._full

    def head_end(self, h: int) -> int:
        """Char index where the first ``h`` tokens end."""
        if h <= 0:
            return 0
        if self.sizes is not None:
            return self._char(self.cum[h])
        width = self._width(h)
        while width < len(self.text):
            enc = self.encode(self.text[:width])
            if len(enc.ids) > h + 4 and enc.ids[:h] == self.ids[:h]:
                return enc.offsets[h - 1][1]
            width *= 2
        return self._full_offsets()[h - 1][1]

    def tail_start(self, t: int) -> int:
        """Char index where the last ``t`` tokens start."""
        if t <= 0:
            return len(self.text)
        if self.sizes is not None:
            return self._char(self.cum[self.n - t])
        width = self._width(t)
        while width < len(self.text):
            start = len(self.text) - width
            enc = self.encode(self.text[start:])
            m = len(enc.ids)
            if m > t + 4 and enc.ids[m - t :] == self.ids[self.n - t :]:
                return start + enc.offsets[m - t][0]
            width *= 2
        return self._full_offsets()[self.n - t][0]

    def tokens_through(self, pos: int) -> int:
        """Fewest head tokens that cover ``text[:pos]``."""
        if pos <= 0:
            return 0
        if self.sizes is not None:
            return bisect_left(self.cum, self._byte(pos), 1)
        width = pos + 256
        while width < len(self.text):
            enc = self.encode(self.text[:width])
            h = next((j + 1 for j, (_, end) in enumerate(enc.offsets) if end >= pos), None)
            if h is not None and len(enc.ids) > h + 4 and enc.ids[:h] == self.ids[:h]:
                return h
            width *= 2
        return next(j + 1 for j, (_, end) in enumerate(self._full_offsets()) if end >= pos)

    def tokens_from(self, pos: int) -> int:
        """Fewest tail tokens that cover ``text[pos:]``."""
        if pos >= len(self.text):
            return 0
        if self.sizes is not None:
            return self.n - (bisect_right(self.cum, self._byte(pos)) - 1)
        width = len(self.text) - pos + 256
        while width < len(self.text):
            start = len(self.text) - width
            enc = self.encode(self.text[start:])
            offsets, m = enc.offsets, len(enc.ids)
            j = max((k for k, (begin, _) in enumerate(offsets) if begin <= pos - start), default=None)
            if j is not None and j >= 4 and enc.ids[j:] == self.ids[self.n - (m - j) :]:
                return m - j
            width *= 2
        offsets = self._full_offsets()
        return self.n - max(k for k, (begin, _) in enumerate(offsets) if begin <= pos)


def protected_spans(context: str, question: str) -> tuple[int, int | None, bool]:
    """``(head_through, tail_from, found)``: chars that must survive a cut.

    The row's ``question`` (last occurrence) is protected where it stands: near the end it pins the
    tail from the start of its line, near the beginning it pins the head through its end. Without a known
    question, a short last paragraph (the usual place of the question) pins the tail.
    """
    question = question.strip()
    if question:
        start = context.rfind(question)
        if start >= 0:
            if start >= len(context) // 2:
                line = context.rfind("\n", 0, start) + 1  # keep a short lead-in such as "Question: "
                return 0, line if start - line <= LEAD_IN_CHARS else start, True
            return start + len(question), None, True
    cut = context.rfind("\n\n")
    if cut >= 0 and len(context) - cut <= TAIL_PARAGRAPH_CHARS:
        return 0, cut + 2, False
    return 0, None, False


class _JoinCounter:
    """Exact token count of a prompt made of free texts and token ranges of one long text (byte-level
    BPE), tokenizing only windows around the joins.

    A range long enough keeps its middle's tokens: the window before it and the window after it each
    reach :data:`JOIN_REACH` tokens into the range and must show, at the same byte positions, the same
    :data:`JOIN_AGREE` tokens as the long text's own tokenization, so the prompt's tokenization runs
    through the middle exactly as the long text's does. ``None`` when a window does not agree (or the
    texts are not covered byte for byte by their tokens): the caller counts the whole prompt.
    """

    def __init__(
        self, text: _Text, byte_lengths: list[int], batch: Callable[..., Any], normalize: Any
    ) -> None:
        self.text, self.byte_lengths, self.batch, self.normalize = text, byte_lengths, batch, normalize

    def _aligned(self, k: int, step: int, stop: int) -> int | None:
        """The first token boundary from ``k`` on (moving by ``step``, before ``stop``) that is also a
        character boundary."""
        raw, cum = self.text.raw, self.text.cum
        while (k - stop) * step < 0:
            offset = cum[k]
            if offset >= len(raw) or raw[offset] & 0xC0 != 0x80:
                return k
            k += step
        return None

    def count(self, parts: Sequence[str | tuple[int, int]]) -> int | None:
        text = self.text
        if text.sizes is None or not self.byte_lengths:
            return None
        reach, agree = JOIN_REACH, JOIN_AGREE
        # Windows: (pieces of text, start bound in tokens of text or None, end bound or None).
        windows: list[tuple[list[str], int | None, int | None]] = []
        pieces: list[str] = []
        start: int | None = None
        middle = 0
        for part in parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            first, last = part
            inner_first = self._aligned(first + 2 * reach, 1, last)
            inner_last = self._aligned(last - 2 * reach, -1, first)
            if inner_first is None or inner_last is None or inner_last - inner_first < agree:
                pieces.append(self.text_of(first, last))
                continue
            # The window so far ends ``reach`` tokens into the range; the next starts there before its end.
            pieces.append(self.text_of(first, inner_first))
            windows.append((pieces, start, inner_first))
            middle += inner_last - inner_first
            pieces, start = [self.text_of(inner_last, last)], inner_last
        windows.append((pieces, start, None))
        if len(windows) == 1:
            return None  # nothing long enough to keep: the whole prompt is the window
        texts, bounds = [], []
        for pieces, start, end in windows:
            before = self.text_of(start - reach, start) if start is not None else ""
            after = self.text_of(end, end + reach) if end is not None else ""
            window = before + "".join(pieces) + after
            if self.normalize is not None and self.normalize(window) != window:
                return None
            texts.append(window)
            bounds.append((before, after, start, end))
        total = middle
        for encoding, window, (before, after, start, end) in zip(
            self.batch(texts, add_special_tokens=False), texts, bounds, strict=True
        ):
            counted = self._between(encoding.ids, window, before, after, start, end)
            if counted is None:
                return None
            total += counted
        return total

    def text_of(self, first: int, last: int) -> str:
        """The long text's characters between token boundaries ``first`` and ``last`` (aligned)."""
        text = self.text
        return text.text[text._char(text.cum[first]) : text._char(text.cum[last])]

    def _between(
        self, ids: list[int], window: str, before: str, after: str, start: int | None, end: int | None
    ) -> int | None:
        """Tokens of ``window`` between its ``before`` and ``after`` parts, if its tokens there agree with
        the long text's (``start``/``end``: the long text's tokens where those parts end and begin)."""
        sizes = [self.byte_lengths[token] if token < len(self.byte_lengths) else 0 for token in ids]
        offsets = list(accumulate(sizes, initial=0))
        if offsets[-1] != len(window.encode("utf-8")) or not all(sizes):
            return None
        own, agree = self.text.ids, JOIN_AGREE
        first, last = 0, len(ids)
        if start is not None:
            bound = len(before.encode("utf-8"))
            first = bisect_left(offsets, bound)
            if (
                first < agree
                or offsets[first] != bound
                or ids[first - agree : first] != own[start - agree : start]
            ):
                return None
        if end is not None:
            bound = offsets[-1] - len(after.encode("utf-8"))
            last = bisect_left(offsets, bound)
            if offsets[last] != bound or ids[last : last + agree] != own[end : end + agree]:
                return None
        return last - first


class ContextTruncator:
    """Cuts the middle of contexts so every rendered prompt fits ``budget`` tokens."""

    def __init__(
        self,
        renderer: Renderer,
        budget: int,
        *,
        head_share: float = DEFAULT_HEAD_SHARE,
        marker: str = "",
    ) -> None:
        tokenizer = renderer.tokenizer
        backend = fast_backend(tokenizer)
        if backend is None:
            raise ContextTruncationError(
                "context truncation needs a fast (Rust) tokenizer; "
                f"{type(tokenizer).__name__} is not one (load it with use_fast=True)"
            )
        if not renderer.knows_text:
            raise ContextTruncationError(
                "context truncation needs the prompt text (the model's chat template)"
            )
        if not 0.0 <= head_share <= 1.0:
            raise ContextTruncationError(f"head_share must lie in [0, 1], got {head_share}")
        self.tokenizer, self.backend, self.renderer = tokenizer, backend, renderer
        counter = getattr(tokenizer, "num_special_tokens_to_add", None)
        #: Special tokens a backend may add when encoding the prompt (BOS): kept free.
        self.reserve = int(counter(pair=False)) if callable(counter) else 0
        self.budget = int(budget)
        self.limit = self.budget - self.reserve
        self.head_share, self.marker = head_share, marker
        self._batch = getattr(backend, "encode_batch_fast", None) or backend.encode_batch
        self.marker_tokens = self.count(marker) if marker else 0
        self._tokenizer_sha256: str | None = None
        self._byte_lengths: list[int] | bool | None = False  # built on first cut
        normalizer = getattr(backend, "normalizer", None)
        self._normalize = normalizer.normalize_str if normalizer is not None else None

    # -- tokenization ------------------------------------------------------------------------
    def encode(self, text: str) -> Any:
        """Encoding of ``text`` with offsets (no special tokens)."""
        return self.backend.encode(text, add_special_tokens=False)

    def count(self, text: str) -> int:
        """Tokens of ``text`` (no special tokens)."""
        return len(self._batch([text], add_special_tokens=False)[0])

    def count_many(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of ``texts``, tokenized in one parallel batch (no offsets)."""
        return [encoding.ids for encoding in self._batch(list(texts), add_special_tokens=False)]

    # -- prompts -----------------------------------------------------------------------------
    def frame(self, system: str, before: str, after: str, *, count: bool = True) -> Frame:
        """The rendered judge prompt around a context that sits between ``before`` and ``after`` in the
        user message (its tokens counted now, or with the context by :meth:`cut_many`)."""
        prefix, suffix = self.renderer.frame(system, before, after)
        return Frame(prefix, suffix, self.count(prefix) + self.count(suffix) if count else None)

    def _exact(self, frames: Sequence[Frame], context: str) -> list[int]:
        return [self.count(frame.prefix + context + frame.suffix) for frame in frames]

    def _kept_counts(
        self, frames: Sequence[Frame], text: _Text, head: int, tail: int, kept: str
    ) -> list[int]:
        """Exact tokens of every frame around ``kept`` (``text``'s first ``head`` and last ``tail`` tokens
        around the marker): by windows around the joins where they agree, else of the whole prompt."""
        if text.sizes is None or not self._byte_lengths:
            return self._exact(frames, kept)
        counter = _JoinCounter(text, self._byte_lengths, self._batch, self._normalize)
        if counter.text_of(0, head) + self.marker + counter.text_of(text.n - tail, text.n) != kept:
            return self._exact(frames, kept)
        counts = []
        for frame in frames:
            parts: list[str | tuple[int, int]] = [frame.prefix, (0, head), self.marker]
            parts += [(text.n - tail, text.n), frame.suffix]
            count = counter.count(parts)
            counts.append(count if count is not None else self.count(frame.prefix + kept + frame.suffix))
        return counts

    # -- cutting -----------------------------------------------------------------------------
    def cut(self, job: CutJob, ids: Any = None) -> ContextCut:
        """Cut ``job.context`` so every frame fits the budget. ``ids``: its token ids, or an encoding
        (``len`` and ``.ids``, read only when a cut is needed); frames must be counted."""
        text = job.context
        encoding = self._batch([text], add_special_tokens=False)[0] if ids is None else ids
        n = len(encoding)
        tokens = [frame.tokens for frame in job.frames]
        if any(count is None for count in tokens):
            raise ContextTruncationError("cut() needs counted frames (use cut_many, or frame(count=True))")
        worst = max(count for count in tokens if count is not None)
        sums = [count + n for count in tokens if count is not None]
        if worst + n <= self.limit - NEAR_MARGIN:
            return ContextCut(text, n, n, False, True, True, sums)
        if worst + n <= self.limit + NEAR_MARGIN:
            exact = self._exact(job.frames, text)
            if max(exact) <= self.limit:
                return ContextCut(text, n, n, False, True, True, exact)
        if self._byte_lengths is False:
            self._byte_lengths = byte_length_table(self.backend)
        ids = encoding if isinstance(encoding, list) else encoding.ids
        long_text = _Text(text, ids, self.encode, self._byte_lengths or None, self._normalize)
        head_from, tail_from, _found = protected_spans(text, job.question)
        head_min = long_text.tokens_through(head_from) if head_from else 0
        tail_min = long_text.tokens_from(tail_from) if tail_from is not None else 0
        if head_min + tail_min >= n:  # all of it is protected: nothing may go
            return ContextCut(text, n, n, False, False, True, self._exact(job.frames, text))
        available = self.limit - worst - self.marker_tokens
        slack = 0
        for _attempt in range(_MAX_ATTEMPTS):
            keep = min(max(available - slack, 0), n - 1)
            within = keep >= head_min + tail_min
            if within:
                head = min(max(round(keep * self.head_share), head_min), keep - tail_min)
                tail = keep - head
            else:
                head, tail = head_min, tail_min
            head_end = long_text.head_end(head)
            tail_start = max(long_text.tail_start(tail), head_end)
            kept = text[:head_end] + self.marker + text[tail_start:]
            exact = self._kept_counts(job.frames, long_text, head, tail, kept)
            over = max(exact) - self.limit
            if over <= 0 or not within:
                question_kept = not job.question.strip() or job.question.strip() in kept
                return ContextCut(kept, n, head + tail, True, within and over <= 0, question_kept, exact)
            slack += over
        raise ContextTruncationError(f"could not fit a context of {n} tokens into {self.budget} tokens")

    def cut_many(
        self, jobs: Iterable[CutJob], *, progress: Callable[[int], None] | None = None
    ) -> Iterator[tuple[CutJob, ContextCut]]:
        """Cut every job, its context and uncounted frames tokenized in batches on every core (while the
        previous batch is cut); yields in input order."""

        def texts() -> Iterator[tuple[tuple[int, CutJob, int], str]]:
            for serial, job in enumerate(jobs):
                yield (serial, job, -1), job.context
                for position, frame in enumerate(job.frames):
                    if frame.tokens is None:
                        yield (serial, job, position), frame.prefix
                        yield (serial, job, position), frame.suffix

        for _, group in groupby(encode_stream(self.tokenizer, texts()), key=lambda item: item[0][0]):
            ((_, job, _), context), *frame_texts = group
            counted: dict[int, int] = {}
            for (_, _, position), encoding in frame_texts:
                counted[position] = counted.get(position, 0) + len(encoding)
            frames = [
                replace(frame, tokens=counted[position]) if frame.tokens is None else frame
                for position, frame in enumerate(job.frames)
            ]
            yield job, self.cut(replace(job, frames=frames), context)
            if progress is not None:
                progress(1)

    def fingerprint(self) -> dict[str, Any]:
        """What makes two truncators cut identically (for caches and provenance)."""
        if self._tokenizer_sha256 is None:
            self._tokenizer_sha256 = tokenizer_fingerprint(self.tokenizer)
        return {
            "tokenizer_sha256": self._tokenizer_sha256,
            "rendering": self.renderer.provenance(),
            "budget": self.budget,
            "reserve": self.reserve,
            "head_share": self.head_share,
            "marker": self.marker,
        }


def cut_fields(truncator: ContextTruncator, cut: ContextCut) -> dict[str, Any]:
    """Per-document record of a context-only cut (logged with every sample). The parity status is not
    touched: context cuts are counted under their own key, ``context_cut``."""
    return {
        "truncation_mode": "context",
        "token_budget": truncator.budget,
        "context_tokens": cut.context_tokens,
        "context_tokens_kept": cut.context_tokens_kept,
        "context_cut": cut.cut,
        "within_budget": cut.within_budget,
        "question_kept": cut.question_kept,
    }


def progress_bar(
    total: int, enabled: bool, label: str
) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """``(update, close)`` of a tqdm bar on stderr (no-ops when disabled or ``LONGRM_NO_PROGRESS=1``)."""
    if not enabled or os.environ.get("LONGRM_NO_PROGRESS") == "1":
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="row")
    return bar.update, bar.close


def truncation_summary(docs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Cut rate and kept share of context tokens per length bucket (for the results' provenance)."""
    buckets: dict[str, dict[str, float]] = {}
    for doc in docs:
        entry = buckets.setdefault(
            doc["length_bucket"], {"rows": 0, "cut": 0, "over_budget": 0, "context": 0, "kept": 0}
        )
        entry["rows"] += 1
        entry["cut"] += int(bool(doc.get("context_cut")))
        entry["over_budget"] += int(not doc.get("within_budget", True))
        entry["context"] += int(doc.get("context_tokens") or 0)
        entry["kept"] += int(doc.get("context_tokens_kept") or 0)
    table = {}
    for bucket in sorted(buckets, key=lambda b: LENGTH_BUCKETS.index(b) if b in LENGTH_BUCKETS else 99):
        entry = buckets[bucket]
        table[bucket] = {
            "rows": entry["rows"],
            "cut": entry["cut"],
            "cut_rate": entry["cut"] / max(entry["rows"], 1),
            "over_budget": entry["over_budget"],
            "context_kept_share": entry["kept"] / entry["context"] if entry["context"] else 1.0,
        }
    return table
