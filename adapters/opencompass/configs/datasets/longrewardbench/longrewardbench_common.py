"""Shared pieces of the Long-RewardBench dataset configs (generative judges, spec §3).

The dataset renders the whole judge prompt (columns ``system_prompt`` and ``user_prompt``); the
template only places them as a SYSTEM and a HUMAN turn. ``LongRMGenInferencer`` fills them in without
``{column}`` substitution, applies parity truncation and length checks, and sends the instructions as
a real system message. Greedy decoding comes from the model config (set temperature 0 for API models);
``max_out_len=2048`` here overrides the model's default.
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
    # over_length="error" (default): a prompt longer than the model's max_seq_len stops the run with the
    # sample named; over_length="middle" cuts the middle of such contexts instead (not parity).
    inferencer=dict(type=LongRMGenInferencer, max_out_len=2048, over_length="error"),
)
