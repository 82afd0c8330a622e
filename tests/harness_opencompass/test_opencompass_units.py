"""OpenCompass adapter, in process: dataset, inferencer (lengths, system message), evaluator, parity.

Runs only inside the OpenCompass venv (``scripts/opencompass_venv.sh``); elsewhere it is skipped.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opencompass")

from support import spec_reference as ref
from support.tiny_models import build_tiny_llama, save_sample_tokenizer

from longrm_tasks.adapters.opencompass.datasets import LongRewardBenchDataset, LongRewardBenchRMDataset
from longrm_tasks.adapters.opencompass.evaluator import LongRewardBenchEvaluator, LongRewardBenchRMEvaluator
from longrm_tasks.adapters.opencompass.inferencer import LongRMGenInferencer
from longrm_tasks.scoring import JUDGE_EXTRA_METRICS, metric_keys
from longrm_tasks.truncation.budgets import PromptTooLongError

READER_CFG = {"input_columns": ["system_prompt", "user_prompt"], "output_column": "gold"}
RM_READER_CFG = {"input_columns": ["prompt_template", "slots"], "output_column": "gold"}
TEMPLATE = {
    "begin": [{"role": "SYSTEM", "fallback_role": "HUMAN", "prompt": "{system_prompt}"}],
    "round": [{"role": "HUMAN", "prompt": "{user_prompt}"}],
}
ROWS = ref.load_rows()
BY_UID = {row.uid: row for row in ROWS}


def build_dataset(formats: list[str], **options: Any) -> Any:
    return LongRewardBenchDataset(reader_cfg=READER_CFG, abbr="lrb", formats=formats, **options)


def replies_for(rows: list[ref.Row]) -> dict[str, str]:
    return {row.uid: ref.make_reply(ref.policy_of(row, ROWS), row.tasktype, list(row.order)) for row in rows}


# --------------------------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("formats", [["PairWise", "BestOfN"], ["PairWise"], ["BestOfN"]])
def test_dataset_rows_follow_the_official_order(formats: list[str]) -> None:
    test = build_dataset(formats, sample=True).test
    expected = [row for row in ROWS if row.tasktype in formats]
    assert [r["uid"] for r in test] == [row.uid for row in expected]
    for record, row in zip(test, expected, strict=True):
        assert record["order"] == list(row.order), row.uid
        assert record["system_prompt"] == ref.expected_system(row.tasktype, row.n), row.uid
        assert record["user_prompt"] == ref.expected_user(row.question, row.presented), row.uid
        assert record["user_prompt"][: record["context_end"]] == "[User Question]\n" + row.question
        gold = json.loads(record["gold"])
        assert gold["order"] == list(row.order) and gold["uid"] == row.uid and gold["row_index"] == row.index


def test_dataset_records_provenance() -> None:
    test = build_dataset(["PairWise", "BestOfN"], sample=True).test
    info = json.loads(test.info.description)
    assert info["data"]["source"] == "bundled-sample"
    assert set(info["data"]["files_sha256"]) == {f"{task}.jsonl" for task in ref.TASK_FILES}
    assert info["order_seed"] == 42 and info["prompt_set"]


# --------------------------------------------------------------------------------------------
# Evaluator: exact figures, and cross-harness parity with the lm-eval task
# --------------------------------------------------------------------------------------------


def evaluate(
    formats: list[str], replies: dict[str, str], scale: float = 100.0, truncation: str = "none"
) -> dict[str, Any]:
    test = build_dataset(formats, sample=True).test
    predictions = [replies[uid] for uid in test["uid"]]
    evaluator = LongRewardBenchEvaluator(formats=formats, scale=scale)
    return evaluator.evaluate(
        1, 1, test, predictions=predictions, references=test["gold"], test_set=test,
        longrm=[{"truncation": truncation}] * len(test),
    )  # fmt: skip


@pytest.mark.parametrize("formats", [["PairWise", "BestOfN"], ["PairWise"], ["BestOfN"]])
def test_evaluator_matches_independent_computation(formats: list[str]) -> None:
    rows = [row for row in ROWS if row.tasktype in formats]
    replies = replies_for(ROWS)
    result = evaluate(formats, replies)
    expected = ref.expected_metrics(rows, replies)
    reported = {key: value for key, value in result.items() if key not in ("details", "longrm")}
    keys = {"avg", "parse_fail", "empty_output", "truncated", "trunc_unchecked"}
    keys |= ref.PAIRWISE_KEYS if "PairWise" in formats else set()
    keys |= ref.BON_KEYS if "BestOfN" in formats else set()
    assert set(reported) == keys
    for key, value in expected.items():
        if key in reported:
            assert reported[key] == pytest.approx(value * 100, abs=1e-9), key
    assert 0 < reported["avg"] < 100 and 0 < reported["parse_fail"] < 100
    assert reported["truncated"] == reported["trunc_unchecked"] == 0
    details = result["details"]
    assert [d["uid"] for d in details] == [row.uid for row in rows]
    for detail in details:
        row = BY_UID[detail["uid"]]
        assert detail["prediction"] == replies[row.uid]
        assert detail["pred"] == ref.parse(replies[row.uid], row.tasktype)
        assert detail["score"] == pytest.approx(ref.score(row.order, detail["pred"]))
        assert detail["order"] == list(row.order) and detail["row_index"] == row.index
    assert result["longrm"]["samples"] == len(rows)


def test_cross_harness_parity_with_lm_eval_process_results() -> None:
    """The same judge outputs through lm-eval's task code and through the OpenCompass evaluator."""
    pytest.importorskip("lm_eval")
    from support.lm_eval_task import lm_eval_figures  # a helper so that lm_eval is imported only here

    replies = replies_for(ROWS)
    for formats in (["PairWise", "BestOfN"], ["PairWise"], ["BestOfN"]):
        names, lm_figures, statuses = lm_eval_figures(formats, replies)
        assert metric_keys(formats, JUDGE_EXTRA_METRICS) == names, "metric sets of the two harnesses differ"
        (status,) = statuses  # without a tokenizer both harnesses record "unchecked"
        fractions = evaluate(formats, replies, scale=1.0, truncation=status)
        percents = evaluate(formats, replies, truncation=status)
        for name in names:
            assert fractions[name] == lm_figures[name], (formats, name)  # identical, not approximate
            assert percents[name] == lm_figures[name] * 100, (formats, name)


