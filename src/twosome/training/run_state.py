"""What a run is besides weights and optimizers, and how a checkpoint carries it: the update schedule, every
rank's environments and random generators, the agent's memoized values, the clock, the last evaluation, and the last
update's metrics while its final evaluation is still to come.

Lightning saves the trainable weights, optimizers and schedulers itself; this is the rest, so that a resumed run
continues bit for bit where the uninterrupted one would be. ``read_run_state`` reads it back from a checkpoint file
without Lightning (a campaign's status does).
"""

from __future__ import annotations

import pickle
import random
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from twosome.agents import capabilities
from twosome.parallel import collectives as dist

RUN_STATE_KEY = "run_state"  # where a checkpoint keeps this state (any algorithm's run)


def stored_run_state(checkpoint: dict) -> bytes:
    """The run state a checkpoint carries."""
    return checkpoint[RUN_STATE_KEY]


class DamagedCheckpoint(RuntimeError):
    """A checkpoint that cannot be read (truncated or overwritten outside the suite)."""


def read_run_state(path: str | Path) -> dict:
    """The run state stored in a checkpoint (updates done, env steps), without building a trainer or importing
    Lightning (a campaign's status reads it); ``seed_group``: whether a seed group wrote it
    (``training/seed_group.py``)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        return {**pickle.loads(stored_run_state(checkpoint)), "seed_group": "seed_group" in checkpoint}
    except Exception as err:
        raise DamagedCheckpoint(
            f"{path} cannot be read ({type(err).__name__}: {err}); the suite writes checkpoints atomically, so it was "
            "damaged or replaced outside it. checkpoint.resume=false starts the run afresh (deleting its results)"
        ) from err


class UpdateSchedule:
    """The train "dataloader" Lightning iterates: PPO update indices, from the first update not yet done to the
    last. Stateful, so that a resumed run continues at the update after its checkpoint instead of replaying."""

    def __init__(self, total: int):
        self.total, self.done = total, 0

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.done, self.total))

    def __len__(self) -> int:  # the epoch's length; Lightning's restored progress counts the updates done
        return self.total

    def state_dict(self) -> dict:
        return {"done": self.done, "total": self.total}

    def load_state_dict(self, state: dict) -> None:
        self.done = int(state["done"])


def rng_state() -> dict:
    """The global generators Lightning's seed_everything seeds (the environments carry their own)."""
    numpy_state = np.random.get_state()  # noqa: NPY002 (the legacy global generator is the one that is seeded)
    return {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": random.getstate()}


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    random.setstate(state["python"])


def algorithm_state(algorithm) -> dict | None:
    """What an algorithm keeps besides its optimizers (the PPO family: its exploration state)."""
    exploration = getattr(algorithm, "exploration", None)
    return None if exploration is None else {"exploration": exploration.state_dict()}


class RunState:
    """Owned by the run's LightningModule; ``to_bytes``/``restore`` are called from its checkpoint hooks."""

    def __init__(self, total_updates: int):
        self.schedule = UpdateSchedule(total_updates)
        self.final_eval: dict[str, float] = {}
        self.final_row: dict[str, float] | None = None  # the last update's metrics, until the final evaluation
        self.elapsed_before = 0.0  # the run's seconds before this process (training; a stopped final evaluation)
        self._pending: dict | None = None  # read from a checkpoint, applied when training starts
        self.start_clock(0)

    @property
    def updates_done(self) -> int:
        return self.schedule.done

    def start_clock(self, env_steps: int) -> None:
        """Steps per second count from here (this process's start)."""
        self._start, self._start_steps = time.time(), env_steps

    def steps_per_second(self, env_steps: int) -> float:
        return (env_steps - self._start_steps) / max(time.time() - self._start, 1e-9)

    def elapsed_seconds(self) -> float:
        return self.elapsed_before + time.time() - self._start

    def to_bytes(self, collector, agent, env_steps: int, algorithm=None) -> bytes:
        """Pickled to bytes: Lightning loads checkpoints with torch.load(weights_only=True), which accepts bytes.
        A collective: every rank's environments and generators are gathered, in rank order. ``algorithm``: its own
        state beyond the optimizers, if it keeps one (an adapted entropy coefficient: rl/exploration.py)."""
        here = {"collector": collector.state_dict(), "rng": rng_state(), "caches": capabilities.cache_state(agent)}
        return pickle.dumps(
            {
                "ranks": dist.gather([here]),
                "updates_done": self.updates_done,
                "env_steps": env_steps,
                "elapsed_seconds": self.elapsed_seconds(),
                "final_eval": self.final_eval,
                "final_row": self.final_row,
                "algorithm": algorithm_state(algorithm),
            }
        )

    def restore(self, blob: bytes) -> None:
        """Read a checkpoint's run state; it is applied by ``apply`` once the collector exists."""
        run = pickle.loads(blob)
        if len(run["ranks"]) != dist.world_size():
            raise ValueError(
                f"the checkpoint was written by {len(run['ranks'])} ranks and this run has {dist.world_size()}: "
                "resume with the same trainer.devices and trainer.num_nodes"
            )
        self._pending = {**run, **run["ranks"][dist.rank()]}
        self.schedule.done = int(run["updates_done"])

    def apply(self, collector, agent, algorithm=None) -> None:
        if self._pending is None:
            return
        state, self._pending = self._pending, None
        exploration = getattr(algorithm, "exploration", None)
        if exploration is not None and state.get("algorithm"):  # absent from checkpoints written before it existed
            exploration.load_state_dict(state["algorithm"]["exploration"])
        collector.load_state_dict(state["collector"])
        capabilities.load_cache_state(agent, state["caches"])
        self.elapsed_before = state["elapsed_seconds"]
        self.final_eval = state["final_eval"]
        self.final_row = state.get("final_row")  # absent from checkpoints written before the row waited
        set_rng_state(state["rng"])  # last: nothing above may draw from the generators
