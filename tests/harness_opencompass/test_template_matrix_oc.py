"""Template conformance matrix, OpenCompass side: five judge chat-template behaviours × the HF chat wrapper
(OpenCompass's own ``HuggingFacewithChatTemplate``, which renders the prompt itself) and an API model
(``OpenAISDK`` to a scripted server on 127.0.0.1 that renders the messages it receives with the same
template, as vLLM or SGLang would).

Every case asserts the exact prompt text the model received (written out per template in
``support.chat_templates``, independently of the package), the placement recorded per prediction, and
that the prompt sent is the prompt measured (its sha256 is the one recorded).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opencompass.models")

from support.chat_templates import PLACEMENT, TEMPLATES, expected_messages, expected_prompt
from support.scripted_judge import ScriptedJudge
from support.tiny_models import build_tiny_llama

from longrm_tasks.adapters.opencompass.datasets import READER_CFG, LongRewardBenchDataset
from longrm_tasks.adapters.opencompass.inferencer import JUDGE_META_TEMPLATE, LongRMGenInferencer

ROWS = 3
TEMPLATE = {
    "begin": [{"role": "SYSTEM", "fallback_role": "HUMAN", "prompt": "{system_prompt}"}],
    "round": [{"role": "HUMAN", "prompt": "{user_prompt}"}],
}


@pytest.fixture(scope="module")
def judges(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny local judge model per template behaviour (same weights, its own tokenizer template)."""
    from transformers import AutoTokenizer

    base = tmp_path_factory.mktemp("oc-matrix")
    model = build_tiny_llama(base / "model")
    folders = {}
    for name, template in TEMPLATES.items():
        folder = base / name
        folder.mkdir()
        for file in model.iterdir():
            (folder / file.name).write_bytes(file.read_bytes())
        tokenizer = AutoTokenizer.from_pretrained(folder)
        tokenizer.chat_template = template
        tokenizer.save_pretrained(folder)
        folders[name] = folder
    return folders


def _dataset() -> Any:
    dataset = LongRewardBenchDataset(reader_cfg=READER_CFG, abbr="lrb", sample=True)
    dataset.reader.dataset["test"] = dataset.test.select(range(ROWS))
    return dataset


def _run(model: Any, out: Path) -> dict[str, Any]:
    from opencompass.openicl.icl_prompt_template import PromptTemplate
    from opencompass.openicl.icl_retriever import ZeroRetriever

    inferencer = LongRMGenInferencer(model=model, max_out_len=4, batch_size=1, output_json_filepath=str(out))
    inferencer.inference(
        ZeroRetriever(_dataset()),
        prompt_template=PromptTemplate(template=TEMPLATE),
        output_json_filepath=str(out),
        output_json_filename="predictions.json",
    )
    return json.loads((out / "predictions.json").read_text("utf-8"))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_hf_chat_wrapper_receives_the_prompt_the_rule_prescribes(
    judges: dict[str, Path], tmp_path: Path, name: str
) -> None:
    from opencompass.models import HuggingFacewithChatTemplate

    model = HuggingFacewithChatTemplate(path=str(judges[name]), max_seq_len=8192)
    received: list[str] = []
    encode = model.tokenizer.batch_encode_plus

    def recording(texts: list[str], **kwargs: Any) -> Any:
        received.extend(texts)
        return encode(texts, **kwargs)

    model.tokenizer.batch_encode_plus = recording
    predictions = _run(model, tmp_path)
    docs = list(_dataset().test)
    assert len(received) == len(predictions) == ROWS
    for index, doc in enumerate(docs):
        expected = expected_prompt(name, model.tokenizer, doc["system_prompt"], doc["user_prompt"])
        record = predictions[str(index)]["longrm"]
        assert received[index] == expected  # what the model tokenizes ...
        assert record["prompt_sha256"] == _sha(expected)  # ... is what was measured
        assert record["system_placement"] == PLACEMENT[name]


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_api_model_sends_messages_the_server_renders_as_measured(
    judges: dict[str, Path], tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opencompass.models import OpenAISDK
    from transformers import AutoTokenizer

    monkeypatch.setenv("OPENAI_API_KEY", "dummy-key")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    tokenizer = AutoTokenizer.from_pretrained(judges[name])
    judge = ScriptedJudge(lambda slots, messages: "[[A]]" if len(slots) == 2 else "[[A>B]]")
    with judge as base_url:
        model = OpenAISDK(
            path="judge",
            key="dummy-key",
            openai_api_base=base_url,
            tokenizer_path=str(judges[name]),
            meta_template=JUDGE_META_TEMPLATE,
            temperature=0,
            max_seq_len=32_768,
            retry=1,
        )
        predictions = _run(model, tmp_path)
    assert len(judge.requests) == ROWS
    rendered = {}
    for request in judge.requests:
        text = tokenizer.apply_chat_template(
            request.body["messages"],
            tokenize=False,
            add_generation_prompt=True,
            **request.body.get("chat_template_kwargs", {}),
        )
        rendered[_sha(text)] = (text, request.body)
    for index, doc in enumerate(_dataset().test):
        expected = expected_prompt(name, tokenizer, doc["system_prompt"], doc["user_prompt"])
        record = predictions[str(index)]["longrm"]
        assert record["prompt_sha256"] == _sha(expected) and record["system_placement"] == PLACEMENT[name]
        text, body = rendered[_sha(expected)]
        assert text == expected
        assert body["messages"] == expected_messages(name, doc["system_prompt"], doc["user_prompt"])
        assert ("chat_template_kwargs" in body) is (name == "thinking")
