"""Seeded presentation order (spec §2), re-derived here with Python's ``random`` module."""

from __future__ import annotations

import random

import pytest

from longrm_tasks.data import BenchmarkData, load_sample
from longrm_tasks.items import judge_items
from longrm_tasks.order import gold_answers, presentation_orders, presented_slots


@pytest.fixture(autouse=True)
def _keep_global_random_state():
    state = random.getstate()
    yield
    random.setstate(state)


def reference_orders(rows):
    """Spec §2 literally: number rows, seed 42, shuffle the rows, then one shuffle per row."""
    numbered = [dict(row, index=i) for i, row in enumerate(rows)]
    random.seed(42)
    random.shuffle(numbered)
    result = []
    for row in numbered:
        k = 2 if row["tasktype"] == "PairWise" else len(row["candidates"])
        order = list(range(k))
        random.shuffle(order)
        result.append((row["index"], order))
    return result


def pw(tag):
    return {
        "tasktype": "PairWise",
        "chosen": f"{tag}-chosen",
        "rejected": f"{tag}-rejected",
        "candidates": [],
    }


def bon(tag, n):
    return {
        "tasktype": "BestOfN",
        "chosen": "",
        "rejected": "",
        "candidates": [f"{tag}-c{i}" for i in range(n)],
    }


SYNTHETIC_FILES = {
    "empty": [],
    "one-pairwise": [pw("a")],
    "one-bon4": [bon("a", 4)],
    "pairwise-only": [pw(str(i)) for i in range(7)],
    "bon-only": [bon(str(i), 2 + i % 3) for i in range(9)],
    "mixed": [pw("p0"), bon("b1", 3), pw("p2"), bon("b3", 2), bon("b4", 4), pw("p5"), bon("b6", 3)],
    "mixed-long": [bon(str(i), 2 + i % 3) if i % 4 == 1 else pw(str(i)) for i in range(40)],
    "bon-first": [bon("x", 4), bon("y", 4), pw("z"), pw("w"), bon("v", 2)],
}


@pytest.mark.parametrize("name", list(SYNTHETIC_FILES))
def test_presentation_orders_match_reference(name):
    rows = SYNTHETIC_FILES[name]
    expected = reference_orders(rows)
    got = presentation_orders(rows)
    assert [(index, list(order)) for index, order in got] == expected
    # every row exactly once; each order a permutation of its slots
    assert sorted(index for index, _ in got) == list(range(len(rows)))
    for index, order in got:
        k = 2 if rows[index]["tasktype"] == "PairWise" else len(rows[index]["candidates"])
        assert sorted(order) == list(range(k))


def test_presentation_orders_ignore_global_random_state():
    rows = SYNTHETIC_FILES["mixed-long"]
    expected = reference_orders(rows)
    random.seed(12345)
    random.random()
    assert [(i, list(o)) for i, o in presentation_orders(rows)] == expected
    assert [(i, list(o)) for i, o in presentation_orders(rows)] == expected  # repeatable


@pytest.mark.parametrize(
    ("row", "order", "expected"),
    [
        (pw("r"), [0, 1], ["r-chosen", "r-rejected"]),
        (pw("r"), [1, 0], ["r-rejected", "r-chosen"]),  # slot A shows answers[1] = rejected
        (bon("r", 3), [2, 0, 1], ["r-c2", "r-c0", "r-c1"]),
        (bon("r", 4), [1, 3, 0, 2], ["r-c1", "r-c3", "r-c0", "r-c2"]),
        (bon("r", 2), [1, 0], ["r-c1", "r-c0"]),
    ],
)
def test_presented_slots(row, order, expected):
    assert presented_slots(row, order) == expected


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (pw("g"), ["g-chosen", "g-rejected"]),
        (bon("g", 3), ["g-c0", "g-c1", "g-c2"]),  # best first
    ],
)
def test_gold_answers(row, expected):
    assert gold_answers(row) == expected


# ----------------------------------------------------------------------------------------------
# Judge items on the bundled sample.
@pytest.fixture(scope="module")
def sample():
    return load_sample()


def expected_user_prompt(row, order):
    answers = [row["chosen"], row["rejected"]] if row["tasktype"] == "PairWise" else row["candidates"]
    question = "\n\n".join(message["content"] for message in row["prompt_template"])
    blocks = []
    for p, rank in enumerate(order):
        letter = chr(65 + p)
        start = f"[The Start of Assistant {letter}'s Answer]"
        end = f"[The End of Assistant {letter}'s Answer]"
        blocks.append(start + "\n" + answers[rank] + "\n" + end)
    return "[User Question]\n" + question + "\n\n" + "\n\n".join(blocks)


def test_sample_has_both_formats(sample):
    tasktypes = {row["tasktype"] for rows in sample.rows.values() for row in rows}
    assert tasktypes == {"PairWise", "BestOfN"}


