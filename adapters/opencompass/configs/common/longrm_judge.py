"""Model settings every Long-RewardBench judge config should carry (spec §3).

``judge_meta_template`` sends OpenCompass ``SYSTEM`` prompts as real system messages (the default of
the HF/vLLM/LMDeploy chat wrappers merges them into the user turn; API models without a meta template
get one plain string). Use it as ``meta_template=judge_meta_template`` in any chat or API model config.
Decoding must be greedy: the HF chat wrapper already sets ``do_sample=False``; give API models
``temperature=0`` and vLLM ``generation_kwargs=dict(temperature=0)``. The budget of new tokens comes from
the dataset configs (``max_out_len=None``: the protocol's).
"""

judge_meta_template = dict(
    round=[
        dict(role="HUMAN", api_role="HUMAN"),
        dict(role="BOT", api_role="BOT", generate=True),
    ],
    reserved_roles=[dict(role="SYSTEM", api_role="SYSTEM")],
)
