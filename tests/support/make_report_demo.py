"""Regenerate the committed report demo under ``results/`` from real lm-eval runs (scripted judges).

Two OpenAI-compatible scripted judges (``tests/support/report_runs.py``: right with a per-length-bucket
probability, "strong" and "weak") judge the bundled sample through the real ``lm_eval`` CLI; then
``longrm report``, ``longrm compare``, ``longrm submission`` and ``longrm leaderboard`` run on the
outputs. Like ``scripts/demo.sh``, absolute paths in lm-eval's files are made repo-relative; the
judge server's ephemeral port is replaced by ``PORT`` so regenerating gives a stable diff.

    cd tests && python -m support.make_report_demo     # needs: pip install -e ".[dev,report]"
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import tempfile
from pathlib import Path

from longrm_tasks.cli import main as longrm
from support.report_runs import STRONG, WEAK, length_judge, run_lm_eval

ROOT = Path(__file__).resolve().parents[2]

DEMO = ROOT / "results" / "demo-scripted"
SUBMISSIONS = ROOT / "results" / "submissions"
JUDGES = {"scripted-strong": STRONG, "scripted-weak": WEAK}


def scrub(folder: Path) -> None:
    """Repo-relative paths and a fixed port in lm-eval's outputs."""
    for path in [*folder.rglob("*.json"), *folder.rglob("*.jsonl")]:
        text = path.read_text("utf-8").replace(f"{ROOT}/", "")
        text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
        path.write_text(text, "utf-8")


def run(*args: str) -> str:
    """``longrm`` in-process; returns what it printed."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = longrm(list(args))
    if status != 0:
        raise SystemExit(f"longrm {' '.join(args)} failed ({status})")
    return buffer.getvalue()


def main() -> int:
    shutil.rmtree(DEMO, ignore_errors=True)
    runs = DEMO / "runs"
    for name, accuracy in JUDGES.items():
        run_lm_eval(runs, length_judge(accuracy, salt=name.split("-")[1]), model=name)
    scrub(runs)
    run_dirs = [str(runs / name) for name in JUDGES]
    reference = str(ROOT / "results" / "reference")
    run("report", *run_dirs, "--out", str(DEMO / "report"), "--controls", "--reference", reference)
    (DEMO / "compare.md").write_text(run("compare", *run_dirs), "utf-8")
    SUBMISSIONS.mkdir(parents=True, exist_ok=True)
    for name in JUDGES:
        run("submission", str(runs / name), "--out", str(SUBMISSIONS / f"{name}.json"))
    with tempfile.TemporaryDirectory() as site:
        run("leaderboard", str(ROOT / "results"), "--out", site)
        shutil.copy(Path(site) / "leaderboard.md", DEMO / "leaderboard.md")
    for path in DEMO.rglob("*"):
        if path.is_file() and path.suffix in {".md", ".json", ".csv", ".svg"}:
            path.write_text(path.read_text("utf-8").replace(f"{ROOT}/", ""), "utf-8")
    print(f"demo written to {DEMO.relative_to(ROOT)} and {SUBMISSIONS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