def enrich(rows, task):
    """Synthetic rows with the extra fields judge items read."""
    out = []
    for i, row in enumerate(rows):
        n = len(row["candidates"])
        out.append(
            dict(
                row,
                id=1000 + i,
                prompt_template=[{"role": "user", "content": f"{task} context {i} {{braces}}"}],
                subtype=str(n) if row["tasktype"] == "BestOfN" else ("same" if i % 2 else "diff"),
                ctx_length_for_length=["4k", "8k", "16k", "32k", "64k", "128k"][i % 6],
            )
        )
    return out


@pytest.fixture(scope="module")
def synthetic():
    return BenchmarkData(
        rows={
            "LongQA": enrich(SYNTHETIC_FILES["mixed-long"], "LongQA"),
            "Cite": enrich(SYNTHETIC_FILES["mixed"], "Cite"),
            "Math": enrich(SYNTHETIC_FILES["bon-first"], "Math"),
        },
        source="test",
    )


def naive_differs(data, only):
    """Would drawing orders over the ``only`` rows alone change some kept row's order?"""
    for rows in data.rows.values():
        full = dict(reference_orders(rows))
        kept = [i for i, row in enumerate(rows) if row["tasktype"] == only]
        naive = reference_orders([rows[i] for i in kept])
        if any(full[kept[j]] != order for j, order in naive):
            return True
    return False


@pytest.mark.parametrize("only", ["PairWise", "BestOfN"])
def test_synthetic_data_discriminates_filter_before_drawing(synthetic, only):
    # Makes sure the subset test below can tell a correct implementation from a naive one.
    assert naive_differs(synthetic, only)


def test_sample_is_not_blind_to_position_bias(sample):
    # The generator lays out the sample so that, under the official draw, the chosen response sits
    # in slot A for some pairwise rows of every file and in slot B for others: a judge that always
    # answers [[A]] (or [[B]]) cannot score well, and a filter-before-drawing bug changes orders.
    for task, rows in sample.rows.items():
        pairwise = [order for index, order in reference_orders(rows) if rows[index]["tasktype"] == "PairWise"]
        assert [0, 1] in pairwise and [1, 0] in pairwise, task
    every = [
        order
        for rows in sample.rows.values()
        for index, order in reference_orders(rows)
        if rows[index]["tasktype"] == "PairWise"
    ]
    assert 0.25 <= every.count([0, 1]) / len(every) <= 0.75
    assert naive_differs(sample, "BestOfN")
    assert naive_differs(sample, "PairWise")


@pytest.mark.parametrize("dataset", ["sample", "synthetic"])
@pytest.mark.parametrize("only", ["PairWise", "BestOfN"])
def test_single_format_selection_keeps_full_run_orders(request, dataset, only):
    data = request.getfixturevalue(dataset)
    full = {(it.task_file, it.row_index): list(it.order) for it in judge_items(data, ("PairWise", "BestOfN"))}
    subset = judge_items(data, (only,))
    kept = [
        (task, i) for task, rows in data.rows.items() for i, row in enumerate(rows) if row["tasktype"] == only
    ]
    assert kept  # rows of each format exist
    assert sorted((it.task_file, it.row_index) for it in subset) == sorted(kept)
    for item in subset:
        assert item.tasktype == only
        assert list(item.order) == full[(item.task_file, item.row_index)]
    # the subset keeps the full run's relative order
    kept_set = set(kept)
    assert [(it.task_file, it.row_index) for it in subset] == [key for key in full if key in kept_set]


@pytest.mark.parametrize("dataset", ["sample", "synthetic"])
def test_judge_items_follow_official_order_on(request, dataset):
    data = request.getfixturevalue(dataset)
    items = judge_items(data, ("PairWise", "BestOfN"))
    expected = [
        (task_file, index, order)
        for task_file, rows in data.rows.items()
        for index, order in reference_orders(rows)
    ]
    assert [(item.task_file, item.row_index, list(item.order)) for item in items] == expected


@pytest.mark.parametrize("dataset", ["sample", "synthetic"])
def test_judge_item_prompts_show_slots_in_presented_order(request, dataset):
    data = request.getfixturevalue(dataset)
    for item in judge_items(data, ("PairWise", "BestOfN")):
        row = data.rows[item.task_file][item.row_index]
        assert item.row_id == row["id"]
        assert item.tasktype == row["tasktype"]
        assert item.length_bucket == row["ctx_length_for_length"]
        assert item.user_prompt == expected_user_prompt(row, item.order)
        slots = len(item.order)
        assert slots == (2 if row["tasktype"] == "PairWise" else len(row["candidates"]))
        # slot letters appear in order A, B, C, ...
        positions = [
            item.user_prompt.index(f"[The Start of Assistant {chr(65 + p)}'s Answer]") for p in range(slots)
        ]
        assert positions == sorted(positions)
        messages = item.messages()
        assert [m["role"] for m in messages] == ["system", "user"]
        assert messages[1]["content"] == item.user_prompt
        if row["tasktype"] == "PairWise":
            assert item.system_prompt.startswith("Please act as an impartial judge")
            assert "two AI assistants" in item.system_prompt
        else:
            pattern = "[[" + ">".join(chr(65 + p) for p in range(slots)) + "]]"
            assert f"You should rank {slots} responses" in item.system_prompt
            assert item.system_prompt.endswith(f"(your ranking in the format of {pattern})")
