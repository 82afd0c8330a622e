"""Inspect's model, as the core needs it: the tokenizer that measures prompts, the chat-template arguments
the prompts are rendered with, and the generation budget.

Every Inspect provider takes chat messages. A provider that renders the chat template itself with a local
tokenizer (``hf/``) lends the core that tokenizer, and is made to render with the arguments the core
measured with (``enable_thinking``) and to decode greedily. Every other provider (an OpenAI-compatible
server, ``vllm/``, API models) renders on the server: the tokenizer then comes from the ``tokenizer`` task
parameter, loaded by the core's one loader, and the template arguments travel in the request body
(``chat_template_kwargs``) when the known template reads them, as lm-eval sends them.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from inspect_ai.model import GenerateConfig, Model, get_model

from longrm_tasks.constants import TEMPERATURE
from longrm_tasks.options import CONTEXT_MODE, RunOptions
from longrm_tasks.rendering import Renderer
from longrm_tasks.truncation.tokenizers import TokenizerLoadError, chat_tokenizer, tokenizer_from_options

log = logging.getLogger("longrm_tasks")


def evaluated_model() -> Model | None:
    """The model Inspect is evaluating (known while it constructs the task), or ``None``."""
    try:
        return get_model()
    except ValueError:  # a task built outside an eval, with no model named anywhere
        return None


def command_line_config() -> GenerateConfig:
    """The generation settings given on Inspect's command line (they override the task's)."""
    try:
        from inspect_ai.model._generate_config import active_generate_config
    except ImportError:  # a later Inspect moved it: the task's own settings stand
        return GenerateConfig()
    return active_generate_config()


@dataclass
class InspectJudge:
    """The judge as the core sees it: its renderer and the options settled with its generation budget."""

    model: Model | None
    renderer: Renderer
    options: RunOptions
    #: Whether the provider renders the chat template itself (else a server does).
    renders_locally: bool

    def generate_config(self) -> GenerateConfig:
        """Spec §3: greedy, the options' new-token budget, no stop strings; a server whose known template
        has a thinking switch gets the template arguments in the request body."""
        extra_body = None
        if not self.renders_locally and self.renderer.thinking_switch():
            extra_body = {"chat_template_kwargs": dict(self.renderer.template_args)}
        return GenerateConfig(
            temperature=TEMPERATURE, max_tokens=self.options.new_tokens, stop_seqs=None, extra_body=extra_body
        )


def _tokenizer(api: Any, options: RunOptions) -> tuple[Any, bool]:
    local = chat_tokenizer(getattr(api, "tokenizer", None))
    if local is not None:
        return local, True
    try:
        return tokenizer_from_options(options, purpose="parity truncation"), False
    except TokenizerLoadError as error:
        if options.truncation == CONTEXT_MODE:
            raise
        log.warning("%s; parity truncation not applied", error)
        return None, False


def _bind_local_provider(model: Model, renderer: Renderer) -> None:
    """A provider that renders prompts itself renders what was measured, and decodes greedily unless the
    user asked otherwise (Inspect's ``hf/`` samples by default; transformers refuses temperature 0 then)."""
    api = model.api
    if hasattr(api, "enable_thinking") and renderer.thinking_switch():
        api.enable_thinking = renderer.template_args.get("enable_thinking")
    if getattr(api, "do_sample", None) is True:
        if "do_sample" in model.model_args:
            log.warning("Long-RewardBench: -M do_sample=true samples the judge's output (not parity)")
        else:
            api.do_sample = False


def inspect_judge(options: RunOptions, model: Model | None = None) -> InspectJudge:
    """The core's view of ``model`` (default: the model being evaluated) for a run with ``options``."""
    model = model if model is not None else evaluated_model()
    api = getattr(model, "api", None)
    tokenizer, local = _tokenizer(api, options)
    args = dict(options.chat_template_args)
    thinking = options.enable_thinking
    if local and getattr(api, "enable_thinking", None) is not None:  # -M enable_thinking=... on hf/
        thinking = api.enable_thinking
    if thinking is not None:
        args["enable_thinking"] = thinking
    renderer = Renderer(tokenizer, args, chat=True)
    if local and model is not None:
        _bind_local_provider(model, renderer)
    config = command_line_config()
    if config.max_tokens is not None:  # --max-tokens: the prompt budget must leave room for it
        options = dataclasses.replace(options, max_gen_toks=config.max_tokens)
    if config.system_message:
        log.warning(
            "Long-RewardBench: --system-message adds a system message before the judge's instructions "
            "(not parity)"
        )
    return InspectJudge(model, renderer, options, local)
