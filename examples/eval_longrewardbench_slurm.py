"""Long-RewardBench at full size on a Slurm cluster, vLLM judges (see the README's "Scale out").

    opencompass examples/eval_longrewardbench_slurm.py --dry-run   # check: partitions, prints the tasks
    opencompass examples/eval_longrewardbench_slurm.py             # submit (srun, one task per part)
    opencompass examples/eval_longrewardbench_slurm.py -r          # resume: finished parts are skipped

``NumWorkerPartitioner`` cuts each dataset into ``num_worker`` contiguous parts; ``SlurmRunner`` runs
every (model, part) as one ``srun`` job with ``run_cfg.num_gpus`` GPUs; the evaluator scores the merged
parts, so the figures do not depend on the split (tested: 1 vs 2 workers, interrupted + ``-r``).
Data: ``$LONGRM_DATA_DIR`` (a local copy of the seven ``<Task>.jsonl``) or the pinned hub revision.
Sizes below come from ``longrm plan --gpus`` (README).
"""

from mmengine.config import read_base
from opencompass.models import VLLMwithChatTemplate
from opencompass.partitioners import NaivePartitioner, NumWorkerPartitioner
from opencompass.runners import LocalRunner, SlurmRunner
from opencompass.tasks import OpenICLEvalTask, OpenICLInferTask

with read_base():
    from ..adapters.opencompass.configs.common.longrm_judge import judge_meta_template
    from ..adapters.opencompass.configs.datasets.longrewardbench.longrewardbench_gen import (
        longrewardbench_datasets,
    )
    from ..adapters.opencompass.configs.summarizers.longrewardbench import summarizer  # noqa: F401

datasets = [*longrewardbench_datasets]

#: Longest parity prompt (131,067 tokens after the spec §6 cut) + 2,048 new tokens = 133,115, rounded up.
#: Above a 131,072-position model limit vLLM needs VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 in the job's environment.
MAX_MODEL_LEN = 133_120

_judge = dict(
    type=VLLMwithChatTemplate,
    meta_template=judge_meta_template,
    max_seq_len=MAX_MODEL_LEN,
    max_out_len=2048,
    batch_size=32,
    generation_kwargs=dict(temperature=0),
    chat_template_kwargs=dict(enable_thinking=False),  # spec §3; ignored by templates without it
)

models = [
    # 8B: one H100/A100-80GB per replica holds 15 GiB of weights + 16 GiB of KV cache per longest sequence.
    dict(
        _judge,
        abbr="qwen3-8b-vllm",
        path="Qwen/Qwen3-8B",
        model_kwargs=dict(tensor_parallel_size=1, max_model_len=MAX_MODEL_LEN, gpu_memory_utilization=0.9),
        run_cfg=dict(num_gpus=1),
    ),
    # 70B: tensor parallel over 4 GPUs (33 GiB of weights + 10 GiB of KV cache per GPU at 133k tokens).
    dict(
        _judge,
        abbr="llama-3.3-70b-vllm",
        path="meta-llama/Llama-3.3-70B-Instruct",
        model_kwargs=dict(tensor_parallel_size=4, max_model_len=MAX_MODEL_LEN, gpu_memory_utilization=0.9),
        run_cfg=dict(num_gpus=4),
    ),
]

infer = dict(
    # 8 parts per dataset: 8 one-GPU jobs for the 8B judge, 8 four-GPU jobs for the 70B one.
    partitioner=dict(type=NumWorkerPartitioner, num_worker=8),
    runner=dict(
        type=SlurmRunner,
        partition="gpu",  # your cluster's partition
        max_num_workers=16,  # jobs in flight at once
        retry=2,
        task=dict(type=OpenICLInferTask),
    ),
)

eval = dict(  # scoring is CPU-only and quick: run it locally
    partitioner=dict(type=NaivePartitioner),
    runner=dict(type=LocalRunner, max_num_workers=4, task=dict(type=OpenICLEvalTask)),
)
