"""The one place a tokenizer is loaded, with the one trust rule: no remote code unless the user passes a
true ``trust_remote_code``.

Every harness path that needs a tokenizer it does not already hold (parity truncation for API judges,
context-only truncation, ``longrm plan``, scalar reward models, OpenCompass ``tokenizer_path``) loads it
here, so a tokenizer folder whose ``auto_map`` names Python code cannot run it by default.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from ..errors import LongRMError
from ..options import RunOptions

Key = TypeVar("Key")

#: Characters handed to the Rust tokenizer per batch: several long prompts (both cores busy) in a
#: bounded amount of memory (an encoding takes ~70 bytes per token).
BATCH_CHARS = 4_000_000
#: At most this many texts per batch (short texts: the batch is handed over sooner).
BATCH_TEXTS = 256


class TokenizerLoadError(LongRMError):
    """The tokenizer named in the options cannot be loaded."""


def load_tokenizer(
    name: str,
    *,
    trust_remote_code: bool = False,
    gguf_file: str | None = None,
    revision: str | None = None,
    purpose: str = "truncation",
) -> Any:
    """``AutoTokenizer.from_pretrained(name)`` with remote code off unless ``trust_remote_code is True``."""
    if trust_remote_code is not True and trust_remote_code is not False:
        raise TypeError(f"trust_remote_code must be a bool, got {trust_remote_code!r} (parse options first)")
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if gguf_file:
        kwargs["gguf_file"] = gguf_file
    if revision:
        kwargs["revision"] = revision
    try:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(name), **kwargs)
    except Exception as error:  # any loading failure, one line with the reason
        reason = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        detail = f"{type(error).__name__}: {reason}" if reason else type(error).__name__
        raise TokenizerLoadError(f"{purpose}: cannot load tokenizer {name!r} ({detail})") from None


def tokenizer_from_options(options: RunOptions, *, purpose: str = "truncation") -> Any | None:
    """The tokenizer named in the options (``tokenizer``, else ``pretrained`` [+ ``gguf_file``]), or
    ``None`` when they name none."""
    if not options.tokenizer:
        return None
    return load_tokenizer(
        options.tokenizer,
        trust_remote_code=options.trust_remote_code,
        gguf_file=options.gguf_file,
        revision=options.revision,
        purpose=purpose,
    )


def chat_tokenizer(candidate: Any) -> Any | None:
    """``candidate`` when it is a Hugging Face tokenizer that can render chat templates (what a harness's
    local backend holds: lm-eval ``hf``/``vllm``, OpenCompass HF wrappers, Inspect ``hf/``); else ``None``."""
    if callable(candidate) and callable(getattr(candidate, "apply_chat_template", None)):
        return candidate
    return None


def fast_backend(tokenizer: Any) -> Any | None:
    """The Rust ``tokenizers.Tokenizer`` behind a fast tokenizer (``None`` for a slow one)."""
    backend = getattr(tokenizer, "backend_tokenizer", None) or getattr(tokenizer, "_tokenizer", None)
    return backend if backend is not None and hasattr(backend, "encode_batch") else None


def tokenizer_name(tokenizer: Any) -> str | None:
    """The name or folder a tokenizer was loaded from (for provenance)."""
    return getattr(tokenizer, "name_or_path", None)


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """sha256 of a tokenizer's full definition and chat template (keys caches and provenance)."""
    backend = fast_backend(tokenizer)
    digest = hashlib.sha256()
    digest.update(backend.to_str().encode("utf-8") if backend is not None else repr(tokenizer).encode())
    digest.update(b"\x00" + str(getattr(tokenizer, "chat_template", None) or "").encode("utf-8"))
    digest.update(b"\x00" + type(tokenizer).__name__.encode("utf-8"))
    return digest.hexdigest()


def count_tokens(tokenizer: Any, text: str) -> int:
    """Tokens of ``text`` without special tokens (the official evaluator's count)."""
    return len(token_ids(tokenizer, text))


