"""Scalar (sequence-classification) reward models: spec §5 inputs and prefix-shared scoring.

Imports torch/transformers lazily (only the functions that need them do); no harness.
"""
