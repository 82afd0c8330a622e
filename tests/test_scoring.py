"""Per-sample scores and aggregates (spec §7), against values computed by hand."""

from __future__ import annotations

import pytest

from longrm_tasks.scoring import ScoredSample, aggregate, sample_score, score_output

EXACT = {"abs": 1e-12}


# sample_score = 0 if prediction == [] else matches over min(len) positions / len(gold)
@pytest.mark.parametrize(
    ("gold", "prediction", "expected"),
    [
        ([0, 1], [0, 1], 1.0),
        ([0, 1], [1, 0], 0.0),
        ([1, 0], [1, 0], 1.0),
        ([0, 1], [], 0.0),  # unparsed
        ([0, 1, 2], [], 0.0),
        ([0, 1, 2], [0, 1, 2], 1.0),
        ([0, 1, 2], [1, 2, 0], 0.0),  # no position matches
        ([2, 0, 1], [2, 1, 0], 1 / 3),  # only position 0
        ([1, 0, 2], [1, 2, 0], 1 / 3),
        ([0, 2, 1], [1, 0, 2], 0.0),
        ([0, 1, 2], [0, 2, 1], 1 / 3),
        ([0, 1, 2], [0, 1], 2 / 3),  # shorter prediction ("[[A>B]]" for N=3): 2 of 3
        ([1, 0, 2], [1, 0], 2 / 3),
        ([2, 0, 1], [1, 0], 1 / 3),  # position 1 only
        ([0, 1, 2, 3], [0], 1 / 4),
        ([1, 2, 0, 3], [0, 1, 2, 3], 1 / 4),  # position 3 only
        ([1, 2, 0, 3], [1, 2, 3, 0], 2 / 4),
        ([3, 2, 1, 0], [3, 2, 1, 0], 1.0),
        ([0, 1], [0, 1, 2], 1.0),  # longer prediction: compare min(len) = 2 positions, divide by 2
        ([1, 0], [1, 0, 2, 3], 1.0),
        ([0, 1, 2], [1, 0, 2, 3], 1 / 3),
        ([0, 1], [1, 0, 2], 0.0),
    ],
)
def test_sample_score(gold, prediction, expected):
    assert sample_score(gold, prediction) == pytest.approx(expected, **EXACT)


def S(task, tasktype, subtype, bucket, score, parsed=True, truncation="none"):
    return ScoredSample(task, tasktype, subtype, bucket, score, parsed, truncation)


P, B = "PairWise", "BestOfN"

# 15 samples. Math and the 128k bucket have best-of-N rows only (their pairwise metrics are 0).
SAMPLES = [
    S("LongQA", P, "same", "4k", 1.0, truncation="none"),  # 1
    S("LongQA", P, "diff", "8k", 0.0),  # 2
    S("LongQA", P, "same", "4k", 1.0, truncation="cut"),  # 3
    S("Summ", P, "diff", "16k", 1.0),  # 4
    S("Summ", P, "same", "16k", 0.0, parsed=False),  # 5
    S("Safety", P, "diff", "32k", 1.0, truncation="cut-approx"),  # 6
    S("ICL", P, "same", "64k", 0.0),  # 7
    S("Cite", P, "cross", "4k", 1.0),  # 8: any non-"same" subtype counts as Diff.
    S("Code", P, "diff", "8k", 1.0, truncation="unchecked"),  # 9
    S("Math", B, "2", "128k", 1.0),  # 10
    S("Math", B, "3", "4k", 1 / 3, truncation="unchecked"),  # 11
    S("LongQA", B, "3", "8k", 2 / 3),  # 12
    S("Cite", B, "4", "16k", 0.25),  # 13
    S("Code", B, "4", "128k", 0.0, parsed=False, truncation="cut"),  # 14
    S("Summ", B, "2", "32k", 0.0),  # 15
]

