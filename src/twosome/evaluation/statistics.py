"""The field's statistics for few-seed RL results (Agarwal et al. 2021, "Deep RL at the Edge of the Statistical
Precipice"), on scipy: the seed is the unit.

- ``interval(scores, statistic)``: a point estimate and its 95% stratified bootstrap interval. ``scores`` maps each
  task to one number per seed (aggregate a run's episodes first); seeds are resampled within each task, never
  pooled across tasks or episodes. ``iqm`` (interquartile mean) and ``mean`` are the statistics used in docs/.
- ``probability_of_improvement(x, y)``: P(a run of X scores above a run of Y) per task (ties count half), averaged
  over tasks, with its stratified bootstrap interval.
- ``joint_interval`` and ``joint_probability_of_improvement``: the same where the same agents (seeds) are scored
  on several tasks or settings: the bootstrap draws agents, each drawn agent keeping its scores on all tasks
  together (tasks of one agent are not independent samples; resampling them apart would narrow the interval).
- ``wilson(k, n)``: the Wilson interval of one agent's success rate over n episodes.
- Performance profiles (the fraction of runs above each threshold, with bands) are ``interval`` of 0/1 indicators:
  analysis/performance_profiles.py.

scipy.stats.bootstrap does the resampling: each task's seeds are a separate sample, which scipy resamples
independently (that is the stratification). rliable is the reference implementation; it is not a dependency
because its ``arch`` dependency fails to import with pandas 3 (checked 2026-11-23: arch 7.2.0).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 0  # the bootstrap's own seed: tables are regenerated bit for bit


def iqm(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Interquartile mean: the mean of the middle 50% (scipy's trim_mean, a quarter cut from each end)."""
    return stats.trim_mean(values, 0.25, axis=axis)


