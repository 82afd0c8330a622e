"""Scalar RMs on several processes: the shard plan, model placement, and two gloo processes end to end."""

from __future__ import annotations

import copy
import glob
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.subprocesses import offline_env

from longrm_tasks.rm.placement import PlacementError, parse_max_memory, place_model
from longrm_tasks.rm.sharding import ProcessGroup, assign_shards, process_group, sample_cost

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]


def test_shards_by_hand():
    # Costliest first, to the least-loaded rank (ties: lower rank): 2(8)->r0, 4(8)->r1, 0(5)->r0 (8 vs 8),
    # 1(3)->r1 (13 vs 8), 3(1)->r1 (13 vs 11).
    assert assign_shards([5, 3, 8, 1, 8], 2) == [[2, 0], [4, 1, 3]]
    assert assign_shards([5, 3, 8, 1, 8], 1) == [[2, 4, 0, 1, 3]]
    assert assign_shards([4, 4], 3) == [[0], [1], []]
    assert assign_shards([], 2) == [[], []]
    with pytest.raises(ValueError, match="world_size"):
        assign_shards([1], 0)


def test_longest_contexts_are_spread_and_every_sample_is_scored_once():
    costs = [100_000, 99_000, 98_000, 97_000] + [1_000 + i for i in range(60)]
    shards = assign_shards(costs, 4)
    # The four longest samples land on four different processes.
    assert sorted(next(i for i in range(4) if index in shards[i]) for index in range(4)) == [0, 1, 2, 3]
    assert sorted(index for shard in shards for index in shard) == list(range(len(costs)))
    loads = [sum(costs[index] for index in shard) for shard in shards]
    assert max(loads) - min(loads) <= max(costs[4:])  # LPT: no process more than one short sample behind


def test_sample_cost_counts_the_context_once():
    template = [{"role": "user", "content": "abcd"}, {"role": "user", "content": "ef"}]
    assert sample_cost(template, ["x", "yz", "123"]) == 6 + 6


def test_process_group_single_process_without_launcher():
    assert process_group({}) == ProcessGroup()
    assert process_group({"WORLD_SIZE": "1", "RANK": "0"}).world_size == 1
    assert ProcessGroup().all_gather({"a": 1}) == [{"a": 1}]


def test_max_memory_parsing():
    assert parse_max_memory("0:70GiB;1:70GiB;cpu:200GiB") == {0: "70GiB", 1: "70GiB", "cpu": "200GiB"}
    assert parse_max_memory(" 0 : 10GB ; ") == {0: "10GB"}
    for bad, message in (
        ("70GiB", "DEVICE:SIZE"),
        ("gpu0:1GiB", "unknown device"),
        ("0:lots", "DEVICE:SIZE"),
    ):
        with pytest.raises(PlacementError, match=message):
            parse_max_memory(bad)
    with pytest.raises(PlacementError, match="empty"):
        parse_max_memory(";")


def test_placement():
    single, pair = ProcessGroup(), ProcessGroup(rank=1, world_size=2, local_rank=1, local_world_size=2)
    assert place_model("cpu", single).move_to == "cpu"
    assert place_model("cuda", pair).move_to == "cuda:1"  # one GPU per data-parallel process
    assert place_model("cuda:0", pair).move_to == "cuda:0"  # an explicit device is kept
    split = place_model("cuda", single, "auto", "0:1GiB;cpu:4GiB")
    assert split.move_to is None
    assert split.load_kwargs == {"device_map": "auto", "max_memory": {0: "1GiB", "cpu": "4GiB"}}
    with pytest.raises(PlacementError, match="one process per node"):
        place_model("cuda", pair, "auto")
    nodes = ProcessGroup(rank=1, world_size=2, local_rank=0, local_world_size=1)
    assert place_model("cuda", nodes, "auto").load_kwargs == {"device_map": "auto"}
    with pytest.raises(PlacementError, match="needs device_map"):
        place_model("cuda", single, None, "0:1GiB")


SHARD_PROBE = """
import json, os, sys
from longrm_tasks.errors import install_excepthook
from longrm_tasks.rm.sharding import process_group, score_sharded

install_excepthook()

group = process_group()
samples = list(range(int(sys.argv[1]) + (group.rank if len(sys.argv) > 2 else 0)))
seen = []
def score(sample):
    seen.append(sample)
    return [sample * 0.1, -sample / 3]
results = score_sharded(samples, keys=[str(s) for s in samples], costs=[s % 7 for s in samples], score=score,
                        group=group)
# One file per rank: two processes printing to one pipe can interleave their lines.
with open(f"rank{group.rank}.json", "w", encoding="utf-8") as out:
    json.dump({"rank": group.rank, "seen": seen, "results": results}, out)
"""


