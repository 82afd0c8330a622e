"""``python -m longrm_tasks path``: print the task folder for lm-eval's ``--include_path``."""

from __future__ import annotations

import sys

from . import task_yaml_dir


def main(argv: list[str] | None = None) -> int:
    """Tiny CLI: ``path`` prints the task YAML folder."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["path"]:
        print(task_yaml_dir())
        return 0
    print("usage: python -m longrm_tasks path", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
