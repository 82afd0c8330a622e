"""Where a run's numbers came from, as its harness recorded it (what a report must say)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: model_args keys that name the judge, most specific first.
_MODEL_KEYS = ("pretrained", "model", "model_name", "path")
#: model_args keys never copied into a report (credentials, machine-specific endpoints).
_SECRET_WORDS = {"key", "apikey", "token", "secret", "password", "auth", "authorization", "credentials"}


def model_name(results: Mapping[str, Any]) -> str:
    """The judge's name as lm-eval recorded it."""
    args = (results.get("config") or {}).get("model_args") or {}
    if isinstance(args, Mapping):
        for key in _MODEL_KEYS:
            if args.get(key):
                return str(args[key])
    return str(results.get("model_name") or (results.get("config") or {}).get("model") or "unknown")


def public_model_args(args: Any) -> dict[str, Any]:
    """model_args without anything that looks like a credential."""
    if not isinstance(args, Mapping):
        return {"model_args": str(args)} if args else {}
    return {
        str(key): value
        for key, value in args.items()
        if not _SECRET_WORDS & set(re.split(r"[_\-.]", str(key).lower()))
    }


def lm_eval_provenance(results: Mapping[str, Any], task: str) -> dict[str, Any]:
    """Model, backend, prompt set, data revision/checksums, seeds and versions of one lm-eval task."""
    config = results.get("config") or {}
    task_config = (results.get("configs") or {}).get(task) or {}
    longrm = (task_config.get("metadata") or {}).get("longrm") or {}
    data = longrm.get("data") or {}
    return {
        "harness": "lm-eval",
        "task": task,
        "model": model_name(results),
        "backend": config.get("model"),
        "model_args": public_model_args(config.get("model_args")),
        "chat_template_sha": results.get("chat_template_sha"),
        "system_instruction": results.get("system_instruction"),
        "generation_kwargs": task_config.get("generation_kwargs"),
        "limit": config.get("limit"),
        "prompt_set": longrm.get("prompt_set"),
        "prompt_set_sha256": longrm.get("prompt_set_sha256"),
        "order_seed": longrm.get("order_seed"),
        "formats": longrm.get("formats"),
        "dataset": data.get("dataset"),
        "data_source": data.get("source"),
        "data_revision": data.get("revision"),
        "pinned_hub_revision": longrm.get("pinned_hub_revision"),
        "data_files_sha256": data.get("files_sha256"),
        "data_rows": data.get("rows"),
        "parity_truncation": longrm.get("parity_truncation"),
        "truncation_tokenizer": longrm.get("truncation_tokenizer"),
        "versions": {
            "longrm_tasks": longrm.get("package_version"),
            "lm_eval": results.get("lm_eval_version"),
            "transformers": results.get("transformers_version"),
        },
        "seeds": {
            key: config.get(key) for key in ("random_seed", "numpy_seed", "torch_seed") if key in config
        },
        "git_hash": results.get("git_hash"),
        "date": results.get("date"),
    }


def summary_lines(provenance: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The provenance fields a reader needs first, as (label, value) pairs."""
    versions = provenance.get("versions") or {}
    sha = provenance.get("data_files_sha256") or {}
    rows = provenance.get("data_rows") or {}
    return [
        ("model", str(provenance.get("model"))),
        ("harness / backend", f"{provenance.get('harness')} / {provenance.get('backend')}"),
        (
            "prompt set",
            f"{provenance.get('prompt_set')} (sha256 {str(provenance.get('prompt_set_sha256'))[:12]})",
        ),
        ("order seed", str(provenance.get("order_seed"))),
        (
            "data",
            f"{provenance.get('dataset')} from {provenance.get('data_source')}, revision "
            f"{provenance.get('data_revision') or provenance.get('pinned_hub_revision')}, "
            f"{sum(rows.values()) if rows else '?'} rows",
        ),
        ("data sha256", ", ".join(f"{name} {digest[:12]}" for name, digest in sha.items()) or "—"),
        ("parity truncation", str(provenance.get("parity_truncation"))),
        ("versions", ", ".join(f"{name} {version}" for name, version in versions.items() if version) or "—"),
    ]
