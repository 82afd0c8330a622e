"""OpenCompass dataset: every Long-RewardBench row as presented to the judge, rendered by the core.

``load()`` returns the full system and user messages (columns ``system_prompt`` and ``user_prompt``),
so no context ever goes through OpenCompass's ``{column}`` substitution; rows come in the official run
order (spec §2) with the gold rank of each presented slot (``order``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from datasets import Dataset, DatasetInfo
from opencompass.datasets.base import BaseDataset
from opencompass.utils import get_logger

from longrm_tasks import __version__
from longrm_tasks.constants import HUB_REVISION, ORDER_SEED, TASK_TYPES
from longrm_tasks.data import BenchmarkData, load_benchmark
from longrm_tasks.errors import install_excepthook
from longrm_tasks.integrity import IntegrityReport, check_integrity
from longrm_tasks.items import judge_items, reward_items
from longrm_tasks.prompts import PROMPT_SET_ID, context_text, prompt_set_sha256

install_excepthook()
logger = get_logger()

SYSTEM_COLUMN = "system_prompt"
USER_COLUMN = "user_prompt"
#: Reference column: the row's doc fields as JSON (``uid``, ``task_file``, ``row_index``, ``tasktype``,
#: ``subtype``, ``length_bucket`` and ``order``, the gold rank of each presented slot), so that a
#: predictions file alone says what each prediction is judged against.
GOLD_COLUMN = "gold"
DOC_FIELDS = ("uid", "task_file", "row_index", "row_id", "tasktype", "subtype", "length_bucket", "order")
#: Environment switch for strict mode (as in the lm-eval tasks).
STRICT_ENV = "LONGRM_STRICT"
#: Length of ``"[User Question]\n" + question`` inside the user message (the part an over-length
#: cut may shorten; the responses after it are never cut).
CONTEXT_END_COLUMN = "context_end"
#: ``reader_cfg`` every Long-RewardBench dataset config uses.
READER_CFG: dict[str, Any] = {"input_columns": [SYSTEM_COLUMN, USER_COLUMN], "output_column": GOLD_COLUMN}

_QUESTION_PREFIX = "[User Question]\n"


def strict_mode(value: Any = None) -> bool:
    """Strict mode: an explicit option, else ``$LONGRM_STRICT``."""
    if value is None:
        value = os.environ.get(STRICT_ENV, "")
    return value is True or str(value).lower() in ("1", "true", "yes")


def provenance_of(dataset: Dataset) -> dict[str, Any]:
    """What :class:`LongRewardBenchDataset` recorded about its source (empty if unknown)."""
    try:
        return json.loads(dataset.info.description or "{}")
    except (AttributeError, ValueError):
        return {}


def load_checked(
    formats: list[str], *, sample: bool, data_dir: str | None, strict: bool | None
) -> tuple[BenchmarkData, IntegrityReport]:
    """Validated rows of the chosen source, after the lm-eval tasks' integrity checks."""
    unknown = sorted(set(formats) - set(TASK_TYPES))
    if unknown or not formats:
        raise ValueError(f"formats must be a non-empty subset of {list(TASK_TYPES)}, got {formats}")
    data = load_benchmark(data_dir, sample=sample)
    integrity = check_integrity(data, full_set=not sample, strict=strict_mode(strict))
    for problem in integrity.problems:
        logger.warning(f"Long-RewardBench: {problem}")
    return data, integrity


class LongRewardBenchDataset(BaseDataset):
    """Long-RewardBench for generative judges (one row per presented sample)."""

    @staticmethod
    def load(
        formats: Sequence[str] = TASK_TYPES,
        sample: bool = False,
        data_dir: str | None = None,
        strict: bool | None = None,
    ) -> Dataset:
        """Load, validate, order and render the rows of ``formats``.

        ``sample=True`` reads the bundled sample; otherwise ``data_dir`` (a folder with the seven
        ``<Task>.jsonl`` files), else ``$LONGRM_DATA_DIR``, else the pinned hub revision. The integrity
        checks of the lm-eval tasks run too (warnings; errors in strict mode).
        """
        formats = list(formats)
        data, integrity = load_checked(formats, sample=sample, data_dir=data_dir, strict=strict)
        rows = []
        for item in judge_items(data, formats):
            question = context_text(data.rows[item.task_file][item.row_index]["prompt_template"])
            doc = {field: getattr(item, field) for field in DOC_FIELDS}
            doc["order"] = list(item.order)
            rows.append(
                {
                    **doc,
                    SYSTEM_COLUMN: item.system_prompt,
                    USER_COLUMN: item.user_prompt,
                    CONTEXT_END_COLUMN: len(_QUESTION_PREFIX) + len(question),
                    GOLD_COLUMN: json.dumps(doc),
                }
            )
        provenance = {
            "package_version": __version__,
            "prompt_set": PROMPT_SET_ID,
            "prompt_set_sha256": prompt_set_sha256(),
            "order_seed": ORDER_SEED,
            "pinned_hub_revision": HUB_REVISION,
            "data": data.provenance(),
            "formats": formats,
            "integrity": integrity.to_provenance(),
            "strict": strict_mode(strict),
        }
        return Dataset.from_list(rows, info=DatasetInfo(description=json.dumps(provenance, sort_keys=True)))


#: ``reader_cfg`` of the scalar-RM datasets (the inferencer reads the columns itself).
RM_READER_CFG: dict[str, Any] = {"input_columns": ["prompt_template", "slots"], "output_column": GOLD_COLUMN}


class LongRewardBenchRMDataset(BaseDataset):
    """Long-RewardBench for scalar reward models (spec §5): per row the conversation
    (``prompt_template``) and the presented responses (``slots``), in the judge datasets' order."""

    @staticmethod
    def load(
        formats: Sequence[str] = TASK_TYPES,
        sample: bool = False,
        data_dir: str | None = None,
        strict: bool | None = None,
    ) -> Dataset:
        """Load, validate and order the rows of ``formats`` (options as :class:`LongRewardBenchDataset`)."""
        formats = list(formats)
        data, integrity = load_checked(formats, sample=sample, data_dir=data_dir, strict=strict)
        rows = []
        for item in reward_items(data, formats):
            doc = {field: getattr(item, field) for field in DOC_FIELDS}
            doc["order"] = list(item.order)
            rows.append(
                {
                    **doc,
                    "prompt_template": [dict(message) for message in item.prompt_template],
                    "slots": list(item.slots),
                    GOLD_COLUMN: json.dumps(doc),
                }
            )
        provenance = {
            "package_version": __version__,
            "order_seed": ORDER_SEED,
            "pinned_hub_revision": HUB_REVISION,
            "data": data.provenance(),
            "formats": formats,
            "integrity": integrity.to_provenance(),
            "strict": strict_mode(strict),
        }
        return Dataset.from_list(rows, info=DatasetInfo(description=json.dumps(provenance, sort_keys=True)))
