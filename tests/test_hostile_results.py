"""Issue 11, items 2, 3, 4, 5, 8, 9: submissions, reports and the leaderboard under hostile input.

Each test drives the ``longrm`` command line with files a hostile submitter, a careless user or a
flaky network could produce, starting from the committed demo (``results/submissions``, the lm-eval
run under ``results/demo-scripted/runs``). Expected figures are recomputed here with the core scorer
(``scoring``), independently of the validator. The file is self-contained (no ``support`` imports),
so it also runs against older checkouts to show what each guarantee fixed.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import json
import re
import shutil
import signal
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from longrm_tasks.cli import main
from longrm_tasks.constants import (
    BEST_OF_N_SIZES,
    EXPECTED_FILE_ROWS,
    EXPECTED_LENGTH_ROWS,
    EXPECTED_PAIRWISE_ROWS,
    TASK_FILES,
)
from longrm_tasks.order import presentation_orders
from longrm_tasks.scoring import ScoredSample, aggregate, sample_score, score_output

ROOT = Path(__file__).resolve().parents[1]
STRONG = ROOT / "results" / "submissions" / "scripted-strong.json"
WEAK = ROOT / "results" / "submissions" / "scripted-weak.json"
RUN = ROOT / "results" / "demo-scripted" / "runs" / "scripted-strong"
PAPER = ROOT / "results" / "reference" / "paper-v2.json"
FULL_TITLE = "Long-RewardBench (full benchmark, 1,900 rows)"
SAMPLE_TITLE = "Bundled sample"
ITERATIONS = ["--iterations", "20"]

Doc = dict[str, Any]


# ------------------------------------------------------------------------------------------------
# Helpers: documents built and re-scored here, with the core scorer only
# ------------------------------------------------------------------------------------------------


def load(path: Path) -> Doc:
    return json.loads(path.read_text("utf-8"))


def write(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), "utf-8")  # ensure_ascii: a lone surrogate stays "\ud800"
    return path


def scored(sample: Doc) -> ScoredSample:
    """The core's view of a submission sample (response text if any, else the prediction)."""
    fields = {k: sample[k] for k in ("task_file", "tasktype", "subtype", "length_bucket")}
    fields["truncation"] = sample.get("truncation", "none")
    if "response" in sample:
        return score_output(sample["response"], order=sample["order"], **fields)[1]
    score = sample_score(sample["order"], sample["prediction"])
    return ScoredSample(score=score, parsed=bool(sample["prediction"]), **fields)


def rescored(document: Doc) -> Doc:
    """``document`` with every per-sample score and every listed aggregate recomputed."""
    document = copy.deepcopy(document)
    for sample in document["samples"]:
        if "response" in sample:
            sample.pop("prediction", None)
            sample.pop("score", None)
    values = aggregate([scored(sample) for sample in document["samples"]])
    document["aggregates"] = {key: values[key] for key in document["aggregates"]}
    return document


def submission(name: str, samples: list[Doc], data_source: str = "hub") -> Doc:
    provenance = {"harness": "lm-eval", "prompt_set": "longrm-official-v1", "order_seed": 42,
                  "data_source": data_source, "data_files_sha256": {}}  # fmt: skip
    document = {"schema_version": "longrm-submission/1", "model": {"name": name, "type": "generative"},
                "provenance": provenance, "aggregates": {"avg": 0.0}, "samples": samples}  # fmt: skip
    return rescored(document)


def judged_rows(rows: dict[str, list[Doc]]) -> list[Doc]:
    """Prediction-only samples for skeleton rows, in official order, every ranking right."""
    samples = []
    for task_file, file_rows in rows.items():
        for index, order in presentation_orders(file_rows):
            row = file_rows[index]
            samples.append(
                {
                    "task_file": task_file,
                    "row_index": index,
                    "tasktype": row["tasktype"],
                    "subtype": row["subtype"],
                    "length_bucket": row["bucket"],
                    "order": order,
                    "prediction": list(order),
                }
            )
    return samples


