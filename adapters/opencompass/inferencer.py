"""OpenCompass inferencers for Long-RewardBench: translation between OpenCompass models and the core.

:class:`LongRMGenInferencer` settles every judge prompt with the core before it reaches the model
(:func:`longrm_tasks.run.settle_judge_docs`): the model's own chat template and tokenizer render it
(real system turn, or the instructions merged into the user turn where the template refuses one;
``enable_thinking=False`` unless the model config sets it), parity truncation (spec §6) or, with
``truncation='context'``, context-only truncation cuts it, and a prompt that does not fit the model's
``max_seq_len`` with ``max_out_len`` new tokens stops the run naming the sample (OpenCompass backends would
cut it silently or fail late). The model is then made to render exactly what was measured: HF and vLLM
chat wrappers get the template arguments, API models the ``chat_template_kwargs`` when the template reads
them. Every prediction records what happened (``longrm``: truncation, tokens, placement, prompt sha256).

Stored prompts are elided in the middle (``store_prompt='elided'``): at 128k tokens per sample, full
prompts would make the predictions files hundreds of megabytes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import os.path as osp
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from opencompass.models.base_api import APITemplateParser
from opencompass.openicl.icl_inferencer.icl_base_inferencer import BaseInferencer, GenInferencerOutputHandler
from opencompass.openicl.icl_inferencer.icl_gen_inferencer import GenInferencer
from opencompass.utils import get_logger
from opencompass.utils.prompt import PromptList

from longrm_tasks.constants import MAX_NEW_TOKENS
from longrm_tasks.errors import install_excepthook
from longrm_tasks.options import RunOptions, parse_bool
from longrm_tasks.rendering import JudgePrompt, Renderer
from longrm_tasks.run import limits_for, settle_audit_docs, settle_judge_docs
from longrm_tasks.truncation import CUT, NOT_CUT
from longrm_tasks.truncation.tokenizers import TokenizerLoadError, chat_tokenizer, tokenizer_from_options

from .datasets import GOLD_COLUMN, SYSTEM_COLUMN, USER_COLUMN, provenance_of

install_excepthook()
logger = get_logger()

#: The meta template that sends OpenCompass ``SYSTEM`` prompts as real system messages.
JUDGE_META_TEMPLATE: dict[str, Any] = {
    "round": [{"role": "HUMAN", "api_role": "HUMAN"}, {"role": "BOT", "api_role": "BOT", "generate": True}],
    "reserved_roles": [{"role": "SYSTEM", "api_role": "SYSTEM"}],
}
SYSTEM_MESSAGE_MODES = ("auto", "model")
#: Characters kept at each end of a stored prompt message when ``store_prompt='elided'``.
STORED_PROMPT_EDGE = 2000
#: How OpenCompass users switch to context-only truncation (named in length errors).
CONTEXT_HINT = "truncation='context' on the dataset's inferencer (infer_cfg.inferencer)"

_SYSTEM_SENTINEL = "\ue000LONGRM-SYSTEM-PROMPT\ue000"
_USER_SENTINEL = "\ue000LONGRM-USER-PROMPT\ue000"


# --------------------------------------------------------------------------------------------
# OpenCompass models, as the core needs them
# --------------------------------------------------------------------------------------------


def _hf_tokenizer(model: Any) -> Any | None:
    return chat_tokenizer(getattr(model, "tokenizer", None))


def _is_chat_model(model: Any) -> bool:
    """API models and the chat wrappers (``*withChatTemplate``, :class:`~.models.HuggingFaceChatJudge`)
    apply a chat template; base-model wrappers take plain text."""
    return bool(getattr(model, "is_api", False)) or "Chat" in type(model).__name__


def model_template_args(model: Any) -> dict[str, Any]:
    """Chat-template arguments the model config sets (``chat_template_kwargs`` of the HF/vLLM wrappers,
    or of an API model's ``extra_body``)."""
    args = getattr(model, "chat_template_kwargs", None)
    if args is None:
        args = (getattr(model, "extra_body", None) or {}).get("chat_template_kwargs")
    return dict(args or {})


def bind_template_args(model: Any, renderer: Renderer) -> None:
    """Make the model render with the arguments the renderer measured with."""
    args = renderer.template_args
    if hasattr(model, "chat_template_kwargs"):  # vLLM chat wrapper (and HuggingFaceChatJudge)
        model.chat_template_kwargs = dict(args)
    tokenizer = _hf_tokenizer(model)
    if tokenizer is not None and not getattr(model, "is_api", False):  # HF chat wrapper renders itself
        render = getattr(tokenizer.apply_chat_template, "__longrm_unbound__", tokenizer.apply_chat_template)
        bound = functools.partial(render, **args)
        bound.__longrm_unbound__ = render  # type: ignore[attr-defined]
        tokenizer.apply_chat_template = bound
    elif getattr(model, "is_api", False) and renderer.thinking_switch():
        model.extra_body = {**(getattr(model, "extra_body", None) or {}), "chat_template_kwargs": dict(args)}


def _has_system(prompt: Any) -> bool:
    return isinstance(prompt, list) and any(
        isinstance(item, dict) and item.get("role") == "SYSTEM" for item in prompt
    )


def _fill(template: Any, prompt: JudgePrompt) -> Any:
    """The dataset's template with the settled messages in place of the placeholders (no ``{column}``
    substitution); merged prompts have no system item."""
    messages = prompt.message_list()
    user = messages[-1]["content"]
    system = messages[0]["content"] if len(messages) == 2 else None
    if isinstance(template, str):
        raise ValueError(
            "Long-RewardBench needs the shipped dataset configs' prompt template (SYSTEM + HUMAN)"
        )
    items = PromptList()
    for item in template:
        if isinstance(item, dict) and "prompt" in item:
            if item["prompt"] == _SYSTEM_SENTINEL and system is None:
                continue
            text = item["prompt"].replace(_SYSTEM_SENTINEL, system or "").replace(_USER_SENTINEL, user)
            item = {**item, "prompt": text}
        items.append(item)
    return items


def _elide(text: str) -> str:
    if len(text) <= 2 * STORED_PROMPT_EDGE + 200:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    cut = len(text) - 2 * STORED_PROMPT_EDGE
    return (
        text[:STORED_PROMPT_EDGE]
        + f"\n...[{cut} characters elided by longrm-tasks; sha256 {digest}]...\n"
        + text[-STORED_PROMPT_EDGE:]
    )


class _ResumableOutput:
    """OpenCompass's resumable output of an inferencer: rows written before an interruption (its
    ``tmp_*.jsonl``) are kept and skipped; the final JSON replaces the temporary file."""

    def __init__(self, inferencer: BaseInferencer, filepath: str | None, filename: str | None) -> None:
        self.out_dir = filepath or inferencer.output_json_filepath
        self.out_name = filename or inferencer.output_json_filename
        self.main = inferencer.is_main_process
        self.handler = GenInferencerOutputHandler()
        self.tmp_name = Path("tmp_" + self.out_name).with_suffix(".jsonl").name
        self.start = len(self.handler.restore_from_jsonl(self.out_dir, self.tmp_name))

    def checkpoint(self) -> None:
        """Write the rows done so far (what a resumed run restores)."""
        if self.main:
            self.handler.write_to_jsonl(self.out_dir, self.tmp_name)

    def finish(self) -> list[str]:
        """Write the final output, drop the temporary file; the predictions in row order."""
        if self.main:
            os.makedirs(self.out_dir, exist_ok=True)
            self.handler.write_to_json(self.out_dir, self.out_name)
            if osp.exists(osp.join(self.out_dir, self.tmp_name)):
                os.remove(osp.join(self.out_dir, self.tmp_name))
        return [result["prediction"] for result in self.handler.results_dict.values()]


class LongRMGenInferencer(GenInferencer):
    """``GenInferencer`` for Long-RewardBench judge prompts (see the module docstring).

    Args beyond ``GenInferencer``'s:
        max_out_len: ``None`` (default) gives the protocol's 2,048 new tokens; an integer overrides it.
        truncation: ``'parity'`` (default, spec §6) or ``'context'`` (cut the middle of long contexts to
            ``max_seq_len - max_out_len`` tokens, or ``context_budget``; not parity).
        max_length, context_budget: override the model's ``max_seq_len`` / give the prompt budget.
        tokenizer_path, trust_remote_code: the tokenizer for truncation and length checks when the model
            has none of its own (API models); remote code only with a true ``trust_remote_code``.
        system_message: ``'auto'`` (default: API models whose meta template has no system role get the
            judge meta template) or ``'model'`` (always the model's own meta template).
        store_prompt: ``'elided'`` (default) or ``'full'``.
        cache_dir: the preparation cache for context-only truncation (``'off'`` disables it).
    """

    def __init__(
        self,
        model: Any,
        max_out_len: int | None = None,
        truncation: str = "parity",
        max_length: int | None = None,
        context_budget: int | None = None,
        tokenizer_path: str | None = None,
        trust_remote_code: bool = False,
        system_message: str = "auto",
        store_prompt: str = "elided",
        cache_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        max_out_len = MAX_NEW_TOKENS if max_out_len is None else max_out_len
        super().__init__(model=model, max_out_len=max_out_len, **kwargs)
        if system_message not in SYSTEM_MESSAGE_MODES:
            raise ValueError(f"system_message must be one of {SYSTEM_MESSAGE_MODES}, got {system_message!r}")
        if store_prompt not in ("elided", "full"):
            raise ValueError(f"store_prompt must be 'elided' or 'full', got {store_prompt!r}")
        self.options = RunOptions.from_mapping(
            {
                "truncation": truncation,
                "max_length": max_length,
                "context_budget": context_budget,
                "max_gen_toks": max_out_len,
                "tokenizer": tokenizer_path,
                "trust_remote_code": parse_bool(trust_remote_code, "trust_remote_code"),
                "cache_dir": cache_dir,
            }
        )
        self.system_message, self.store_prompt = system_message, store_prompt
        self._judge_parser = APITemplateParser(JUDGE_META_TEMPLATE)
        self._use_judge_parser = False
        self.renderer = self._renderer()
        bind_template_args(model, self.renderer)

    def _renderer(self) -> Renderer:
        tokenizer = _hf_tokenizer(self.model)
        if tokenizer is None and self.options.tokenizer:
            try:
                tokenizer = tokenizer_from_options(self.options, purpose="parity truncation")
            except TokenizerLoadError as error:
                if self.options.truncation == "context":
                    raise
                logger.warning(f"Long-RewardBench: {error}; parity truncation not applied")
        args = model_template_args(self.model)
        return Renderer(tokenizer, args, chat=_is_chat_model(self.model))

    # -- the run ---------------------------------------------------------------------------------
    def inference(
        self,
        retriever: Any,
        ice_template: Any = None,
        prompt_template: Any = None,
        output_json_filepath: str | None = None,
        output_json_filename: str | None = None,
    ) -> list[str]:
        """Generate one judgement per test row (every variant of an audit row), resumable."""
        if prompt_template is None:
            raise ValueError("LongRMGenInferencer needs the dataset's prompt_template")
        output = _ResumableOutput(self, output_json_filepath, output_json_filename)
        handler, start = output.handler, output.start
        rows = retriever.test_ds
        docs = [dict(row) for row in rows]
        template = prompt_template.generate_item(
            {SYSTEM_COLUMN: _SYSTEM_SENTINEL, USER_COLUMN: _USER_SENTINEL}
        )
        self._check_system_turn(template)
        audit = bool(docs) and "orders" in docs[0]
        settle = settle_audit_docs if audit else settle_judge_docs
        limits = limits_for(
            self.options,
            getattr(self.model, "max_seq_len", None),
            self.renderer.tokenizer,
            length_option="max_seq_len",
            context_hint=CONTEXT_HINT,
        )
        info = provenance_of(rows)
        parts = (
            {"dataset": hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()}
            if info
            else None
        )
        settled, provenance = settle(
            docs,
            self.renderer,
            self.options,
            limits=limits,
            indices=range(start, len(docs)),
            cache_parts=parts,
        )
        batch_size = max(int(self.batch_size or 1), 1)
        for first in range(start, len(docs), batch_size):
            indices = range(first, min(first + batch_size, len(docs)))
            prompts = {index: self.prompts_of(settled[index], audit) for index in indices}
            inputs = [self.model_input(template, prompt) for index in indices for prompt in prompts[index]]
            outputs = self.model.generate(inputs, max_out_len=self.max_out_len, **self._generate_kwargs())
            if len(outputs) != len(inputs):
                raise RuntimeError(f"the model returned {len(outputs)} outputs for {len(inputs)} prompts")
            position = 0
            for index in indices:
                count = len(prompts[index])
                texts, stored = outputs[position : position + count], inputs[position : position + count]
                position += count
                prediction = json.dumps(texts) if audit else texts[0]
                handler.save_results(
                    self._stored(stored if audit else stored[0]),
                    prediction,
                    index,
                    gold=rows[index][GOLD_COLUMN],
                )
                handler.results_dict[str(index)].update(
                    uid=settled[index]["uid"], longrm=self.record(settled[index], provenance)
                )
            output.checkpoint()
        return output.finish()

    def _generate_kwargs(self) -> dict[str, Any]:
        import inspect

        parameters = inspect.signature(self.model.generate).parameters
        extra: dict[str, Any] = {}
        if "stopping_criteria" in parameters:
            extra["stopping_criteria"] = self.stopping_criteria
        if "min_out_len" in parameters:
            extra["min_out_len"] = self.min_out_len
        return extra

    # -- one sample ------------------------------------------------------------------------------
    def _check_system_turn(self, template: Any) -> None:
        """A model whose meta template cannot carry a system turn gets merged instructions, so that what
        is measured is what is sent (OpenCompass would merge them itself, differently)."""
        probe = JudgePrompt(
            ({"role": "system", "content": "s"}, {"role": "user", "content": "u"}), None, "system"
        )
        if not self.renderer.chat:
            return
        parsed = self.model.parse_template(_fill(template, probe), mode="gen")
        if _has_system(parsed):
            return
        parser = getattr(self.model, "template_parser", None)
        if self.system_message == "auto" and isinstance(parser, APITemplateParser):
            self._use_judge_parser = True
            return
        logger.warning(
            "Long-RewardBench: the model's meta_template sends no system message: the judge instructions "
            "are merged into the user turn"
        )
        self.renderer = Renderer(self.renderer.tokenizer, self.renderer.template_args, system_turn=False)

    def prompts_of(self, doc: Mapping[str, Any], audit: bool) -> list[JudgePrompt]:
        """The settled prompt of a row (one per presentation variant of an audit row)."""
        if not audit:
            return [self.renderer.render(doc[SYSTEM_COLUMN], doc[USER_COLUMN])]
        from longrm_tasks.audit import variant_user_prompt

        return [
            self.renderer.render(doc[SYSTEM_COLUMN], variant_user_prompt(doc, variant))
            for variant in range(len(doc["orders"]))
        ]

    def model_input(self, template: Any, prompt: JudgePrompt) -> Any:
        """The model input for a settled prompt: the plain text for a base model, else the messages
        through the model's (or the judge's) meta template."""
        if not self.renderer.chat:
            return prompt.text
        filled = _fill(template, prompt)
        if self._use_judge_parser:
            return self._judge_parser.parse_template(filled, mode="gen")
        return self.model.parse_template(filled, mode="gen")

    def record(self, doc: Mapping[str, Any], provenance: Mapping[str, Any]) -> dict[str, Any]:
        """What a prediction records about its prompt (the evaluator scores with it)."""
        keys = ("truncation", "prompt_tokens", "system_placement", "prompt_sha256", "context_cut")
        record = {key: doc.get(key) for key in keys}
        record["rendering"] = provenance.get("rendering")
        record["parity_truncation"] = provenance.get("parity_truncation")
        record["truncation_mode"] = provenance.get("truncation_mode", "parity")
        return record

    def _stored(self, prompt: Any) -> Any:
        """The prompt as stored in the predictions file."""
        if self.store_prompt == "full":
            return prompt
        if isinstance(prompt, str):
            return _elide(prompt)
        if isinstance(prompt, list) and prompt and isinstance(prompt[0], list):
            return [self._stored(item) for item in prompt]
        return [
            {**item, "prompt": _elide(item["prompt"])}
            if isinstance(item, dict) and "prompt" in item
            else item
            for item in prompt
        ]


class LongRMRewardInferencer(BaseInferencer):
    """Scores every presented response of each row with a scalar reward model (spec §5).

    Works with :class:`~.models.LongRMRewardModel` (``model.rewards(prompt_template, slots)``). The
    prediction of a row is its rewards as JSON (slot order); ``longrm.truncation`` says whether a sequence
    was parity-cut (spec §6). Resumable like ``GenInferencer``.
    """

    def inference(
        self,
        retriever: Any,
        ice_template: Any = None,
        prompt_template: Any = None,
        output_json_filepath: str | None = None,
        output_json_filename: str | None = None,
    ) -> list[str]:
        """One reward per presented response, per test row."""
        if not callable(getattr(self.model, "rewards", None)):
            raise TypeError(
                f"{type(self.model).__name__} is not a scalar reward model: the Long-RewardBench RM datasets "
                "need longrm_tasks.adapters.opencompass.models.LongRMRewardModel"
            )
        output = _ResumableOutput(self, output_json_filepath, output_json_filename)
        handler, start = output.handler, output.start
        rows = retriever.test_ds
        cut_sequences = 0
        for index in range(start, len(rows)):
            row = rows[index]
            rewards, cut, lengths = self.model.rewards(row["prompt_template"], row["slots"])
            cut_sequences += sum(cut)
            handler.save_results(f"{len(lengths)} sequences, {lengths} tokens", json.dumps(rewards), index)
            handler.results_dict[str(index)].update(
                gold=row[GOLD_COLUMN],
                uid=row["uid"],
                rewards=rewards,
                longrm={"truncation": CUT if any(cut) else NOT_CUT, "sequence_tokens": lengths},
            )
            output.checkpoint()
        if cut_sequences:
            logger.info(f"Long-RewardBench RM: {cut_sequences} sequences were parity-cut (spec §6)")
        return output.finish()
