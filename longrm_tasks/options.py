"""Run options as users write them, parsed once with strict types.

The same options arrive through lm-eval (``--metadata`` JSON and ``--model_args``), OpenCompass (dataset
and inferencer arguments) and Inspect (task parameters), as booleans, numbers or strings. Every harness
parses them here, so ``"false"`` means false everywhere and a typo is an error, not a silent default.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .constants import MAX_NEW_TOKENS
from .errors import LongRMError

#: Words accepted for a boolean option (case-insensitive); anything else is an error.
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
#: Environment switch for strict mode (same as the option ``strict: true``).
STRICT_ENV = "LONGRM_STRICT"

#: Truncation modes: the official cut (spec §6) or the context-only addition.
PARITY_MODE, CONTEXT_MODE = "parity", "context"
TRUNCATION_MODES = (PARITY_MODE, CONTEXT_MODE)


class OptionError(LongRMError, ValueError):
    """An option has a value of the wrong kind; names the option and the value."""


def parse_bool(value: Any, name: str, default: bool = False) -> bool:
    """``true/false/1/0/yes/no`` (any case), a bool, or 0/1; ``None`` gives ``default``."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise OptionError(f"option {name!r} must be a boolean (true/false, 1/0, yes/no), got {value!r}")


def parse_positive_int(value: Any, name: str) -> int | None:
    """A positive integer (``None`` when unset); ``"8192"`` is accepted, ``8192.5`` and ``"8k"`` are not."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise OptionError(f"option {name!r} must be a positive integer, got {value!r}")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value <= 0:
        raise OptionError(f"option {name!r} must be a positive integer, got {value!r}")
    return value


def strict_mode(options: Mapping[str, Any] | None = None) -> bool:
    """Strict mode: the ``strict`` option, else ``$LONGRM_STRICT``, else off."""
    value = (options or {}).get("strict")
    if value is not None:
        return parse_bool(value, "strict")
    return parse_bool(os.environ.get(STRICT_ENV) or None, STRICT_ENV)


def truncation_mode(options: Mapping[str, Any]) -> str:
    """``parity`` unless ``truncation: context``. A boolean ``truncation`` is lm-eval's own ``hf`` model
    argument (tokenizer truncation), not a mode."""
    value = options.get("truncation")
    if value is None or isinstance(value, bool):
        return PARITY_MODE
    mode = str(value).strip().lower()
    if mode not in TRUNCATION_MODES:
        raise OptionError(f"option 'truncation' must be one of {', '.join(TRUNCATION_MODES)}, got {value!r}")
    return mode


def _template_args(value: Any) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise OptionError(f"option 'chat_template_args' must be a JSON object, got {value!r}") from None
    if not isinstance(value, Mapping):
        raise OptionError(f"option 'chat_template_args' must be a JSON object, got {value!r}")
    return dict(value)


@dataclass(frozen=True)
class RunOptions:
    """Every user option the core reads, typed.

    ``tokenizer`` is the tokenizer to load when the harness has none of its own: the ``tokenizer`` option,
    else ``pretrained`` (with ``gguf_file`` for a GGUF checkpoint).
    """

    data_dir: str | None = None
    strict: bool = False
    partial_data: bool = False
    truncation: str = PARITY_MODE
    tokenizer: str | None = None
    gguf_file: str | None = None
    revision: str | None = None
    trust_remote_code: bool = False
    max_length: int | None = None
    context_budget: int | None = None
    max_gen_toks: int | None = None
    cache_dir: Any = None
    truncation_marker: str = ""
    enable_thinking: bool | None = None
    chat_template_args: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> RunOptions:
        """Parse harness options (unknown keys are the harness's own and are ignored)."""
        options = dict(options or {})
        own_tokenizer = options.get("tokenizer")
        name = own_tokenizer or options.get("pretrained")
        max_length = None
        for key in ("max_length", "max_model_len"):
            if options.get(key) is not None:
                max_length = parse_positive_int(options[key], key)
                break
        enable_thinking = options.get("enable_thinking")
        return cls(
            data_dir=str(options["data_dir"]) if options.get("data_dir") else None,
            strict=strict_mode(options),
            partial_data=parse_bool(options.get("partial_data"), "partial_data"),
            truncation=truncation_mode(options),
            tokenizer=str(name) if name else None,
            gguf_file=None if own_tokenizer else (options.get("gguf_file") or None),
            revision=options.get("revision") or None,
            trust_remote_code=parse_bool(options.get("trust_remote_code"), "trust_remote_code"),
            max_length=max_length,
            context_budget=parse_positive_int(options.get("context_budget"), "context_budget"),
            max_gen_toks=parse_positive_int(options.get("max_gen_toks"), "max_gen_toks"),
            cache_dir=options.get("cache_dir"),
            truncation_marker=str(options.get("truncation_marker") or ""),
            enable_thinking=None
            if enable_thinking is None
            else parse_bool(enable_thinking, "enable_thinking"),
            chat_template_args=_template_args(options.get("chat_template_args")),
        )

    @property
    def new_tokens(self) -> int:
        """The judge's generation budget: ``max_gen_toks`` if given, else the protocol's 2,048."""
        return self.max_gen_toks or MAX_NEW_TOKENS
