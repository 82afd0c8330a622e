"""Long-RewardBench no-context ablation (a control, not parity): the judge sees the question, not the long
context; all rows, both formats.
"""

from mmengine.config import read_base

from longrm_tasks.adapters.opencompass.datasets import LongRewardBenchDataset
from longrm_tasks.adapters.opencompass.evaluator import LongRewardBenchEvaluator

with read_base():
    from .longrewardbench_common import longrewardbench_infer_cfg, longrewardbench_reader_cfg

longrewardbench_nocontext_datasets = [
    dict(
        abbr="longrewardbench_nocontext",
        type=LongRewardBenchDataset,
        kind="nocontext",
        formats=["PairWise", "BestOfN"],
        sample=False,
        reader_cfg=longrewardbench_reader_cfg,
        infer_cfg=longrewardbench_infer_cfg,
        eval_cfg=dict(
            evaluator=dict(type=LongRewardBenchEvaluator, formats=["PairWise", "BestOfN"], exact_match=True)
        ),
    )
]
