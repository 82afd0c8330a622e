"""The one place a tokenizer is loaded, with the one trust rule: no remote code unless the user passes a
true ``trust_remote_code``.

Every harness path that needs a tokenizer it does not already hold (parity truncation for API judges,
context-only truncation, ``longrm plan``, scalar reward models, OpenCompass ``tokenizer_path``) loads it
here, so a tokenizer folder whose ``auto_map`` names Python code cannot run it by default.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..errors import LongRMError
from ..options import RunOptions


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
