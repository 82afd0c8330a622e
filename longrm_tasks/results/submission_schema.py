"""The submission format, versioned: ``longrm-submission/1`` (a JSON Schema, draft 2020-12).

A submission is the provenance of a run plus one record per judged row: the row's identity and
presentation (task file, row index, format, subtype, length bucket, order) and the verdict — a
generative judge's text (``response``) and/or parsed ranking (``prediction``), or a scalar RM's
``rewards`` per slot — with an optional per-sample ``score``. The validator recomputes the prediction,
the score and every aggregate from the most basic of these, and rejects any that disagree.
``allow_empty_outputs: true`` declares that some responses are empty (``longrm submission
--allow-empty-outputs``); without it, a submission with empty responses is refused.
"""

from __future__ import annotations

from typing import Any

from ..constants import BEST_OF_N, LENGTH_BUCKETS, PAIRWISE, TASK_FILES
from ..scoring import METRIC_REDUCERS
from ..truncation import CUT, CUT_APPROX, NOT_CUT, UNCHECKED

SCHEMA_VERSION = "longrm-submission/1"
#: Hard limits that keep validation cheap whatever the input (checked before the file is read: a
#: full run with 30,000-character responses is about 60 MB).
MAX_BYTES = 64 * 1024 * 1024
MAX_SAMPLES = 20_000
MAX_TEXT = 200_000
_LIMITED_TEXT = {"type": "string", "maxLength": 2_000}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def submission_schema() -> dict[str, Any]:
    """The JSON Schema of ``longrm-submission/1``."""
    rank = {"type": "integer", "minimum": 0, "maximum": 25}
    sample = {
        "type": "object",
        "additionalProperties": False,
        "required": ["task_file", "row_index", "tasktype", "subtype", "length_bucket", "order"],
        "properties": {
            "task_file": {"enum": list(TASK_FILES)},
            "row_index": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
            "row_id": {"type": ["integer", "null"]},
            "tasktype": {"enum": [PAIRWISE, BEST_OF_N]},
            "subtype": {"type": "string", "maxLength": 100},
            "length_bucket": {"enum": list(LENGTH_BUCKETS)},
            "order": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": 3},
                "minItems": 2,
                "maxItems": 4,
            },
            "truncation": {"enum": [NOT_CUT, CUT, CUT_APPROX, UNCHECKED]},
            "response": {"type": "string", "maxLength": MAX_TEXT},
            "prediction": {"type": "array", "items": rank, "maxItems": 26},
            "rewards": {
                "type": "array",
                "items": {"type": "number", "minimum": -1e300, "maximum": 1e300},
                "minItems": 2,
                "maxItems": 4,
            },
            "score": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "anyOf": [{"required": [field]} for field in ("response", "prediction", "rewards")],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_VERSION,
        "title": "Long-RewardBench leaderboard submission, version 1",
        "type": "object",
        "additionalProperties": False,
        "required": ["schema_version", "model", "provenance", "aggregates", "samples"],
        "properties": {
            "schema_version": {"const": SCHEMA_VERSION},
            "model": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "type"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "type": {"enum": ["generative", "scalar"]},
                    "url": {"type": "string", "maxLength": 500},
                    "notes": _LIMITED_TEXT,
                },
            },
            "provenance": {
                "type": "object",
                "required": ["harness", "prompt_set", "order_seed", "data_source", "data_files_sha256"],
                "properties": {
                    "harness": {"type": "string", "maxLength": 100},
                    "backend": {"type": ["string", "null"], "maxLength": 200},
                    "prompt_set": {"type": ["string", "null"], "maxLength": 200},
                    "prompt_set_sha256": {"anyOf": [_SHA256, {"type": "null"}]},
                    "order_seed": {"type": ["integer", "null"]},
                    "data_source": {"type": ["string", "null"], "maxLength": 2_000},
                    "data_revision": {"type": ["string", "null"], "maxLength": 100},
                    "data_files_sha256": {
                        "type": "object",
                        "propertyNames": {"enum": [f"{task}.jsonl" for task in TASK_FILES]},
                        "additionalProperties": _SHA256,
                    },
                },
            },
            "task": {"type": "string", "maxLength": 200},
            "allow_empty_outputs": {"type": "boolean"},
            "aggregates": {
                "type": "object",
                "additionalProperties": False,
                "required": ["avg"],
                "properties": {
                    key: {"type": "number", "minimum": 0, "maximum": 1} for key in METRIC_REDUCERS
                },
            },
            "samples": {"type": "array", "minItems": 1, "maxItems": MAX_SAMPLES, "items": sample},
        },
    }
