"""Reports from judged runs: tables, bootstrap statistics, paired comparisons, plots.

Runs are read by :mod:`longrm_tasks.results`; nothing here imports a harness.
"""
