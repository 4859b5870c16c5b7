"""A callback for the reliability tests (``+callbacks.stop._target_=signal_at.SignalAt``): the run sends itself
``signal`` in the hook ``hook``, once (a marker file says it did), so that a test reaches an exact point of a run."""

from __future__ import annotations

import os
import signal as signals
from pathlib import Path

from pytorch_lightning.callbacks import Callback


class SignalAt(Callback):
    def __init__(self, hook: str, signal: str, marker: str):
        self.signal, self.marker = getattr(signals, signal), Path(marker)
        setattr(self, hook, self._send)

    def _send(self, *args, **kwargs) -> None:
        if not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), self.signal)
