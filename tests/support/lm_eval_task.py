"""The lm-eval side of the cross-harness parity tests: lm-eval's own task objects score the outputs.

The tasks are built by lm-eval's ``TaskManager`` from the shipped YAMLs, and scored with their public
``process_results`` and ``aggregation()``, so this follows whatever the lm-eval tasks do.
"""

from __future__ import annotations

from typing import Any


class ChatLM:
    """The parts of lm-eval's local ``hf`` model that a task sees when lm-eval builds requests with
    ``--apply_chat_template`` (its tokenizer, chat-template arguments and context length), without a
    model behind them."""

    def __init__(self, tokenizer: Any, max_length: int = 1_000_000, **chat_template_args: Any) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.chat_template_args = chat_template_args
        self.enable_thinking = chat_template_args.get("enable_thinking")

    def apply_chat_template(
        self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True
    ) -> str:
        return self.tokenizer.apply_chat_template(
            chat_history,
            tokenize=False,
            add_generation_prompt=add_generation_prompt,
            **self.chat_template_args,
        )


SAMPLE_TASKS = {
    ("PairWise", "BestOfN"): "longrewardbench_sample",
    ("PairWise",): "longrewardbench_pairwise_sample",
    ("BestOfN",): "longrewardbench_bon_sample",
}


def lm_eval_task(formats: list[str], suffix: str = "") -> Any:
    """The lm-eval task over the bundled sample for ``formats`` (``suffix="_rm"``: the scalar-RM task)."""
    from lm_eval.tasks import TaskManager

    from longrm_tasks import task_yaml_dir

    name = SAMPLE_TASKS[tuple(formats)] + suffix
    manager = TaskManager(include_path=str(task_yaml_dir()), include_defaults=False)
    return manager.load([name])["tasks"][name]


def lm_eval_rm_figures(rewards: dict[str, list[float]]) -> tuple[list[str], dict[str, float]]:
    """Metric names and figures of the lm-eval scalar-RM sample task, given each row's slot rewards."""
    task = lm_eval_task(["PairWise", "BestOfN"], "_rm")
    names = [entry["metric"] for entry in task.config.metric_list]
    per_doc = [
        task.process_results(doc, [(reward, False) for reward in rewards[doc["uid"]]])
        for doc in task.eval_docs
    ]
    aggregations = task.aggregation()
    return names, {name: aggregations[name]([values[name] for values in per_doc]) for name in names}


def lm_eval_figures(
    formats: list[str], replies: dict[str, str]
) -> tuple[list[str], dict[str, float], set[str]]:
    """Metric names (in the task's order), figures of the lm-eval task for these judge replies, and the
    truncation statuses of its documents."""
    task = lm_eval_task(formats)
    docs = list(task.eval_docs)
    names = [entry["metric"] for entry in task.config.metric_list]
    per_doc = [task.process_results(doc, [replies[doc["uid"]]]) for doc in docs]
    aggregations = task.aggregation()
    figures = {name: aggregations[name]([values[name] for values in per_doc]) for name in names}
    return names, figures, {doc["truncation"] for doc in docs}
