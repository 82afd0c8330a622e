"""Scalar reward models (spec §5): prefix-shared scoring, batch invariance, the longrm-rm backend."""

from __future__ import annotations

import glob
import json
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from support.subprocesses import offline_env  # noqa: E402
from support.tiny_models import build_reward_model, build_tokenizer  # noqa: E402

from longrm_tasks.data import load_sample  # noqa: E402
from longrm_tasks.items import reward_items  # noqa: E402
from longrm_tasks.rm.scorer import RewardScorer  # noqa: E402
from longrm_tasks.rm.sequences import response_sequences, shared_prefix_length  # noqa: E402
from longrm_tasks.scoring import score_rewards  # noqa: E402

ARCHITECTURES = ("llama", "qwen2")


@pytest.fixture(scope="module", params=ARCHITECTURES)
def reward_model(request, tmp_path_factory):
    path = build_reward_model(tmp_path_factory.mktemp(request.param), request.param)
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32).eval()
    return path, tokenizer, model


@pytest.fixture(scope="module")
def items():
    return reward_items(load_sample())


def _independent_reward(model, tokenizer, messages) -> float:
    """Spec §5 written out: chat template without generation prompt, first logit, one sequence."""
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        return float(model(input_ids=ids).logits[0, 0])


def test_shared_prefix_rewards_equal_plain_path(reward_model, items):
    _, tokenizer, model = reward_model
    shared, plain = RewardScorer(model), RewardScorer(model, prefix_sharing=False)
    for item in items:
        sequences, cut = response_sequences(tokenizer, item.prompt_template, item.slots)
        assert not any(cut)
        a, b = shared.score(sequences), plain.score(sequences)
        assert a == pytest.approx(b, rel=1e-4, abs=1e-6), item.uid
    assert shared.stats.plain_fallbacks == 0
    assert shared.stats.prefix_tokens_shared > 0
    assert shared.stats.block_passes > 0  # the responses ran together, one forward per sample
    # Each shared prefix is run once: far fewer tokens than the plain path.
    assert shared.stats.tokens_processed < 0.7 * plain.stats.tokens_processed


def test_plain_path_is_spec_section_5(reward_model, items):
    _, tokenizer, model = reward_model
    item = next(i for i in items if i.tasktype == "BestOfN" and len(i.slots) == 4)
    sequences, _ = response_sequences(tokenizer, item.prompt_template, item.slots)
    expected = [
        _independent_reward(model, tokenizer, [*item.prompt_template, {"role": "assistant", "content": r}])
        for r in item.slots
    ]
    assert RewardScorer(model, prefix_sharing=False).score(sequences) == pytest.approx(expected, rel=1e-5)


def _record_shapes(model) -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = []
    model.register_forward_pre_hook(
        lambda _module, _args, kwargs: shapes.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    return shapes


def test_no_padding_one_sample_per_forward(reward_model, items):
    path, tokenizer, _ = reward_model
    model = transformers.AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32).eval()
    scorer, one_at_a_time = RewardScorer(model), RewardScorer(model, response_block=False)
    item = next(i for i in items if len(i.slots) == 4)
    sequences, _ = response_sequences(tokenizer, item.prompt_template, item.slots)
    prefix = shared_prefix_length(sequences)
    scorer.score(sequences)  # the first call checks the block once, on a tiny input
    shapes = _record_shapes(model)
    scorer.score(sequences)
    # One prefix pass, then the four responses' own tokens in one pass; never a padded batch.
    assert shapes == [(1, prefix), (1, sum(len(ids) - prefix for ids in sequences))]
    shapes.clear()
    one_at_a_time.score(sequences)
    assert shapes == [(1, prefix)] + [(1, len(ids) - prefix) for ids in sequences]


def test_block_mask_by_hand():
    from longrm_tasks.rm.response_block import block_inputs

    ids, mask, positions, last = block_inputs([[7, 8], [9]], 2, torch.float32, "cpu")
    x = torch.finfo(torch.float32).min
    # Rows: queries 7, 8, 9; columns: the two cached prefix positions, then 7, 8, 9.
    expected = [
        [0, 0, 0, x, x],
        [0, 0, 0, 0, x],
        [0, 0, x, x, 0],
    ]
    assert ids.tolist() == [[7, 8, 9]]
    assert mask.shape == (1, 1, 3, 5) and mask[0, 0].tolist() == expected
    assert positions.tolist() == [[2, 3, 2]]  # each response continues right after the context
    assert last == [1, 2]


