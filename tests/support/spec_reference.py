"""Independent expectations for the harness tests (lm-eval, OpenCompass, Inspect), derived from the
raw sample files and the spec: one reference, so every harness is held to the same truth.

Nothing here imports the package: the presentation order (spec §2) is re-derived with ``random``,
the judge prompts are written out from spec §3, parsing and scoring follow spec §4 and §7.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "longrm_tasks" / "data" / "sample"
TASK_FILES = ("LongQA", "Summ", "Safety", "ICL", "Cite", "Code", "Math")
BUCKETS = ("4k", "8k", "16k", "32k", "64k", "128k")

PAIRWISE_SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by two AI "
    "assistants to the user questions. You should focus on who provides a better answer to the second "
    "user question. You should choose the assistant that follows the user's instructions and answers "
    "the user's question better. Your evaluation should consider factors such as the helpfulness, "
    "relevance, accuracy, depth, creativity, and level of detail of their responses. Begin your "
    "evaluation by comparing the two responses and provide a short explanation. Avoid any position "
    "biases and ensure that the order in which the responses were presented does not influence your "
    "decision. Do not allow the length of the responses to influence your evaluation. Do not favor "
    "certain names of the assistants. Be as objective as possible. After providing your explanation, "
    'output your final verdict by strictly following this format: "[[A]]" if assistant A is better, '
    '"[[B]]" if assistant B is better.'
)
BON_SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by multiple "
    "AI assistants to the user's question. You should rank {number} responses based on their quality, "
    "with the highest quality response first, followed by the next best, and so on. Consider the "
    "following factors in your evaluation: helpfulness, relevance, accuracy, depth, creativity, and "
    "level of detail. Do not allow the order in which the responses were presented to influence your "
    "decision. Your ranking should be based purely on the overall quality of each response, not on the "
    "length or the name of the assistants. After evaluating the responses, please output the ranking "
    "of the assistants in the following format: {pattern}Please reply strictly in the following "
    "format, starting with [Analysis] and ending with patterns like {pattern}:\n[Analysis]\n"
    "(your analysis)\n[Ranking]\n(your ranking in the format of {pattern})"
)
BON_PATTERNS = {2: "[[A>B]]", 3: "[[A>B>C]]", 4: "[[A>B>C>D]]"}


def expected_system(tasktype: str, n: int) -> str:
    if tasktype == "PairWise":
        return PAIRWISE_SYSTEM
    return BON_SYSTEM.replace("{number}", str(n)).replace("{pattern}", BON_PATTERNS[n])


def expected_user(question: str, slots: Sequence[str]) -> str:
    text = "[User Question]\n" + question
    for p, slot in enumerate(slots):
        x = "ABCD"[p]
        text += f"\n\n[The Start of Assistant {x}'s Answer]\n{slot}\n[The End of Assistant {x}'s Answer]"
    return text


@dataclass(frozen=True)
class Row:
    task_file: str
    index: int  # position in the file
    row_id: int
    tasktype: str
    subtype: str
    bucket: str
    question: str
    answers: tuple[str, ...]  # by gold rank
    order: tuple[int, ...]  # slot p shows answers[order[p]]
    rank: int  # position in the official run order (both formats)

    @property
    def uid(self) -> str:
        return f"{self.task_file}-{self.index}"

    @property
    def key(self) -> tuple[str, int]:
        return (self.task_file, self.index)

    @property
    def presented(self) -> tuple[str, ...]:
        return tuple(self.answers[r] for r in self.order)

    @property
    def n(self) -> int:
        return len(self.answers)


def load_rows(sample_dir: Path = SAMPLE_DIR) -> list[Row]:
    """Every row in the official run order (spec §2), orders drawn over whole files."""
    rows: list[Row] = []
    for task_file in TASK_FILES:
        lines = (sample_dir / f"{task_file}.jsonl").read_text("utf-8").splitlines()
        numbered = list(enumerate(json.loads(line) for line in lines if line.strip()))
        rng = random.Random()
        rng.seed(42)
        rng.shuffle(numbered)
        for index, row in numbered:
            bon = row["tasktype"] == "BestOfN"
            answers = tuple(row["candidates"]) if bon else (row["chosen"], row["rejected"])
            order = list(range(len(answers)))
            rng.shuffle(order)
            rows.append(
                Row(
                    task_file=task_file,
                    index=index,
                    row_id=row["id"],
                    tasktype=row["tasktype"],
                    subtype=str(row["subtype"]),
                    bucket=row["ctx_length_for_length"],
                    question="\n\n".join(m["content"] for m in row["prompt_template"]),
                    answers=answers,
                    order=tuple(order),
                    rank=len(rows),
                )
            )
    return rows


RANKING_RE = re.compile(r"\[[\w\s]+(?:\s*>\s*[\w\s]+)+\]")


def parse(text: str, tasktype: str) -> list[int]:
    """Spec §4."""
    if tasktype == "PairWise":
        return [0, 1] if "[[A]]" in text else [1, 0] if "[[B]]" in text else []
    if text.count(">") > 9:
        return []
    match = RANKING_RE.search(text)
    if not match:
        return []
    pieces = match.group(0).split(">")
    cleaned = []
    for i, piece in enumerate(pieces):
        for noise in ("assistant", "Assistant", ":", " "):
            piece = piece.replace(noise, "")
        if i == 0:
            piece = piece.strip("[")
        if i == len(pieces) - 1:
            piece = piece.strip("]")
        cleaned.append(piece)
    if any(len(piece) != 1 or not "A" <= piece <= "Z" for piece in cleaned):
        return []
    ids = [ord(piece) - 65 for piece in cleaned]
    if sorted(ids) != list(range(len(ids))):
        return []
    return [ids.index(p) for p in range(len(ids))]


def score(gold: Sequence[int], pred: Sequence[int]) -> float:
    """Spec §7 per-sample score."""
    if not pred:
        return 0.0
    return sum(gold[i] == pred[i] for i in range(min(len(gold), len(pred)))) / len(gold)


PAIRWISE_POLICIES = ("perfect", "first", "last", "reverse", "garbage", "late_a")
BON_POLICIES = ("perfect", "verbose", "first", "reverse", "garbage", "partial", "arrows")


def policy_of(row: Row, rows: Sequence[Row]) -> str:
    """A fixed policy per row: round robin over the rows of its format, in run order."""
    same = [other.uid for other in rows if other.tasktype == row.tasktype]
    choices = PAIRWISE_POLICIES if row.tasktype == "PairWise" else BON_POLICIES
    return choices[same.index(row.uid) % len(choices)]


def make_reply(policy: str, tasktype: str, slot_gold: Sequence[int]) -> str:
    """What the judge says when slot p holds the response of gold rank ``slot_gold[p]``."""
    n = len(slot_gold)
    letters = [chr(65 + p) for p in range(n)]
    best_first = [letters[slot_gold.index(r)] for r in range(n)]
    if tasktype == "PairWise":
        verdict = {
            "perfect": best_first[0],
            "first": "A",
            "last": "B",
            "reverse": best_first[-1],
        }.get(policy)
        if verdict is not None:
            return f"Assistant {verdict} is more faithful to the document.\n\nFinal verdict: [[{verdict}]]"
        if policy == "garbage":
            return "Both answers have merits and flaws; I cannot decide between Assistant A and B."
        if policy == "late_a":  # [[A]] is checked first even though [[B]] comes earlier
            return "At first sight [[B]] looks better, but after checking the context: [[A]]"
        raise ValueError(policy)
    ranking = {
        "perfect": best_first,
        "first": letters,
        "reverse": best_first[::-1],
        "partial": letters[: n - 1],
    }.get(policy)
    if ranking is not None:
        return "[Analysis]\nCompared the answers with the context.\n[Ranking]\n[[" + ">".join(ranking) + "]]"
    if policy == "verbose":
        body = " > ".join(f"Assistant {x}" for x in best_first)
        return f"[Analysis]\nChecked each answer.\n[Ranking]\n[[{body}]]"
    if policy == "garbage":
        return "[Analysis]\nThe answers are all similar.\n[Ranking]\nI cannot rank them."
    if policy == "arrows":  # exactly 10 '>' in all (> 9): unparsed even with a valid ranking
        noise = ">" * (10 - (n - 1))
        return f"[Analysis]\nquality {noise} length\n[Ranking]\n[[" + ">".join(best_first) + "]]"
    raise ValueError(policy)


def mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def expected_metrics(rows: Sequence[Row], replies: dict[str, str]) -> dict[str, float]:
    """Spec §7 aggregates (fractions) of ``rows`` given each row's reply (groups without rows: 0)."""
    scored = []
    for row in sorted(rows, key=lambda r: r.rank):
        pred = parse(replies[row.uid], row.tasktype)
        scored.append((row, pred, score(row.order, pred)))
    pw = [s for s in scored if s[0].tasktype == "PairWise"]
    bon = [s for s in scored if s[0].tasktype == "BestOfN"]
    groups = {"avg": scored, "pairwise_avg": pw, "bon_avg": bon}
    for task_file in TASK_FILES:
        groups[f"task_{task_file.lower()}"] = [s for s in pw if s[0].task_file == task_file]
    groups["same"] = [s for s in pw if s[0].subtype == "same"]
    groups["diff"] = [s for s in pw if s[0].subtype != "same"]
    for n in (2, 3, 4):
        groups[f"rank{n}"] = [s for s in bon if s[0].subtype == str(n)]
    for bucket in BUCKETS:
        groups[f"len_{bucket}"] = [s for s in pw if s[0].bucket == bucket]
    metrics = {key: mean(s[2] for s in group) or 0.0 for key, group in groups.items()}
    metrics["len_avg"] = sum(metrics[f"len_{bucket}"] for bucket in BUCKETS) / len(BUCKETS)
    metrics["parse_fail"] = mean(0.0 if s[1] else 1.0 for s in scored) or 0.0
    metrics["empty_output"] = mean(0.0 if replies[s[0].uid].strip() else 1.0 for s in scored) or 0.0
    return metrics


