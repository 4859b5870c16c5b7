"""Lightning's CSV logger, except that it continues an existing ``metrics.csv`` instead of deleting it, so a resumed
run's file reads as one run (train.py first drops the rows logged after the checkpoint).

It overrides private members because Lightning (pytorch_lightning 2.6) offers no public way to keep the file:

* the writer's constructor (lightning_fabric ``_ExperimentWriter.__init__``) calls ``_check_log_dir_exists``, which
  warns and deletes ``metrics.csv`` whenever the log directory is not empty; here the log directory is the run
  directory, never empty. No argument turns this off, so the writer overrides that private method;
* ``CSVLogger.experiment`` builds the writer from a module-level class, so using another writer means overriding
  ``experiment``, which must cache it in the private ``_experiment`` (which ``finalize`` reads) and create
  the directory with the private ``_fs``, as Lightning's own property does.

Public-only alternatives were weighed and rejected: moving ``metrics.csv`` aside while Lightning builds its writer
(a kill in that window loses the earlier rows, which the resume tests guard, and the misleading "will be deleted"
warning is printed on every run), and a logger written from scratch against the public ``Logger`` interface (a copy
of Lightning's CSV writing: columns sorted, the header rewritten when a new metric appears). ``metrics_keys`` and
``metrics_file_path`` are public attributes of the writer. tests/test_reliability.py (resume) and
tests/test_run_dirs.py catch a Lightning upgrade that breaks this.
"""

from __future__ import annotations

import csv
import os

from lightning_fabric.loggers.logger import rank_zero_experiment
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.loggers.csv_logs import ExperimentWriter


class _ContinuingWriter(ExperimentWriter):
    def __init__(self, log_dir: str) -> None:
        super().__init__(log_dir)
        if os.path.isfile(self.metrics_file_path):  # carry on with the columns already there
            with open(self.metrics_file_path, newline="") as f:
                self.metrics_keys = sorted(next(csv.reader(f), []))

    def _check_log_dir_exists(self) -> None:
        """Lightning deletes an existing metrics.csv here; a resumed run keeps it."""


class ContinuingCSVLogger(CSVLogger):
    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _ContinuingWriter(log_dir=self.log_dir)
        return self._experiment
