"""Position-bias audit, exact-match BoN accuracy and the no-context ablation.

The end-to-end test runs the real ``lm_eval`` CLI against the scripted judge with three tasks at
once (the audit, the no-context ablation, and the main task in context-only truncation mode).
Expected values are derived here from the raw sample files: the official order (spec §2), the
prompts (spec §3) and parsing/scoring (spec §4, §7) come from ``test_lm_eval_e2e``'s independent
implementation; the audit's orders and metrics are written out below from their definitions.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import pytest
from support.scripted_judge import ScriptedJudge, extract_slots
from support.spec_reference import (
    SAMPLE_DIR,
    Row,
    expected_system,
    expected_user,
    load_rows,
    make_reply,
    parse,
    score,
)
from support.subprocesses import lm_eval_command, offline_env
from test_lm_eval_e2e import Expected, expected_metrics

from longrm_tasks.audit import (
    AuditSample,
    audit_aggregate,
    audit_docs,
    audit_metric_keys,
    nocontext_docs,
    variant_orders,
    variant_user_prompt,
)
from longrm_tasks.data import load_sample
from longrm_tasks.items import judge_items
from longrm_tasks.scoring import exact_match, exact_match_inputs

# --------------------------------------------------------------------------------------------
# Unit tests
# --------------------------------------------------------------------------------------------


def test_variants_put_every_response_in_every_slot_once() -> None:
    assert variant_orders([1, 0], "PairWise") == [[1, 0], [0, 1]]
    for order in ([2, 0, 1], [3, 1, 0, 2], [0, 1]):
        variants = variant_orders(order, "BestOfN")
        assert variants[0] == order and len(variants) == len(order)
        for slot in range(len(order)):
            assert sorted(v[slot] for v in variants) == list(range(len(order)))


def test_audit_docs_share_the_prefix_and_start_with_the_official_order() -> None:
    data = load_sample()
    parity = {item.uid: item for item in judge_items(data)}
    docs = audit_docs(data)
    assert [doc["uid"] for doc in docs] == list(parity)
    for doc in docs:
        prompts = [variant_user_prompt(doc, v) for v in range(len(doc["orders"]))]
        assert prompts[0] == parity[doc["uid"]].user_prompt
        assert doc["system_prompt"] == parity[doc["uid"]].system_prompt
        head = prompts[0].split("[The Start of Assistant A's Answer]\n")[0]
        assert all(prompt.startswith(head + "[The Start of Assistant A's Answer]\n") for prompt in prompts)
        assert len(set(prompts)) == len(prompts)
        assert doc["truncation"] == "unchecked"


def _sample(tasktype: str, orders: list[list[int]], predictions: list[list[int]], n: str = "") -> AuditSample:
    return AuditSample(
        "LongQA",
        tasktype,
        n or ("same" if tasktype == "PairWise" else str(len(orders[0]))),
        "4k",
        tuple(map(tuple, orders)),
        tuple(map(tuple, predictions)),
    )


def test_audit_metrics_by_hand() -> None:
    always_a = _sample("PairWise", [[1, 0], [0, 1]], [[0, 1], [0, 1]])
    perfect = _sample("PairWise", [[0, 1], [1, 0]], [[0, 1], [1, 0]])
    metrics = audit_aggregate([always_a, perfect], audit_metric_keys(["PairWise"]))
    assert metrics["slot_a"] == 0.75 and metrics["slot_b"] == 0.25
    assert metrics["consistency"] == 0.5 and metrics["consistent_acc"] == 0.5
    assert metrics["order_avg"] == 0.75 and metrics["official_avg"] == 0.5
    assert metrics["spread"] == 0.5 and metrics["parse_fail"] == 0.0
    # Best of 3, a judge that always ranks A > B > C over the three rotations of [2, 0, 1].
    rotations = variant_orders([2, 0, 1], "BestOfN")
    first = _sample("BestOfN", rotations, [[0, 1, 2]] * 3)
    metrics = audit_aggregate([first], audit_metric_keys(["BestOfN"]))
    assert metrics["rank3_slot_a"] == 1.0 and metrics["rank3_slot_b"] == 0.0
    assert metrics["bon_consistency"] == 0.0 and metrics["bon_exact"] == pytest.approx(1 / 3)
    assert metrics["bon_consistent_acc"] == 0.0 and metrics["bon_spread"] == 1.0
    # A short ranking is partial credit, never consistent; an unparsed one counts as a parse failure.
    short = _sample("BestOfN", rotations, [[0, 1], [], [1, 0]])
    metrics = audit_aggregate([short], ["consistency", "parse_fail", "rank3_slot_a", "rank3_slot_b"])
    assert metrics == {
        "consistency": 0.0,
        "parse_fail": pytest.approx(1 / 3),
        "rank3_slot_a": 0.5,
        "rank3_slot_b": 0.5,
    }


def test_exact_match_is_a_labelled_addition() -> None:
    assert exact_match([2, 0, 1], [2, 0, 1]) == 1.0
    assert exact_match([2, 0, 1], [2, 0]) == 0.0 and exact_match([0, 1], []) == 0.0
    values = exact_match_inputs("BestOfN", "3", [2, 0, 1], [2, 0, 1])
    assert values == {"bon_exact": 1.0, "rank2_exact": None, "rank3_exact": 1.0, "rank4_exact": None}
    assert set(exact_match_inputs("PairWise", "same", [0, 1], [0, 1]).values()) == {None}


def test_nocontext_docs_show_only_the_question() -> None:
    data = load_sample()
    parity = {item.uid: item for item in judge_items(data)}
    for doc in nocontext_docs(data):
        row = data.rows[doc["task_file"]][doc["row_index"]]
        context = "\n\n".join(message["content"] for message in row["prompt_template"])
        blocks = parity[doc["uid"]].user_prompt[len("[User Question]\n" + context) :]
        assert blocks.startswith("\n\n[The Start of Assistant A's Answer]\n")
        assert doc["user_prompt"] == "[User Question]\n" + row["question"].strip() + blocks
        assert doc["system_prompt"] == parity[doc["uid"]].system_prompt


# --------------------------------------------------------------------------------------------
# End to end through lm_eval
# --------------------------------------------------------------------------------------------

ROWS = load_rows()
BY_TEXTS = {frozenset(row.answers): row for row in ROWS}
QUESTIONS = {
    (task_file, index): json.loads(line)["question"]
    for task_file in {row.task_file for row in ROWS}
    for index, line in enumerate((SAMPLE_DIR / f"{task_file}.jsonl").read_text("utf-8").splitlines())
}
AUDIT, NOCONTEXT, MAIN = (
    "longrewardbench_audit_sample",
    "longrewardbench_nocontext_sample",
    "longrewardbench_sample",
)
BUDGET = 1600
PAIRWISE_POLICIES = ("perfect", "first", "garbage", "first", "reverse", "last", "first")
BON_POLICIES = ("perfect", "first", "partial", "verbose", "reverse", "garbage")


def policy(row: Row) -> str:
    """A fixed policy per row (round robin in official run order, per format)."""
    same = [other.key for other in ROWS if other.tasktype == row.tasktype]
    choices = PAIRWISE_POLICIES if row.tasktype == "PairWise" else BON_POLICIES
    return choices[same.index(row.key) % len(choices)]


def judge(slots: list[str], messages: list[dict[str, Any]]) -> str:
    row = BY_TEXTS[frozenset(slots)]
    return make_reply(policy(row), row.tasktype, [row.answers.index(text) for text in slots])


def expected_variants(row: Row) -> list[tuple[int, ...]]:
    """Pairwise: both orders; best-of-N: slot p of rotation r shows official slot (p + r) % N."""
    if row.tasktype == "PairWise":
        return [row.order, row.order[::-1]]
    n = row.n
    return [tuple(row.order[(p + r) % n] for p in range(n)) for r in range(n)]


@dataclass
class Verdict:
    gold: tuple[int, ...]
    pred: list[int]

    @property
    def score(self) -> float:
        return score(self.gold, self.pred)

    @property
    def exact(self) -> bool:
        return list(self.pred) == list(self.gold)

    @property
    def by_response(self) -> tuple[int, ...] | None:
        if len(self.pred) != len(self.gold):
            return None
        return tuple(self.pred[self.gold.index(g)] for g in range(len(self.gold)))

    @property
    def top(self) -> int | None:
        return self.pred.index(0) if 0 in self.pred else None


def expected_audit() -> dict[str, float]:
    """Audit metrics written out from their definitions."""
    rows = {fmt: [row for row in ROWS if row.tasktype == fmt] for fmt in ("PairWise", "BestOfN")}
    verdicts = {
        row.key: [
            Verdict(v, parse(make_reply(policy(row), row.tasktype, list(v)), row.tasktype))
            for v in expected_variants(row)
        ]
        for row in ROWS
    }

    def row_values(row: Row) -> dict[str, float]:
        vs = verdicts[row.key]
        scores = [v.score for v in vs]
        responses = {v.by_response for v in vs}
        return {
            "order_avg": sum(scores) / len(scores),
            "consistent_acc": float(all(v.exact for v in vs)),
            "consistency": float(len(responses) == 1 and None not in responses),
            "spread": max(scores) - min(scores),
        }

    out: dict[str, float] = {}
    for key in ("order_avg", "consistent_acc", "consistency", "spread"):
        out[key] = sum(row_values(row)[key] for row in ROWS) / len(ROWS)
        out[f"pairwise_{key}"] = sum(row_values(row)[key] for row in rows["PairWise"]) / len(rows["PairWise"])
        out[f"bon_{key}"] = sum(row_values(row)[key] for row in rows["BestOfN"]) / len(rows["BestOfN"])
    out["official_avg"] = sum(verdicts[row.key][0].score for row in ROWS) / len(ROWS)
    out["bon_exact"] = sum(sum(v.exact for v in verdicts[row.key]) / row.n for row in rows["BestOfN"]) / len(
        rows["BestOfN"]
    )
    out["parse_fail"] = sum(
        sum(not v.pred for v in verdicts[row.key]) / len(verdicts[row.key]) for row in ROWS
    ) / len(ROWS)
    tops = [v.top for row in rows["PairWise"] for v in verdicts[row.key] if v.top is not None]
    out["slot_a"], out["slot_b"] = tops.count(0) / len(tops), tops.count(1) / len(tops)
    for n in (2, 3, 4):
        tops = [
            v.top for row in rows["BestOfN"] if row.n == n for v in verdicts[row.key] if v.top is not None
        ]
        for slot in range(n):
            out[f"rank{n}_slot_{'abcd'[slot]}"] = tops.count(slot) / len(tops)
    return out


@dataclass
class Run:
    judge: ScriptedJudge
    results: dict[str, Any]
    samples: dict[str, list[dict[str, Any]]]
    tokenizer: Any


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    from support.tiny_models import build_tokenizer

    workdir = tmp_path_factory.mktemp("controls")
    tokenizer = build_tokenizer()
    tokenizer.save_pretrained(workdir / "tok")
    metadata = {
        "truncation": "context",
        "context_budget": BUDGET,
        "tokenizer": str(workdir / "tok"),
        "cache_dir": str(workdir / "cache"),
    }
    server = ScriptedJudge(judge, model_name="scripted-judge")
    env = offline_env(LONGRM_NO_PROGRESS="1")
    tasks = [AUDIT, NOCONTEXT, MAIN]
    with server as base_url:
        command = [
            *lm_eval_command(),
            "--model", "local-chat-completions",
            "--model_args",
            f"model=scripted-judge,base_url={base_url}/chat/completions,num_concurrent=1,max_retries=1,"
            "tokenized_requests=False",
            "--apply_chat_template",
            "--tasks", ",".join(tasks),
            "--metadata", json.dumps(metadata),
            "--output_path", "out",
            "--log_samples",
        ]  # fmt: skip
        started = time.monotonic()
        proc = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
        print(f"lm_eval controls run: {time.monotonic() - started:.1f} s")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert not server.errors, server.errors
    (results_file,) = sorted((workdir / "out").glob("*/results_*.json"))
    samples = {}
    for task in tasks:
        (path,) = sorted(results_file.parent.glob(f"samples_{task}_*.jsonl"))
        samples[task] = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return Run(server, json.loads(results_file.read_text("utf-8")), samples, tokenizer)


def _prompts(sample: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The chat messages of each request of a logged sample (lm-eval logs a JSON string per request)."""
    prompts = []
    for key in sorted(sample["arguments"], key=lambda k: int(k.rsplit("_", 1)[-1])):
        prompt = sample["arguments"][key]["arg_0"]
        prompts.append(json.loads(prompt[0] if isinstance(prompt, list) else prompt))
    return prompts


