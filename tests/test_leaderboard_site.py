"""``longrm leaderboard``: static page + Markdown from submissions and reference rows, tested in Chromium."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from support.report_runs import STRONG, WEAK, length_judge, sample_run

from longrm_tasks.cli import main
from longrm_tasks.leaderboard.site import build_site
from longrm_tasks.results.records import ReportError
from longrm_tasks.results.submission import build_submission

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCRIPT_NAME = "<script>alert(1)</script>"
ATTRIBUTE_NAME = '"><img src=x onerror="window.__pwned=1"> weak | judge'


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("results")
    for name, accuracy, salt in ((SCRIPT_NAME, STRONG, "strong"), (ATTRIBUTE_NAME, WEAK, "weak")):
        run = sample_run(length_judge(accuracy, salt=salt))
        (folder / f"{salt}.json").write_text(json.dumps(build_submission(run, name=name)), "utf-8")
    shutil.copytree(ROOT / "results" / "reference", folder / "reference")
    (folder / "unrelated.json").write_text('{"results": {}}', "utf-8")  # ignored
    return folder


@pytest.fixture(scope="module")
def site(results_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    assert main(["leaderboard", str(results_dir), "--out", str(out), "--iterations", "300"]) == 0
    return out


def test_page_escapes_every_submission_string(site: Path) -> None:
    html = (site / "index.html").read_text("utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in html
    assert html.count("<script>") == 1  # the page's own sorting script
    assert 'http-equiv="Content-Security-Policy"' in html and "script-src &#x27;sha256-" in html


def test_page_structure(site: Path) -> None:
    html = (site / "index.html").read_text("utf-8")
    assert "Long-RewardBench (full benchmark, 1,900 rows)" in html and "Bundled sample" in html
    assert html.count('class="sortable"') >= 4
    assert '<span class="badge">paper</span>' in html and '<span class="badge">control</span>' in html
    assert "<svg" in html and "<polyline" in html and "stroke-dasharray" in html
    for heading in ("Overall", "Accuracy vs context length", "Per task"):
        assert f"<h3>{heading}</h3>" in html


def test_markdown_table_is_escaped_and_ranked(site: Path) -> None:
    markdown = (site / "leaderboard.md").read_text("utf-8")
    assert "<script>" not in markdown and "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    assert "weak \\| judge" in markdown  # a '|' cannot break the table
    assert "Gemini 2.5 Pro *(paper)*" in markdown
    sample = markdown.split("## Bundled sample")[1]
    assert sample.index("&lt;script&gt;") < sample.index("weak \\| judge")  # strong judge ranks first


def test_invalid_submission_stops_the_build_unless_skipped(results_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(results_dir, folder)
    doc = json.loads((folder / "strong.json").read_text("utf-8"))
    doc["aggregates"]["avg"] = 1.0
    (folder / "strong.json").write_text(json.dumps(doc), "utf-8")
    with pytest.raises(ReportError, match=r"invalid submission .*aggregate"):
        build_site([folder], tmp_path / "site", iterations=50)
    board = build_site([folder], tmp_path / "site", skip_invalid=True, iterations=50)
    (excluded,) = board.excluded
    assert excluded.path.name == "strong.json" and "[aggregate-mismatch]" in excluded.reasons
    assert "Excluded files" in (tmp_path / "site" / "index.html").read_text("utf-8")


@pytest.mark.slow
def test_page_in_headless_chromium(site: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    problems: list[str] = []
    dialogs: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto((site / "index.html").as_uri())
            page.wait_for_load_state("load")
            assert page.evaluate("window.__pwned") is None
            names = page.locator("#s1-overall tbody td.name").all_inner_texts()
            assert any(name.startswith(SCRIPT_NAME) for name in names), names

            table = page.locator("#s1-overall")
            headers = table.locator("thead th").all_inner_texts()
            avg_column = headers.index("AVG.")

            def column() -> list[float]:
                cells = table.locator(f"tbody tr td:nth-child({avg_column + 1})")
                return [
                    float(v) for v in cells.evaluate_all("cs => cs.map(c => c.getAttribute('data-sort'))")
                ]

            avg_button = table.locator("thead th").nth(avg_column).locator("button")
            avg_button.click()
            assert table.locator("thead th").nth(avg_column).get_attribute("aria-sort") == "descending"
            assert column() == sorted(column(), reverse=True)
            avg_button = table.locator("thead th").nth(avg_column).locator("button")
            avg_button.click()
            assert column() == sorted(column())
            table.locator("thead th").nth(0).locator("button").click()
            names = table.locator("tbody td.name").evaluate_all(
                "cs => cs.map(c => c.getAttribute('data-sort'))"
            )
            assert names == sorted(names, key=str.lower) or names == sorted(names)

            shot = tmp_path / "leaderboard.png"
            if os.environ.get("LONGRM_SCREENSHOT"):
                shot = Path(os.environ["LONGRM_SCREENSHOT"])
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert not dialogs, dialogs
    assert not problems, problems
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
