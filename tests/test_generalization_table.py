"""The generalization table tool's statistics: the seed is the unit (mean over seeds, IQM from 5 seeds, bootstrap
intervals over seeds); one seed alone gets its episodes' Wilson interval, and the output says which."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "analysis"))
import generalization_table  # noqa: E402

from twosome.evaluation.statistics import interval  # noqa: E402


def rows(rates: dict[int, list[float]], episodes: int = 50) -> pd.DataFrame:
    """One evaluation row per seed and task (task A the training task, B unseen)."""
    out = []
    for seed, (a, b) in rates.items():
        for task, rate in (("twosome/A-v0", a), ("twosome/B-v0", b)):
            out.append(dict(run=f"r{seed}", agent="twosome", norm="word", model="m", seed=seed,
                            train_task="twosome/A-v0", task=task, applicable=True, note="", success_rate=rate,
                            success_se=0.0, return_mean=rate, episodes=episodes))  # fmt: skip
    return pd.DataFrame(out)


def test_several_seeds_give_the_mean_over_seeds_and_from_five_the_iqm_with_intervals_over_seeds():
    b = [0.0, 0.1, 0.2, 0.9, 1.0, 1.0]
    summary = generalization_table.summarize(rows({s: [1.0, x] for s, x in enumerate(b)}))
    unseen = summary.set_index("task").loc["B"]
    mean, iqm = interval(b, "mean"), interval(b, "iqm")
    assert unseen["unit"] == "seeds" and unseen["seeds"] == 6
    assert unseen["success_rate"] == pytest.approx(np.mean(b))  # not pooled episodes: the mean of seed means
    assert (unseen["success_low"], unseen["success_high"]) == pytest.approx((mean.low, mean.high))
    assert (unseen["iqm"], unseen["iqm_low"], unseen["iqm_high"]) == pytest.approx((iqm.value, iqm.low, iqm.high))
    assert stats.trim_mean(b, 0.25) == pytest.approx(unseen["iqm"])
    md = generalization_table.markdown(summary)
    assert f"mean {np.mean(b):.2f} [{mean.low:.2f}, {mean.high:.2f}], IQM {iqm.value:.2f}" in md
    assert "(6 seeds)" in md and "the seed is the unit" in md
    few = generalization_table.summarize(rows({s: [1.0, x] for s, x in enumerate(b[:3])}))
    assert "iqm" not in few or few["iqm"].isna().all()  # under 5 seeds: the mean only


def test_one_seed_gets_its_episodes_wilson_interval_and_says_so():
    summary = generalization_table.summarize(rows({0: [0.9, 0.2]}, episodes=50))
    unseen = summary.set_index("task").loc["B"]
    ci = stats.binomtest(10, 50).proportion_ci(method="wilson")
    assert unseen["unit"] == "episodes" and unseen["success_rate"] == pytest.approx(0.2)
    assert (unseen["success_low"], unseen["success_high"]) == pytest.approx((ci.low, ci.high))
    assert f"0.20 [{ci.low:.2f}, {ci.high:.2f}] (1 seed, 50 episodes, Wilson)" in generalization_table.markdown(summary)


def test_a_seed_evaluated_twice_on_a_task_is_one_seed_its_episodes_pooled(tmp_path):
    twice = rows({0: [1.0, 0.2], 1: [1.0, 0.6]})
    extra = twice[(twice.seed == 0) & (twice.task == "twosome/B-v0")].assign(run="r0b", success_rate=0.4)
    summary = generalization_table.summarize(pd.concat([twice, extra], ignore_index=True))
    unseen = summary.set_index("task").loc["B"]
    assert unseen["seeds"] == 2 and unseen["success_rate"] == pytest.approx(np.mean([0.3, 0.6]))
    path = tmp_path / "g.csv"
    twice.to_csv(path, index=False)
    generalization_table.main([str(path), "--out", str(tmp_path / "t")])
    assert (tmp_path / "t.png").stat().st_size > 0 and "bootstrap interval over seeds" in (
        tmp_path / "t.md"
    ).read_text()
