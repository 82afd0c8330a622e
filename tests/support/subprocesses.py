"""How tests start harness command lines: which executable, and an offline environment.

Every end-to-end test runs the real ``lm_eval`` / ``opencompass`` / ``inspect`` in a subprocess
that must never reach the network (the hub is unreachable here; a test that silently tried would
hang on a timeout) and must not inherit settings of the developer's shell that change results.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

LOCAL = "127.0.0.1,localhost"
OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "OPENAI_API_KEY": "dummy-key",  # the scripted judge accepts any key; clients refuse to start without one
    "NO_PROXY": LOCAL,
    "no_proxy": LOCAL,
    "TOKENIZERS_PARALLELISM": "false",
}


def executable(name: str) -> str:
    """A console script of the running interpreter's environment (else from ``PATH``)."""
    script = Path(sys.executable).with_name(name)
    return str(script) if script.exists() else shutil.which(name) or name


def lm_eval_command() -> list[str]:
    """``lm_eval`` of the running environment (``python -m lm_eval`` where no script is installed)."""
    script = executable("lm_eval")
    return [sys.executable, "-m", "lm_eval"] if script == "lm_eval" else [script]


def offline_env(drop: tuple[str, ...] = ("LONGRM_TASKS_DISABLE_HOOK",), **extra: str) -> dict[str, str]:
    """This process's environment without variables starting with ``drop``, offline, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(drop)}
    env.update(OFFLINE, **extra)
    return env
