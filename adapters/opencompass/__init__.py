"""OpenCompass glue for Long-RewardBench: datasets, inferencers, evaluators, models and a summarizer.

- generative judges: ``datasets.LongRewardBenchDataset`` → ``inferencer.LongRMGenInferencer`` →
  ``evaluator.LongRewardBenchEvaluator`` (any chat backend; ``models.HuggingFaceChatJudge`` renders HF
  chat templates like the official evaluator);
- scalar reward models: ``datasets.LongRewardBenchRMDataset`` → ``inferencer.LongRMRewardInferencer``
  (with ``models.LongRMRewardModel``) → ``evaluator.LongRewardBenchRMEvaluator``;
- ``summarizer.LongRewardBenchSummarizer``: the standard table plus the paper's Table 1 / Table 2 rows.

Importing this package imports nothing from OpenCompass; its modules do. Configs live in ``configs/``
(see :func:`config_dir`).
"""

from __future__ import annotations

from pathlib import Path


def config_dir() -> Path:
    """Folder of the shipped OpenCompass configs (for ``opencompass --config-dir``)."""
    return Path(__file__).resolve().parent / "configs"
