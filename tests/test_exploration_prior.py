"""What remains of the prior (studies/exploration/prior_kept.py): pretrained against random init per task and arm,
read only once both models have the screening's seeds, "interim" before."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "analysis"))
from helpers import archived_run_stub  # noqa: E402

from studies.exploration.prior_kept import RANDOM, exploration_prior  # noqa: E402
from studies.exploration.tables import SCREENING  # noqa: E402


def rows(text: str) -> dict[tuple[str, str], list[str]]:
    """(task, arm) -> the row's cells, the task carried down from its first row."""
    out, task = {}, ""
    for line in text.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        task = cells[0] or task
        out[task, cells[1]] = cells[2:]
    return out


def test_pretrained_above_random_init_holds_only_at_the_screenings_seeds(tmp_path):
    for seed in range(5):
        archived_run_stub(tmp_path / SCREENING / "tomato_salad/baseline", seed, 1.0, f"p{seed}")
        archived_run_stub(tmp_path / SCREENING / "tomato_salad/uniform_mix", seed, 0.9, f"u{seed}")
        archived_run_stub(tmp_path / RANDOM / "tomato_salad/baseline", seed, 0.1, f"r{seed}")
    for seed in range(3):  # the mechanism on random init is short of its seeds, and better than pretrained
        archived_run_stub(tmp_path / RANDOM / "tomato_salad/uniform_mix", seed, 0.95, f"ru{seed}")
    table = rows(exploration_prior(tmp_path))
    baseline, mixed = table["tomato salad", "baseline"], table["tomato salad", "uniform mix"]
    assert baseline[0].endswith("(5)") and baseline[1].startswith("0.10") and baseline[2].startswith("1.00")
    assert baseline[3] == "**holds**"
    assert mixed[2].startswith("0.00") and mixed[3] == "interim, 3 of 5 seeds"
    assert table["entertainment", "baseline"][3] == "not run yet"
