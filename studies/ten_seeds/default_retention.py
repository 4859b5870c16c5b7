"""Language retention of the embedded default model over seeds (studies/ten_seeds/plan_default_retention.yaml; raw data
studies/ten_seeds/data/default_retention/): the 10-seed comparison's TWOSOME (word) runs, rerun to keep their
adapters, each
adapter scored against its frozen base. The claim's metric is the household word perplexity, the default model's own
language: its English word perplexity is ~1e12 before any RL, so a change in it says nothing (shown beside)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from doctables.common import TEN_SEEDS, archived_runs, est, identical, retention_records, table

from twosome.evaluation.statistics import interval

STUDY = "studies/ten_seeds/data/default_retention"
TASKS = {"tomato_salad": "Tomato Salad", "food_preparation": "Food Preparation"}
CLAIM_MEASURE = ("twosome_household_ppl", "word_perplexity")
MEASURES = [(*CLAIM_MEASURE, "household word perplexity (the claim's metric)"),
            ("twosome_household_mc", "acc", "household MC accuracy"),
            ("twosome_english_ppl", "word_perplexity", "English word perplexity")]  # fmt: skip


def changes(records: pd.DataFrame, task: str, metric: str) -> pd.DataFrame:
    """Per seed: base, adapted and the change (perplexity relative to the base, accuracy as a difference)."""
    pick = records[(records.task == task) & (records.metric == metric)]
    if pick.empty:
        return pd.DataFrame(columns=["seed", "before", "after", "change"])
    wide = pick.pivot_table(index="seed", columns="which", values="value", aggfunc="first").dropna()
    ratio = metric.endswith("perplexity")
    wide["change"] = wide["after"] / wide["before"] - 1 if ratio else wide["after"] - wide["before"]
    return wide.reset_index()


def perplexity_changes(root: Path) -> dict[str, list[float]]:
    """Per task, each adapter's relative change on the claim's measure, in seed order."""
    out = {}
    for task in TASKS:
        records = retention_records(root / STUDY / task)
        out[task] = [] if records.empty else list(changes(records, *CLAIM_MEASURE).change)
    return out


def policy_lr(root: Path) -> str:
    """The policy learning rate of the rerun adapters (the 10-seed comparison's)."""
    rates = {f"{lr:.0e}" for task in TASKS for lr in archived_runs(root / STUDY / task).get("policy_lr", [])}
    return ", ".join(sorted(rate.replace("e-0", "e-") for rate in rates))


def default_retention(root: Path) -> str:
    """Per task and measure: the base, the adapted models and the change over seeds (IQM [95% CI])."""
    rows = []
    for task, label in TASKS.items():
        records = retention_records(root / STUDY / task)
        if records.empty:
            continue
        for rtask, metric, measure in MEASURES:
            per_seed = changes(records, rtask, metric)
            if per_seed.empty:
                continue
            base = " / ".join(dict.fromkeys(f"{b:.3g}" for b in per_seed.before))  # one value: the same base
            rows.append([label, measure, len(per_seed), base, significant(per_seed.after), est(per_seed.change)])
    if not rows:
        return "Not run yet: studies/ten_seeds/plan_default_retention.yaml.\n"
    header = ["task", "measure", "adapters", "base", "adapted, IQM [95% CI]",
              "change (perplexity: relative), IQM [95% CI]"]  # fmt: skip
    return table(header, rows)


def default_retention_reruns(root: Path) -> str:
    """The reruns against the archived 10-seed runs they repeat: the same weights, and the same outcome."""
    rows = []
    for task, label in TASKS.items():
        rerun = archived_runs(root / STUDY / task)
        if rerun.empty:
            continue
        archived = archived_runs(root / TEN_SEEDS / task)
        archived = archived[(archived.agent == "twosome") & (archived.norm == "word") & archived.seed.isin(rerun.seed)]
        same = sum(identical(rerun[rerun.seed == s], archived[archived.seed == s]) for s in rerun.seed)
        pairs = rerun.merge(archived, on="seed", suffixes=("", "_archived"))
        equal = int((pairs.sampled_success == pairs.sampled_success_archived).sum())
        cpus = "; ".join(sorted({_cpu(root / STUDY / task, name) for name in rerun.run_name}))
        rows.append([label, len(rerun), f"{same}/{len(pairs)}", f"{equal}/{len(pairs)}",
                     est(pairs.sampled_success_archived), est(pairs.sampled_success), cpus])  # fmt: skip
    if not rows:
        return "Not run yet: studies/ten_seeds/plan_default_retention.yaml.\n"
    header = ["task", "reruns", "same trained weights (sha256)", "same final sampled success",
              "archived: final sampled success, IQM [95% CI]", "reruns: ...", "CPU of the reruns"]  # fmt: skip
    return table(header, rows)


def significant(values) -> str:
    """IQM [95% CI] to three significant digits: the measures span 0.4 (accuracy) to 1e12 (English perplexity)."""
    e = interval(list(values))
    if np.isnan(e.low):
        return f"{e.value:#.3g} (n={e.n}: no interval)"
    return f"{e.value:#.3g} [{e.low:#.3g}, {e.high:#.3g}]"


def _cpu(directory: Path, run_name: str) -> str:
    return json.loads((directory / run_name / "summary.json").read_text()).get("cpu") or "not recorded"


TABLES: dict[str, Callable[[Path], str]] = {
    "default_retention": default_retention,
    "default_retention_reruns": default_retention_reruns,
}
