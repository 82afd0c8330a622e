"""Long-RewardBench, all rows and both formats (1,900 samples), scalar reward model (spec §5).

Use with ``longrm_tasks.adapters.opencompass.models.LongRMRewardModel``. The prompt template is required
by OpenCompass but unused: the inferencer scores ``prompt_template + [assistant: response]`` per slot.
"""

from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import ZeroRetriever

from longrm_tasks.adapters.opencompass.datasets import LongRewardBenchRMDataset
from longrm_tasks.adapters.opencompass.evaluator import LongRewardBenchRMEvaluator
from longrm_tasks.adapters.opencompass.inferencer import LongRMRewardInferencer

longrewardbench_rm_datasets = [
    dict(
        abbr="longrewardbench_rm",
        type=LongRewardBenchRMDataset,
        formats=["PairWise", "BestOfN"],
        # data_dir='/path/to/LongRewardBench',  # else $LONGRM_DATA_DIR, else the pinned hub revision
        sample=False,
        reader_cfg=dict(input_columns=["prompt_template", "slots"], output_column="gold"),
        infer_cfg=dict(
            prompt_template=dict(type=PromptTemplate, template="{slots}"),
            retriever=dict(type=ZeroRetriever),
            inferencer=dict(type=LongRMRewardInferencer),
        ),
        eval_cfg=dict(evaluator=dict(type=LongRewardBenchRMEvaluator, formats=["PairWise", "BestOfN"])),
    )
]
