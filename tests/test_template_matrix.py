"""Template conformance matrix, lm-eval side: five judge chat-template behaviours × the ``hf``,
``local-completions`` and ``local-chat-completions`` backends.

Every case asserts the exact prompt text the backend received (written out per template in
``support.chat_templates``, independently of the package), where the instructions are, the recorded
placement, and that the prompt sent is the prompt measured (its sha256 is the one the document
records). A chat server receives messages; it renders them with the same template, as vLLM or SGLang
would. (The OpenCompass half of the matrix runs in the OpenCompass venv: tests/harness_opencompass.)
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")

from support.chat_templates import (
    PLACEMENT,
    TEMPLATES,
    expected_messages,
    expected_prompt,
    save_with_templates,
)
from support.scripted_judge import ScriptedJudge
from support.tiny_models import build_tiny_llama

pytestmark = pytest.mark.slow

TASK = "longrewardbench_sample"
LIMIT = 3
BACKENDS = ("hf", "local-completions", "local-chat-completions")


@pytest.fixture(scope="module")
def judges(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny local judge model, and next to it one tokenizer folder per template behaviour."""
    base = tmp_path_factory.mktemp("matrix")
    model = build_tiny_llama(base / "model")
    return {"model": model, **save_with_templates(model, base)}


def _evaluate(backend: str, model_args: dict[str, Any], tmp: Path) -> dict[str, Any]:
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    from longrm_tasks import task_yaml_dir

    manager = TaskManager(include_path=str(task_yaml_dir()), include_defaults=False, metadata=model_args)
    args = ",".join(f"{key}={value}" for key, value in model_args.items())
    return simple_evaluate(
        model=backend,
        model_args=args,
        tasks=[TASK],
        task_manager=manager,
        limit=LIMIT,
        apply_chat_template=True,
        log_samples=True,
        gen_kwargs="max_gen_toks=4",
        batch_size=1,
        device="cpu",
    )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _reply(slots: list[str], messages: list[dict[str, Any]]) -> str:
    return "Assistant A is better. [[A]]" if len(slots) == 2 else "[Analysis]\nok\n[Ranking]\n[[A>B]]"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_backend_receives_the_prompt_the_rule_prescribes(
    judges: dict[str, Path], tmp_path: Path, backend: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import AutoTokenizer

    monkeypatch.setenv("LONGRM_CACHE_DIR", "off")
    tokenizer = AutoTokenizer.from_pretrained(judges[name])
    server = ScriptedJudge(_reply)
    if backend == "hf":
        results = _evaluate(backend, {"pretrained": judges["model"], "tokenizer": judges[name]}, tmp_path)
    else:
        path = "chat/completions" if backend == "local-chat-completions" else "completions"
        with server as base_url:
            results = _evaluate(
                backend,
                {
                    "model": "judge",
                    "base_url": f"{base_url}/{path}",
                    "tokenizer": judges[name],
                    "tokenizer_backend": "huggingface",
                    "tokenized_requests": False,
                    "num_concurrent": 1,
                    "max_retries": 1,
                },
                tmp_path,
            )
    samples = results["samples"][TASK]
    assert len(samples) == LIMIT
    provenance = results["configs"][TASK]["metadata"]["longrm"]
    assert provenance["system_placement"] == {PLACEMENT[name]: LIMIT}
    assert provenance["parity_truncation"] == "applied"
    received = {}
    if backend == "local-completions":
        received = {_sha(request.body["prompt"]): request.body["prompt"] for request in server.requests}
    if backend == "local-chat-completions":
        for request in server.requests:
            rendered = tokenizer.apply_chat_template(
                request.body["messages"],
                tokenize=False,
                add_generation_prompt=True,
                **request.body.get("chat_template_kwargs", {}),
            )
            received[_sha(rendered)] = (rendered, request.body)
        assert len(server.requests) == LIMIT
    for sample in samples:
        doc = sample["doc"]
        expected = expected_prompt(name, tokenizer, doc["system_prompt"], doc["user_prompt"])
        assert doc["system_placement"] == PLACEMENT[name]
        assert doc["prompt_sha256"] == _sha(expected)  # measured ...
        if backend == "hf":
            assert sample["arguments"][0][0] == expected  # ... is what the model is given
        elif backend == "local-completions":
            assert received[_sha(expected)] == expected
        else:
            rendered, body = received[_sha(expected)]
            assert rendered == expected
            assert body["messages"] == expected_messages(name, doc["system_prompt"], doc["user_prompt"])
            assert ("chat_template_kwargs" in body) is (name == "thinking")
        instructions = expected.index(doc["system_prompt"])
        assert instructions < expected.index(doc["user_prompt"].strip()[:40])


def test_matrix_covers_every_behaviour() -> None:
    assert set(PLACEMENT.values()) == {"system", "merged", "folded"}
    assert json.dumps(sorted(TEMPLATES)) == json.dumps(sorted(PLACEMENT))
    assert shutil.which("lm_eval") is not None
