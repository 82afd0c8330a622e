"""Inspect AI glue for Long-RewardBench: ``inspect eval longrm_tasks/<task>``.

- :mod:`.tasks`: the ``@task`` definitions (the module the ``inspect_ai`` entry point names);
- :mod:`.task`: a task built from the core — documents prepared and prompts settled for the model being
  evaluated (:mod:`longrm_tasks.run`), one Inspect ``Sample`` per presented row;
- :mod:`.model`: what the core needs to know about Inspect's model (tokenizer, template arguments,
  generation budget);
- :mod:`.scorer`: the scorer and the metric, both the core's scoring and reducers.

The folder is ``longrm_tasks.adapters.inspect``: absolute imports keep the standard library's ``inspect``
what it is everywhere (nothing puts ``adapters/`` itself on ``sys.path``). Importing this package imports
nothing from Inspect; its modules do.
"""
