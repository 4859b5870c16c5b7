"""Language retention of LoRA-finetuned policies, evaluated with lm-evaluation-harness (see ``evaluate``)."""

from __future__ import annotations

__all__ = ["evaluate_retention", "local_tasks", "write_ppl_data", "write_probe_data"]


def __getattr__(name: str):
    # Lazy, so that ``python -m twosome.retention.evaluate`` does not import the module twice.
    if name in __all__:
        from twosome.retention import evaluate

        return getattr(evaluate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
