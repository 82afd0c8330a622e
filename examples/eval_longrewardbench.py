"""Long-RewardBench in OpenCompass: ``opencompass examples/eval_longrewardbench.py`` (from a checkout).

The relative imports below resolve inside this repository. With the package installed from a wheel,
import the same configs by module name instead, e.g.
``from longrm_tasks.adapters.opencompass.configs.datasets.longrewardbench.longrewardbench_gen import
longrewardbench_datasets``.
"""

from mmengine.config import read_base
from opencompass.models import OpenAISDK

from longrm_tasks.adapters.opencompass.models import HuggingFaceChatJudge

with read_base():
    # The full benchmark (1,900 samples; data from $LONGRM_DATA_DIR or the pinned hub revision):
    # from ..adapters.opencompass.configs.datasets.longrewardbench.longrewardbench_gen import (
    #     longrewardbench_datasets,
    # )
    from ..adapters.opencompass.configs.common.longrm_judge import judge_meta_template
    from ..adapters.opencompass.configs.datasets.longrewardbench.longrewardbench_sample_gen import (
        longrewardbench_sample_datasets,
    )
    from ..adapters.opencompass.configs.summarizers.longrewardbench import summarizer  # noqa: F401

datasets = [*longrewardbench_sample_datasets]

models = [
    # A local Hugging Face judge, rendered like the official evaluator (real system message,
    # enable_thinking=False, greedy). max_seq_len: the model's real context; prompts longer than it stop
    # the run with an explicit error (see the dataset configs' truncation option).
    dict(
        type=HuggingFaceChatJudge,
        abbr="qwen3-8b-hf",
        path="Qwen/Qwen3-8B",
        model_kwargs=dict(torch_dtype="bfloat16"),
        max_seq_len=140_000,
        batch_size=1,
        run_cfg=dict(num_gpus=1),
    ),
]

# An OpenAI-compatible server (vLLM, SGLang, llama.cpp, ...) instead: the server applies the chat
# template; tokenizer_path gives parity truncation and exact length checks (else tiktoken is used).
_api_judge = dict(
    type=OpenAISDK,
    abbr="qwen3-8b-api",
    path="Qwen/Qwen3-8B",
    key="EMPTY",
    openai_api_base="http://127.0.0.1:8000/v1",
    tokenizer_path="Qwen/Qwen3-8B",
    meta_template=judge_meta_template,
    temperature=0,
    max_seq_len=140_000,
    query_per_second=8,
    batch_size=8,
    extra_body=dict(chat_template_kwargs=dict(enable_thinking=False)),
)
# models = [_api_judge]

work_dir = "outputs/longrewardbench"