def full_structure_rows() -> dict[str, list[Doc]]:
    """Rows with the benchmark's spec §1 structure: per-file and per-format counts, 300 rows per N,
    and the per-bucket counts (buckets dealt out in order)."""
    buckets = [b for b, count in EXPECTED_LENGTH_ROWS.items() for _ in range(count)]
    rows: dict[str, list[Doc]] = {}
    n = 0
    for task in TASK_FILES:
        rows[task] = []
        for i in range(EXPECTED_FILE_ROWS[task]):
            if i < EXPECTED_PAIRWISE_ROWS[task]:
                row = {"tasktype": "PairWise", "subtype": "same" if i % 2 else "cross", "slots": 2}
            else:
                size = BEST_OF_N_SIZES[n % 3]
                n += 1
                row = {"tasktype": "BestOfN", "subtype": str(size), "slots": size}
            row["candidates"] = [""] * row["slots"]
            row["bucket"] = buckets.pop()
            rows[task].append(row)
    return rows


def page(folder: Path) -> str:
    return (folder / "index.html").read_text("utf-8")


def section(html: str, title: str) -> str:
    """The part of the page under one scope's heading (up to the next scope)."""
    if title not in html:
        return ""
    return html.split(title, 1)[1].split("<section", 1)[0]


def validate(path: Path, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    status = main(["validate", str(path)])
    return status, capsys.readouterr().out


# ------------------------------------------------------------------------------------------------
# Item 2: the leaderboard page (and every other output) is never destroyed
# ------------------------------------------------------------------------------------------------


def outcome(args: list[str]) -> int | Exception:
    """``longrm`` in-process: its exit status, or the exception it let out (checked after the files)."""
    try:
        return main(args)
    except Exception as error:
        return error


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_unencodable_name_is_refused_and_the_page_survives(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder, site = tmp_path / "subs", tmp_path / "site"
    folder.mkdir()
    shutil.copy(STRONG, folder / "strong.json")
    assert main(["leaderboard", str(folder), "--out", str(site), *ITERATIONS]) == 0
    good = page(site)
    hostile = load(WEAK)
    hostile["model"]["name"] = "\ud800x"
    bad = write(folder / "surrogate.json", hostile)
    status = outcome(["leaderboard", str(folder), "--out", str(site), "--skip-invalid", *ITERATIONS])
    html = page(site)
    assert len(html) > len(good) // 2, f"index.html is {len(html)} characters after: {status!r}"
    assert status == 0 and "scripted-strong" in html and "surrogate.json" in html and "[bad-text]" in html
    status, out = validate(bad, capsys)
    assert status == 1 and "error [bad-text]: $.model.name" in out


def test_report_with_an_unencodable_name_writes_every_file_whole(tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["report", str(STRONG), "--out", str(out), *ITERATIONS]) == 0
    before = snapshot(out)
    # A name from the command line that is not valid UTF-8 arrives as a lone surrogate.
    status = outcome(["report", str(STRONG), "--out", str(out), "--name", "\udcffjudge", *ITERATIONS])
    after = snapshot(out)
    assert set(after) == set(before)
    assert not [name for name, data in after.items() if not data], f"empty files after: {status!r}"
    for name, data in after.items():
        if not name.endswith(".png"):
            data.decode("utf-8")  # every text file is whole, valid UTF-8
    assert status == 0 and "\ufffdjudge" in (out / "report.md").read_text("utf-8")


def test_a_failed_write_leaves_the_previous_page(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    resource = pytest.importorskip("resource")
    site = tmp_path / "site"
    assert main(["leaderboard", str(STRONG), "--out", str(site), *ITERATIONS]) == 0
    before = snapshot(site)
    # The disk fills up while the next page is written: no file may grow past 4 KB.
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4 * 1024, limits[1]))
    try:
        status = outcome(["leaderboard", str(STRONG), str(WEAK), "--out", str(site), *ITERATIONS])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)
    after = snapshot(site)
    sizes, previous = ({k: len(v) for k, v in files.items()} for files in (after, before))
    assert sizes == previous, f"sizes {sizes}, before {previous}, after {status!r}"
    assert after == before  # the previous page, and no temporary file left behind
    err = capsys.readouterr().err
    assert status == 1 and "File too large" in err and len(err.splitlines()) == 1


