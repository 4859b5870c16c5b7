"""What a run's console shows: library notes that say nothing about a run, quieted where they start."""

from __future__ import annotations

import logging


def quiet_lightning_notes() -> None:
    """Lightning's start-up notes (GPU/TPU available, a logging-service tip, "fit stopped: max_epochs=1 reached") say
    nothing about a run; its warnings still show. Called by whatever builds a Trainer (a run's, or the default
    model's pretraining on first use) rather than set in Hydra's logging config, so that every entry point is quiet;
    a level set by the user (``hydra.job_logging``) is kept."""
    notes = logging.getLogger("pytorch_lightning.utilities.rank_zero")
    if notes.level == logging.NOTSET:
        notes.setLevel(logging.WARNING)
