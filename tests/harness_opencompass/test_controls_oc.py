"""OpenCompass gets the controls and context-only truncation through the same core as lm-eval: the
position-bias audit, the no-context ablation and a context-only-truncated run give, for the same judge,
the same prompts (sha256 per sample) and exactly the same figures through both harnesses.

The judge answers from the prompt it receives (it prefers the longest presented response), so a
difference in any prompt, order, cut or aggregate between the harnesses shows up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opencompass.models")
pytest.importorskip("lm_eval")

from support.lm_eval_task import ChatLM
from support.scripted_judge import extract_slots
from support.tiny_models import save_sample_tokenizer

from longrm_tasks.adapters.opencompass.datasets import LongRewardBenchDataset
from longrm_tasks.adapters.opencompass.evaluator import (
    LongRewardBenchAuditEvaluator,
    LongRewardBenchEvaluator,
)
from longrm_tasks.adapters.opencompass.inferencer import LongRMGenInferencer

TEMPLATE = {
    "begin": [{"role": "SYSTEM", "fallback_role": "HUMAN", "prompt": "{system_prompt}"}],
    "round": [{"role": "HUMAN", "prompt": "{user_prompt}"}],
}
BUDGET = 1_000  # the sample tokenizer renders the sample in 805-1,347 tokens: about half get cut


def longest_first(text: str) -> str:
    """A judge that ranks the presented responses by length (ties: the earlier slot)."""
    slots = extract_slots(text)
    ranked = sorted(range(len(slots)), key=lambda slot: -len(slots[slot]))
    letters = [chr(65 + slot) for slot in ranked]
    if len(slots) == 2:
        return f"Assistant {letters[0]} says more. [[{letters[0]}]]"
    return "[Analysis]\nlonger is better\n[Ranking]\n[[" + ">".join(letters) + "]]"


class ScriptedChatModel:
    """An OpenCompass chat model (the parts the inferencer uses) backed by :func:`longest_first`."""

    is_api = False

    def __init__(self, tokenizer: Any) -> None:
        from opencompass.models.huggingface_above_v4_33 import _get_meta_template

        self.tokenizer = tokenizer
        self.max_seq_len = 1_000_000
        self.template_parser = _get_meta_template(None)

    def parse_template(self, prompt: Any, mode: str) -> Any:
        return self.template_parser.parse_template(prompt, mode)

    def generate(self, inputs: list[Any], max_out_len: int, **kwargs: Any) -> list[str]:
        return [
            longest_first(next(item["prompt"] for item in prompt if item["role"] == "HUMAN"))
            for prompt in inputs
        ]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(save_sample_tokenizer(tmp_path_factory.mktemp("tok")))


def opencompass_figures(
    tokenizer: Any, tmp_path: Path, kind: str, evaluator: Any, **inferencer: Any
) -> tuple[dict[str, float], dict[str, Any]]:
    """Figures (fractions) and predictions of an OpenCompass inference + evaluation of the sample."""
    from opencompass.openicl.icl_prompt_template import PromptTemplate
    from opencompass.openicl.icl_retriever import ZeroRetriever

    reader = {"input_columns": ["system_prompt"], "output_column": "gold"}
    dataset = LongRewardBenchDataset(reader_cfg=reader, abbr="lrb", sample=True, kind=kind)
    model = ScriptedChatModel(tokenizer)
    LongRMGenInferencer(
        model=model, output_json_filepath=str(tmp_path), cache_dir="off", **inferencer
    ).inference(
        ZeroRetriever(dataset),
        prompt_template=PromptTemplate(template=TEMPLATE),
        output_json_filepath=str(tmp_path),
        output_json_filename="predictions.json",
    )
    predictions = json.loads((tmp_path / "predictions.json").read_text("utf-8"))
    entries = [predictions[str(index)] for index in range(len(predictions))]
    test = dataset.test
    result = evaluator.evaluate(
        1, 1, test, predictions=[entry["prediction"] for entry in entries], references=test["gold"],
        test_set=test, longrm=[entry["longrm"] for entry in entries],
    )  # fmt: skip
    figures = {key: value for key, value in result.items() if key not in ("details", "longrm")}
    return figures, {entry["uid"]: entry for entry in entries}


def lm_eval_figures(tokenizer: Any, task_name: str, metadata: dict[str, Any]) -> tuple[dict[str, float], Any]:
    """Figures of the lm-eval task for the same judge, and the task (its settled documents)."""
    from lm_eval.tasks import TaskManager

    from longrm_tasks import task_yaml_dir

    manager = TaskManager(include_path=str(task_yaml_dir()), include_defaults=False, metadata=metadata)
    task = manager.load([task_name])["tasks"][task_name]
    lm = ChatLM(tokenizer)
    task.build_all_requests(apply_chat_template=True, chat_template=lm.apply_chat_template)
    per_doc = []
    for doc in task.eval_docs:
        replies = [longest_first(prompt.message_list()[-1]["content"]) for prompt in task.prompts_for(doc)]
        per_doc.append(task.process_results(doc, replies))
    aggregations = task.aggregation()
    names = [entry["metric"] for entry in task.config.metric_list]
    return {name: aggregations[name]([values[name] for values in per_doc]) for name in names}, task


def test_position_bias_audit_is_identical_in_both_harnesses(tokenizer: Any, tmp_path: Path) -> None:
    ours, predictions = opencompass_figures(
        tokenizer, tmp_path, "audit", LongRewardBenchAuditEvaluator(scale=1.0)
    )
    theirs, task = lm_eval_figures(tokenizer, "longrewardbench_audit_sample", {"cache_dir": "off"})
    assert ours == theirs and set(ours) >= {"order_avg", "official_avg", "consistency", "slot_a", "bon_exact"}
    assert 0 < ours["consistency"] < 1  # a length judge is order-free except on ties
    docs = list(task.eval_docs)
    assert all(len(json.loads(predictions[doc["uid"]]["prediction"])) == len(doc["orders"]) for doc in docs)


def test_no_context_ablation_is_identical_in_both_harnesses(tokenizer: Any, tmp_path: Path) -> None:
    evaluator = LongRewardBenchEvaluator(scale=1.0, exact_match=True)
    ours, predictions = opencompass_figures(tokenizer, tmp_path, "nocontext", evaluator)
    theirs, task = lm_eval_figures(tokenizer, "longrewardbench_nocontext_sample", {})
    assert ours == theirs and "bon_exact" in ours and ours["truncated"] == 0
    for doc in task.eval_docs:
        assert predictions[doc["uid"]]["longrm"]["prompt_sha256"] == doc["prompt_sha256"]


def test_context_only_truncation_is_identical_in_both_harnesses(tokenizer: Any, tmp_path: Path) -> None:
    ours, predictions = opencompass_figures(
        tokenizer, tmp_path, "judge", LongRewardBenchEvaluator(scale=1.0), truncation="context",
        context_budget=BUDGET,
    )  # fmt: skip
    theirs, task = lm_eval_figures(
        tokenizer,
        "longrewardbench_sample",
        {"truncation": "context", "context_budget": BUDGET, "cache_dir": "off"},
    )
    assert ours == theirs
    assert 0 < ours["context_cut"] < 1 and ours["truncated"] == 0  # context cuts are not parity cuts
    for doc in task.eval_docs:
        record = predictions[doc["uid"]]["longrm"]
        assert record["prompt_sha256"] == doc["prompt_sha256"]
        assert record["context_cut"] == doc["context_cut"] and record["prompt_tokens"] <= BUDGET
