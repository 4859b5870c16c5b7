"""The screening's table (studies/exploration/tables.py): each arm's final sampled success, whether a mechanism ever
changed an update (same weights as the baseline's seed), and the training episodes it won, hand-counted."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "analysis"))
from helpers import archived_run_stub  # noqa: E402

from studies.exploration.tables import SCREENING, exploration_screening  # noqa: E402


def training(episodes: list[int], success: list[float | None]) -> pd.DataFrame:
    """A run's metrics: per update, the episodes that ended and the share of them won."""
    n = len(episodes)
    return pd.DataFrame({
        "global_step": [128 * (i + 1) for i in range(n)], "eval/discounted_return": [None] * n,
        "charts/episodes": episodes, "charts/success_rate": success,
        "explore/entropy_fraction": [0.5] * n, "explore/optimal_prob_mean": [0.1] * n,
    })  # fmt: skip


def test_the_screening_counts_training_wins_and_seeds_that_kept_the_baseline_s_weights(tmp_path):
    """Baseline: 0/4 + 0/6 won. Mechanism: seed 0 won 1 of 2 then 3 of 4 (4/6), seed 1 none of 4 with the baseline's
    weights (it never acted): 4/10 over its seeds, 1 of 2 seeds with a win, 1 seed on the baseline's weights."""
    folder = tmp_path / SCREENING / "textworld"
    archived_run_stub(folder / "baseline", 0, 0.0, "b0", training([4], [0.0]))
    archived_run_stub(folder / "baseline", 1, 0.0, "b1", training([2, 4], [0.0, 0.0]))
    archived_run_stub(folder / "calibration", 0, 0.9, "c0", training([2, 4, 0], [0.5, 0.75, None]))
    archived_run_stub(folder / "calibration", 1, 0.0, "b1", training([4], [0.0]))
    rows = exploration_screening(tmp_path).splitlines()
    baseline, mechanism = (r.split(" | ") for r in rows[2:4])
    assert baseline[:3] == ["| textworld", "baseline", "2/5"] and baseline[6] == "0/10 (0 of 2 seeds)"
    assert mechanism[1:3] == ["calibration", "2/5"]
    assert mechanism[5:7] == ["1", "4/10 (1 of 2 seeds)"]
    assert mechanism[4].startswith("0.75 [")  # seed 0 above both baseline seeds, seed 1 tied
