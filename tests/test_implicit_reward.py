"""Implicit rewards (a causal LM's log-likelihood of each response), the context run once.

Every figure is checked against the definition written out here: each (context, continuation) pair
alone through the model, log-softmax over the vocabulary, the continuation's tokens summed (what
lm-eval's ``hf`` backend computes), and greedy = every continuation token is the argmax.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from support.subprocesses import lm_eval_command, offline_env  # noqa: E402
from support.tiny_models import build_reward_model, save_sample_tokenizer  # noqa: E402

from longrm_tasks.rm import implicit, kv_cache  # noqa: E402
from longrm_tasks.rm.implicit import ImplicitRewardScorer  # noqa: E402


@pytest.fixture(scope="module", params=("llama", "qwen2"))
def causal_lm(request, tmp_path_factory):
    path = build_reward_model(tmp_path_factory.mktemp(request.param), request.param, causal=True)
    return transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()


def _by_definition(model, context, continuation):
    ids = torch.tensor([context + continuation])
    with torch.inference_mode():
        logprobs = torch.log_softmax(model(input_ids=ids).logits[0].double(), dim=-1)
    total, greedy = 0.0, True
    for offset, token in enumerate(continuation):
        row = logprobs[len(context) + offset - 1]
        total += float(row[token])
        greedy = greedy and int(row.argmax()) == token
    return total, greedy


def _rows(seed: int = 1, count: int = 4):
    """Contexts of 40-200 tokens with 1-4 continuations of 1-30 tokens (random ids in the vocabulary)."""
    generator = torch.Generator().manual_seed(seed)

    def ids(low, high):
        length = int(torch.randint(low, high, (1,), generator=generator))
        return torch.randint(5, 300, (length,), generator=generator).tolist()

    rows = [(ids(40, 200), [ids(1, 30) for _ in range(int(torch.randint(1, 5, (1,), generator=generator)))])]
    rows += [(ids(40, 200), [ids(2, 30) for _ in range(4)]) for _ in range(count - 1)]
    rows.append((ids(40, 60), [[7], ids(3, 9), [9]]))  # one-token continuations: the context's logits only
    return rows


def _record_shapes(model):
    shapes = []
    model.register_forward_pre_hook(
        lambda module, args, kwargs: shapes.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    return shapes


def test_shared_loglikelihoods_equal_the_definition(causal_lm):
    scorer = ImplicitRewardScorer(causal_lm)
    for context, continuations in _rows():
        got = scorer.score(context, continuations)
        for (value, greedy), continuation in zip(got, continuations, strict=True):
            expected, expected_greedy = _by_definition(causal_lm, context, continuation)
            assert value == pytest.approx(expected, rel=1e-4, abs=1e-4)
            assert greedy == expected_greedy
    assert scorer._block_checked is True and scorer.stats.block_passes > 0
    assert scorer.stats.pairwise_fallbacks == 0


def test_one_context_pass_and_one_block_pass_per_row(causal_lm):
    scorer = ImplicitRewardScorer(causal_lm)
    context, continuations = _rows()[1]
    scorer.score(context, continuations)  # the first call checks the block once, on a tiny input
    shapes = _record_shapes(causal_lm)
    scorer.score(context, continuations)
    # The context once; then every continuation but its last token, together; never a padded batch.
    assert shapes == [(1, len(context)), (1, sum(len(c) - 1 for c in continuations))]


def test_greedy_continuation_is_flagged(causal_lm):
    context = list(range(10, 60))
    chain = []
    with torch.inference_mode():
        for _ in range(5):
            chain.append(int(causal_lm(input_ids=torch.tensor([context + chain])).logits[0, -1].argmax()))
    other = [(chain[0] + 1) % 300, *chain[1:]]
    got = ImplicitRewardScorer(causal_lm).score(context, [chain, other])
    assert [greedy for _, greedy in got] == [True, False]
    assert got[0][0] > got[1][0]


def test_logit_budget_splits_the_block(causal_lm, monkeypatch):
    context, continuations = _rows()[2]
    whole = ImplicitRewardScorer(causal_lm).score(context, continuations)
    vocab = causal_lm.config.vocab_size
    monkeypatch.setattr(implicit, "MAX_LOGIT_ENTRIES", vocab * (max(len(c) for c in continuations) + 1))
    split = ImplicitRewardScorer(causal_lm)
    got = split.score(context, continuations)
    assert split.stats.block_passes >= 2
    assert [v for v, _ in got] == pytest.approx([v for v, _ in whole], rel=1e-5, abs=1e-5)


class _Careless(torch.nn.Module):
    """A causal LM that drops the positions (and computes them from the cache length, as models with
    positions of their own making do) or the 4D mask it is given: in a block, a continuation then
    sits at the wrong place or sees another one, so the one-time check must refuse the block."""

    def __init__(self, model, drops):
        super().__init__()
        self.inner, self.config, self.drops = model, model.config, drops

    def forward(self, input_ids, attention_mask=None, position_ids=None, **kwargs):
        if self.drops == "positions":
            position_ids = None
        elif attention_mask is not None and attention_mask.dim() == 4:
            attention_mask = None
        return self.inner(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, **kwargs
        )


@pytest.mark.parametrize("drops", ["positions", "mask"])
def test_a_model_failing_the_block_check_runs_one_continuation_at_a_time(causal_lm, monkeypatch, drops):
    monkeypatch.setattr(implicit, "cache_argument", lambda _model: kv_cache.cache_argument(causal_lm))
    scorer = ImplicitRewardScorer(_Careless(causal_lm, drops))
    context, continuations = _rows()[1]
    got = scorer.score(context, continuations)
    assert scorer._block_checked is False and scorer.stats.block_passes == 0
    for (value, _), continuation in zip(got, continuations, strict=True):
        assert value == pytest.approx(_by_definition(causal_lm, context, continuation)[0], rel=1e-4, abs=1e-4)


def test_empty_inputs_are_refused(causal_lm):
    scorer = ImplicitRewardScorer(causal_lm)
    with pytest.raises(ValueError, match="empty"):
        scorer.score([], [[1]])
    with pytest.raises(ValueError, match="empty"):
        scorer.score([1, 2], [[3], []])


def _lm_eval_rm(model: str, path: Path, out: Path) -> dict[str, dict]:
    """``lm_eval --model MODEL`` on the sample's ``_rm`` task; the logged samples by uid."""
    command = [
        *lm_eval_command(),
        "--model", model,
        "--model_args", f"pretrained={path},dtype=float32",
        "--tasks", "longrewardbench_sample_rm",
        "--batch_size", "4",
        "--output_path", str(out),
        "--log_samples",
    ]  # fmt: skip
    proc = subprocess.run(command, env=offline_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    (samples,) = out.rglob("samples_longrewardbench_sample_rm_*.jsonl")
    entries = [json.loads(line) for line in samples.read_text("utf-8").splitlines()]
    return {entry["doc"]["uid"]: entry for entry in entries}


@pytest.mark.slow
def test_longrm_hf_equals_lm_evals_hf_backend(tmp_path: Path) -> None:
    """The same tiny causal LM through ``--model hf`` and ``--model longrm-hf``: every logged
    log-likelihood equal to float rounding, every greedy flag and every per-sample score equal."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(save_sample_tokenizer(tmp_path / "model"))
    path = build_reward_model(tmp_path / "model", max_positions=8192, tokenizer=tokenizer, causal=True)
    plain = _lm_eval_rm("hf", path, tmp_path / "hf")
    shared = _lm_eval_rm("longrm-hf", path, tmp_path / "longrm-hf")
    assert plain.keys() == shared.keys() and len(plain) == 62
    for uid, entry in plain.items():
        ours = shared[uid]
        for (value, greedy), (our_value, our_greedy) in zip(
            entry["filtered_resps"], ours["filtered_resps"], strict=True
        ):
            assert float(our_value) == pytest.approx(float(value), rel=1e-5, abs=1e-4), uid
            assert our_greedy == greedy, uid
        assert ours["avg"] == entry["avg"], uid
