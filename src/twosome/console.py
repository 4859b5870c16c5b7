"""What a run's console shows: library notes that say nothing about a run, quieted where they start."""

from __future__ import annotations

import logging

# Lightning's start-up notes (GPU/TPU available, a logging-service tip, "fit stopped: max_epochs=1 reached"), and its
# signal connector's "Received SIGTERM" (the suite says what a stop saved and how to resume)
QUIETED = ("pytorch_lightning.utilities.rank_zero", "pytorch_lightning.trainer.connectors.signal_connector")


def quiet_lightning_notes() -> None:
    """Lightning's notes that say nothing a run does not (``QUIETED``); its warnings still show. Called by whatever
    builds a Trainer (a run's, or the default model's pretraining on first use) rather than set in Hydra's logging
    config, so that every entry point is quiet; a level set by the user (``hydra.job_logging``) is kept."""
    for name in QUIETED:
        notes = logging.getLogger(name)
        if notes.level == logging.NOTSET:
            notes.setLevel(logging.WARNING)
