"""OpenCompass summarizer: the standard table plus the paper's Table 1 and Table 2 rows.

Rows and groups name ``[dataset_abbr, metric]`` pairs explicitly (a bare abbr would pick a metric by
set order). Rows whose datasets are not part of the run, or whose metric the run did not report (e.g.
``context_cut`` outside context-only truncation), are dropped, so every cell that is printed belongs to
the run: a ``-`` means a failed task, never a dataset or figure that was not requested.
"""

from __future__ import annotations

import os.path as osp
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import mmengine
from opencompass.summarizers import DefaultSummarizer
from opencompass.utils import dataset_abbr_from_cfg

from longrm_tasks.constants import BEST_OF_N_SIZES, LENGTH_BUCKETS, TASK_FILES
from longrm_tasks.scoring import length_metric, task_metric

TABLE1_COLUMNS: list[tuple[str, str, str]] = [
    *((task, "pairwise", task_metric(task)) for task in TASK_FILES),
    *((f"Rank{n}", "bon", f"rank{n}") for n in BEST_OF_N_SIZES),
    ("Avg.", "avg", ""),
]
TABLE2_COLUMNS: list[tuple[str, str, str]] = [
    *((bucket, "pairwise", length_metric(bucket)) for bucket in LENGTH_BUCKETS),
    ("L-Avg.", "pairwise", "len_avg"),
]


def _abbr(entry: Any) -> str:
    return entry if isinstance(entry, str) else entry[0]


class LongRewardBenchSummarizer(DefaultSummarizer):
    """``DefaultSummarizer`` restricted to the run's datasets, then the paper's tables per model.

    Args beyond ``DefaultSummarizer``'s:
        paper_tables: ``dict(title=..., pairwise=ABBR, bon=ABBR, avg=[ABBR_OR_GROUP, METRIC])`` per
            table; a table is printed when the datasets it names are in the run (Table 2 needs only
            ``pairwise``).
    """

    def __init__(
        self,
        config: Any,
        dataset_abbrs: Sequence[Any] | None = None,
        summary_groups: Sequence[dict[str, Any]] = (),
        prompt_db: Any = None,
        paper_tables: Sequence[dict[str, Any]] = (),
    ) -> None:
        present = {dataset_abbr_from_cfg(dataset) for dataset in config["datasets"]}
        groups = [group for group in summary_groups if all(_abbr(s) in present for s in group["subsets"])]
        known = present | {group["name"] for group in groups}
        rows = None if dataset_abbrs is None else [entry for entry in dataset_abbrs if _abbr(entry) in known]
        super().__init__(config, dataset_abbrs=rows, summary_groups=groups, prompt_db=prompt_db)
        self.paper_tables = [dict(table) for table in paper_tables]
        self.known = known

    def _pick_up_results(self) -> tuple[Any, Any, Any, Any]:
        """Results as the default summarizer reads them; ``micro_average`` groups get their weights
        (the sample count of each subset, from the evaluator's ``longrm.samples``)."""
        raw, parsed, metrics, modes = super()._pick_up_results()
        if self.dataset_abbrs is not None:  # drop rows of metrics the run did not report (context_cut)
            groups = {group["name"] for group in self.summary_groups}
            self.dataset_abbrs = [
                entry
                for entry in self.dataset_abbrs
                if isinstance(entry, str) or entry[0] in groups or entry[1] in metrics.get(entry[0], ())
            ]
        for dataset in self.dataset_cfgs:  # the default summarizer knows only OpenCompass's inferencers
            inferencer = dataset.get("infer_cfg", {}).get("inferencer", {}).get("type", "")
            if str(getattr(inferencer, "__name__", inferencer)).endswith("LongRMRewardInferencer"):
                modes[dataset_abbr_from_cfg(dataset)] = "rm"
        for group in self.summary_groups:
            if not group.get("micro_average"):
                continue
            weights = {}
            for abbr in (_abbr(subset) for subset in group["subsets"]):
                counts = {_sample_count(results.get(abbr)) for results in raw.values()} - {None}
                if len(counts) == 1:
                    weights[abbr] = counts.pop()
            if len(weights) == len(group["subsets"]):
                group["weights"] = weights
            else:
                self.logger.warning(f"{group['name']}: sample counts unknown; its micro average is not shown")
                group["subsets"] = [*group["subsets"], ["longrm-missing-sample-counts", "avg"]]
        return raw, parsed, metrics, modes

    def summarize(self, output_path: str | None = None, time_str: str | None = None) -> None:
        """The standard summary, then the paper tables (printed and written next to it)."""
        time_str = time_str or datetime.now().strftime("%Y%m%d_%H%M%S")
        super().summarize(output_path=output_path, time_str=time_str)
        raw, parsed, metrics, modes = self._pick_up_results()
        _, parsed, _, _ = self._calculate_group_metrics(raw, parsed, metrics, modes)
        text = self.paper_tables_text(parsed)
        if not text:
            return
        print("\n" + text)
        if output_path is None:
            path = osp.join(self.work_dir, "summary", f"paper_tables_{time_str}.md")
        else:
            path = osp.splitext(output_path)[0] + "_paper_tables.md"
        mmengine.mkdir_or_exist(osp.dirname(path))
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        self.logger.info(f"write paper tables to {osp.abspath(path)}")

    def paper_tables_text(self, parsed: dict[str, dict[str, dict[str, float]]]) -> str:
        """Markdown tables, one row per model (values as reported, i.e. ×100 by default)."""
        blocks = []
        for table in self.paper_tables:
            avg_abbr, avg_metric = table["avg"]
            sources = {"pairwise": (table["pairwise"], None), "bon": (table["bon"], None)}
            sources["avg"] = (avg_abbr, avg_metric)
            for name, columns, needs in (
                ("Table 1", TABLE1_COLUMNS, ("pairwise", "bon", "avg")),
                ("Table 2", TABLE2_COLUMNS, ("pairwise",)),
            ):
                if not all(sources[need][0] in self.known for need in needs):
                    continue
                lines = [
                    f"{table['title']}, {name}",
                    "",
                    "| model | " + " | ".join(header for header, _, _ in columns) + " |",
                    "|---|" + "---|" * len(columns),
                ]
                for model in self.model_abbrs:
                    cells = []
                    for _, source, metric in columns:
                        abbr, fixed = sources[source]
                        value = parsed.get(model, {}).get(abbr, {}).get(fixed or metric)
                        cells.append("-" if value is None else f"{value:.1f}")
                    lines.append(f"| {model} | " + " | ".join(cells) + " |")
                blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


def _sample_count(result: Any) -> int | None:
    """Samples behind one dataset's result (``None`` if the result is missing or has no count)."""
    info = result.get("longrm") if isinstance(result, dict) else None
    if isinstance(info, list) and info:
        info = info[0]
    count = info.get("samples") if isinstance(info, dict) else None
    return count if isinstance(count, int) else None
