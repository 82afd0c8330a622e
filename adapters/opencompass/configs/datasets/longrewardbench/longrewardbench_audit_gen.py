"""Long-RewardBench position-bias audit (a control, not parity): every row in all presentation orders; all
rows, both formats.
"""

from mmengine.config import read_base

from longrm_tasks.adapters.opencompass.datasets import LongRewardBenchDataset
from longrm_tasks.adapters.opencompass.evaluator import LongRewardBenchAuditEvaluator

with read_base():
    from .longrewardbench_common import longrewardbench_infer_cfg

longrewardbench_audit_datasets = [
    dict(
        abbr="longrewardbench_audit",
        type=LongRewardBenchDataset,
        kind="audit",
        formats=["PairWise", "BestOfN"],
        sample=False,
        reader_cfg=dict(input_columns=["system_prompt", "context"], output_column="gold"),
        infer_cfg=longrewardbench_infer_cfg,
        eval_cfg=dict(evaluator=dict(type=LongRewardBenchAuditEvaluator, formats=["PairWise", "BestOfN"])),
    )
]
