"""Long-RewardBench, the bundled sample (generated, official schema), both formats, generative judge."""

from mmengine.config import read_base

from longrm_tasks.adapters.opencompass.datasets import LongRewardBenchDataset
from longrm_tasks.adapters.opencompass.evaluator import LongRewardBenchEvaluator

with read_base():
    from .longrewardbench_common import longrewardbench_infer_cfg, longrewardbench_reader_cfg

longrewardbench_sample_datasets = [
    dict(
        abbr="longrewardbench_sample",
        type=LongRewardBenchDataset,
        formats=["PairWise", "BestOfN"],
        sample=True,
        reader_cfg=longrewardbench_reader_cfg,
        infer_cfg=longrewardbench_infer_cfg,
        eval_cfg=dict(evaluator=dict(type=LongRewardBenchEvaluator, formats=["PairWise", "BestOfN"])),
    )
]
