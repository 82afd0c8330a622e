"""Sizing a run on N GPUs: memory per GPU (weights + key/value cache) and wall time.

Arithmetic only, so a user can size a cluster before renting it (``longrm plan --gpus N``):

- weights per GPU = parameters x bytes per parameter / tensor-parallel size;
- key/value cache per token = 2 (K and V) x layers x KV heads per GPU x head size x bytes, where a GPU
  holds ``ceil(kv_heads / tp)`` heads (vLLM replicates KV heads when tp exceeds their number);
- the longest sequence is the longest prompt the run sends plus the generation budget: vLLM's
  ``max_model_len`` must be at least that;
- wall time = GPU time / GPUs (data-parallel replicas split the requests; tensor parallelism splits
  each request), at a prefill throughput per GPU that the user measures or assumes.

Activations, CUDA graphs and the framework's own overhead are not modelled: vLLM's
``gpu_memory_utilization`` (default 0.9) leaves room for them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import LongRMError

GIB = 1024**3
DEFAULT_GPU_MEMORY_UTILIZATION = 0.9

#: Bytes per parameter or cached value.
DTYPE_BYTES: dict[str, float] = {
    "float32": 4,
    "bfloat16": 2,
    "float16": 2,
    "fp8": 1,
    "int8": 1,
    "int4": 0.5,
}


class SizingError(LongRMError):
    """Sizing inputs that do not describe a run."""


@dataclass(frozen=True)
class ModelShape:
    """What memory depends on: parameter count and the attention's key/value geometry."""

    params: float
    layers: int
    kv_heads: int
    head_dim: int


#: Published configs (config.json of each model: num_hidden_layers, num_key_value_heads, head_dim).
MODEL_SHAPES: dict[str, ModelShape] = {
    "llama-3.1-8b": ModelShape(8.03e9, 32, 8, 128),
    "llama-3.1-70b": ModelShape(70.6e9, 80, 8, 128),
    "llama-3.3-70b": ModelShape(70.6e9, 80, 8, 128),
    "qwen3-8b": ModelShape(8.19e9, 36, 8, 128),
    "qwen3-32b": ModelShape(32.8e9, 64, 8, 128),
    "qwen2.5-72b": ModelShape(72.7e9, 80, 8, 128),
}


def dtype_bytes(name: str) -> float:
    """Bytes per value of a dtype name (``bfloat16``, ``fp8``, ...)."""
    try:
        return DTYPE_BYTES[name]
    except KeyError:
        raise SizingError(f"unknown dtype {name!r}; one of {', '.join(DTYPE_BYTES)}") from None


def kv_bytes_per_token(shape: ModelShape, kv_bytes: float, tensor_parallel: int = 1) -> float:
    """Key/value cache bytes one token occupies on one GPU."""
    return 2 * shape.layers * math.ceil(shape.kv_heads / tensor_parallel) * shape.head_dim * kv_bytes


@dataclass(frozen=True)
class GPUPlan:
    """Memory and time of one run on ``gpus`` GPUs (sizes in GiB; ``None`` where an input is missing)."""

    gpus: int
    tensor_parallel: int
    data_parallel: int
    longest_sequence: int
    weights_gib: float
    kv_cache_gib: float
    total_gib: float
    gpu_memory_gib: float | None
    gpu_memory_utilization: float
    fits: bool | None
    #: Longest sequences whose caches fit next to the weights on each replica (vLLM's "concurrency").
    concurrent_sequences: int | None
    #: Per path: hours on one GPU, and wall hours on all of them.
    gpu_hours: dict[str, float | None]
    wall_hours: dict[str, float | None]


def per_gpu_gib(shape: ModelShape, weight_bytes: float, kv_bytes: float, tp: int, sequence: int) -> float:
    """Weights + the cache of one sequence of ``sequence`` tokens, on one GPU, in GiB."""
    return (shape.params * weight_bytes / tp + kv_bytes_per_token(shape, kv_bytes, tp) * sequence) / GIB