# ------------------------------------------------------------------------------------------------
# Item 3: validate and the leaderboard agree, reference files included
# ------------------------------------------------------------------------------------------------


def _marker_last(doc: Doc) -> str:
    """A valid submission whose schema marker comes after the samples (beyond the first 4 KB)."""
    return json.dumps({k: doc[k] for k in [*(k for k in doc if k != "schema_version"), "schema_version"]})


def _reference(**changes: Any) -> Doc:
    document = {"schema": "longrm-reference/1", "kind": "paper", "scope": "full",
                "citation": "fake citation", "scale": 100,
                "rows": [{"name": "Fake paper row", "metrics": {"avg": 99.0, "len_4k": 99.0}}]}  # fmt: skip
    document.update(changes)
    return document


HOSTILE_FILES: dict[str, Callable[[], bytes]] = {
    "valid-submission.json": lambda: STRONG.read_bytes(),
    "marker-after-4kb.json": lambda: _marker_last(load(WEAK)).encode(),
    "escaped-marker.json": lambda: (
        json.dumps({**load(WEAK), "model": {"name": "escaped", "type": "generative"}})
        .replace('"longrm-submission/1"', '"longrm\\u002dsubmission/1"')
        .encode()
    ),
    "valid-reference.json": lambda: PAPER.read_bytes(),
    "paper-without-citation.json": lambda: json.dumps(
        {k: v for k, v in _reference().items() if k != "citation"}
    ).encode(),
    "paper-nan.json": lambda: json.dumps(_reference()).replace("99.0", "NaN", 1).encode(),
    "paper-infinity.json": lambda: json.dumps(_reference()).replace("99.0", "1e400", 1).encode(),
    "paper-scale-0.json": lambda: json.dumps(_reference(scale=0)).encode(),
    "paper-string-metric.json": lambda: json.dumps(_reference()).replace("99.0", '"99"', 1).encode(),
    "paper-out-of-range.json": lambda: json.dumps(_reference(scale=1)).encode(),
    "paper-deep.json": lambda: (
        json.dumps(_reference(rows=[{"name": "deep", "metrics": {"avg": 1.0}}]))
        .replace('"avg": 1.0', '"avg": ' + "[" * 5000 + "]" * 5000)
        .encode()
    ),
    "paper-bad-json.json": lambda: json.dumps(_reference())[:-30].encode(),
}
SHOWN = {"valid-submission.json", "marker-after-4kb.json", "escaped-marker.json", "valid-reference.json"}


@pytest.fixture
def hostile_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name, make in HOSTILE_FILES.items():
        (folder / name).write_bytes(make())
    return folder


