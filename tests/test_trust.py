"""No code from data: a tokenizer folder whose ``auto_map`` names Python code never runs it unless the
user passes a true ``trust_remote_code``; every boolean option is parsed strictly.

The folder below carries a module that, when imported, writes a marker file: the marker is the proof
that code from the data ran.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from support.tiny_models import build_tokenizer

from longrm_tasks.adapters.lm_eval.task import renderer_for
from longrm_tasks.options import OptionError, RunOptions, parse_bool, strict_mode
from longrm_tasks.truncation.tokenizers import TokenizerLoadError, load_tokenizer, tokenizer_from_options

EVIL_MODULE = """
import os, pathlib
pathlib.Path(os.environ["LONGRM_TEST_MARKER"]).write_text("remote code ran")
from transformers import PreTrainedTokenizerFast


class EvilTokenizer(PreTrainedTokenizerFast):
    pass
"""


@pytest.fixture
def evil_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    folder = tmp_path / "evil-tokenizer"
    build_tokenizer().save_pretrained(folder)
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text("utf-8"))
    config["auto_map"] = {
        "AutoTokenizer": ["evil_tokenization.EvilTokenizer", "evil_tokenization.EvilTokenizer"]
    }
    config_path.write_text(json.dumps(config), "utf-8")
    (folder / "evil_tokenization.py").write_text(EVIL_MODULE, "utf-8")
    marker = tmp_path / "marker"
    monkeypatch.setenv("LONGRM_TEST_MARKER", str(marker))
    monkeypatch.setenv("HF_MODULES_CACHE", str(tmp_path / "modules"))
    return folder, marker


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True), (False, False), (1, True), (0, False), ("true", True), ("False", False),
        ("YES", True), ("no", False), ("1", True), ("0", False), (" true ", True), (None, False),
    ],
)  # fmt: skip
def test_booleans_are_parsed_strictly(value: object, expected: bool) -> None:
    assert parse_bool(value, "flag") is expected


@pytest.mark.parametrize("value", ["maybe", "", "on", "2", 2, -1, 0.0, 1.5, [], {}])
def test_anything_else_is_a_clear_error(value: object) -> None:
    with pytest.raises(OptionError, match="'flag' must be a boolean"):
        parse_bool(value, "flag")


def test_strict_mode_from_the_option_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LONGRM_STRICT", raising=False)
    assert strict_mode({}) is False and strict_mode({"strict": "yes"}) is True
    monkeypatch.setenv("LONGRM_STRICT", "1")
    assert strict_mode({}) is True and strict_mode({"strict": False}) is False
    monkeypatch.setenv("LONGRM_STRICT", "sometimes")
    with pytest.raises(OptionError, match="LONGRM_STRICT"):
        strict_mode({})


@pytest.mark.parametrize("value", ["false", "0", "no", False, None])
def test_false_trust_never_runs_code_from_the_tokenizer_folder(
    evil_folder: tuple[Path, Path], value: object
) -> None:
    folder, marker = evil_folder
    options = RunOptions.from_mapping({"tokenizer": str(folder), "trust_remote_code": value})
    assert options.trust_remote_code is False
    try:  # transformers either refuses the folder or loads its own class from tokenizer.json
        tokenizer = tokenizer_from_options(options)
    except TokenizerLoadError as error:
        assert "cannot load tokenizer" in str(error)
    else:
        assert type(tokenizer).__name__ != "EvilTokenizer"
    assert not marker.exists()


def test_a_true_trust_is_the_only_way_to_run_it(evil_folder: tuple[Path, Path]) -> None:
    folder, marker = evil_folder
    tokenizer = tokenizer_from_options(
        RunOptions.from_mapping({"tokenizer": str(folder), "trust_remote_code": "true"})
    )
    assert type(tokenizer).__name__ == "EvilTokenizer" and marker.read_text() == "remote code ran"


def test_an_unparsable_trust_value_stops_before_loading(evil_folder: tuple[Path, Path]) -> None:
    folder, marker = evil_folder
    with pytest.raises(OptionError, match="trust_remote_code"):
        RunOptions.from_mapping({"tokenizer": str(folder), "trust_remote_code": "False!"})
    with pytest.raises(TypeError, match="must be a bool"):
        load_tokenizer(str(folder), trust_remote_code="false")  # type: ignore[arg-type]
    assert not marker.exists()


def test_lm_eval_api_judges_load_their_tokenizer_without_remote_code(evil_folder: tuple[Path, Path]) -> None:
    """An API judge has no tokenizer of its own: the task loads the one named in --metadata."""
    folder, marker = evil_folder
    options = RunOptions.from_mapping({"tokenizer": str(folder), "trust_remote_code": "false"})
    renderer = renderer_for(None, True, options)
    assert type(renderer.tokenizer).__name__ != "EvilTokenizer" and not marker.exists()


def test_scalar_rm_backend_parses_trust_strictly(evil_folder: tuple[Path, Path]) -> None:
    from longrm_tasks.adapters.lm_eval.reward_model import RewardModelLM

    folder, marker = evil_folder
    with pytest.raises((TokenizerLoadError, OSError, ValueError)):  # a tokenizer folder is no model
        RewardModelLM(pretrained=str(folder), trust_remote_code="false", device="cpu")
    with pytest.raises(OptionError, match="trust_remote_code"):
        RewardModelLM(pretrained=str(folder), trust_remote_code="nope", device="cpu")
    assert not marker.exists()


def test_implicit_reward_backend_parses_trust_strictly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lm-eval's own hf backend passes "no" on as a truthy string; longrm-hf parses it first. The folder
    holds a loadable causal LM whose tokenizer names remote code, so only a true value reaches it."""
    from support.tiny_models import build_reward_model

    from longrm_tasks.adapters.lm_eval.implicit_reward import PrefixSharedHFLM

    folder = build_reward_model(tmp_path / "evil-model", causal=True)
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text("utf-8"))
    config["auto_map"] = {"AutoTokenizer": ["evil_tokenization.EvilTokenizer"] * 2}
    config_path.write_text(json.dumps(config), "utf-8")
    (folder / "evil_tokenization.py").write_text(EVIL_MODULE, "utf-8")
    marker = tmp_path / "marker"
    monkeypatch.setenv("LONGRM_TEST_MARKER", str(marker))
    monkeypatch.setenv("HF_MODULES_CACHE", str(tmp_path / "modules"))
    for value in ("no", "0", "false", False):
        with contextlib.suppress(OSError, ValueError):  # refusing the folder is fine; running its code is not
            PrefixSharedHFLM(pretrained=str(folder), trust_remote_code=value, device="cpu")
        assert not marker.exists(), value
    with pytest.raises(OptionError, match="trust_remote_code"):
        PrefixSharedHFLM(pretrained=str(folder), trust_remote_code="nope", device="cpu")
    assert not marker.exists()
    PrefixSharedHFLM(pretrained=str(folder), trust_remote_code="yes", device="cpu")
    assert marker.exists()  # the folder's code is real: a true value runs it
