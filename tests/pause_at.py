"""A Hydra callback for the tests (``+hydra.callbacks.pause._target_=pause_at.PauseAtJobStart``): a job writes
``marker`` once Hydra has written its records, then waits for the file ``go``, so that a test can start a second
command at that exact point."""

from __future__ import annotations

import os
import time
from pathlib import Path

from hydra.experimental.callback import Callback


class PauseAtJobStart(Callback):
    def __init__(self, marker: str, go: str):
        self.marker, self.go = Path(marker), Path(go)

    def on_job_start(self, **kwargs) -> None:
        self.marker.write_text(str(os.getpid()))
        while not self.go.exists():
            time.sleep(0.05)