def test_scalar_rm_evaluator_matches_lm_eval_rm_task() -> None:
    """Rewards (arbitrary numbers, ties included) scored by both harnesses, and by hand (spec §5)."""
    pytest.importorskip("lm_eval")
    from support.lm_eval_task import lm_eval_rm_figures

    rewards = {row.uid: [float((row.rank * 7 + slot * 3) % 5) for slot in range(row.n)] for row in ROWS}
    test = LongRewardBenchRMDataset(reader_cfg=RM_READER_CFG, abbr="rm", sample=True).test
    assert [record["uid"] for record in test] == [row.uid for row in ROWS]
    for record, row in zip(test, ROWS, strict=True):
        assert record["slots"] == list(row.presented), row.uid
    predictions = [json.dumps(rewards[uid]) for uid in test["uid"]]
    result = LongRewardBenchRMEvaluator(scale=1.0).evaluate(
        1, 1, test, predictions=predictions, references=test["gold"], test_set=test,
        longrm=[{"truncation": "none"}] * len(test),
    )  # fmt: skip
    names, lm_figures = lm_eval_rm_figures(rewards)
    assert metric_keys(["PairWise", "BestOfN"]) == names
    assert {name: result[name] for name in names} == lm_figures
    # By hand: ranks from a stable descending sort (ties: the earlier slot ranks higher).
    by_hand = {}
    for row in ROWS:
        ranked = sorted(range(row.n), key=lambda slot: -rewards[row.uid][slot])
        by_hand[row.uid] = "[[" + ">".join(chr(65 + slot) for slot in ranked) + "]]"
        if row.tasktype == "PairWise":
            by_hand[row.uid] = f"[[{chr(65 + ranked[0])}]]"
    expected = ref.expected_metrics(ROWS, by_hand)
    for name in names:
        assert result[name] == pytest.approx(expected[name], abs=1e-12), name


