"""Summarizer for Long-RewardBench: every figure of spec §7 as explicit [dataset, metric] rows, then the
paper's Table 1 and Table 2 rows per model.

Values are percent (the evaluator's ``scale=100``). AVG is the micro mean over all samples: the ``avg``
metric of a both-format dataset, or, for a pairwise + best-of-N pair of datasets, the sample-weighted
mean of their ``avg`` (``micro_average=True``). Rows of datasets that are not in the run are dropped.
"""

from longrm_tasks.adapters.opencompass.summarizer import LongRewardBenchSummarizer

_pairwise_metrics = [
    "task_longqa",
    "task_summ",
    "task_safety",
    "task_icl",
    "task_cite",
    "task_code",
    "task_math",
    "same",
    "diff",
    "pairwise_avg",
    "len_4k",
    "len_8k",
    "len_16k",
    "len_32k",
    "len_64k",
    "len_128k",
    "len_avg",
]
_bon_metrics = [
    "rank2",
    "rank3",
    "rank4",
    "bon_avg",
]
_extra_metrics = [
    "parse_fail",
    "empty_output",
    "truncated",
    "trunc_unchecked",
    "context_cut",
]

_rows = []
for _suffix in ("", "_sample"):
    _rows += [
        [f"longrewardbench{_suffix}", _m]
        for _m in ["avg", *_pairwise_metrics, *_bon_metrics, *_extra_metrics]
    ]
    _rows += [[f"longrewardbench_split{_suffix}", "weighted_average"]]
    _rows += [
        [f"longrewardbench_pairwise{_suffix}", _m] for _m in ["avg", *_pairwise_metrics, *_extra_metrics]
    ]
    _rows += [[f"longrewardbench_bon{_suffix}", _m] for _m in ["avg", *_bon_metrics, *_extra_metrics]]
    _rows += [[f"longrewardbench{_suffix}_rm", _m] for _m in ["avg", *_pairwise_metrics, *_bon_metrics]]

summarizer = dict(
    type=LongRewardBenchSummarizer,
    dataset_abbrs=_rows,
    summary_groups=[
        dict(
            name=f"longrewardbench_split{_suffix}",
            subsets=[[f"longrewardbench_pairwise{_suffix}", "avg"], [f"longrewardbench_bon{_suffix}", "avg"]],
            micro_average=True,
        )
        for _suffix in ("", "_sample")
    ],
    paper_tables=[
        dict(
            title="Long-RewardBench",
            pairwise="longrewardbench",
            bon="longrewardbench",
            avg=["longrewardbench", "avg"],
        ),
        dict(
            title="Long-RewardBench (pairwise and best-of-N datasets)",
            pairwise="longrewardbench_pairwise",
            bon="longrewardbench_bon",
            avg=["longrewardbench_split", "weighted_average"],
        ),
        dict(
            title="Long-RewardBench, scalar reward models",
            pairwise="longrewardbench_rm",
            bon="longrewardbench_rm",
            avg=["longrewardbench_rm", "avg"],
        ),
        dict(
            title="Long-RewardBench sample",
            pairwise="longrewardbench_sample",
            bon="longrewardbench_sample",
            avg=["longrewardbench_sample", "avg"],
        ),
        dict(
            title="Long-RewardBench sample (pairwise and best-of-N datasets)",
            pairwise="longrewardbench_pairwise_sample",
            bon="longrewardbench_bon_sample",
            avg=["longrewardbench_split_sample", "weighted_average"],
        ),
        dict(
            title="Long-RewardBench sample, scalar reward models",
            pairwise="longrewardbench_sample_rm",
            bon="longrewardbench_sample_rm",
            avg=["longrewardbench_sample_rm", "avg"],
        ),
    ],
)
