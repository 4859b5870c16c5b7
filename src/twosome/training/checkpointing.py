"""Checkpoint files that survive SIGKILL and preemption.

* ``AtomicCheckpointIO``: Lightning writes checkpoints through this plugin; the bytes go to a temporary file in the
  same directory, are flushed to disk, and replace the old checkpoint in one ``os.replace``. A kill at any moment
  leaves either the previous checkpoint or the new one, never half of one.
* ``PeriodicCheckpoint``: ``last.ckpt`` every ``every_updates`` PPO updates and after the last, at an update boundary
  (the only point where rollout, optimizers and environments agree), so a resumed run continues exactly.

What a checkpoint carries besides weights and optimizers, and reading it without Lightning: training/run_state.py.
How a signal stops a run at a checkpoint: training/stopping.py.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO
from pytorch_lightning.callbacks import Callback

from twosome.fileio import atomic_write_bytes
from twosome.run_dir import RunDir


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        atomic_write_bytes(path, buffer.getvalue())


def checkpoint_path(run_dir: str | Path) -> Path:
    return RunDir(run_dir).checkpoint


def save_checkpoint(trainer: pl.Trainer, pl_module, path: Path) -> None:
    """Lightning's checkpoint at ``path``, or, for a module that writes its own (a seed group: one per member, each
    in its run directory), that module's."""
    own = getattr(pl_module, "save_checkpoints", None)
    if own is not None:
        own()
    else:
        trainer.save_checkpoint(path, weights_only=False)  # said: Lightning logs each default


class PeriodicCheckpoint(Callback):
    def __init__(self, path: str | Path, every_updates: int):
        self.path, self.every_updates = Path(path), int(every_updates)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module, outputs, batch, batch_idx) -> None:
        done = pl_module.updates_done
        # After the last update whatever every_updates says: the final evaluation comes next, and may be stopped
        if done == pl_module.num_updates or (self.every_updates > 0 and done % self.every_updates == 0):
            save_checkpoint(trainer, pl_module, self.path)
