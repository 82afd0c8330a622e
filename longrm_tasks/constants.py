"""Benchmark-wide constants: names, canonical orders, expected sizes and the pinned hub revision."""

from __future__ import annotations

from typing import Final

#: Hub dataset of the benchmark (mirrored on ModelScope as ``LCM_group/LongReward-Bench-V1``).
HUB_DATASET_ID: Final = "LCM-Lab/LongRewardBench"
#: The one place the dataset revision is pinned. To update: pick the new commit on the hub's
#: history page, put its hash here (a full 40-hex id, or an unambiguous prefix that the loader
#: resolves against the hub's commit list), and regenerate ``DATA_MANIFEST`` below.
HUB_REVISION: Final = "79deab1"
HUB_SPLIT: Final = "train"

#: Canonical task-file order (spec §1); also the order of the paper's Table 1 columns.
TASK_FILES: Final = ("LongQA", "Summ", "Safety", "ICL", "Cite", "Code", "Math")
#: Length buckets of ``ctx_length_for_length`` (spec §7, paper Table 2).
LENGTH_BUCKETS: Final = ("4k", "8k", "16k", "32k", "64k", "128k")

PAIRWISE: Final = "PairWise"
BEST_OF_N: Final = "BestOfN"
TASK_TYPES: Final = (PAIRWISE, BEST_OF_N)
BEST_OF_N_SIZES: Final = (2, 3, 4)

#: Seed of the official presentation order (spec §2).
ORDER_SEED: Final = 42

#: Rows per task file in the real benchmark (spec §1).
EXPECTED_FILE_ROWS: Final = {
    "Cite": 390,
    "Code": 197,
    "ICL": 162,
    "LongQA": 522,
    "Math": 60,
    "Safety": 140,
    "Summ": 429,
}
EXPECTED_PAIRWISE_ROWS: Final = {
    "LongQA": 240,
    "Summ": 200,
    "Safety": 140,
    "ICL": 160,
    "Cite": 100,
    "Code": 100,
    "Math": 60,
}
EXPECTED_BEST_OF_N_ROWS_PER_N: Final = 300

#: Judge generation (spec §3): greedy decoding (temperature 0, top_p 1), at most this many new tokens,
#: no stop strings (backends still stop at the end-of-sequence token).
MAX_NEW_TOKENS: Final = 2048
TEMPERATURE: Final = 0.0
TOP_P: Final = 1.0

#: Parity truncation (spec §6): prompts of at least this many tokens are cut to head + tail.
PARITY_MAX_TOKENS: Final = 131_072
PARITY_HEAD_TOKENS: Final = 65_536
PARITY_TAIL_TOKENS: Final = 65_531
#: Rows per length bucket over all 1,900 rows of the real benchmark (4k … 128k).
EXPECTED_LENGTH_ROWS: Final = {"4k": 445, "8k": 341, "16k": 296, "32k": 287, "64k": 266, "128k": 265}
