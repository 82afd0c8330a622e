"""Leaderboard: the versioned submission format, its validator, and the static site builder."""

from __future__ import annotations

from ..results.submission_schema import SCHEMA_VERSION, submission_schema

__all__ = ["SCHEMA_VERSION", "submission_schema"]
