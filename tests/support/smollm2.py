"""The demo judge SmolLM2-135M-Instruct as a safetensors folder, for engines that cannot read GGUF.

vLLM's CPU build has no GGUF loader; the conversion is the demo's own
(:func:`longrm_tasks.demo.prepare_model`: float32 safetensors + tokenizer, rebuilt only when the GGUF
file changes, written to a temporary folder first). The tests keep their copy in a cache folder
(``$LONGRM_TEST_MODEL_CACHE``, else ``~/.cache/longrm_tasks/test-models``), not in the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

from longrm_tasks.demo import prepare_model

CACHE_ENV = "LONGRM_TEST_MODEL_CACHE"
NAME = "SmolLM2-135M-Instruct"


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "longrm_tasks" / "test-models")


def smollm2_safetensors() -> Path:
    """Folder with SmolLM2-135M-Instruct in safetensors (float32) and its tokenizer; built once."""
    return prepare_model(cache_root() / NAME)
