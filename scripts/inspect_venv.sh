#!/usr/bin/env bash
# Create the Inspect AI virtual environment (default .venv-inspect, gitignored by .venv*/).
#
# inspect-ai brings its own pins (it downgrades fsspec to s3fs's, adds zstandard, textual, aiobotocore,
# fastapi...), so it gets a venv of its own, layered on this interpreter's packages
# (--system-site-packages): torch, transformers, lm-eval and datasets stay the main environment's, and
# the main environment is left as it is. This checkout is installed into it with the `inspect` extra,
# which declares the `inspect_ai` entry point (`inspect eval longrm_tasks/<task>`).
#
#   bash scripts/inspect_venv.sh [VENV_DIR]          # PYTHON=python3.11 to pick the interpreter
#   VENV_DIR/bin/python -m pytest -q tests/harness_inspect
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${1:-.venv-inspect}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv --system-site-packages "$VENV"
fi
# The editable install's import hook needs `editables` inside the venv: a venv's .pth files run before the
# outer site-packages join sys.path, so the outer copy cannot serve it.
"$VENV/bin/python" -m pip install -q --ignore-installed "editables~=0.3"
# The venv's own setuptools (the one venv seeds) would shadow the outer one, older than torch wants.
"$VENV/bin/python" -m pip install -q --upgrade "setuptools>=77.0.3"
"$VENV/bin/python" -m pip install -q -e ".[inspect]"

# Fail here, not in the first test, if Inspect or the entry point is missing.
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
import sys

try:
    import inspect_ai  # noqa: F401

    points = {p.name: p.value for p in md.entry_points(group="inspect_ai") if p.dist.name == "longrm-tasks"}
    assert points == {"longrm_tasks": "longrm_tasks.adapters.inspect.tasks"}, points
    import longrm_tasks.adapters.inspect.tasks  # noqa: F401
except Exception as error:
    sys.exit(f"Inspect venv is broken ({type(error).__name__}: {error}); does pyproject.toml define the `inspect` extra?")
print("inspect_ai", md.version("inspect-ai"), "| lm_eval", md.version("lm_eval"),
      "| transformers", md.version("transformers"), "| fsspec", md.version("fsspec"))
PY
echo "ready: $VENV (run: $VENV/bin/inspect eval longrm_tasks/longrewardbench_sample --model <provider/model>)"
