"""Data-parallel scalar-RM scoring: whole samples per process, longest contexts spread evenly.

Under ``torchrun`` / ``accelerate launch`` every process receives every sample. Each one scores a
shard, then all exchange rewards, so every process ends with exactly the rewards one process would
compute, and every figure is identical to a single-process run (not merely close: no reduction
happens across processes). A sample's N responses always stay on one process: they share the
key/value cache of their common prefix. Samples are dealt longest first to the least-loaded process
(greedy LPT), so the 128k contexts are spread over the processes instead of piling up on one, and the
run ends when the busiest process does.
"""

from __future__ import annotations

import hashlib
import heapq
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import LongRMError

Sample = TypeVar("Sample")
Result = TypeVar("Result")


class ShardingError(LongRMError):
    """The processes of a data-parallel run disagree on what to score."""


def sample_cost(prompt_template: Sequence[Mapping[str, str]], slots: Sequence[str]) -> int:
    """Work of one sample under prefix sharing, in characters: its context once, each response once.

    Characters, not tokens: every process must compute the same plan before any tokenizer runs.
    """
    return sum(len(str(message["content"])) for message in prompt_template) + sum(map(len, slots))


def assign_shards(costs: Sequence[int], world_size: int) -> list[list[int]]:
    """Indices of the samples each process scores, costliest first within a shard.

    Greedy longest-processing-time: samples by decreasing cost (ties: lower index first) each go to
    the process with the least work so far (ties: lower rank). Deterministic, so every process
    derives the same plan on its own.
    """
    if world_size < 1:
        raise ValueError(f"world_size must be at least 1, got {world_size}")
    shards: list[list[int]] = [[] for _ in range(world_size)]
    loads = [(0, rank) for rank in range(world_size)]
    for index in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        load, rank = heapq.heappop(loads)
        shards[rank].append(index)
        heapq.heappush(loads, (load + costs[index], rank))
    return shards


@dataclass(frozen=True)
class ProcessGroup:
    """Where this process stands in a data-parallel run (from the launcher's environment)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    def all_gather(self, value: Any) -> list[Any]:
        """``value`` of every process, by rank (over gloo: plain Python objects, any device)."""
        if self.world_size == 1:
            return [value]
        import torch.distributed as dist

        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, value, group=_object_group())
        return gathered


_OBJECT_GROUP: list[Any] = []


def _object_group() -> Any:
    """A gloo group for exchanging Python objects (the default group may be NCCL, set up by accelerate)."""
    import torch.distributed as dist

    if not _OBJECT_GROUP:
        _OBJECT_GROUP.append(None if dist.get_backend() == "gloo" else dist.new_group(backend="gloo"))
    return _OBJECT_GROUP[0]


def process_group(environ: Mapping[str, str] | None = None) -> ProcessGroup:
    """This process's group, read from ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``LOCAL_WORLD_SIZE``
    (set by torchrun and accelerate launch); joins the process group when there are several."""
    environ = os.environ if environ is None else environ
    world_size = int(environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return ProcessGroup()
    group = ProcessGroup(
        rank=int(environ.get("RANK", "0")),
        world_size=world_size,
        local_rank=int(environ.get("LOCAL_RANK", "0")),
        local_world_size=int(environ.get("LOCAL_WORLD_SIZE", str(world_size))),
    )
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="gloo", rank=group.rank, world_size=world_size)
    return group


def _fingerprint(keys: Sequence[str], costs: Sequence[int]) -> str:
    digest = hashlib.sha256()
    for key, cost in zip(keys, costs, strict=True):
        digest.update(f"{key}\0{cost}\n".encode())
    return digest.hexdigest()


def score_sharded(
    samples: Sequence[Sample],
    *,
    keys: Sequence[str],
    costs: Sequence[int],
    score: Callable[[Sample], Result],
    group: ProcessGroup,
    on_shard: Callable[[int], Any] | None = None,
) -> list[Result]:
    """``score`` of every sample, each computed on one process of ``group`` and shared with all.

    ``keys`` identify the samples (uids) and ``costs`` weigh them (:func:`sample_cost`); both must be
    the same on every process, which is checked before any work starts. ``on_shard`` is told how
    many samples this process scores (for a progress bar). Costliest samples first: peak memory shows
    up at the start of a run, not after hours.
    """
    if group.world_size > 1:
        prints = group.all_gather((len(samples), _fingerprint(keys, costs)))
        if len(set(prints)) > 1:
            counts = ", ".join(f"rank {rank}: {count}" for rank, (count, _) in enumerate(prints))
            raise ShardingError(
                f"the {group.world_size} processes were given different samples ({counts} samples); "
                "every process must see the same requests (same tasks, --limit and cache state)"
            )
    shard = assign_shards(costs, group.world_size)[group.rank]
    if on_shard is not None:
        on_shard(len(shard))
    own = {index: score(samples[index]) for index in shard}
    merged: dict[int, Result] = {}
    for part in group.all_gather(own):
        merged.update(part)
    return [merged[index] for index in range(len(samples))]
