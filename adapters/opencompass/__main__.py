"""``python -m longrm_tasks.adapters.opencompass config-dir``: print the shipped config folder."""

from __future__ import annotations

import sys

from . import config_dir


def main(argv: list[str] | None = None) -> int:
    """Dispatch the subcommand named in ``argv``."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["config-dir"]:
        print(config_dir())
        return 0
    print("usage: python -m longrm_tasks.adapters.opencompass config-dir", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