def test_empty_output_counts_and_strict_mode_stops() -> None:
    replies = {row.uid: "" if row.rank % 5 == 0 else "[[A]]" for row in ROWS}
    result = evaluate(["PairWise", "BestOfN"], replies)
    assert result["empty_output"] == pytest.approx(sum(row.rank % 5 == 0 for row in ROWS) / len(ROWS) * 100)
    test = build_dataset(["PairWise"], sample=True).test
    evaluator = LongRewardBenchEvaluator(formats=["PairWise"], strict=True)
    with pytest.raises(Exception, match="returned no text"):
        evaluator.score([""] * len(test), test["gold"], test, [{"truncation": "none"}] * len(test))


# --------------------------------------------------------------------------------------------
# Inferencer: prompts, system message, lengths
# --------------------------------------------------------------------------------------------


class FakeChatModel:
    """Just enough of an OpenCompass chat wrapper: records what it is asked to generate."""

    is_api = False

    def __init__(self, tokenizer: Any, max_seq_len: int, meta_template: dict[str, Any] | None = None) -> None:
        from opencompass.models.huggingface_above_v4_33 import _get_meta_template

        self.tokenizer = tokenizer
        self.max_seq_len = max_seq_len
        self.template_parser = _get_meta_template(meta_template)
        self.inputs: list[Any] = []

    def parse_template(self, prompt: Any, mode: str) -> Any:
        return self.template_parser.parse_template(prompt, mode)

    def generate(self, inputs: list[Any], max_out_len: int, **kwargs: Any) -> list[str]:
        assert max_out_len == 2048
        self.inputs += inputs
        return ["[[A]]"] * len(inputs)


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(save_sample_tokenizer(tmp_path_factory.mktemp("tok")))


def run_inferencer(model: Any, dataset: Any, tmp_path: Path, **options: Any) -> dict[str, Any]:
    from opencompass.openicl.icl_prompt_template import PromptTemplate
    from opencompass.openicl.icl_retriever import ZeroRetriever

    inferencer = LongRMGenInferencer(
        model=model, max_out_len=2048, batch_size=4, output_json_filepath=str(tmp_path), **options
    )
    inferencer.inference(
        ZeroRetriever(dataset),
        prompt_template=PromptTemplate(template=TEMPLATE),
        output_json_filepath=str(tmp_path),
        output_json_filename="predictions.json",
    )
    return json.loads((tmp_path / "predictions.json").read_text("utf-8"))


def messages_of(prompt: Any) -> list[tuple[str, str]]:
    return [(item["role"], item["prompt"]) for item in prompt]


def test_default_hf_meta_template_still_sends_a_real_system_message(tokenizer: Any, tmp_path: Path) -> None:
    model = FakeChatModel(tokenizer, max_seq_len=1_000_000)  # the HF wrapper's default: SYSTEM -> user
    predictions = run_inferencer(model, build_dataset(["PairWise", "BestOfN"], sample=True), tmp_path)
    assert len(model.inputs) == len(ROWS) == len(predictions)
    for prompt, row in zip(model.inputs, ROWS, strict=True):
        assert messages_of(prompt) == [
            ("SYSTEM", ref.expected_system(row.tasktype, row.n)),
            ("HUMAN", ref.expected_user(row.question, row.presented)),
        ], row.uid
    first = predictions["0"]
    assert first["longrm"]["system_placement"] == "system" and first["longrm"]["truncation"] == "none"
    assert json.loads(first["gold"])["uid"] == ROWS[0].uid


def test_template_that_rejects_system_role_gets_merged_instructions(tokenizer: Any, tmp_path: Path) -> None:
    import copy

    strict = copy.deepcopy(tokenizer)
    strict.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}"
        "{% endif %}{{ m['role'] + ': ' + m['content'] + '\\n' }}{% endfor %}"
    )
    model = FakeChatModel(strict, max_seq_len=1_000_000)
    predictions = run_inferencer(model, build_dataset(["PairWise"], sample=True), tmp_path)
    rows = [row for row in ROWS if row.tasktype == "PairWise"]
    for prompt, row in zip(model.inputs, rows, strict=True):
        system, user = (
            ref.expected_system(row.tasktype, row.n),
            ref.expected_user(row.question, row.presented),
        )
        assert messages_of(prompt) == [("HUMAN", system + "\n\n" + user)], row.uid
    assert predictions["0"]["longrm"]["system_placement"] == "merged"


