"""The Long-RewardBench tasks of Inspect AI: ``inspect eval longrm_tasks/<task> --model <provider/model>``.

This is the module the package's ``inspect_ai`` entry point (``longrm_tasks``) names: Inspect imports it
the first time a ``longrm_tasks/...`` name is looked up, and the tasks below register themselves.

| task | rows |
|---|---|
| ``longrewardbench`` | both formats (the paper's AVG.) |
| ``longrewardbench_pairwise``, ``longrewardbench_bon`` | one format |
| ``longrewardbench_sample``, ``..._pairwise_sample``, ``..._bon_sample`` | the bundled sample |
| ``longrewardbench_nocontext``, ``longrewardbench_nocontext_sample`` | control: question only (not parity) |

Every task takes the same parameters (``-T name=value``), the options every harness parses with
:class:`longrm_tasks.options.RunOptions`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from inspect_ai import Task, task

from longrm_tasks.constants import BEST_OF_N, PAIRWISE, TASK_TYPES
from longrm_tasks.options import PARITY_MODE
from longrm_tasks.run import JUDGE, NOCONTEXT

from .task import judge_task

#: Task name → (kind of documents, formats, bundled sample).
TASKS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "longrewardbench": (JUDGE, TASK_TYPES, False),
    "longrewardbench_pairwise": (JUDGE, (PAIRWISE,), False),
    "longrewardbench_bon": (JUDGE, (BEST_OF_N,), False),
    "longrewardbench_sample": (JUDGE, TASK_TYPES, True),
    "longrewardbench_pairwise_sample": (JUDGE, (PAIRWISE,), True),
    "longrewardbench_bon_sample": (JUDGE, (BEST_OF_N,), True),
    "longrewardbench_nocontext": (NOCONTEXT, TASK_TYPES, False),
    "longrewardbench_nocontext_sample": (NOCONTEXT, TASK_TYPES, True),
}


def _define(name: str, kind: str, formats: Sequence[str], sample: bool) -> Callable[..., Task]:
    def longrewardbench_task(
        tokenizer: str | None = None,
        trust_remote_code: bool = False,
        truncation: str = PARITY_MODE,
        max_length: int | None = None,
        context_budget: int | None = None,
        max_gen_toks: int | None = None,
        enable_thinking: bool | None = None,
        chat_template_args: str | None = None,
        data_dir: str | None = None,
        strict: bool | None = None,
        cache_dir: str | None = None,
    ) -> Task:
        """Long-RewardBench (LongRM, arXiv 2510.06915) with the official evaluator's protocol.

        Args:
            tokenizer: The judge's tokenizer (hub name or folder), for parity truncation and length
                checks when the provider has none of its own (every provider but ``hf/``).
            trust_remote_code: Let that tokenizer run code from its folder (off unless true).
            truncation: ``parity`` (spec §6) or ``context`` (cut the middle of long contexts to fit
                ``max_length`` or ``context_budget``; not parity).
            max_length: The judge's context length in tokens (prompts that do not fit stop the run).
            context_budget: Prompt tokens allowed in context-only truncation.
            max_gen_toks: New tokens per judgement (default 2,048, the protocol's).
            enable_thinking: The chat template's thinking switch (default false, as officially).
            chat_template_args: More chat-template arguments, as a JSON object.
            data_dir: A folder with the seven ``<Task>.jsonl`` files (default: the pinned hub revision).
            strict: Integrity problems and empty judge outputs stop the run.
            cache_dir: The preparation cache of context-only truncation (``off`` disables it).
        """
        parameters = {
            "tokenizer": tokenizer,
            "trust_remote_code": trust_remote_code,
            "truncation": truncation,
            "max_length": max_length,
            "context_budget": context_budget,
            "max_gen_toks": max_gen_toks,
            "enable_thinking": enable_thinking,
            "chat_template_args": chat_template_args,
            "data_dir": data_dir,
            "strict": strict,
            "cache_dir": cache_dir,
        }
        return judge_task(name, kind, formats, sample, parameters)

    longrewardbench_task.__name__ = longrewardbench_task.__qualname__ = name
    return task(name=name)(longrewardbench_task)


longrewardbench = _define("longrewardbench", *TASKS["longrewardbench"])
longrewardbench_pairwise = _define("longrewardbench_pairwise", *TASKS["longrewardbench_pairwise"])
longrewardbench_bon = _define("longrewardbench_bon", *TASKS["longrewardbench_bon"])
longrewardbench_sample = _define("longrewardbench_sample", *TASKS["longrewardbench_sample"])
longrewardbench_pairwise_sample = _define(
    "longrewardbench_pairwise_sample", *TASKS["longrewardbench_pairwise_sample"]
)
longrewardbench_bon_sample = _define("longrewardbench_bon_sample", *TASKS["longrewardbench_bon_sample"])
longrewardbench_nocontext = _define("longrewardbench_nocontext", *TASKS["longrewardbench_nocontext"])
longrewardbench_nocontext_sample = _define(
    "longrewardbench_nocontext_sample", *TASKS["longrewardbench_nocontext_sample"]
)