def test_response_groups_keep_the_mask_bounded():
    from longrm_tasks.rm.response_block import response_groups

    assert response_groups([300] * 4, 4096) == [[0, 1, 2, 3]]
    # 10 + 10 tokens after 80: 20 x 100 = 2,000 entries; a third response would make 30 x 110 = 3,300.
    assert response_groups([10, 10, 10, 10], 80, limit=3_000) == [[0, 1], [2, 3]]
    assert response_groups([50, 5], 80, limit=1_000) == [[0], [1]]  # one response alone always runs
    assert response_groups([], 80) == []


def test_block_only_where_the_model_honours_the_mask(reward_model):
    from longrm_tasks.rm.response_block import supports_block

    path, _, model = reward_model
    assert supports_block(model)
    windowed = transformers.AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32)
    windowed.config.get_text_config().layer_types = ["sliding_attention", "full_attention"]
    assert not supports_block(windowed)  # the custom mask would override the window
    windowed.config.get_text_config().layer_types = None
    windowed.config.get_text_config().sliding_window = 64
    windowed.config.get_text_config().use_sliding_window = True
    assert not supports_block(windowed)
    flash = transformers.AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32)
    flash.config._attn_implementation = "flash_attention_2"
    assert not supports_block(flash)


class _IgnoresPositions(torch.nn.Module):
    """A classifier that computes positions from the cache length, whatever it is given (as models
    with positions of their own making do): in a block, the second response sits at the wrong place."""

    def __init__(self, model):
        super().__init__()
        self.inner, self.config, self.score = model, model.config, model.score

    def forward(self, input_ids, attention_mask=None, position_ids=None, **kwargs):
        return self.inner(input_ids=input_ids, attention_mask=attention_mask, **kwargs)


def test_a_model_failing_the_block_check_scores_one_response_at_a_time(reward_model, items):
    _, tokenizer, model = reward_model
    scorer = RewardScorer(_IgnoresPositions(model))
    scorer._cache_argument = lambda: RewardScorer(model)._cache_argument()
    item = next(i for i in items if len(i.slots) == 4)
    sequences, _ = response_sequences(tokenizer, item.prompt_template, item.slots)
    rewards = scorer.score(sequences)
    assert scorer._block_checked is False and scorer.stats.block_passes == 0
    assert rewards == pytest.approx(
        RewardScorer(model, prefix_sharing=False).score(sequences), rel=1e-4, abs=1e-6
    )


def test_shared_prefix_length_leaves_every_sequence_a_token():
    assert shared_prefix_length([[1, 2, 3], [1, 2, 3, 4]]) == 2
    assert shared_prefix_length([[1, 2, 5], [1, 2, 6], [1, 2, 7, 8]]) == 2
    assert shared_prefix_length([[9, 1], [8, 1]]) == 0
    assert shared_prefix_length([[1]]) == 0


def test_parity_cut_applies_to_each_response_sequence():
    tokenizer = build_tokenizer()
    # ~131k+ tokens: the tiny BPE maps these characters to about one token each.
    context = "".join("0123456789+-*/=()[]{}<>:;,.!?#"[i % 30] for i in range(200_000))
    sequences, cut = response_sequences(
        tokenizer, [{"role": "user", "content": context}], ["short", "longer one"]
    )
    full = [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": context}, {"role": "assistant", "content": r}],
            tokenize=False,
        )
        for r in ("short", "longer one")
    ]
    for ids, text, was_cut in zip(sequences, full, cut, strict=True):
        original = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert len(original) >= 131_072 and was_cut
        assert ids == original[:65_536] + original[-65_531:]


