"""The screening's decision (studies/exploration/README.md, "Screening on the default model"), computed by the rule
written there before its data: which mechanism, if any, goes to the real LLM. Read once, when every arm of every
task has its 5 seeds; before, the rule's inputs are shown and the decision reads "pending"."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
from doctables.common import archived_runs, exploration_at, table

from studies.exploration.tables import SCREENING, SCREENING_SEEDS, SCREENING_TASKS

MECHANISMS = {  # the rule's tie order: the cheaper first
    "calibration": "calibration",
    "entropy_floor": "entropy floor",
    "uniform_mix": "uniform mixture",
    "prior_kl": "KL to the untrained policy",
}
KEEP_MARGIN = 0.10  # (1): on Tomato Salad a mechanism's mean is at least the baseline's minus this
EPS = 1e-9  # means of 0.01 steps: "at least" must not fail on a rounding error
SCORED = ("entertainment", "textworld")  # (2): the tasks where the real LLM fails


def screening_means(root: Path) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], int]]:
    """(task, arm) -> mean final sampled success over its archived seeds, and how many seeds that is."""
    means, seeds = {}, {}
    for task in SCREENING_TASKS:
        for arm in ("baseline", *MECHANISMS):
            runs = archived_runs(root / SCREENING / task / arm)
            seeds[task, arm] = len(runs)
            means[task, arm] = float(runs.sampled_success.mean()) if len(runs) else np.nan
    return means, seeds


def optimal_prob(root: Path, arm: str) -> float:
    """(4)'s fallback: the mean over seeds of explore/optimal_prob_mean in the last quarter of Entertainment."""
    runs = archived_runs(root / SCREENING / "entertainment" / arm)
    values = [exploration_at(m, "optimal_prob_mean", "last") for m in runs.metrics] if "metrics" in runs else []
    return float(np.nanmean(values)) if values else np.nan


def kept(means: dict[tuple[str, str], float], arm: str) -> bool:
    """Rule (1): on Tomato Salad the mechanism keeps what the prior already does, within the margin."""
    return means["tomato_salad", arm] >= means["tomato_salad", "baseline"] - KEEP_MARGIN - EPS


def score(means: dict[tuple[str, str], float], arm: str) -> float:
    """Rule (2): the mean, over the tasks where the real LLM fails, of the mechanism's mean minus the baseline's."""
    return float(np.mean([means[t, arm] - means[t, "baseline"] for t in SCORED]))


def decide(means: dict[tuple[str, str], float], fallback: dict[str, float]) -> tuple[str | None, str]:
    """The rule on complete data: (the chosen mechanism or None, why)."""
    eligible = [a for a in MECHANISMS if kept(means, a)]
    scores = {a: score(means, a) for a in eligible}
    positive = [a for a in eligible if scores[a] > 0]
    if positive:
        best = max(scores[a] for a in positive)
        chosen = next(a for a in MECHANISMS if a in positive and np.isclose(scores[a], best, rtol=0, atol=EPS))
        return chosen, "the largest positive score among the eligible (rule 2; ties by rule 3)"
    if not eligible:
        return None, "no mechanism keeps Tomato Salad within the margin: none goes to the real LLM"
    chosen = max(eligible, key=lambda a: (fallback[a], -list(MECHANISMS).index(a)))
    return chosen, "no eligible mechanism scores above 0: none is chosen; the real LLM takes this one (rule 4)"


