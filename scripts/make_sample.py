"""Regenerate the bundled sample (``longrm_tasks/data/sample``); see ``longrm_tasks.synthetic``."""

from longrm_tasks.synthetic import main

if __name__ == "__main__":
    raise SystemExit(main())
