"""What remains of the prior (studies/exploration/README.md, "Screening on the default model"): a mechanism must not
buy exploration by throwing the pretrained weights' advantage away, so the random-init default model runs with the
same settings, the baseline and the chosen mechanism, and "pretrained > random init" is read per task with and
without it. Raw data: studies/exploration/data/exploration_screening_random/<task>/<arm>/, beside the pretrained
arms of the screening."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from doctables.common import archived_runs, est, poi, short_cpu, status, table

from studies.exploration.tables import SCREENING, SCREENING_SEEDS, SCREENING_TASKS

RANDOM = "studies/exploration/data/exploration_screening_random"


def random_arms(root: Path, task: str) -> list[str]:
    """The baseline first, then every mechanism archived on the random-init model for ``task``."""
    folder = root / RANDOM / task
    arms = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return ["baseline", *(a for a in arms if a != "baseline")]


def prior_row(root: Path, task: str, arm: str) -> list[str]:
    pretrained = archived_runs(root / SCREENING / task / arm)
    random_init = archived_runs(root / RANDOM / task / arm)
    n, m = len(pretrained), len(random_init)
    cells = [f"{est(pretrained.sampled_success, 'mean')} ({n})" if n else f"- (0 of {SCREENING_SEEDS})",
             f"{est(random_init.sampled_success, 'mean')} ({m})" if m else f"- (0 of {SCREENING_SEEDS})"]  # fmt: skip
    if not (n and m):
        return [*cells, "", "not run yet", ""]
    e = poi(pretrained.sampled_success, random_init.sampled_success)
    complete = min(n, m) >= SCREENING_SEEDS
    verdict = status(e, SCREENING_SEEDS) if complete else f"interim, {min(n, m)} of {SCREENING_SEEDS} seeds"
    return [*cells, e.text(), verdict, short_cpu(random_init.cpu)]


def exploration_prior(root: Path) -> str:
    """Per task, pretrained against random init: the baseline, and each mechanism run on both models."""
    rows = []
    for task in SCREENING_TASKS:
        for i, arm in enumerate(random_arms(root, task)):
            rows.append([task.replace("_", " ") if i == 0 else "", arm.replace("_", " "), *prior_row(root, task, arm)])
    header = [
        "task",
        "arm",
        "pretrained: final sampled success, mean [95% CI] (seeds)",
        "random init: the same (seeds)",
        "P(pretrained > random init)",
        f"pretrained > random init (screening, {SCREENING_SEEDS} seeds)",
        "random init: CPU (one thread)",
    ]
    return table(header, rows)


TABLES: dict[str, Callable[[Path], str]] = {"exploration_prior": exploration_prior}