def long_data_dir(tmp_path: Path, words: int) -> tuple[Path, str]:
    """A copy of the sample whose first LongQA row has a context of ``words`` words."""
    folder = tmp_path / "data"
    shutil.copytree(ref.SAMPLE_DIR, folder)
    path = folder / "LongQA.jsonl"
    lines = path.read_text("utf-8").splitlines()
    row = json.loads(lines[0])
    filler = [f"w{i % 97}" for i in range(words)]
    filler[words // 2] = "MIDMARK"
    text = f"HEADMARK {' '.join(filler)} TAILMARK Question: which?"
    row["prompt_template"] = [{"role": "user", "content": text}]
    row["ctx_length_for_length"] = "128k"
    lines[0] = json.dumps(row)
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return folder, "LongQA-0"


def only_row(dataset: Any, uid: str) -> Any:
    dataset.reader.dataset["test"] = dataset.test.filter(lambda r: r["uid"] == uid)
    return dataset


def test_parity_truncation_keeps_the_instructions(tokenizer: Any, tmp_path: Path) -> None:
    folder, uid = long_data_dir(tmp_path, words=140_000)
    dataset = only_row(build_dataset(["PairWise"], data_dir=str(folder), partial_data=True), uid)
    record = dataset.test[0]
    model = FakeChatModel(tokenizer, max_seq_len=200_000)
    predictions = run_inferencer(model, dataset, tmp_path / "out")
    (prompt,) = model.inputs
    (system_role, system), (user_role, user) = messages_of(prompt)
    assert (system_role, user_role) == ("SYSTEM", "HUMAN")
    assert system == record["system_prompt"]  # the instructions survive whole
    assert user.startswith("[User Question]\nHEADMARK")
    assert user.endswith(record["user_prompt"][-300:])  # ...and so do the responses at the end
    assert "TAILMARK" in user and "MIDMARK" not in user and len(user) < len(record["user_prompt"])
    assert predictions["0"]["longrm"]["truncation"] == "cut"
    rendered = tokenizer.apply_chat_template(
        [{"role": "system", "content": system}, {"role": "user", "content": user}],
        tokenize=False,
        add_generation_prompt=True,
    )
    tokens = len(tokenizer(rendered, add_special_tokens=False)["input_ids"])
    assert abs(tokens - (65_536 + 65_531)) <= 8
    assert abs(predictions["0"]["longrm"]["prompt_tokens"] - tokens) <= 8


def test_over_length_prompt_is_an_explicit_error(tokenizer: Any, tmp_path: Path) -> None:
    folder, uid = long_data_dir(tmp_path, words=3_000)
    dataset = only_row(build_dataset(["PairWise"], data_dir=str(folder), partial_data=True), uid)
    model = FakeChatModel(tokenizer, max_seq_len=4_096)
    with pytest.raises(PromptTooLongError, match=rf"{uid}.*max_seq_len=4096.*truncation='context'"):
        run_inferencer(model, dataset, tmp_path / "out")
    assert model.inputs == []


def test_context_truncation_fits_and_keeps_instructions_and_responses(tokenizer: Any, tmp_path: Path) -> None:
    folder, uid = long_data_dir(tmp_path, words=6_000)
    dataset = only_row(build_dataset(["PairWise"], data_dir=str(folder), partial_data=True), uid)
    record = dataset.test[0]
    model = FakeChatModel(tokenizer, max_seq_len=6_000)
    predictions = run_inferencer(model, dataset, tmp_path / "out", truncation="context", cache_dir="off")
    (prompt,) = model.inputs
    (_, system), (_, user) = messages_of(prompt)
    assert system == record["system_prompt"]
    assert user.startswith("[User Question]\nHEADMARK")
    assert "TAILMARK Question: which?" in user and "MIDMARK" not in user
    assert user.endswith(record["user_prompt"][record["context_end"] :])  # every response whole
    record = predictions["0"]["longrm"]
    assert record["context_cut"] and record["truncation"] == "none" and record["truncation_mode"] == "context"
    assert record["prompt_tokens"] <= 6_000 - 2048


def test_stored_prompts_are_elided(tokenizer: Any, tmp_path: Path) -> None:
    folder, uid = long_data_dir(tmp_path, words=20_000)
    dataset = only_row(build_dataset(["PairWise"], data_dir=str(folder), partial_data=True), uid)
    predictions = run_inferencer(FakeChatModel(tokenizer, max_seq_len=1_000_000), dataset, tmp_path / "out")
    stored = predictions["0"]["origin_prompt"][1]["prompt"]
    assert "characters elided by longrm-tasks" in stored and len(stored) < 5_000


def test_huggingface_chat_judge_renders_like_the_official_evaluator(tmp_path: Path) -> None:
    """The HF wrapper subclass: real system message, ``enable_thinking=False``, greedy output."""
    from longrm_tasks.adapters.opencompass.models import HuggingFaceChatJudge

    folder = build_tiny_llama(tmp_path / "tiny", reply="[[B]]")
    model = HuggingFaceChatJudge(path=str(folder), max_seq_len=8192)
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    original = model.tokenizer.chat_template
    model.tokenizer.chat_template = (  # a Qwen3-like switch
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "<|im_start|>assistant\n{% if enable_thinking is defined and not enable_thinking %}NOTHINK{% endif %}"
    )
    LongRMGenInferencer(model=model)  # the inferencer makes the model render as it measures
    rendered = model.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert rendered.startswith("<|im_start|>system\nS<|im_end|>") and rendered.endswith("NOTHINK")
    model.tokenizer.chat_template = original
    predictions = run_inferencer(model, build_dataset(["PairWise"], sample=True), tmp_path / "out")
    rows = [row for row in ROWS if row.tasktype == "PairWise"]
    assert [entry["prediction"] for entry in predictions.values()] == ["[[B]]"] * len(rows)
    assert {entry["longrm"]["system_placement"] for entry in predictions.values()} == {"system"}
    first = predictions["0"]["origin_prompt"]
    assert [item["role"] for item in first] == ["SYSTEM", "HUMAN"]


# --------------------------------------------------------------------------------------------
# Configs
# --------------------------------------------------------------------------------------------


def test_inferencer_defaults_to_the_protocols_generation_budget(tokenizer: Any) -> None:
    model = FakeChatModel(tokenizer, max_seq_len=1_000_000)
    assert LongRMGenInferencer(model=model, max_out_len=None).max_out_len == 2048
    assert LongRMGenInferencer(model=model, max_out_len=64).max_out_len == 64


def test_example_config_and_shipped_configs_parse() -> None:
    from mmengine.config import Config

    root = Path(__file__).resolve().parents[2]
    example = Config.fromfile(str(root / "examples" / "eval_longrewardbench.py"), format_python_code=False)
    assert [d["abbr"] for d in example["datasets"]] == ["longrewardbench_sample"]
    assert example["summarizer"]["paper_tables"]
    from longrm_tasks.adapters.opencompass.inferencer import JUDGE_META_TEMPLATE

    common = Config.fromfile(
        str(root / "adapters" / "opencompass" / "configs" / "common" / "longrm_judge.py")
    )
    assert common["judge_meta_template"].to_dict() == JUDGE_META_TEMPLATE
    for path in (root / "adapters" / "opencompass" / "configs" / "datasets").rglob("longrewardbench_*.py"):
        if path.stem.endswith("_common"):
            continue
        config = Config.fromfile(str(path), format_python_code=False)
        (datasets,) = [value for key, value in config.items() if key.endswith("_datasets")]
        (dataset,) = datasets
        assert dataset["abbr"] == path.stem.removesuffix("_gen"), path
        if path.stem.endswith("_gen"):
            # None: the protocol's budget, whatever the model config's max_out_len says
            assert dataset["infer_cfg"]["inferencer"]["max_out_len"] is None, path