def mean(values: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(values, axis=axis)


STATISTICS: dict[str, Callable] = {"iqm": iqm, "mean": mean}


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval; ``n`` seeds per task (the smallest, if tasks differ)."""

    value: float
    low: float
    high: float
    n: int

    def excludes(self, alternative: float) -> bool:
        """True when the interval lies wholly above or below ``alternative``: the claim 'holds'."""
        return bool(self.low > alternative or self.high < alternative)

    def within(self, centre: float, margin: float) -> bool:
        """True when the whole interval lies inside ``centre +- margin``: equivalence within that margin is shown."""
        return bool(not np.isnan(self.low) and self.low >= centre - margin and self.high <= centre + margin)

    def text(self, digits: int = 2) -> str:
        if np.isnan(self.low):
            return f"{self.value:.{digits}f} (n={self.n}: no interval)"
        return f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def _samples(scores: Mapping[str, Sequence[float]] | Sequence[float]) -> list[np.ndarray]:
    groups = scores.values() if isinstance(scores, Mapping) else [scores]
    samples = [np.asarray(list(g), dtype=float) for g in groups]
    if not samples or any(s.size == 0 for s in samples):
        raise ValueError("every task needs at least one seed's score")
    if any(np.isnan(s).any() for s in samples):
        raise ValueError("a seed's score is NaN: aggregate each run's episodes before calling this")
    return samples


def interval(
    scores: Mapping[str, Sequence[float]] | Sequence[float],
    statistic: str = "iqm",
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Estimate:
    """``statistic`` over all runs of all tasks, with its percentile interval from a bootstrap stratified by task
    (rliable's ``get_interval_estimates``). One seed per task gives no interval (NaN bounds)."""
    if statistic not in STATISTICS:
        raise ValueError(f"statistic={statistic!r} is not valid; valid: {sorted(STATISTICS)}")
    fn = STATISTICS[statistic]
    samples = _samples(scores)
    point = float(fn(np.concatenate(samples)))
    n = min(s.size for s in samples)
    if n < 2:
        return Estimate(point, float("nan"), float("nan"), n)
    if np.ptp(np.concatenate(samples)) == 0:
        return Estimate(point, point, point, n)  # every run scored the same: no spread to resample

    def pooled(*resampled, axis=-1):
        return fn(np.concatenate(resampled, axis=axis), axis=axis)

    return Estimate(point, *_bootstrap(samples, pooled, confidence, resamples, seed), n)


def _bootstrap(samples: list[np.ndarray], statistic, confidence: float, resamples: int, seed: int) -> tuple:
    """The percentile interval of ``statistic``; scipy resamples each sample (a task's seeds) independently."""
    result = stats.bootstrap(
        samples,
        statistic,
        n_resamples=resamples,
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval
    return float(low), float(high)


def _improvement(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """P(X > Y) + P(X = Y) / 2 for one task, over all pairs of runs (the Mann-Whitney U statistic / (n m))."""
    x, y = np.moveaxis(x, axis, -1), np.moveaxis(y, axis, -1)
    greater = (x[..., :, None] > y[..., None, :]).mean(axis=(-1, -2))
    ties = (x[..., :, None] == y[..., None, :]).mean(axis=(-1, -2))
    return greater + 0.5 * ties


def probability_of_improvement(
    x: Mapping[str, Sequence[float]] | Sequence[float],
    y: Mapping[str, Sequence[float]] | Sequence[float],
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Estimate:
    """P(X > Y), averaged over tasks, with its stratified bootstrap interval (rliable's
    ``probability_of_improvement``). ``x`` and ``y`` have the same tasks; their seed counts may differ."""
    xs, ys = _samples(x), _samples(y)
    if isinstance(x, Mapping) != isinstance(y, Mapping) or (isinstance(x, Mapping) and list(x) != list(y)):
        raise ValueError("x and y must score the same tasks, in the same order")
    k = len(xs)
    point = float(np.mean([_improvement(a, b) for a, b in zip(xs, ys)]))
    n = min(s.size for s in xs + ys)
    if n < 2:
        return Estimate(point, float("nan"), float("nan"), n)

    def statistic(*resampled, axis=-1):
        return np.mean([_improvement(resampled[i], resampled[k + i], axis=axis) for i in range(k)], axis=0)

    return Estimate(point, *_bootstrap(xs + ys, statistic, confidence, resamples, seed), n)


def _agents(scores: Mapping[str, Sequence[float]] | Sequence[Sequence[float]]) -> np.ndarray:
    """Agents x tasks: a mapping task -> one score per agent (the same agents, in the same order), or a matrix."""
    rows = np.column_stack([np.asarray(list(v), float) for v in scores.values()]) if isinstance(scores, Mapping) \
        else np.asarray(scores, dtype=float)  # fmt: skip
    if rows.ndim != 2 or 0 in rows.shape:
        raise ValueError("need a score per agent and task (agents x tasks)")
    if np.isnan(rows).any():
        raise ValueError("an agent's score is NaN: every agent needs a score on every task")
    return rows


def _percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = 50 * (1 - confidence)
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def joint_interval(
    scores: Mapping[str, Sequence[float]] | Sequence[Sequence[float]],
    statistic: str = "iqm",
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Estimate:
    """``statistic`` over all agents' scores on all tasks, with a percentile interval from a bootstrap that draws
    agents (rows), each with its scores on every task."""
    fn = STATISTICS[statistic]
    rows = _agents(scores)
    point = float(fn(rows.ravel()))
    n = rows.shape[0]
    if n < 2:
        return Estimate(point, float("nan"), float("nan"), n)
    drawn = rows[np.random.default_rng(seed).integers(0, n, (resamples, n))]  # resamples x agents x tasks
    return Estimate(point, *_percentile_interval(fn(drawn.reshape(resamples, -1), axis=-1), confidence), n)


def joint_probability_of_improvement(
    x: Mapping[str, Sequence[float]] | Sequence[Sequence[float]],
    y: Mapping[str, Sequence[float]] | Sequence[Sequence[float]],
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Estimate:
    """P(X > Y) per task averaged over tasks (the point of ``probability_of_improvement``), where each arm's agents
    are scored on every task: the bootstrap draws X's agents and Y's agents (independently of each other), each
    drawn agent keeping its scores on all tasks together."""
    xs, ys = _agents(x), _agents(y)
    if xs.shape[1] != ys.shape[1] or (isinstance(x, Mapping) and list(x) != list(y)):
        raise ValueError("x and y must score the same tasks, in the same order")
    point = float(np.mean([_improvement(xs[:, t], ys[:, t]) for t in range(xs.shape[1])]))
    n = min(xs.shape[0], ys.shape[0])
    if n < 2:
        return Estimate(point, float("nan"), float("nan"), n)
    rng = np.random.default_rng(seed)
    a = xs[rng.integers(0, xs.shape[0], (resamples, xs.shape[0]))]  # resamples x agents x tasks
    b = ys[rng.integers(0, ys.shape[0], (resamples, ys.shape[0]))]
    pairs = a[:, :, None, :], b[:, None, :, :]
    per_task = (pairs[0] > pairs[1]).mean(axis=(1, 2)) + 0.5 * (pairs[0] == pairs[1]).mean(axis=(1, 2))
    return Estimate(point, *_percentile_interval(per_task.mean(axis=1), confidence), n)


def wilson(successes: int, episodes: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The Wilson score interval of a success rate (scipy's ``binomtest(...).proportion_ci(method='wilson')``)."""
    if episodes < 1 or not 0 <= successes <= episodes:
        raise ValueError(f"successes={successes}, episodes={episodes}: need 0 <= successes <= episodes, episodes >= 1")
    ci = stats.binomtest(int(successes), int(episodes)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)