def test_validate_and_leaderboard_agree_on_every_file(
    hostile_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    accepted = {}
    for path in sorted(hostile_folder.iterdir()):
        status, out = validate(path, capsys)
        accepted[path.name] = status == 0
        assert status == 0 or re.search(r": error \[[a-z-]+\]: ", out), (path.name, out)
    valid = {name for name, ok in accepted.items() if ok}
    assert valid == SHOWN, f"validate accepts {sorted(valid)}"
    site = tmp_path / "site"
    assert main(["leaderboard", str(hostile_folder), "--out", str(site), "--skip-invalid", *ITERATIONS]) == 0
    html = page(site)
    assert str(hostile_folder) not in html  # files are named relative to the folder given
    assert html.count("scripted-strong") and html.count("scripted-weak") and html.count(">escaped<")
    assert "Gemini 2.5 Pro" in html and "Fake paper row" not in html
    for name in HOSTILE_FILES.keys() - SHOWN:
        assert re.search(rf"{re.escape(name)}: \[[a-z-]+\]", html), name  # listed, with its reason
    cells = re.findall(r"<td[^>]*>([^<]*)", html)
    assert not [c for c in cells if c.strip().lower() in ("nan", "inf", "-inf")]


def test_broken_reference_files_stop_the_build_with_one_line(
    hostile_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("previous page", "utf-8")
    assert main(["leaderboard", str(hostile_folder), "--out", str(site), *ITERATIONS]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "nothing written" in err and "paper-scale-0.json" in err
    assert (site / "index.html").read_text("utf-8") == "previous page"


# ------------------------------------------------------------------------------------------------
# Item 4: a scope is earned by the rows
# ------------------------------------------------------------------------------------------------


def test_a_scope_is_earned_by_the_rows(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "in"
    # 1,900 pairwise LongQA rows, all 4k, official orders, every prediction right.
    longqa = [{"tasktype": "PairWise", "subtype": "same", "candidates": ["", ""], "bucket": "4k"}] * 1900
    write(folder / "fake-full.json", submission("fake full run", judged_rows({"LongQA": longqa})))
    # The real structure (counts per file, format, N and bucket).
    write(folder / "full-shape.json", submission("full-shape run", judged_rows(full_structure_rows())))
    # Ten rows of the bundled sample, claiming the sample.
    partial = load(STRONG)
    partial["samples"] = partial["samples"][:10]
    partial["model"]["name"] = "ten sample rows"
    write(folder / "partial-sample.json", rescored(partial))
    shutil.copy(STRONG, folder / "strong.json")
    assert main(["leaderboard", str(folder), "--out", str(tmp_path / "site"), *ITERATIONS]) == 0
    html = page(tmp_path / "site")
    full, sample = section(html, FULL_TITLE), section(html, SAMPLE_TITLE)
    assert "fake full run" not in full and "full-shape run" in full
    assert "ten sample rows" not in sample and "scripted-strong" in sample
    assert "fake full run" in html and "ten sample rows" in html  # each in its own partial scope
    status, out = validate(folder / "fake-full.json", capsys)
    assert status == 0 and "scope: partial data (1900 rows" in out and "LongQA.jsonl has 1900 rows" in out


def test_identity_manifest_is_derived_from_the_sample(tmp_path: Path) -> None:
    shipped = ROOT / "longrm_tasks" / "data" / "identity.json"
    assert main(["identity", "--sample", "--out", str(tmp_path / "identity.json")]) == 0
    assert load(tmp_path / "identity.json") == load(shipped)
    rows = load(shipped)["releases"]["bundled-sample"]["rows"]
    submitted = {(s["task_file"], s["row_index"]): s for s in load(STRONG)["samples"]}
    assert sum(map(len, rows.values())) == len(submitted) == 62
    for task_file, entries in rows.items():
        for index, (row_id, tasktype, subtype, bucket, order) in enumerate(entries):
            s = submitted[(task_file, index)]
            assert (row_id, tasktype, subtype, bucket, order) == (
                s["row_id"], s["tasktype"], s["subtype"], s["length_bucket"], s["order"]
            )  # fmt: skip


# ------------------------------------------------------------------------------------------------
# Item 5: resource limits and types before anything is trusted
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("row_index", 0.0), ("order", [1.0, 0.0]), ("row_id", 2.0), ("prediction", [1.0, 0.0])],
)
def test_integers_must_be_json_integers(
    tmp_path: Path, capsys: pytest.CaptureFixture, field: str, value: Any
) -> None:
    document = load(STRONG)
    sample = document["samples"][0]
    sample[field] = value
    if field == "prediction":
        del sample["response"]  # else the response decides the prediction
    status, out = validate(write(tmp_path / "float.json", document), capsys)
    assert (
        status == 1 and f"error [schema]: $.samples[0].{field}" in out and "is not of type 'integer'" in out
    )


def test_sizes_are_checked_before_reading(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    big = tmp_path / "in" / "big.json"
    big.parent.mkdir()
    with big.open("wb") as handle:  # 300 MB, sparse: no disk used, nothing to read but zeros
        handle.write(b'{"schema_version": "longrm-submission/1", "samples": [')
        handle.truncate(300 * 1024 * 1024)
    site = str(tmp_path / "site")
    tracemalloc.start()
    try:
        status, out = validate(big, capsys)
        alone = main(["leaderboard", str(big), "--out", site, "--skip-invalid", *ITERATIONS])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB: the file was read"
    assert status == 1 and "error [too-large]: file is 314572800 bytes, more than the" in out
    assert alone == 1  # nothing else to show
    shutil.copy(STRONG, tmp_path / "in" / "strong.json")
    assert main(["leaderboard", str(big.parent), "--out", site, "--skip-invalid", *ITERATIONS]) == 0
    assert "big.json: [too-large]" in page(tmp_path / "site")


def _mutations() -> list[tuple[str, Callable[[Doc], None]]]:
    def at(path: tuple[Any, ...], value: Any) -> Callable[[Doc], None]:
        def change(doc: Doc) -> None:
            target = doc
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = value

        return change

    values = [None, True, 0.0, -1, 10**400, 1e300, "x" * 300, [], {}, [[[]]], "\x1b[31m\u202e"]
    fields = [("samples", 0, k) for k in ("row_index", "order", "score", "subtype", "prediction", "row_id")]
    fields += [("aggregates", "avg"), ("model", "name"), ("provenance", "order_seed"), ("samples", 0)]
    cases = [(f"{'.'.join(map(str, p))}={v!r:.20}", at(p, v)) for p in fields for v in values]
    cases += [
        ("rewards overflow", lambda d: d["samples"][1].update(rewards=[10**400, 1])),
        ("provenance 40 deep", at(("provenance", "nested"), json.loads("[" * 40 + "]" * 40))),
        ("duplicate key", lambda d: None),  # written with a repeated key below
    ]
    return cases


@pytest.mark.parametrize(("case", "change"), _mutations(), ids=[c for c, _ in _mutations()])
def test_hostile_values_get_coded_messages_never_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture, case: str, change: Callable[[Doc], None]
) -> None:
    document = load(STRONG)
    change(document)
    text = json.dumps(document)
    if case == "duplicate key":
        text = text.replace('"aggregates": {', '"aggregates": {"avg": 1.0, ', 1)
    path = tmp_path / "hostile.json"
    path.write_text(text, "utf-8")
    status, out = validate(path, capsys)  # must return, whatever the file holds
    assert status in (0, 1)
    lines = out.splitlines()
    assert lines and all(re.match(rf"{re.escape(str(path))}: (valid|warning|error) ", ln) for ln in lines)
    assert "\x1b" not in out and "\u202e" not in out


# ------------------------------------------------------------------------------------------------
# Item 8: secondary outputs neutralise markup, formulas and control characters
# ------------------------------------------------------------------------------------------------

MARKUP_NAME = (
    "![t](https://evil.example/p.png) [x](https://evil.example) <https://evil.example> www.evil.example"
)
FORMULA_NAME = '=HYPERLINK("https://evil.example","click")'
CONTROL_NAME = "judge\x00\x1b[2J\u202etxt.exe"


def _rendered_markdown(text: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    renderer = markdown_it.MarkdownIt("commonmark").enable("table")
    html = renderer.render(text)
    with contextlib.suppress(ImportError, ModuleNotFoundError):  # bare-URL autolinks need linkify-it-py
        linkify = markdown_it.MarkdownIt("commonmark", {"linkify": True}).enable(["table", "linkify"])
        html += linkify.render(text)
    return html


def test_outputs_neutralise_markup_formulas_and_controls(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    for name, source in ((MARKUP_NAME, STRONG), (FORMULA_NAME, WEAK), (CONTROL_NAME, STRONG)):
        document = load(source)
        document["model"]["name"] = name
        write(folder / f"{len(name)}.json", document)
    site, report = tmp_path / "site", tmp_path / "report"
    assert main(["leaderboard", str(folder), "--out", str(site), *ITERATIONS]) == 0
    files = [str(f) for f in sorted(folder.iterdir())]
    names = ["--name", MARKUP_NAME, "--name", FORMULA_NAME, "--name", CONTROL_NAME]
    assert main(["report", *files, *names, "--out", str(report), "--no-plots", *ITERATIONS]) == 0
    for path in (site / "leaderboard.md", report / "report.md"):
        html = _rendered_markdown(path.read_text("utf-8"))
        markup = re.findall(r"<(?:img|a) [^>]*>", html)
        assert not markup and "evil.example" in html, f"{path.name} renders {markup[:2]}"
    for path in [site / "index.html", site / "leaderboard.md", *report.iterdir()]:
        text = path.read_text("utf-8")
        assert not re.search("[\x00\x1b\u202e]", text), path.name
    for name in ("table1.csv", "table2.csv", "summary.csv", "parse_failures.csv"):
        with (report / name).open(encoding="utf-8", newline="") as handle:
            cells = [cell for row in csv.reader(handle) for cell in row]
        assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))], name
        assert any(c == "'" + FORMULA_NAME for c in cells), name


# ------------------------------------------------------------------------------------------------
# Item 9: transport errors are not judgements
# ------------------------------------------------------------------------------------------------


def blank_run(folder: Path, rows: int) -> Path:
    """The committed lm-eval run with the judge's first ``rows`` answers emptied (an API that
    answered 200 with an error body), its logs and aggregates made consistent again."""
    run = folder / "run"
    shutil.copytree(RUN, run)
    (log,) = run.glob("samples_*.jsonl")
    entries = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    samples = []
    for i, entry in enumerate(entries):
        if i < rows:
            entry["filtered_resps"] = [""]
            entry["resps"] = [[""]]
        doc = entry["doc"]
        fields = {k: doc[k] for k in ("task_file", "tasktype", "subtype", "length_bucket", "truncation")}
        _, sample = score_output(entry["filtered_resps"][0], order=doc["order"], **fields)
        entry["avg"], entry["parse_fail"] = sample.score, float(not sample.parsed)
        samples.append(sample)
    log.write_text("".join(json.dumps(e) + "\n" for e in entries), "utf-8")
    (results_path,) = run.glob("results_*.json")
    results = load(results_path)
    (task,) = results["results"]
    for key, value in aggregate(samples).items():
        if f"{key},none" in results["results"][task]:
            results["results"][task][f"{key},none"] = value
    write(results_path, results)
    return run


def test_submission_refuses_empty_outputs_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run = blank_run(tmp_path, rows=40)
    out = tmp_path / "sub.json"
    assert main(["submission", str(run), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "40 of 62 judge outputs are empty" in err and len(err.splitlines()) == 1 and not out.exists()
    assert main(["report", str(run), "--out", str(tmp_path / "report"), "--no-plots", *ITERATIONS]) == 0
    assert "40 of 62 judge outputs are empty" in (tmp_path / "report" / "report.md").read_text("utf-8")
    capsys.readouterr()
    assert main(["submission", str(run), "--out", str(out), "--allow-empty-outputs"]) == 0
    assert load(out)["allow_empty_outputs"] is True
    capsys.readouterr()
    status, printed = validate(out, capsys)
    assert (
        status == 0
        and "warning [empty-outputs]" in printed
        and "40 of 62 judge responses are empty" in printed
    )
    assert main(["leaderboard", str(out), "--out", str(tmp_path / "site"), *ITERATIONS]) == 0
    assert "40 of 62 judge outputs empty" in page(tmp_path / "site")


def test_undeclared_empty_responses_fail_validation(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    document = load(STRONG)
    for sample in document["samples"][:5]:
        sample["response"] = "   "
    status, out = validate(write(tmp_path / "empty.json", rescored(document)), capsys)
    assert status == 1 and "error [empty-outputs]: $.samples: 5 of 62 judge responses are empty" in out