def _close(reported: dict[str, Any], expected: dict[str, float], label: str) -> None:
    bad = {
        key: (reported.get(f"{key},none"), value)
        for key, value in expected.items()
        if abs(reported.get(f"{key},none", float("nan")) - value) > 1e-12
    }
    assert not bad, f"{label}: (reported, expected) {bad}"


@pytest.mark.slow
def test_audit_shows_every_order_with_a_shared_prefix_and_scores_as_defined(run: Run) -> None:
    samples = run.samples[AUDIT]
    assert len(samples) == len(ROWS)
    seen = set()
    for sample in samples:
        prompts = _prompts(sample)
        presented = [tuple(extract_slots(messages[-1]["content"])) for messages in prompts]
        row = BY_TEXTS[frozenset(presented[0])]
        seen.add(row.key)
        assert presented == [tuple(row.answers[g] for g in v) for v in expected_variants(row)], row.key
        # Shared prefix: same system message, same user text up to the first response.
        assert all(messages[0] == prompts[0][0] for messages in prompts)
        assert prompts[0][0]["content"] == expected_system(row.tasktype, row.n)
        heads = {
            messages[-1]["content"].split("[The Start of Assistant A's Answer]\n")[0] for messages in prompts
        }
        assert len(heads) == 1, row.key
        assert sample["resps"] == [[judge(list(p), [])] for p in presented]
    assert seen == {row.key for row in ROWS}
    reported = run.results["results"][AUDIT]
    expected = expected_audit()
    assert set(expected) == set(audit_metric_keys(["PairWise", "BestOfN"])) - {
        "context_cut",
        "trunc_unchecked",
    }
    _close(reported, expected, AUDIT)
    # The design exercises the metrics: neither trivial nor all equal.
    assert 0 < expected["consistency"] < 1 and 0 < expected["slot_a"] < 1 and expected["slot_a"] != 0.5
    assert expected["official_avg"] == pytest.approx(expected_metrics(ROWS, _official())["avg"])


