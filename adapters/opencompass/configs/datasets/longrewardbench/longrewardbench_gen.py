"""Long-RewardBench, all rows and both formats (1,900 samples; headline metric `avg`), generative judge."""

from mmengine.config import read_base

from longrm_tasks.adapters.opencompass.datasets import LongRewardBenchDataset
from longrm_tasks.adapters.opencompass.evaluator import LongRewardBenchEvaluator

with read_base():
    from .longrewardbench_common import longrewardbench_infer_cfg, longrewardbench_reader_cfg

longrewardbench_datasets = [
    dict(
        abbr="longrewardbench",
        type=LongRewardBenchDataset,
        formats=["PairWise", "BestOfN"],
        # data_dir='/path/to/LongRewardBench',  # else $LONGRM_DATA_DIR, else the pinned hub revision
        sample=False,
        reader_cfg=longrewardbench_reader_cfg,
        infer_cfg=longrewardbench_infer_cfg,
        eval_cfg=dict(evaluator=dict(type=LongRewardBenchEvaluator, formats=["PairWise", "BestOfN"])),
    )
]
