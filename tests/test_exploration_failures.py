"""The failures' table (studies/exploration/failures.py): a rerun beside the archived run it repeats, whether the
two trained to the same weights, and the rerun's exploration read from its metrics."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "analysis"))
from helpers import archived_run_stub  # noqa: E402

from studies.exploration.failures import exploration_failures  # noqa: E402


def test_a_rerun_is_shown_beside_the_run_it_repeats_with_its_exploration(tmp_path):
    original = tmp_path / "studies/smollm2_cpu/data/smollm2_cpu/tomato_salad/word"
    archived_run_stub(original, 5, 0.0, "abc")
    archived_run_stub(original, 6, 1.0, "def")  # another seed of the same arm: not the one repeated
    metrics = pd.DataFrame({
        "global_step": [128, 256, 384, 512], "eval/discounted_return": [None] * 4,
        "charts/episodes": [2, 4, 4, 0], "charts/success_rate": [0.5, 0.5, 0.0, None],
        "explore/entropy_fraction": [0.8, 0.6, 0.3, 0.2], "explore/optimal_prob_mean": [0.3, 0.4, 0.1, 0.05],
        "explore/optimal_top1_rate": [0.5, 0.5, 0.0, 0.0],
    })  # fmt: skip
    archived_run_stub(tmp_path / "studies/exploration/data/exploration_failures/tomato_salad", 5, 0.0, "abc", metrics)
    text = exploration_failures(tmp_path)
    assert (
        "| Tomato Salad, TWOSOME (word) | 5 | 0.00 | 0.00 | yes | 3/10 | 0.80 → 0.20 | 0.30 → 0.05 | 0.50 → 0.00 |"
        in text
    )
    assert "| 8 | AMD EPYC (AVX512-BF16) |" in text
    assert "| Entertainment at 50,000 steps | 1 | - | not run yet |" in text
    assert "| BabyAI-Text GoTo, GLAM pretrained | 7 | not run yet |" in text  # read where the campaign archives it
