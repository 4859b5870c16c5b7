"""Gradient accumulation over chunks of a minibatch: ``ppo.policy_chunk_size`` decisions per forward and backward,
each chunk's loss weighted by its share, so any chunk size gives the minibatch's gradient (up to float rounding).

``auto`` sizes the chunk to the device's free memory instead of asking the user to guess it: the whole minibatch
first, and on an out-of-memory error half of it, the minibatch restarted from zero gradients, for as long as the
run lasts (the first minibatch that does not fit finds the size; a longer one later halves it again). Only a GPU
raises such an error; a CPU process is killed by the kernel instead, so on a CPU ``auto`` is the whole minibatch
(what the CPU presets use already: conf/ppo/laptop.yaml).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch

T = TypeVar("T")


class Chunking:
    def __init__(self, setting: int | str, minibatch_size: int):
        self.auto = setting == "auto"
        self.size = minibatch_size if self.auto else int(setting)

    def run(self, n: int, chunk_step: Callable[[torch.Tensor], T], restart: Callable[[], None]) -> list[T]:
        """``chunk_step(positions)`` for the chunks of ``range(n)``, in order; with ``auto``, an out-of-memory
        error calls ``restart()`` (drop what this minibatch accumulated) and runs it again in chunks half as large."""
        while True:
            try:
                return [chunk_step(chunk) for chunk in torch.arange(n).split(self.size)]
            except torch.OutOfMemoryError:
                if not self.auto or self.size == 1:
                    raise
            # Out of the except block: the failed attempt's tensors (held by the traceback) are free now.
            restart()
            self.size = max(1, self.size // 2)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
