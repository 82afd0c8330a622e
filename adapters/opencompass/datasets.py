"""OpenCompass datasets: every Long-RewardBench row as presented, prepared by the core (``longrm_tasks.run``).

``load()`` returns the core's documents (for judges: the full system and user messages, so no context ever
goes through OpenCompass's ``{column}`` substitution), in the official run order (spec §2), with the gold
rank of each presented slot (``order``). The prompt each model finally receives is settled by
:class:`~.inferencer.LongRMGenInferencer`, which knows the model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from datasets import Dataset, DatasetInfo
from opencompass.datasets.base import BaseDataset

from longrm_tasks.constants import TASK_TYPES
from longrm_tasks.errors import install_excepthook
from longrm_tasks.options import parse_bool
from longrm_tasks.run import AUDIT, JUDGE, KINDS, NOCONTEXT, REWARD, prepare_run

install_excepthook()

SYSTEM_COLUMN = "system_prompt"
USER_COLUMN = "user_prompt"
#: Reference column: the row's identity and presentation as JSON (``uid``, ``task_file``, ``row_index``,
#: ``row_id``, ``tasktype``, ``subtype``, ``length_bucket``, ``order``, for audits ``orders``), so that a
#: predictions file alone says what each prediction is judged against.
GOLD_COLUMN = "gold"
GOLD_FIELDS = ("uid", "task_file", "row_index", "row_id", "tasktype", "subtype", "length_bucket", "order")
#: ``reader_cfg`` of the judge datasets (the inferencer reads the documents' own columns).
READER_CFG: dict[str, Any] = {"input_columns": [SYSTEM_COLUMN, USER_COLUMN], "output_column": GOLD_COLUMN}
#: ``reader_cfg`` of the scalar-RM datasets.
RM_READER_CFG: dict[str, Any] = {"input_columns": ["prompt_template", "slots"], "output_column": GOLD_COLUMN}


def provenance_of(dataset: Dataset) -> dict[str, Any]:
    """What the dataset recorded about its source (empty if unknown)."""
    try:
        return json.loads(dataset.info.description or "{}")
    except (AttributeError, ValueError):
        return {}


def load_documents(
    kind: str, formats: Sequence[str], sample: Any, data_dir: str | None, strict: Any, partial_data: Any
) -> Dataset:
    """The core's documents of ``kind`` as a ``datasets.Dataset``, provenance in its description."""
    prepared = prepare_run(
        kind,
        {"data_dir": data_dir, "strict": strict, "partial_data": partial_data},
        formats=formats,
        sample=parse_bool(sample, "sample"),
    )
    rows = []
    for doc in prepared.docs:
        gold = {field: doc[field] for field in GOLD_FIELDS}
        if "orders" in doc:
            gold["orders"] = doc["orders"]
        rows.append({**doc, GOLD_COLUMN: json.dumps(gold)})
    description = json.dumps({**prepared.provenance, "kind": kind}, sort_keys=True)
    return Dataset.from_list(rows, info=DatasetInfo(description=description))


class LongRewardBenchDataset(BaseDataset):
    """Long-RewardBench for generative judges (one row per presented sample).

    ``kind``: ``judge`` (the benchmark), or a control: ``audit`` (every presentation order of each row;
    use with the audit evaluator) or ``nocontext`` (the question instead of the long context).
    """

    @staticmethod
    def load(
        formats: Sequence[str] = TASK_TYPES,
        sample: bool = False,
        data_dir: str | None = None,
        strict: bool | None = None,
        kind: str = JUDGE,
        partial_data: bool = False,
    ) -> Dataset:
        """Load, validate, order and present the rows of ``formats``.

        ``sample=True`` reads the bundled sample; otherwise ``data_dir`` (a folder with the seven
        ``<Task>.jsonl`` files), else ``$LONGRM_DATA_DIR``, else the pinned hub revision. The integrity
        checks run too (warnings; errors in strict mode: ``strict=True`` or ``$LONGRM_STRICT``); a copy
        with fewer rows than the benchmark is an error unless ``partial_data=True``.
        """
        if kind not in (JUDGE, AUDIT, NOCONTEXT):
            raise ValueError(f"kind must be one of {[k for k in KINDS if k != REWARD]}, got {kind!r}")
        return load_documents(kind, formats, sample, data_dir, strict, partial_data)


class LongRewardBenchRMDataset(BaseDataset):
    """Long-RewardBench for scalar reward models (spec §5): per row the conversation
    (``prompt_template``) and the presented responses (``slots``), in the judge datasets' order."""

    @staticmethod
    def load(
        formats: Sequence[str] = TASK_TYPES,
        sample: bool = False,
        data_dir: str | None = None,
        strict: bool | None = None,
        partial_data: bool = False,
    ) -> Dataset:
        """Load, validate and order the rows of ``formats`` (options as :class:`LongRewardBenchDataset`)."""
        return load_documents(REWARD, formats, sample, data_dir, strict, partial_data)