# Hand computation:
#   pairwise scores (1-9): 1,0,1,1,0,1,0,1,1 -> 6/9; best-of-N (10-15): 1,1/3,2/3,1/4,0,0 -> 2.25/6
#   same: #1,#3,#5,#7 = 1,1,0,0 -> 2/4; diff: #2,#4,#6,#8,#9 = 0,1,1,1,1 -> 4/5
#   len (pairwise only): 4k #1,#3,#8 -> 1; 8k #2,#9 -> 1/2; 16k #4,#5 -> 1/2; 32k #6 -> 1;
#       64k #7 -> 0; 128k none -> 0 (sum/max(n,1)); len_avg = (1+.5+.5+1+0+0)/6 = 1/2
#   avg: (6 + 2.25)/15 = 0.55; parse_fail #5,#14 -> 2/15; truncated (cut/cut-approx) #3,#6,#14 -> 3/15;
#   trunc_unchecked #9,#11 -> 2/15
EXPECTED = {
    "task_longqa": 2 / 3,  # #1,#2,#3 (the LongQA best-of-N #12 does not count)
    "task_summ": 1 / 2,  # #4,#5
    "task_safety": 1.0,  # #6
    "task_icl": 0.0,  # #7
    "task_cite": 1.0,  # #8
    "task_code": 1.0,  # #9
    "task_math": 0.0,  # no pairwise Math row
    "same": 0.5,
    "diff": 0.8,
    "pairwise_avg": 6 / 9,
    "rank2": 0.5,  # #10, #15: (1 + 0)/2
    "rank3": 0.5,  # #11, #12: (1/3 + 2/3)/2
    "rank4": 0.125,  # #13, #14: (0.25 + 0)/2
    "bon_avg": 0.375,  # 2.25/6
    "len_4k": 1.0,
    "len_8k": 0.5,
    "len_16k": 0.5,
    "len_32k": 1.0,
    "len_64k": 0.0,
    "len_128k": 0.0,
    "len_avg": 0.5,
    "avg": 0.55,
    "parse_fail": 2 / 15,
    "truncated": 3 / 15,
    "trunc_unchecked": 2 / 15,
    "empty_output": 0.0,  # ScoredSample's default: no sample above had an empty output
    "context_cut": 0.0,  # likewise: no context-only cut (a parity cut is counted in "truncated" only)
}


def test_aggregate_keys():
    assert set(aggregate(SAMPLES)) == set(EXPECTED)


@pytest.mark.parametrize("key", list(EXPECTED))
def test_aggregate_values(key):
    assert aggregate(SAMPLES)[key] == pytest.approx(EXPECTED[key], **EXACT)


def test_aggregate_is_order_independent():
    assert aggregate(list(reversed(SAMPLES))) == pytest.approx(aggregate(SAMPLES), **EXACT)


def test_aggregate_pairwise_only():
    # Only samples 1-9: best-of-N metrics have no rows -> 0; avg is the pairwise mean.
    got = aggregate(SAMPLES[:9])
    assert got["avg"] == pytest.approx(6 / 9, **EXACT)
    assert got["pairwise_avg"] == pytest.approx(6 / 9, **EXACT)
    assert got["bon_avg"] == pytest.approx(0.0, **EXACT)
    assert got["rank3"] == pytest.approx(0.0, **EXACT)
    assert got["len_avg"] == pytest.approx(0.5, **EXACT)  # same buckets as above
    assert got["parse_fail"] == pytest.approx(1 / 9, **EXACT)  # #5
    assert got["truncated"] == pytest.approx(2 / 9, **EXACT)  # #3, #6
    assert got["trunc_unchecked"] == pytest.approx(1 / 9, **EXACT)  # #9