PAIRWISE_KEYS = {
    *(f"task_{t.lower()}" for t in TASK_FILES),
    *(f"len_{b}" for b in BUCKETS),
    "len_avg",
    "same",
    "diff",
    "pairwise_avg",
}
BON_KEYS = {"rank2", "rank3", "rank4", "bon_avg"}


class ReferenceJudge:
    """A scripted-judge policy with a fixed reply per row (the round-robin policies above): it finds the
    row from the presented responses, so the figures it earns are :func:`expected_metrics` of
    :attr:`replies` whatever harness asks it, provided the harness presents each row officially."""

    def __init__(self, rows: Sequence[Row] | None = None) -> None:
        self.rows = list(rows) if rows is not None else load_rows()
        self.by_texts = {frozenset(row.answers): row for row in self.rows}
        assert len(self.by_texts) == len(self.rows), "the truth table needs a distinct response set per row"
        self.replies = {
            row.uid: make_reply(policy_of(row, self.rows), row.tasktype, list(row.order)) for row in self.rows
        }

    def row(self, slots: Sequence[str]) -> Row:
        """The row whose responses are ``slots`` (in any order)."""
        return self.by_texts[frozenset(slots)]

    def __call__(self, slots: list[str], messages: list[dict[str, Any]]) -> str:
        return self.replies[self.row(slots).uid]

    def expected(self, formats: Sequence[str] = ("PairWise", "BestOfN")) -> dict[str, float]:
        """Spec §7 figures of the rows of ``formats`` under these replies."""
        return expected_metrics([row for row in self.rows if row.tasktype in formats], self.replies)