def _official() -> dict[tuple[str, int], Expected]:
    out = {}
    for row in ROWS:
        reply = make_reply(policy(row), row.tasktype, list(row.order))
        pred = parse(reply, row.tasktype)
        out[row.key] = Expected(row, reply, tuple(pred), score(row.order, pred))
    return out


@pytest.mark.slow
def test_nocontext_ablation_judges_the_question_alone(run: Run) -> None:
    samples = run.samples[NOCONTEXT]
    assert len(samples) == len(ROWS)
    for sample in samples:
        (messages,) = _prompts(sample)
        row = BY_TEXTS[frozenset(extract_slots(messages[-1]["content"]))]
        assert messages[0]["content"] == expected_system(row.tasktype, row.n)
        assert messages[-1]["content"] == expected_user(QUESTIONS[row.key].strip(), row.presented)
    expected = expected_metrics(ROWS, _official())
    bon = [e for e in _official().values() if e.row.tasktype == "BestOfN"]
    expected["bon_exact"] = sum(list(e.pred) == list(e.row.order) for e in bon) / len(bon)
    for n in (2, 3, 4):
        group = [e for e in bon if e.row.n == n]
        expected[f"rank{n}_exact"] = sum(list(e.pred) == list(e.row.order) for e in group) / len(group)
    _close(run.results["results"][NOCONTEXT], expected, NOCONTEXT)