@pytest.mark.parametrize(
    ("rewards", "order", "prediction", "score"),
    [
        ([2.0, 1.0], [0, 1], [0, 1], 1.0),
        ([1.0, 2.0], [0, 1], [1, 0], 0.0),
        ([1.5, 1.5], [0, 1], [0, 1], 1.0),  # exact tie: the earlier slot ranks higher
        ([1.5, 1.5], [1, 0], [0, 1], 0.0),
        ([0.1, 0.3, 0.2], [2, 0, 1], [2, 0, 1], 1.0),
        ([0.5, 0.5, 0.5, 0.9], [1, 2, 3, 0], [1, 2, 3, 0], 1.0),
        ([0.5, 0.5, 0.5, 0.9], [3, 2, 1, 0], [1, 2, 3, 0], 0.5),  # slots B and D match
    ],
)
def test_reward_ranking_and_ties(rewards, order, prediction, score):
    tasktype = "PairWise" if len(order) == 2 else "BestOfN"
    got, sample = score_rewards(
        rewards, task_file="Cite", tasktype=tasktype, subtype="diff", length_bucket="4k", order=order
    )
    assert got == prediction
    assert sample.score == score and sample.parsed


def _run_lm_eval(model_dir: Path, out: Path, batch_size: int, tasks: str = "longrewardbench_sample_rm"):
    env = offline_env()
    command = [
        sys.executable, "-m", "lm_eval", "--model", "longrm-rm",
        "--model_args", f"pretrained={model_dir}", "--tasks", tasks,
        "--batch_size", str(batch_size), "--output_path", str(out), "--log_samples",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=out.parent)
    assert result.returncode == 0, result.stderr[-4000:]
    results = json.loads(Path(glob.glob(f"{out}/*/results_*.json")[0]).read_text())
    samples_path = Path(glob.glob(f"{out}/*/samples_*.jsonl")[0])
    samples = [json.loads(line) for line in samples_path.read_text().splitlines()]
    return result.stdout, results, samples


@pytest.mark.slow
def test_lm_eval_cli_with_rm_backend_matches_independent_scoring(tmp_path):
    model_dir = build_reward_model(tmp_path / "rm", "llama")
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    runs = {size: _run_lm_eval(model_dir, tmp_path / f"out{size}", size) for size in (1, 2, 4, 8, 16)}
    stdout, results, samples = runs[1]
    metrics = results["results"]["longrewardbench_sample_rm"]
    for key in (
        "avg",
        "pairwise_avg",
        "bon_avg",
        "rank4",
        "len_128k",
        "len_avg",
        "task_math",
        "same",
        "diff",
    ):
        assert f"{key}," in "".join(metrics) and f"|{key}" in stdout.replace(" ", "")
    # Independent recomputation: spec §5 rewards, stable descending sort, rank-match ratio.
    expected = {}
    for sample in samples:
        doc = sample["doc"]
        rewards = [
            _independent_reward(
                model, tokenizer, [*doc["prompt_template"], {"role": "assistant", "content": r}]
            )
            for r in doc["slots"]
        ]
        assert [float(r) for r, _ in sample["filtered_resps"]] == pytest.approx(rewards, rel=1e-4)
        ranked = sorted(range(len(rewards)), key=lambda slot: -rewards[slot])
        prediction = [ranked.index(slot) for slot in range(len(rewards))]
        expected[doc["uid"]] = sum(p == g for p, g in zip(prediction, doc["order"], strict=True)) / len(
            prediction
        )
        assert sample["avg"] == expected[doc["uid"]]
    assert metrics["avg,none"] == pytest.approx(sum(expected.values()) / len(expected), abs=1e-12)
    # Batch size changes nothing: identical per-sample rankings and metrics.
    for size in (2, 4, 8, 16):
        _, other_results, other_samples = runs[size]
        assert {s["doc"]["uid"]: s["avg"] for s in other_samples} == {
            s["doc"]["uid"]: s["avg"] for s in samples
        }
        assert other_results["results"]["longrewardbench_sample_rm"] == metrics


@pytest.mark.slow
def test_rm_backend_refuses_generative_tasks(tmp_path):
    model_dir = build_reward_model(tmp_path / "rm", "qwen2")
    env = offline_env()
    command = [
        sys.executable, "-m", "lm_eval", "--model", "longrm-rm", "--model_args", f"pretrained={model_dir}",
        "--tasks", "longrewardbench_pairwise_sample", "--limit", "1",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert result.returncode != 0
    assert "scalar reward model" in result.stderr
