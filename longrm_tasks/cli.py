"""``longrm``: run plans, reports, comparisons, submissions and the leaderboard (one console script).

Subcommands: ``plan``, ``report``, ``compare``, ``submission``, ``validate``, ``leaderboard``,
``baselines``, ``identity``, and ``path`` / ``demo-model-dir`` (the helpers of ``python -m longrm_tasks``).
Every file they write is replaced atomically (a failure leaves the previous one as it was).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __main__ as helpers
from .errors import LongRMError
from .report.stats import DEFAULT_ITERATIONS, DEFAULT_SEED


def _stats_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS, help="bootstrap replicates")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="bootstrap seed")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="longrm", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    report = sub.add_parser("report", help="tables, figures, parse failures and provenance of runs")
    report.add_argument(
        "runs", nargs="+", type=Path, help="lm-eval output dir, OpenCompass work dir or submission"
    )
    report.add_argument("--out", type=Path, required=True, help="folder for the report")
    report.add_argument("--name", action="append", help="label of each run, in order (repeatable)")
    report.add_argument(
        "--reference",
        type=Path,
        action="append",
        default=[],
        help="reference file or folder (e.g. results/reference): adds the paper's rows, marked",
    )
    report.add_argument(
        "--controls",
        action="store_true",
        help="add control baselines computed on the runs' data (bundled sample, or --data-dir)",
    )
    report.add_argument("--data-dir", type=Path, help="local copy of the data (for --controls)")
    report.add_argument("--no-plots", action="store_true")
    _stats_options(report)

    compare = sub.add_parser("compare", help="paired comparison of two runs on their shared rows")
    compare.add_argument("a", type=Path)
    compare.add_argument("b", type=Path)
    compare.add_argument("--alpha", type=float, default=0.05)
    compare.add_argument("--json", type=Path, help="also write the comparison as JSON")
    _stats_options(compare)

    submission = sub.add_parser("submission", help="write a leaderboard submission from a run")
    submission.add_argument("run", type=Path)
    submission.add_argument("--out", type=Path, required=True)
    submission.add_argument("--name", help="model name shown on the leaderboard")
    submission.add_argument("--type", choices=("generative", "scalar"), default="generative")
    submission.add_argument(
        "--allow-empty-outputs",
        action="store_true",
        help="submit a run whose judge returned empty outputs (the submission declares them)",
    )

    validate = sub.add_parser(
        "validate", help="check submission and reference files (nothing in them is executed)"
    )
    validate.add_argument("files", nargs="+", type=Path)
    validate.add_argument("--data-dir", type=Path, help="check rows and orders against this copy of the data")
    validate.add_argument("--print-schema", action="store_true", help="print the submission JSON Schema")
    validate.add_argument(
        "--print-reference-schema", action="store_true", help="print the reference-file JSON Schema"
    )

    board = sub.add_parser("leaderboard", help="static HTML page + Markdown table from submissions")
    board.add_argument(
        "paths", nargs="+", type=Path, help="folders/files with submissions and reference files"
    )
    board.add_argument("--out", type=Path, required=True)
    board.add_argument(
        "--skip-invalid",
        action="store_true",
        help="leave files that fail validation out (listed)",
    )
    board.add_argument("--data-dir", type=Path, help="check rows and orders against this copy of the data")
    _stats_options(board)

    baselines = sub.add_parser("baselines", help="control baselines computed from the data")
    source = baselines.add_mutually_exclusive_group(required=True)
    source.add_argument("--sample", action="store_true", help="the bundled sample")
    source.add_argument("--data-dir", type=Path, help="a local copy of the seven <Task>.jsonl files")
    source.add_argument("--full-random", action="store_true", help="random baselines of the full benchmark")
    baselines.add_argument("--out", type=Path, help="write the reference file here (default: print)")

    identity = sub.add_parser("identity", help="row identity manifest of a release (what a scope must match)")
    release = identity.add_mutually_exclusive_group(required=True)
    release.add_argument("--sample", action="store_true", help="the bundled sample")
    release.add_argument("--data-dir", type=Path, help="a local copy of the full benchmark")
    identity.add_argument("--release", help="name to record it under (default: sample / pinned hub id)")
    identity.add_argument("--out", type=Path, help="manifest to record the release in (default: print)")

    from .plan import _parser as plan_options

    plan = plan_options()
    sub.add_parser(
        "plan",
        parents=[plan],
        add_help=False,
        help="dry run: tokens, truncation and compute of a run",
        description=plan.description,
    )
    sub.add_parser("path", help="task folder for lm-eval's --include_path")
    sub.add_parser("demo-model-dir", help="folder of the demo judge's GGUF file")
    return parser


def cmd_report(args: argparse.Namespace) -> int:
    from .report.reference import load_references
    from .report.writer import build_report
    from .results.loaders import load_all
    from .results.submission import empty_outputs

    runs = load_all(args.runs, args.name)
    # Paper rows only: control rows depend on the data, so --controls computes them on the runs' data.
    references = [e for e in load_references(args.reference) if e.kind == "paper"]
    controls = _controls(runs, args.data_dir) if args.controls else []
    build_report(
        runs,
        args.out,
        iterations=args.iterations,
        seed=args.seed,
        references=references,
        controls=controls,
        plots=not args.no_plots,
    )
    for run in runs:
        if empty_outputs(run):
            _say(f"warning: {run.name}: {empty_outputs(run)} of {len(run.samples)} judge outputs are empty")
    print(f"report of {len(runs)} run(s) written to {args.out}/report.md")
    return 0


def _say(text: str, *, stdout: bool = False) -> None:
    """A line on stderr (or stdout), with the file-borne text in it neutralised (no terminal escapes)."""
    from .report.neutralise import plain

    print(plain(text), file=sys.stdout if stdout else sys.stderr)


def _controls(runs: list, data_dir: Path | None) -> list:
    from .data import load_local, load_sample
    from .report.baselines import controls_document
    from .report.reference import document_entries

    if data_dir is not None:
        data, scope = load_local(data_dir), "local"
    elif all(run.provenance.get("data_source") == "bundled-sample" for run in runs):
        data, scope = load_sample(), "bundled-sample"
    else:
        _say("--controls: the runs did not use the bundled sample; pass --data-dir")
        return []
    return document_entries(controls_document(data, scope))


def cmd_compare(args: argparse.Namespace) -> int:
    from .atomic import write_text
    from .report.compare import compare_runs, comparison_markdown
    from .report.writer import json_text
    from .results.loaders import load_runs

    (a,), (b,) = _one(load_runs(args.a), args.a), _one(load_runs(args.b), args.b)
    comparison = compare_runs(a, b, iterations=args.iterations, seed=args.seed, alpha=args.alpha)
    print(comparison_markdown(comparison), end="")
    if args.json:
        write_text(args.json, json_text(comparison.to_json()))
    return 0


def _one(runs: list, path: Path) -> list:
    if len(runs) != 1:
        raise LongRMError(f"{path} holds {len(runs)} runs ({', '.join(r.name for r in runs)}); point at one")
    return runs


def cmd_submission(args: argparse.Namespace) -> int:
    from .atomic import write_text
    from .report.writer import json_text
    from .results.loaders import load_runs
    from .results.submission import build_submission
    from .results.validation import validate_document

    (run,) = _one(load_runs(args.run), args.run)
    document = build_submission(run, args.type, args.name, allow_empty_outputs=args.allow_empty_outputs)
    result = validate_document(document)
    if not result.ok:
        raise LongRMError(f"the submission built from this run does not validate: {result.summary(1)}")
    write_text(args.out, json_text(document))
    print(f"{args.out}: {len(document['samples'])} samples, avg {document['aggregates']['avg']:.4f}")
    for problem in result.warnings:
        _say(f"{args.out}: warning [{problem.code}]: {problem}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .results.loaders import OTHER, SUBMISSION, read_file
    from .results.reference import reference_schema
    from .results.submission_schema import submission_schema

    if args.print_schema or args.print_reference_schema:
        print(json.dumps(submission_schema() if args.print_schema else reference_schema(), indent=1))
        return 0
    status = 0
    for path in args.files:
        loaded = read_file(path, args.data_dir)
        lines = [f"warning [{problem.code}]: {problem}" for problem in loaded.findings.warnings]
        if loaded.kind == OTHER:
            lines.append("error [not-longrm]: neither a longrm submission nor a reference file")
        elif not loaded.ok:
            lines += [f"error [{problem.code}]: {problem}" for problem in loaded.findings.errors]
        elif loaded.kind == SUBMISSION and loaded.run is not None and loaded.scope is not None:
            reasons = f" — {'; '.join(loaded.scope.reasons)}" if loaded.scope.reasons else ""
            lines.append(f"valid ({len(loaded.run.samples)} samples; scope: {loaded.scope.name}){reasons}")
        else:
            kinds = "/".join(sorted({row.kind for row in loaded.rows}))
            lines.append(f"valid reference file ({len(loaded.rows)} {kinds} rows)")
        if not loaded.ok:
            status = 1
        for line in lines:
            _say(f"{path}: {line}", stdout=True)
    return status


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from .leaderboard.site import build_site

    board = build_site(
        args.paths,
        args.out,
        skip_invalid=args.skip_invalid,
        data_dir=args.data_dir,
        iterations=args.iterations,
        seed=args.seed,
    )
    entries = sum(len(v) for v in board.scopes.values())
    print(f"{args.out}/index.html and leaderboard.md: {entries} rows in {len(board.scopes)} scope(s)")
    for excluded in board.excluded:
        _say(f"excluded: {excluded}")
    if board.ignored:
        _say(f"ignored {len(board.ignored)} JSON file(s) that are neither submissions nor reference files")
    return 0


def cmd_baselines(args: argparse.Namespace) -> int:
    from .atomic import write_text
    from .data import load_local, load_sample
    from .report.baselines import controls_document, random_full_document
    from .report.writer import json_text

    if args.full_random:
        document = random_full_document()
    elif args.sample:
        document = controls_document(load_sample(), "bundled-sample")
    else:
        document = controls_document(load_local(args.data_dir), "local")
        document["data"]["source"] = "local"  # the folder is a machine path
    text = json_text(document)
    if args.out:
        write_text(args.out, text)
    else:
        print(text, end="")
    return 0


def cmd_identity(args: argparse.Namespace) -> int:
    from .atomic import write_text
    from .constants import HUB_DATASET_ID, HUB_REVISION
    from .data import load_local, load_sample
    from .integrity import count_differences
    from .report.writer import json_text
    from .results.identity import IDENTITY_FORMAT, release_identity, with_release
    from .results.scope import FULL, SAMPLE

    if args.sample:
        data, scope, name = load_sample(), SAMPLE, args.release or SAMPLE
    else:
        data, scope = load_local(args.data_dir), FULL
        problems = count_differences(data)
        if problems:
            raise LongRMError(f"{args.data_dir} is not the full benchmark: {'; '.join(problems[:3])}")
        name = args.release or f"{HUB_DATASET_ID}@{HUB_REVISION}"
    manifest = None
    if args.out is not None and args.out.exists():
        try:
            manifest = json.loads(args.out.read_text("utf-8"))
        except (OSError, ValueError) as error:
            raise LongRMError(f"{args.out}: not an identity manifest to add to ({error})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != IDENTITY_FORMAT:
            raise LongRMError(f"{args.out}: not a {IDENTITY_FORMAT} manifest; nothing written")
    text = json_text(with_release(manifest, name, release_identity(data, scope)))
    if args.out:
        write_text(args.out, text)
        print(f"{args.out}: release {name!r} recorded ({sum(len(r) for r in data.rows.values())} rows)")
    else:
        print(text, end="")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from .plan import run_plan

    return run_plan(args)


COMMANDS = {
    "plan": cmd_plan,
    "report": cmd_report,
    "compare": cmd_compare,
    "submission": cmd_submission,
    "validate": cmd_validate,
    "leaderboard": cmd_leaderboard,
    "baselines": cmd_baselines,
    "identity": cmd_identity,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``longrm`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["path"], ["demo-model-dir"], ["manifest"]):
        return helpers.main(argv)
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except LongRMError as error:
        _say(f"longrm {args.command}: {error}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
