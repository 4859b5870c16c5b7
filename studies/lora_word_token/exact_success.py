"""The exact probability that a sampled policy succeeds (analysis/exact_success.py; raw data
studies/lora_word_token/data/exact_success/) for the runs of word against token normalization (docs/RESULTS.md, 3f)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from doctables.common import archived_runs, successes, table

from studies.lora_word_token.tables import WORD_TOKEN_TASKS
from twosome.evaluation.statistics import wilson

EXACT_SUCCESS = "studies/lora_word_token/data/exact_success"
EXACT_EPISODES = 100  # "in 100 episodes": about the 5,000 steps by which 3f's failed seeds had collapsed


def episodes_before_first_success(metrics: pd.DataFrame) -> str:
    """Training episodes logged before the first log row with a success ("never (N)": none in N episodes)."""
    m = metrics.dropna(subset=["charts/episodes"])
    hit = m["charts/success_rate"].to_numpy() > 0
    if not hit.any():
        return f"never ({m['charts/episodes'].sum():.0f})"
    return f"{m['charts/episodes'].to_numpy()[: hit.argmax()].sum():.0f}"


def exact_success(root: Path) -> str:
    """The exact probability that a policy sampled over the task succeeds within the horizon
    (analysis/exact_success.py: every reachable state scored once, backward induction), for the untrained policy of
    each normalization in 3f, and for each trained seed beside its 100 sampled final episodes (an instrument check:
    the exact value should lie in the sampled count's Wilson interval about 95% of the time)."""
    untrained_csv, trained_csv = (root / EXACT_SUCCESS / f"word_token_{m}.csv" for m in ("untrained", "trained"))
    if not untrained_csv.exists():
        return "Not run yet: `python analysis/exact_success.py RUN_DIR ... --untrained --out ...` (3f).\n"
    untrained = pd.read_csv(untrained_csv)
    trained = pd.read_csv(trained_csv) if trained_csv.exists() else pd.DataFrame(columns=untrained.columns)
    rows = []
    for task, name in WORD_TOKEN_TASKS:
        for norm in ("word", "token"):
            runs = archived_runs(root / "studies/lora_word_token/data/word_token" / task / norm)
            u = untrained[untrained.run_name.isin(runs.run_name)] if len(runs) else untrained.iloc[:0]
            if u.empty:
                continue
            runs = runs.sort_values("seed")
            if u.p_success.nunique() != 1:
                raise ValueError(f"{untrained_csv}: the untrained {task} {norm} policies differ: {list(u.p_success)}")
            p = float(u.p_success.iloc[0])
            first = "; ".join(
                f"s{seed}: {episodes_before_first_success(m)}" for seed, m in zip(runs.seed, runs.metrics)
            )
            runs = runs.set_index("run_name")
            t = trained[trained.run_name.isin(runs.index)].sort_values("seed")
            per_seed, inside = [], 0
            for run_name, seed, exact in zip(t.run_name, t.seed, t.p_success):
                n = int(runs.sampled_episodes[run_name])
                k = successes(runs.sampled_success[run_name], n)
                lo, hi = wilson(k, n)
                inside += lo <= exact <= hi
                per_seed.append(f"s{seed}: {exact:.3g} ({k}/{n})")
            rows.append(
                [
                    name,
                    norm,
                    f"{p:.3g} (1 in {1 / p:,.0f})",
                    f"{1 - (1 - p) ** EXACT_EPISODES:.3g}",
                    first,
                    "; ".join(per_seed) or "not computed",
                    f"{inside}/{len(t)}" if len(t) else "",
                ]
            )
    header = [
        "task",
        "norm",
        "untrained: P(success within 50 steps), exact",
        f"untrained: P(a success in {EXACT_EPISODES} episodes)",
        "training episodes before the first success, per seed",
        "trained seeds: P(success), exact (sampled successes)",
        "exact value inside the sampled Wilson 95%",
    ]
    return table(header, rows)


TABLES: dict[str, Callable[[Path], str]] = {
    "exact_success": exact_success,
}
