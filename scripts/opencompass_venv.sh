#!/usr/bin/env bash
# Create the OpenCompass virtual environment (default .venv-opencompass, gitignored by .venv*/).
#
# OpenCompass 0.5.4 pins (numpy<2, datasets<4, scikit-learn==1.5.0, ...) clash with the main
# environment, so it gets its own venv. torch is installed FIRST, from the local CPU build
# (otherwise pip resolves a multi-GB CUDA torch), then this checkout with the `opencompass` extra.
#
#   bash scripts/opencompass_venv.sh [VENV_DIR]      # PYTHON=python3.11 to pick the interpreter
#   VENV_DIR/bin/python -m pytest -q tests/harness_opencompass
#
# EXTRAS=opencompass,inspect adds Inspect AI next to OpenCompass (the three-harness parity test runs
# lm_eval, opencompass and inspect eval from one venv; CI does this).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${1:-.venv-opencompass}"
PYTHON="${PYTHON:-python3}"
export EXTRAS="${EXTRAS:-opencompass}"

"$PYTHON" - <<'PY'
import sys

if not (3, 10) <= sys.version_info[:2] <= (3, 12):
    sys.exit(f"OpenCompass 0.5.4 needs Python 3.10-3.12 (some pins have no cp313 wheels); got {sys.version.split()[0]}")
PY

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install -q)
"${PIP[@]}" --upgrade pip
"${PIP[@]}" torch==2.13.0                   # local CPU build first (else pip pulls CUDA torch)
"${PIP[@]}" -e ".[$EXTRAS]"                 # the opencompass extra carries the pins that make 0.5.4 run
"${PIP[@]}" pytest "lm-eval[api]>=0.4.13,<0.5"   # tests/harness_opencompass (lm_eval CLI for the parity tests)

# Fail here, not in the first run, if the extra was missing or a pin did not hold.
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
import os
import sys

try:
    import opencompass  # noqa: F401
    from opencompass.models import OpenAISDK  # noqa: F401
    from opencompass.models import HuggingFacewithChatTemplate  # noqa: F401

    import longrm_tasks.adapters.opencompass.datasets  # noqa: F401
except Exception as error:
    sys.exit(
        f"OpenCompass venv is broken ({type(error).__name__}: {error}); "
        "does pyproject.toml define the `opencompass` extra?"
    )
if "inspect" in os.environ.get("EXTRAS", "").split(","):
    try:
        import inspect_ai  # noqa: F401
    except Exception as error:
        sys.exit(f"OpenCompass venv: Inspect AI does not import next to OpenCompass ({type(error).__name__}: {error})")
print("opencompass", md.version("opencompass"), "| torch", md.version("torch"),
      "| transformers", md.version("transformers"), "| numpy", md.version("numpy"),
      "| datasets", md.version("datasets"))
PY
echo "ready: $VENV (run: $VENV/bin/opencompass examples/eval_longrewardbench.py)"
