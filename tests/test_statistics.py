"""The statistics behind docs/ tables, each against an independent computation (closed forms, scipy's Mann-Whitney
U, a plain numpy stratified bootstrap)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from twosome.evaluation.statistics import (
    interval,
    iqm,
    joint_interval,
    joint_probability_of_improvement,
    probability_of_improvement,
    wilson,
)


def test_iqm_is_the_mean_of_the_middle_half():
    x = np.array([0.0, 10.0, 1.0, 2.0, 3.0, 4.0, 100.0, 5.0])  # sorted: 0 1 2 3 4 5 10 100
    assert iqm(x) == pytest.approx(np.mean([2.0, 3.0, 4.0, 5.0]))


def numpy_stratified_bootstrap(scores: dict, statistic, resamples: int, rng) -> tuple[float, float]:
    """Resample each task's seeds with replacement, pool, take the statistic: rliable's procedure, by hand."""
    values = []
    for _ in range(resamples):
        pooled = np.concatenate([rng.choice(np.asarray(v), size=len(v), replace=True) for v in scores.values()])
        values.append(statistic(pooled))
    return tuple(np.percentile(values, [2.5, 97.5]))


def test_stratified_interval_agrees_with_a_plain_numpy_bootstrap():
    rng = np.random.default_rng(1)
    scores = {"a": rng.uniform(0, 1, 10), "b": rng.uniform(0.5, 1, 10), "c": rng.uniform(0, 0.3, 6)}
    for name, fn in [("iqm", iqm), ("mean", np.mean)]:
        ours = interval(scores, name, resamples=4000)
        low, high = numpy_stratified_bootstrap(scores, fn, 4000, np.random.default_rng(2))
        assert ours.value == pytest.approx(fn(np.concatenate(list(scores.values()))))
        assert ours.low == pytest.approx(low, abs=0.02) and ours.high == pytest.approx(high, abs=0.02)
        assert ours.low < ours.value < ours.high and ours.n == 6


def test_the_bootstrap_is_stratified_not_pooled():
    """Two tasks of very different levels: a pooled bootstrap could draw all seeds from one task (wide interval);
    resampling within each task keeps half the runs from each, so the mean's interval is narrow."""
    scores = {"easy": [0.9, 1.0, 0.95, 0.92], "hard": [0.0, 0.1, 0.05, 0.02]}
    e = interval(scores, "mean")
    assert e.high - e.low < 0.1


def test_interval_edge_cases_and_errors():
    assert math.isnan(interval([0.3]).low)  # one seed: no interval
    same = interval([1.0, 1.0, 1.0])
    assert (same.value, same.low, same.high) == (1.0, 1.0, 1.0)
    assert interval([1.0, 2.0, 3.0], seed=5) == interval([1.0, 2.0, 3.0], seed=5)  # seeded: tables regenerate
    with pytest.raises(ValueError, match="statistic='median'"):
        interval([1.0, 2.0], "median")
    with pytest.raises(ValueError, match="NaN"):
        interval([1.0, float("nan")])
    with pytest.raises(ValueError, match="at least one seed"):
        interval({"a": []})


def test_probability_of_improvement_is_the_mann_whitney_statistic():
    x = {"a": [0.9, 0.8, 0.8, 0.1], "b": [0.5, 0.6, 0.7]}
    y = {"a": [0.8, 0.2, 0.3], "b": [0.5, 0.5, 0.9, 0.1]}
    expected = np.mean(
        [stats.mannwhitneyu(x[t], y[t]).statistic / (len(x[t]) * len(y[t])) for t in ("a", "b")]
    )  # U counts ties as half, as P(X > Y) + P(X = Y) / 2 does
    e = probability_of_improvement(x, y)
    assert e.value == pytest.approx(expected)
    assert e.low <= e.value <= e.high
    assert probability_of_improvement([1.0, 1.0], [0.0, 0.0]).value == 1.0
    with pytest.raises(ValueError, match="same tasks"):
        probability_of_improvement({"a": [1.0]}, {"b": [1.0]})


@pytest.mark.parametrize("k,n", [(0, 24), (10, 24), (24, 24), (56, 200)])
def test_wilson_interval_matches_its_closed_form(k, n):
    z = stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = wilson(k, n)
    assert low == pytest.approx(max(0.0, centre - half), abs=1e-9) and high == pytest.approx(min(1.0, centre + half))
    with pytest.raises(ValueError, match="successes=5, episodes=4"):
        wilson(5, 4)


def numpy_joint_poi(x: np.ndarray, y: np.ndarray, resamples: int, seed: int) -> tuple[float, float]:
    """Agents drawn with all their tasks, one resample at a time, by hand: X's draws first, then Y's."""
    rng = np.random.default_rng(seed)
    ix, iy = rng.integers(0, len(x), (resamples, len(x))), rng.integers(0, len(y), (resamples, len(y)))
    values = []
    for a, b in zip(x[ix], y[iy]):
        per_task = [np.mean([[(p > q) + 0.5 * (p == q) for q in b[:, t]] for p in a[:, t]]) for t in range(x.shape[1])]
        values.append(np.mean(per_task))
    return tuple(np.percentile(values, [2.5, 97.5]))


def test_the_joint_bootstrap_draws_agents_with_all_their_tasks():
    """X's agent 0 succeeds on task a only, agent 1 on task b only; Y scores 0.5 everywhere. Whichever agents a
    resample draws, P(X > Y) averaged over the two tasks is exactly 0.5 (by hand: a drawn agent adds 1 on one task
    and 0 on the other), so the joint interval is [0.5, 0.5]; resampling each task's seeds apart breaks the agents
    and widens it."""
    x, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.full((2, 2), 0.5)
    joint = joint_probability_of_improvement(x, y)
    assert (joint.value, joint.low, joint.high, joint.n) == (0.5, 0.5, 0.5, 2)
    apart = probability_of_improvement({"a": x[:, 0], "b": x[:, 1]}, {"a": y[:, 0], "b": y[:, 1]})
    assert apart.value == 0.5 and apart.high - apart.low > 0.4


def test_the_joint_bootstrap_agrees_with_a_direct_numpy_loop_and_collapses_for_identical_agents():
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 1, (6, 4)), rng.uniform(0, 0.8, (5, 4))
    ours = joint_probability_of_improvement(x, y, resamples=500, seed=7)
    assert (ours.low, ours.high) == pytest.approx(numpy_joint_poi(x, y, 500, 7), abs=1e-12)
    by_task = probability_of_improvement({t: x[:, t] for t in range(4)}, {t: y[:, t] for t in range(4)})
    assert ours.value == pytest.approx(by_task.value)  # the same point as the stratified aggregate
    same = np.tile([0.2, 0.9, 0.4], (5, 1))  # five identical agents
    for e in (joint_interval(same, "iqm"), joint_interval(same, "mean")):
        assert e.low == pytest.approx(e.value) and e.high == pytest.approx(e.value)  # every draw is the same matrix
    assert joint_interval(same, "mean").value == pytest.approx(0.5)
    mean = joint_interval(x, "mean", resamples=500, seed=7)
    draws = x[np.random.default_rng(7).integers(0, 6, (500, 6))].reshape(500, -1).mean(axis=1)
    assert (mean.low, mean.high) == pytest.approx(tuple(np.percentile(draws, [2.5, 97.5])), abs=1e-12)
    with pytest.raises(ValueError, match="same tasks"):
        joint_probability_of_improvement(x, y[:, :3])