def determined(
    means: dict[tuple[str, str], float], seeds: dict[tuple[str, str], int], fallback: dict[str, float]
) -> str | None:
    """Before the data is complete: the mechanism the rule chooses under every outcome of the missing seeds (each
    seed's success anywhere in [0, 1]) by rule 2, or None where the outcome could still change it. Once Tomato Salad
    has its seeds, eligibility is fixed and the region where rule 2 chooses a given mechanism is an intersection of
    half-spaces in the arms' means (positive, and above the others, the cheaper by more than the tie tolerance), so
    the box of possible means lies in it when all its corners do: checking the corners is exact. Rule 4 (its
    fallback reads Entertainment's exploration) and an incomplete Tomato Salad are never called early."""
    if any(seeds["tomato_salad", arm] < SCREENING_SEEDS for arm in ("baseline", *MECHANISMS)):
        return None
    ranges = {}
    for cell, n in seeds.items():
        known = 0.0 if n == 0 else means[cell] * n
        missing = max(SCREENING_SEEDS - n, 0)
        ranges[cell] = (known / SCREENING_SEEDS, (known + missing) / SCREENING_SEEDS) if missing else (means[cell],)
    cells = list(ranges)
    outcomes = {decide(dict(zip(cells, corner)), fallback) for corner in itertools.product(*ranges.values())}
    chosen = {arm for arm, why in outcomes if why.startswith("the largest")}
    return chosen.pop() if len(outcomes) == 1 and chosen else None


def exploration_decision(root: Path) -> str:
    """Per mechanism, the rule's inputs (each task's mean minus the baseline's), eligibility and score; the
    decision only once every arm of every task has its seeds."""
    means, seeds = screening_means(root)
    want = len(SCREENING_TASKS) * (1 + len(MECHANISMS)) * SCREENING_SEEDS
    have = sum(min(n, SCREENING_SEEDS) for n in seeds.values())
    complete = have == want
    fallback = {a: optimal_prob(root, a) for a in MECHANISMS}
    chosen, why = decide(means, fallback) if complete else (None, "")

    def diff(task: str, arm: str) -> str:
        n = seeds[task, arm]
        if not n or not seeds[task, "baseline"]:
            return f"- (0 of {SCREENING_SEEDS})"
        text = signed(means[task, arm] - means[task, "baseline"])
        return text if min(n, seeds[task, "baseline"]) >= SCREENING_SEEDS else f"{text} ({n} of {SCREENING_SEEDS})"

    rows = []
    for arm, label in MECHANISMS.items():
        ts_complete = min(seeds["tomato_salad", arm], seeds["tomato_salad", "baseline"]) >= SCREENING_SEEDS
        ok = kept(means, arm)
        verdict = "pending" if not complete else ""
        if complete and arm == chosen:
            verdict = "**chosen**" if why.startswith("the largest") else "**taken by rule 4**"
        rows.append([
            label, diff("tomato_salad", arm), ("yes" if ok else "no") if ts_complete else "pending",
            *(diff(t, arm) for t in SCORED), signed(score(means, arm)) if complete else "pending",
            f"{fallback[arm]:.2f}" if not np.isnan(fallback[arm]) else "n/a", verdict,
        ])  # fmt: skip
    header = ["mechanism", "Tomato Salad: mean - baseline's", f"eligible (>= -{KEEP_MARGIN:.2f})",
              "Entertainment: mean - baseline's", "TextWorld: mean - baseline's",
              "score (mean of the two)", "Entertainment: optimal action's probability, last quarter",
              "decision"]  # fmt: skip
    status = f"Decision: {label_of(chosen)}; {why}." if complete else f"Decision pending: {have} of {want} runs."
    early = None if complete else determined(means, seeds, fallback)
    if early:
        status += (
            f" Already determined: the rule chooses {label_of(early)} under every outcome of the {want - have} missing"
            " runs (each seed's success anywhere in [0, 1]), so the real-LLM campaign can start with it; the"
            f" decision is read at {want} of {want}."
        )
    return table(header, rows) + "\n" + status + "\n"


def signed(x: float) -> str:
    return "0.00" if round(x, 2) == 0 else f"{x:+.2f}"


def label_of(arm: str | None) -> str:
    return MECHANISMS[arm] if arm else "none"


TABLES: dict[str, Callable[[Path], str]] = {"exploration_decision": exploration_decision}