def _torchrun(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "probe.py"
    script.write_text(textwrap.dedent(SHARD_PROBE), "utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [*TORCHRUN, str(script), *args], capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path
    )


@pytest.mark.slow
def test_two_gloo_processes_share_every_result(tmp_path: Path):
    proc = _torchrun(tmp_path, "20")
    assert proc.returncode == 0, proc.stderr[-3000:]
    outputs = [json.loads((tmp_path / f"rank{rank}.json").read_text("utf-8")) for rank in (0, 1)]
    assert [out["rank"] for out in outputs] == [0, 1]
    seen = [set(out["seen"]) for out in outputs]
    assert not seen[0] & seen[1] and seen[0] | seen[1] == set(range(20))
    expected = [[sample * 0.1, -sample / 3] for sample in range(20)]
    assert outputs[0]["results"] == outputs[1]["results"] == expected


@pytest.mark.slow
def test_processes_with_different_samples_stop_with_one_line(tmp_path: Path):
    proc = _torchrun(tmp_path, "20", "skew")
    assert proc.returncode != 0
    message = (
        "longrm-tasks error: the 2 processes were given different samples (rank 0: 20, rank 1: 21 samples)"
    )
    assert message in proc.stderr, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr.split("longrm-tasks error")[0][-2000:]


def _lm_eval_rm(
    model_dir: Path, out: Path, launcher: list[str]
) -> tuple[subprocess.CompletedProcess[str], dict]:
    env = offline_env(OMP_NUM_THREADS="1")
    command = [
        *launcher, "-m", "lm_eval", "--model", "longrm-rm", "--model_args", f"pretrained={model_dir}",
        "--tasks", "longrewardbench_sample_rm", "--output_path", str(out), "--log_samples",
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, cwd=out.parent)
    assert proc.returncode == 0, proc.stderr[-4000:]
    (results_path,) = glob.glob(f"{out}/*/results_*.json")
    (samples_path,) = glob.glob(f"{out}/*/samples_*.jsonl")
    samples = [json.loads(line) for line in Path(samples_path).read_text().splitlines()]
    return proc, {"results": json.loads(Path(results_path).read_text()), "samples": samples}


@pytest.mark.slow
def test_two_processes_give_metrics_identical_to_one(tmp_path: Path):
    """``torchrun --nproc_per_node 2 -m lm_eval --model longrm-rm``: each process scores a share of the
    samples; the results file (written once) has exactly the single-process figures and rewards."""
    pytest.importorskip("transformers")
    from support.tiny_models import build_reward_model

    model_dir = build_reward_model(tmp_path / "rm", "llama")
    _, one = _lm_eval_rm(model_dir, tmp_path / "one", [sys.executable])
    proc, two = _lm_eval_rm(model_dir, tmp_path / "two", TORCHRUN)
    shares = sorted(
        line.split("longrm-rm: process ")[1]
        for line in proc.stderr.splitlines()
        if "longrm-rm: process" in line
    )
    total = len(one["samples"])
    assert len(shares) == 2 and shares[0].startswith("0 of 2 scores") and shares[1].startswith("1 of 2")
    counts = [int(share.split(" scores ")[1].split(" of ")[0]) for share in shares]
    assert sum(counts) == total and min(counts) > 0, shares
    metrics = one["results"]["results"]["longrewardbench_sample_rm"]
    assert two["results"]["results"]["longrewardbench_sample_rm"] == metrics  # exact float equality
    rewards = {s["doc"]["uid"]: s["filtered_resps"] for s in one["samples"]}
    assert {s["doc"]["uid"]: s["filtered_resps"] for s in two["samples"]} == rewards
    assert len(two["samples"]) == total


def test_device_map_auto_loads_and_scores_like_one_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``device_map=auto`` + ``max_memory`` reach ``from_pretrained`` (accelerate places the layers; on this
    CPU-only machine all on cpu), the model is not moved afterwards, and the rewards equal those of the
    plainly loaded model."""
    pytest.importorskip("accelerate")
    pytest.importorskip("lm_eval")
    import transformers
    from support.tiny_models import build_reward_model

    from longrm_tasks.adapters.lm_eval.reward_model import RewardModelLM
    from longrm_tasks.data import load_sample
    from longrm_tasks.items import reward_items
    from longrm_tasks.rm.sequences import response_sequences

    model_dir = build_reward_model(tmp_path / "rm", "llama")
    loads: list[dict] = []
    real = transformers.AutoModelForSequenceClassification.from_pretrained

    def recording(*args, **kwargs):
        loads.append(copy.deepcopy(kwargs))  # transformers rewrites max_memory in place
        return real(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForSequenceClassification, "from_pretrained", recording)
    split = RewardModelLM(pretrained=str(model_dir), device="cpu", device_map="auto", max_memory="cpu:4GiB")
    plain = RewardModelLM(pretrained=str(model_dir), device="cpu")
    assert loads[0]["device_map"] == "auto" and loads[0]["max_memory"] == {"cpu": "4GiB"}
    assert "device_map" not in loads[1]
    item = next(i for i in reward_items(load_sample()) if len(i.slots) == 4)
    sequences, _ = response_sequences(plain.tokenizer, item.prompt_template, item.slots)
    assert split.scorer.score(sequences) == plain.scorer.score(sequences)
    with pytest.raises(PlacementError, match="max_memory"):
        RewardModelLM(pretrained=str(model_dir), device="cpu", device_map="auto", max_memory="lots")