def test_aggregate_all_buckets_filled():
    # One pairwise row per bucket with scores 1,1,0,1,0,1 -> each bucket mean = that score;
    # len_avg = 4/6; plus a heavier 4k bucket to show the unweighted mean: 4k gets (1+0+0)/3.
    buckets = ["4k", "8k", "16k", "32k", "64k", "128k"]
    scores = [1.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    samples = [S("LongQA", P, "same", b, s) for b, s in zip(buckets, scores, strict=True)]
    assert aggregate(samples)["len_avg"] == pytest.approx(4 / 6, **EXACT)
    samples += [S("Summ", P, "diff", "4k", 0.0), S("Summ", P, "diff", "4k", 0.0)]
    got = aggregate(samples)
    assert got["len_4k"] == pytest.approx(1 / 3, **EXACT)
    assert got["len_avg"] == pytest.approx((1 / 3 + 1 + 0 + 1 + 0 + 1) / 6, **EXACT)
    assert got["pairwise_avg"] == pytest.approx(4 / 8, **EXACT)  # micro mean over 8 rows


def test_aggregate_empty():
    got = aggregate([])
    assert set(got) == set(EXPECTED)
    assert all(value == 0.0 for value in got.values())


# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("output", "tasktype", "subtype", "order", "prediction", "score"),
    [
        ("Verdict: [[B]]", P, "same", [1, 0], [1, 0], 1.0),  # slot A shows rejected; B better
        ("Verdict: [[A]]", P, "same", [1, 0], [0, 1], 0.0),
        ("Verdict: [[A]]", P, "diff", [0, 1], [0, 1], 1.0),
        ("no verdict", P, "diff", [0, 1], [], 0.0),
        ("[[C>A>B]]", B, "3", [1, 2, 0], [1, 2, 0], 1.0),
        ("[[C>A>B]]", B, "3", [0, 1, 2], [1, 2, 0], 0.0),
        ("[[C>A>B]]", B, "3", [1, 0, 2], [1, 2, 0], 1 / 3),
        ("[[A>B]]", B, "3", [0, 1, 2], [0, 1], 2 / 3),  # spec §4/§7 example
        ("[[B>A>D>C]]", B, "4", [1, 0, 2, 3], [1, 0, 3, 2], 2 / 4),
        ("[[A>B>C]]" + ">" * 8, B, "3", [0, 1, 2], [], 0.0),  # 10 ">"
        ("[[B]]", B, "2", [1, 0], [], 0.0),  # pairwise verdict on a best-of-N row
        ("[[B>A]]", P, "diff", [1, 0], [], 0.0),  # ranking on a pairwise row
    ],
)
def test_score_output(output, tasktype, subtype, order, prediction, score):
    got_prediction, sample = score_output(
        output,
        task_file="Cite",
        tasktype=tasktype,
        subtype=subtype,
        length_bucket="32k",
        order=order,
        truncation="cut",
    )
    assert got_prediction == prediction
    assert sample.score == pytest.approx(score, **EXACT)
    assert sample.parsed is bool(prediction)
    assert (sample.task_file, sample.tasktype, sample.subtype, sample.length_bucket, sample.truncation) == (
        "Cite",
        tasktype,
        subtype,
        "32k",
        "cut",
    )


def test_score_output_default_truncation_and_aggregate():
    _, sample = score_output(
        "[[A]]", task_file="Math", tasktype=P, subtype="same", length_bucket="128k", order=[0, 1]
    )
    assert sample.truncation == "none"
    got = aggregate([sample])
    assert got["task_math"] == 1.0 and got["len_128k"] == 1.0 and got["same"] == 1.0
    assert got["len_avg"] == pytest.approx(1 / 6, **EXACT)
    assert got["truncated"] == 0.0 and got["trunc_unchecked"] == 0.0 and got["parse_fail"] == 0.0


@pytest.mark.parametrize(
    ("output", "empty", "parsed"),
    [
        ("", True, False),
        ("   \n", True, False),
        (None, True, False),
        ("no verdict", False, False),
        ("[[B]]", False, True),
    ],
)
def test_empty_output_is_counted_apart_from_parse_failures(output, empty, parsed):
    _, sample = score_output(
        output, task_file="Cite", tasktype=P, subtype="diff", length_bucket="8k", order=[1, 0]
    )
    assert sample.empty_output is empty and sample.parsed is parsed
    got = aggregate([sample])
    assert got["empty_output"] == (1.0 if empty else 0.0)
    assert got["parse_fail"] == (0.0 if parsed else 1.0)
    assert got["avg"] == (1.0 if parsed else 0.0)  # [[B]] with gold order [1, 0] is right


def test_scalar_inputs_carry_only_numbers_and_pair_back_for_the_reducers():
    """Inspect score values hold scalars: L-Avg.'s (bucket, score) pair is logged as its score and
    rebuilt from the sample's bucket; reducing the round trip gives the same figures as the original."""
    from longrm_tasks.scoring import METRIC_REDUCERS, metric_inputs, paired_inputs, scalar_inputs

    inputs = [metric_inputs(sample) for sample in SAMPLES]
    scalars = [scalar_inputs(values) for values in inputs]
    assert all(not isinstance(value, tuple) for values in scalars for value in values.values())
    pairwise = next(i for i, sample in enumerate(SAMPLES) if sample.tasktype == P)
    assert scalars[pairwise]["len_avg"] == SAMPLES[pairwise].score
    bon = next(i for i, sample in enumerate(SAMPLES) if sample.tasktype != P)
    assert scalars[bon]["len_avg"] is None
    rebuilt = [
        paired_inputs(values, sample.length_bucket) for values, sample in zip(scalars, SAMPLES, strict=True)
    ]
    assert rebuilt == inputs
    figures = {key: reduce(values[key] for values in rebuilt) for key, reduce in METRIC_REDUCERS.items()}
    assert figures == pytest.approx(EXPECTED, **EXACT)