def smallest_tensor_parallel(
    shape: ModelShape, weight_bytes: float, kv_bytes: float, gpus: int, sequence: int, budget_gib: float
) -> int:
    """Smallest tensor-parallel size dividing ``gpus`` whose per-GPU share fits ``budget_gib``."""
    for tp in (size for size in range(1, gpus + 1) if gpus % size == 0):
        if per_gpu_gib(shape, weight_bytes, kv_bytes, tp, sequence) <= budget_gib:
            return tp
    weights = shape.params * weight_bytes / gpus / GIB
    raise SizingError(
        f"{shape.params / 1e9:.1f}B parameters and a {sequence:,}-token sequence do not fit {gpus} GPUs of "
        f"{budget_gib:.1f} GiB usable each (weights {weights:.1f} GiB per GPU at the largest tensor-parallel "
        "size); use more or larger GPUs, a smaller dtype, or --budget"
    )


def size_run(
    shape: ModelShape,
    *,
    gpus: int,
    longest_sequence: int,
    gpu_hours: Mapping[str, float | None],
    weight_dtype: str = "bfloat16",
    kv_dtype: str | None = None,
    gpu_memory_gib: float | None = None,
    gpu_memory_utilization: float = DEFAULT_GPU_MEMORY_UTILIZATION,
    tensor_parallel: int | None = None,
) -> GPUPlan:
    """Memory per GPU and wall time of a run (see the module docstring for the formulas)."""
    if gpus < 1:
        raise SizingError(f"--gpus must be at least 1, got {gpus}")
    if not 0 < gpu_memory_utilization <= 1:
        raise SizingError(f"gpu_memory_utilization must be in (0, 1], got {gpu_memory_utilization}")
    weight_bytes, kv_bytes = dtype_bytes(weight_dtype), dtype_bytes(kv_dtype or weight_dtype)
    budget = gpu_memory_gib * gpu_memory_utilization if gpu_memory_gib else None
    if tensor_parallel is None:
        tensor_parallel = (
            smallest_tensor_parallel(shape, weight_bytes, kv_bytes, gpus, longest_sequence, budget)
            if budget is not None
            else 1
        )
    if tensor_parallel < 1 or gpus % tensor_parallel:
        raise SizingError(f"the tensor-parallel size ({tensor_parallel}) must divide --gpus ({gpus})")
    weights = shape.params * weight_bytes / tensor_parallel / GIB
    per_token = kv_bytes_per_token(shape, kv_bytes, tensor_parallel) / GIB
    kv = per_token * longest_sequence
    concurrent = None
    if budget is not None:
        concurrent = max(math.floor((budget - weights) / kv), 0) if kv else None
    return GPUPlan(
        gpus=gpus,
        tensor_parallel=tensor_parallel,
        data_parallel=gpus // tensor_parallel,
        longest_sequence=longest_sequence,
        weights_gib=weights,
        kv_cache_gib=kv,
        total_gib=weights + kv,
        gpu_memory_gib=gpu_memory_gib,
        gpu_memory_utilization=gpu_memory_utilization,
        fits=None if budget is None else weights + kv <= budget,
        concurrent_sequences=concurrent,
        gpu_hours=dict(gpu_hours),
        wall_hours={path: None if hours is None else hours / gpus for path, hours in gpu_hours.items()},
    )


def resolve_shape(
    preset: str | None,
    *,
    params: float | None = None,
    layers: int | None = None,
    kv_heads: int | None = None,
    head_dim: int | None = None,
) -> ModelShape:
    """A preset's shape with any given field overriding it, or a shape from the fields alone."""
    base: dict[str, Any] = {}
    if preset is not None:
        if preset.lower() not in MODEL_SHAPES:
            raise SizingError(f"unknown --model-shape {preset!r}; one of {', '.join(MODEL_SHAPES)}")
        shape = MODEL_SHAPES[preset.lower()]
        base = {"params": shape.params, "layers": shape.layers, "kv_heads": shape.kv_heads}
        base["head_dim"] = shape.head_dim
    given = {"params": params, "layers": layers, "kv_heads": kv_heads, "head_dim": head_dim}
    base.update({key: value for key, value in given.items() if value is not None})
    missing = [key for key in given if key not in base]
    if missing:
        flags = ", ".join("--" + key.replace("_", "-") for key in missing)
        raise SizingError(f"--gpus needs the model's shape: give --model-shape or {flags}")
    return ModelShape(
        params=float(base["params"]),
        layers=int(base["layers"]),
        kv_heads=int(base["kv_heads"]),
        head_dim=int(base["head_dim"]),
    )
