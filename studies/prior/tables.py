"""Pretrained against random-init weights of the embedded default model, each at its own learning rate (raw
data studies/prior/data/prior_ten_seeds/): the learning-rate pick and the 10-seed comparison."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from doctables.common import TARGET, archived_runs, claim_status, est, poi, reached_cells, table

# experiments/prior_study.py runs seeds range(10) per model at its picked rate (a script, not a plan file)
PRIOR_PLANNED = 10

PRIOR = "studies/prior/data/prior_ten_seeds"
PRIOR_MODELS = {"tiny-household": "pretrained", "tiny-household-random": "random init"}


def prior_pick(root: Path) -> str:
    """The learning-rate pick of the pretrained-vs-random-init study: 3 pick seeds (100-102) per model and rate."""
    df = archived_runs(root / PRIOR / "pick")
    if df.empty:
        return "Not run yet: `python experiments/prior_study.py`.\n"
    rows = []
    for (model, lr), runs in df.groupby(["model", "policy_lr"]):
        rows.append(
            [
                f"{PRIOR_MODELS.get(model, model)} ({model})",
                f"{lr:g}",
                len(runs),
                ", ".join(f"{x:.2f}" for x in runs.sort_values("seed").sampled_success),
                f"{runs.sampled_success.mean():.3f}",
                f"{runs.sampled_return.mean():.3f}",
            ]
        )
    header = [
        "model",
        "policy lr",
        "pick seeds",
        "sampled success per seed",
        "mean sampled success",
        "mean sampled return / optimal (tie-break)",
    ]
    return table(header, rows)


def prior_final(root: Path) -> str:
    """Pretrained against random-init weights on Tomato Salad, 10 seeds each at the rate each model picked."""
    df = archived_runs(root / PRIOR)
    if df.empty:
        return "Not run yet: `python experiments/prior_study.py`.\n"
    rows, by_model = [], {}
    for model, runs in df.groupby("model"):
        runs = runs.sort_values("seed")
        by_model[model] = runs
        rows.append(
            [
                f"{PRIOR_MODELS.get(model, model)} ({model})",
                ", ".join(sorted({f"{x:g}" for x in runs.policy_lr})),
                len(runs),
                est(runs.sampled_success),
                est(runs.sampled_return),
                *reached_cells(runs),
            ]
        )
    header = [
        "model",
        "policy lr (picked)",
        "seeds",
        "sampled success, IQM [95% CI]",
        "sampled return / optimal, IQM [95% CI]",
        f"greedy reaches {TARGET:.0%} of optimal",
        "steps to it (median)",
    ]
    out = table(header, rows)
    if set(by_model) == set(PRIOR_MODELS):
        a, b = by_model["tiny-household"], by_model["tiny-household-random"]
        x, y = list(a.sampled_return), list(b.sampled_return)
        e = poi(x, y)
        n = (PRIOR_PLANNED, PRIOR_PLANNED)
        out += f"\nP(pretrained > random init), sampled return / optimal: {e.text()}, {claim_status(e, x, y, n)}.\n"
    return out


TABLES: dict[str, Callable[[Path], str]] = {
    "prior_pick": prior_pick,
    "prior_final": prior_final,
}
