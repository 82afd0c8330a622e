"""A throw-away Inspect AI task over the bundled sample, to produce real Inspect logs for the reader tests.

Not the Long-RewardBench Inspect task (that one comes with the core's single row → prompt path): just
enough to log what the report reader's contract asks for. Each sample's metadata holds the lm-eval doc
fields; the scorer's value is the core's per-sample metric dict, with a (bucket, score) pair logged as
its score; the metric reduces the unreduced scores with the core's reducers. It is an ``unreduced``
metric because Inspect's default epoch reducer would turn each ``None`` into 0.0.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from inspect_ai import Task, eval, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser, GenerateConfig, get_model
from inspect_ai.scorer import SampleScore, Score, Target, metric, scorer
from inspect_ai.solver import TaskState, generate
from longrm_tasks.report.records import record_from_response

from longrm_tasks import __version__
from longrm_tasks.constants import ORDER_SEED, TASK_TYPES
from longrm_tasks.data import load_sample
from longrm_tasks.items import judge_items
from longrm_tasks.plan import DEFAULT_MAX_GEN_TOKS
from longrm_tasks.prompts import PROMPT_SET_ID, prompt_set_sha256
from longrm_tasks.scoring import METRIC_REDUCERS, metric_inputs
from support.scripted_judge import ScriptedJudge

#: The JudgeItem fields that go into a sample's metadata (the prompts go into its messages).
DOC_KEYS = ("uid", "task_file", "row_index", "row_id", "tasktype", "subtype", "length_bucket", "order")
PAIR_KEY = "len_avg"


@metric(scores="unreduced")
def longrm_figures() -> Any:
    def compute(scores: list[SampleScore]) -> dict[str, float]:
        inputs = []
        for sample_score in scores:
            values = dict(sample_score.score.value)  # type: ignore[arg-type]
            if values.get(PAIR_KEY) is not None:
                values[PAIR_KEY] = (sample_score.sample_metadata["length_bucket"], values[PAIR_KEY])
            inputs.append(values)
        return {key: reduce(values[key] for values in inputs) for key, reduce in METRIC_REDUCERS.items()}

    return compute


@scorer(metrics=[longrm_figures()])
def longrm_verdict() -> Any:
    async def score(state: TaskState, target: Target) -> Score:
        completion = state.output.completion
        sample = record_from_response(state.metadata, completion).scored()
        values = metric_inputs(sample)
        pair = values[PAIR_KEY]
        values[PAIR_KEY] = None if pair is None else pair[1]
        return Score(value=values, answer=completion[-40:])

    return score


@task
def longrm_spike() -> Task:
    data = load_sample()
    samples = [
        Sample(
            input=[ChatMessageSystem(content=item.system_prompt), ChatMessageUser(content=item.user_prompt)],
            target=str(item.order),
            id=item.uid,
            metadata={**{key: getattr(item, key) for key in DOC_KEYS}, "truncation": item.truncation},
        )
        for item in judge_items(data, TASK_TYPES)
    ]
    provenance = {
        "package_version": __version__,
        "prompt_set": PROMPT_SET_ID,
        "prompt_set_sha256": prompt_set_sha256(),
        "order_seed": ORDER_SEED,
        "data": data.provenance(),
        "formats": list(TASK_TYPES),
        "parity_truncation": "not applied (spike)",
    }
    return Task(
        dataset=MemoryDataset(samples, name="longrewardbench_sample"),
        solver=generate(),
        scorer=longrm_verdict(),
        config=GenerateConfig(temperature=0, max_tokens=DEFAULT_MAX_GEN_TOKS, stop_seqs=None),
        metadata={"longrm": provenance},
    )


def run_spike(
    log_dir: Path, policy: Callable[[list[str], list[dict[str, Any]]], str], log_format: str = "eval"
) -> tuple[Path, ScriptedJudge]:
    """Run the spike task against a scripted judge on 127.0.0.1; return its log and the judge.

    The model is built unmemoized with this judge's URL: Inspect caches models by name, and a cached
    client would keep retrying the previous (stopped) judge.
    """
    judge = ScriptedJudge(policy, model_name="scripted-judge")
    with judge as base_url:
        model = get_model(
            "openai-api/scripted/scripted-judge", base_url=base_url, api_key="none", memoize=False
        )
        (log,) = eval(
            longrm_spike(), model=model, log_dir=str(log_dir), log_format=log_format, display="none"
        )
    if log.status != "success" or judge.errors:
        raise RuntimeError(f"spike eval failed: {log.status} {log.error} {judge.errors}")
    return Path(log.location), judge
