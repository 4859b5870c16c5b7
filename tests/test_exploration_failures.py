"""The failures' table (studies/exploration/failures.py): a rerun beside the archived run it repeats, whether the
two trained to the same weights, and the rerun's exploration read from its metrics."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "analysis"))
from studies.exploration.failures import exploration_failures  # noqa: E402


def fake_run(directory: Path, seed: int, success: float, digest: str, metrics: pd.DataFrame | None = None) -> None:
    run = directory / f"twosome-word-s{seed}"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text("env:\n  gamma: 0.99\n")
    summary = {"run_name": run.name, "agent": "twosome", "norm": "word", "seed": seed, "env_steps": 16384,
               "env_id": "twosome/Overcooked-TomatoSalad-v0", "eval/discounted_return": 0.0, "weights_digest": digest,
               "sampled/success_rate": success, "sampled/episodes": 100, "sampled/discounted_return": 0.0,
               "wall_seconds": 480.0, "cpu": "AMD EPYC; avx512f=yes avx512_bf16=yes"}  # fmt: skip
    (run / "summary.json").write_text(json.dumps(summary))
    if metrics is not None:
        metrics.to_csv(run / "metrics.csv", index=False)


def test_a_rerun_is_shown_beside_the_run_it_repeats_with_its_exploration(tmp_path):
    original = tmp_path / "studies/smollm2_cpu/data/smollm2_cpu/tomato_salad/word"
    fake_run(original, 5, 0.0, "abc")
    fake_run(original, 6, 1.0, "def")  # another seed of the same arm: not the one repeated
    metrics = pd.DataFrame({
        "global_step": [128, 256, 384, 512], "eval/discounted_return": [None] * 4,
        "charts/episodes": [2, 4, 4, 0], "charts/success_rate": [0.5, 0.5, 0.0, None],
        "explore/entropy_fraction": [0.8, 0.6, 0.3, 0.2], "explore/optimal_prob_mean": [0.3, 0.4, 0.1, 0.05],
        "explore/optimal_top1_rate": [0.5, 0.5, 0.0, 0.0],
    })  # fmt: skip
    fake_run(tmp_path / "studies/exploration/data/exploration_failures/tomato_salad", 5, 0.0, "abc", metrics)
    text = exploration_failures(tmp_path)
    assert (
        "| Tomato Salad, TWOSOME (word) | 5 | 0.00 | 0.00 | yes | 3/10 | 0.80 → 0.20 | 0.30 → 0.05 | 0.50 → 0.00 |"
        in text
    )
    assert "| 8 | AMD EPYC (bf16) |" in text
    assert "| Entertainment at 50,000 steps | 1 | - | not run yet |" in text