@pytest.mark.slow
def test_context_mode_keeps_instructions_and_responses_within_budget(run: Run) -> None:
    samples = run.samples[MAIN]
    assert len(samples) == len(ROWS)
    cut = 0
    for sample in samples:
        (messages,) = _prompts(sample)
        row = BY_TEXTS[frozenset(extract_slots(messages[-1]["content"]))]
        assert messages[0]["content"] == expected_system(row.tasktype, row.n)
        user = messages[-1]["content"]
        assert tuple(extract_slots(user)) == row.presented
        full = expected_user(row.question, row.presented)
        assert QUESTIONS[row.key].strip() in user
        rendered = run.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        assert len(run.tokenizer(rendered, add_special_tokens=False)["input_ids"]) <= BUDGET, row.key
        cut += user != full
        assert sample["doc"]["context_cut"] == (user != full)
    assert 0 < cut < len(ROWS)
    reported = run.results["results"][MAIN]
    expected = expected_metrics(ROWS, _official())
    expected["context_cut"] = cut / len(ROWS)  # context cuts have their own key ...
    expected["truncated"] = 0.0  # ... and are never counted as parity cuts
    _close(reported, expected, MAIN)
    provenance = run.results["configs"][MAIN]["metadata"]["longrm"]
    assert provenance["truncation_mode"] == "context"
    by_bucket = provenance["context_truncation"]["by_bucket"]
    assert sum(entry["cut"] for entry in by_bucket.values()) == cut
    # The audit's requests: one per variant, all through the same server.
    assert len(run.judge.requests) == 2 * len(ROWS) + sum(len(expected_variants(row)) for row in ROWS)
