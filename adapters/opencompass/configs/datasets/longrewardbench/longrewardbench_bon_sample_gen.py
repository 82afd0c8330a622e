"""Long-RewardBench, the bundled sample, best-of-N rows only, generative judge."""

from mmengine.config import read_base

from longrm_tasks.adapters.opencompass.datasets import LongRewardBenchDataset
from longrm_tasks.adapters.opencompass.evaluator import LongRewardBenchEvaluator

with read_base():
    from .longrewardbench_common import longrewardbench_infer_cfg, longrewardbench_reader_cfg

longrewardbench_bon_sample_datasets = [
    dict(
        abbr="longrewardbench_bon_sample",
        type=LongRewardBenchDataset,
        formats=["BestOfN"],
        sample=True,
        reader_cfg=longrewardbench_reader_cfg,
        infer_cfg=longrewardbench_infer_cfg,
        eval_cfg=dict(evaluator=dict(type=LongRewardBenchEvaluator, formats=["BestOfN"])),
    )
]
