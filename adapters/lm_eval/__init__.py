"""lm-evaluation-harness glue: task class, YAML hooks and registration."""