def token_ids(tokenizer: Any, text: str) -> list[int]:
    """Token ids of ``text`` without special tokens."""
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def direct_backend(tokenizer: Any) -> Any | None:
    """The fast backend when calling it directly gives what ``tokenizer(text, add_special_tokens=False)``
    gives (no truncation or padding configured on it, special tokens read as the wrapper reads them),
    else ``None``. Direct calls skip the wrapper's offsets and conversions: a third of the time."""
    backend = fast_backend(tokenizer)
    if backend is None or not hasattr(backend, "encode_batch_fast"):
        return None
    if backend.truncation is not None or backend.padding is not None:
        return None
    split = bool(getattr(tokenizer, "split_special_tokens", False))
    return backend if bool(getattr(backend, "encode_special_tokens", False)) == split else None


class _Ids(list):
    """Token ids from the wrapper (slow tokenizers), shaped like a Rust encoding (``len``, ``.ids``)."""

    @property
    def ids(self) -> list[int]:
        return self


def encode_stream(
    tokenizer: Any, items: Iterable[tuple[Key, str | None]], *, batch_chars: int = BATCH_CHARS
) -> Iterator[tuple[Key, Any]]:
    """``(key, encoding)`` for every ``(key, text)`` in order (``None`` for a ``None`` text), tokenized
    without special tokens in batches on every core, each batch in a background thread while the caller
    works on the previous one (the Rust tokenizer releases the GIL). An encoding has ``len`` (its token
    count) and ``.ids``; reading ``.ids`` only where needed saves building Python lists."""
    backend = direct_backend(tokenizer)

    def encode(texts: list[str]) -> list[Any]:
        if backend is None:
            return [_Ids(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
        # Longest first: the threads of the batch finish together.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        encoded = backend.encode_batch_fast([texts[i] for i in order], add_special_tokens=False)
        result: list[Any] = [None] * len(texts)
        for position, i in enumerate(order):
            result[i] = encoded[position]
        return result

    def finish(
        batch: list[tuple[Key, str | None]], future: Future[list[Any]] | None
    ) -> Iterator[tuple[Key, Any]]:
        encoded = iter(future.result() if future is not None else ())
        for key, text in batch:
            yield key, None if text is None else next(encoded)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="longrm-tokenize") as pool:
        previous: tuple[list[tuple[Key, str | None]], Future[list[Any]] | None] | None = None
        batch: list[tuple[Key, str | None]] = []
        size = count = 0
        for key, text in items:
            batch.append((key, text))
            if text is not None:
                size, count = size + len(text), count + 1
            if size >= batch_chars or count >= BATCH_TEXTS:
                texts = [text for _, text in batch if text is not None]
                future = pool.submit(encode, texts)
                if previous is not None:
                    yield from finish(*previous)
                previous, batch, size, count = (batch, future), [], 0, 0
        texts = [text for _, text in batch if text is not None]
        future = pool.submit(encode, texts) if texts else None
        if previous is not None:
            yield from finish(*previous)
        yield from finish(batch, future)


def decode(tokenizer: Any, ids: list[int]) -> str:
    """``tokenizer.decode(ids)``, by the fast backend directly when that is what the wrapper does (no
    clean-up of spaces; the wrapper's checks of every id cost more than the decoding)."""
    backend = fast_backend(tokenizer)
    if backend is not None and _plain_decode(type(tokenizer)) and not tokenizer.clean_up_tokenization_spaces:
        return backend.decode(ids, skip_special_tokens=False)
    return tokenizer.decode(ids)


def _plain_decode(cls: type) -> bool:
    """Whether ``cls`` decodes with transformers' own fast-tokenizer code (no subclass override)."""
    owner = {name: next((c for c in cls.__mro__ if name in vars(c)), None) for name in ("decode", "_decode")}
    return getattr(owner["decode"], "__module__", "") == "transformers.tokenization_utils_base" and getattr(
        owner["_decode"], "__module__", ""
    ) in ("transformers.tokenization_utils_tokenizers", "transformers.tokenization_utils_fast")
