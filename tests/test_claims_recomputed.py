"""An independent check of the claims table: a few of its SmolLM2 claims rebuilt from the raw summaries and
evaluation CSVs under docs/data/ with numpy and scipy alone (nothing imported from the suite), compared with the
numbers docs/RESULTS.md prints, so that a changed estimator or a changed datum fails here."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "studies/smollm2_cpu/data/smollm2_cpu"
RESAMPLES, SEED = 2000, 0  # docs/RESULTS.md: 2,000 resamples, seeded


def sampled_success(task: str, arm: str) -> list[float]:
    """Each seed's final sampled success rate, in seed order."""
    runs = [json.loads(p.read_text()) for p in (DATA / task / arm).glob("*/summary.json")]
    return [r["sampled/success_rate"] for r in sorted(runs, key=lambda r: r["seed"])]


def pairs_above(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(a run of x > a run of y), ties half, over the last axis of each (a Mann-Whitney U / (n m))."""
    diff = x[..., :, None] - y[..., None, :]
    return (diff > 0).mean(axis=(-1, -2)) + 0.5 * (diff == 0).mean(axis=(-1, -2))


def stratified(x: list[list[float]], y: list[list[float]]) -> tuple[float, float, float]:
    """P(X > Y) averaged over tasks, each task's seeds resampled on their own (scipy's bootstrap, percentile)."""
    k = len(x)
    point = float(np.mean([pairs_above(np.array(a), np.array(b)) for a, b in zip(x, y)]))
    result = stats.bootstrap(
        [np.array(s) for s in x + y],
        lambda *s, axis=-1: np.mean([pairs_above(s[i], s[k + i]) for i in range(k)], axis=0),
        n_resamples=RESAMPLES,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(SEED),
    )
    return point, *result.confidence_interval


def claims_row(claim: str) -> str:
    text = (ROOT / "docs/RESULTS.md").read_text()
    block = text[text.index("<!-- table: papers_claims -->") : text.index("<!-- /table -->")]
    (row,) = [line for line in block.splitlines() if line.startswith(f"| {claim} |")]
    return row.split(" | ")[-1]


def printed(point: float, low: float, high: float) -> str:
    return f"{point:.2f} [{low:.2f}, {high:.2f}]"


@pytest.mark.parametrize(
    "claim, arm, other",
    [
        ("TWOSOME (word) better than SayCan", "word", "saycan"),
        ("TWOSOME (word) better than the untrained LLM", "word", "untrained_word"),
        ("word > none", "word", "none"),
    ],
)
def test_a_smollm2_claim_recomputed_from_the_summaries(claim, arm, other):
    tasks = ("food_preparation", "tomato_salad")
    x, y = [sampled_success(t, arm) for t in tasks], [sampled_success(t, other) for t in tasks]
    assert all(len(s) == 10 for s in x + y)
    assert claims_row(claim).startswith(printed(*stratified(x, y)) + ", ")


def test_the_unseen_task_claim_recomputed_drawing_agents_with_all_their_tasks():
    def matrix(arm: str) -> np.ndarray:
        rows = [r for p in sorted((DATA / "food_preparation" / arm).glob("*/unseen/generalization.csv"))
                for r in csv.DictReader(p.open())]  # fmt: skip
        tasks = sorted({r["task"] for r in rows if not r["task"].endswith("FoodPreparation-v0")})
        seeds = sorted({int(r["seed"]) for r in rows})
        cell = {(int(r["seed"]), r["task"]): float(r["success_rate"]) for r in rows}
        return np.array([[cell[s, t] for t in tasks] for s in seeds])

    a, b = matrix("word"), matrix("untrained_word")
    point = np.mean([pairs_above(a[:, t], b[:, t]) for t in range(a.shape[1])])
    rng = np.random.default_rng(SEED)
    xa = a[rng.integers(0, len(a), (RESAMPLES, len(a)))]  # resamples x agents x tasks
    xb = b[rng.integers(0, len(b), (RESAMPLES, len(b)))]
    draws = pairs_above(np.moveaxis(xa, 2, 1), np.moveaxis(xb, 2, 1)).mean(axis=1)  # per resample, over tasks
    low, high = np.percentile(draws, [2.5, 97.5])
    cell = claims_row("generalization to unseen tasks (trained > untrained twin, sampled success on the other tasks)")
    assert cell.startswith(printed(point, low, high) + ", **holds**; 10 other tasks")


BESIDE = "; beside it, against random init with summed scores (a control that cannot move): "


def test_the_glam_claim_reads_the_control_that_moves_and_shows_the_summed_one_beside():
    pre = sampled_success("glam_goto", "pretrained")
    token, summed = sampled_success("glam_goto", "random_token"), sampled_success("glam_goto", "random")
    cell = claims_row("GLAM: pretrained >> random init")
    fair, _, beside = cell.partition(BESIDE)

    assert beside.startswith(printed(*stratified([pre], [summed])) + ", ")
    if len(pre) < 10:  # the plan's 10 pretrained seeds (studies/smollm2_cpu/plan.yaml)
        assert f"interim, {len(pre)} of 10 vs {len(summed)} of 5" in beside
    if not token:
        assert fair.startswith("not run yet against random init with token-normalized scores (0 of 10 seeds")
    elif len(token) == 1:  # one seed: the point alone, no interval to bootstrap
        assert fair.startswith(f"{pairs_above(np.array(pre), np.array(token)):.2f} (n=1: no interval), ")
    else:
        assert fair.startswith(printed(*stratified([pre], [token])) + ", ")
        if min(len(pre), len(token)) < 10:
            assert "interim" in fair
