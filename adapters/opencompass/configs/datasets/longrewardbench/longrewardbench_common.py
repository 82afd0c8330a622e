"""Shared pieces of the Long-RewardBench dataset configs (generative judges, spec §3).

The dataset presents every row (columns ``system_prompt`` and ``user_prompt``); the template only places
them as a SYSTEM and a HUMAN turn. ``LongRMGenInferencer`` settles each prompt with the core (the model's
chat template, parity or context-only truncation, length checks) and fills it in without ``{column}``
substitution. Greedy decoding comes from the model config (set temperature 0 for API models).
``max_out_len=None`` gives the protocol's budget of new tokens (2,048) whatever the model config says; an
integer overrides it (not parity).
"""

from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import ZeroRetriever

from longrm_tasks.adapters.opencompass.inferencer import LongRMGenInferencer

longrewardbench_reader_cfg = dict(input_columns=["system_prompt", "user_prompt"], output_column="gold")

longrewardbench_infer_cfg = dict(
    prompt_template=dict(
        type=PromptTemplate,
        template=dict(
            begin=[dict(role="SYSTEM", fallback_role="HUMAN", prompt="{system_prompt}")],
            round=[dict(role="HUMAN", prompt="{user_prompt}")],
        ),
    ),
    retriever=dict(type=ZeroRetriever),
    # truncation="parity" (default): a prompt that does not fit the model's max_seq_len with the new tokens
    # stops the run with the sample named; truncation="context" cuts the middle of such contexts (not parity).
    inferencer=dict(type=LongRMGenInferencer, max_out_len=None, truncation="parity"),
)
