"""SmolLM2-135M TWOSOME with LoRA (docs/RESULTS.md, 3e and 3f): which blocks LoRA must adapt, the learning check
behind the CPU default (raw data studies/lora_word_token/data/lora_check/), and word against token normalization where
SmolLM2
splits the words (studies/lora_word_token/data/word_token/)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from doctables.common import (
    LORA_TARGET,
    archived_runs,
    claim_status,
    count,
    est,
    planned_seeds,
    poi,
    steps_to_target,
    successes,
    table,
)

from twosome.evaluation.statistics import interval

LORA_PLAN = "studies/lora_word_token/plan_lora_check.yaml"
WORD_TOKEN_PLAN = "studies/lora_word_token/plan_word_token.yaml"
LORA_ARMS = [("all", "every block (30)"), ("top15", "top 15 blocks"), ("top8", "top 8 blocks")]


def lora_check(root: Path) -> str:
    """Which blocks LoRA must adapt, the learning check: SmolLM2 TWOSOME (word) on Tomato Salad with LoRA on every
    block, the top 15, the top 8. Steps to 95% of optimal: a seed that never gets there counts as the run's budget (a
    lower bound). Speed: env steps per second of a run's wall time (every process of a resumed run, its final
    evaluation included), the same reading as the CPU campaign's tables."""
    rows, arms = [], {}
    for arm, label in LORA_ARMS:
        df = archived_runs(root / "studies/lora_word_token/data/lora_check" / arm)
        if df.empty:
            continue
        df = df.sort_values("seed")
        steps, censored = steps_to_target(df)
        arms[arm] = (df, censored)
        sps = df.env_steps / df.wall_seconds  # over the run's whole wall time, as the CPU campaign's tables
        rows.append(
            [
                label,
                len(df),
                f"{sum(not np.isnan(x) for x in steps)}/{len(df)}",
                interval(censored).text(digits=0),
                est(df.sampled_success),
                est(df.sampled_return),
                f"{np.median(sps):.1f}",
                f"{df.wall_seconds.median() / 60:.1f}",
            ]
        )
    if not rows:
        return "Not run yet: `python experiments/campaign.py local studies/lora_word_token/plan_lora_check.yaml`.\n"
    header = [
        "LoRA on",
        "seeds",
        f"reach {LORA_TARGET:.0%} of optimal",
        "steps to it, IQM [95% CI]",
        "final sampled success, IQM [95% CI]",
        "final sampled return / optimal, IQM [95% CI]",
        "env steps/s (median)",
        "minutes per run (median)",
    ]
    out = table(header, rows)
    claims = []
    if "all" in arms:
        for arm, label in LORA_ARMS[1:]:
            if arm not in arms:
                continue
            (a, a_steps), (b, b_steps) = arms[arm], arms["all"]
            n = tuple(planned_seeds(root, LORA_PLAN, archive=f"lora_check/{x}") for x in (arm, "all"))
            xs, ys = [-x for x in a_steps], [-x for x in b_steps]
            faster = poi(xs, ys)
            better = poi(a.sampled_return, b.sampled_return)
            claims.append([f"{label} learns faster than every block", faster.text(), claim_status(faster, xs, ys, n)])
            claims.append([f"{label} ends better than every block", better.text(),
                           claim_status(better, list(a.sampled_return), list(b.sampled_return), n)])  # fmt: skip
    if claims:
        out += "\n" + table(["comparison", "P(improvement) [95% CI]", "status"], claims)
    return out


WORD_TOKEN_TASKS = [("food_preparation", "Food Preparation"), ("entertainment", "Entertainment")]


def word_token(root: Path) -> str:
    """Word against token normalization: SmolLM2 TWOSOME at its default LoRA blocks, word against token normalization,
    on the tasks where SmolLM2 splits action words into several tokens. Steps to 95% of optimal as in lora_check (a seed
    that never gets there counts as its budget); each seed's final sampled success with its Wilson interval over its
    episodes."""
    rows, claims = [], []
    for task, name in WORD_TOKEN_TASKS:
        arms = {}
        for norm in ("word", "token"):
            df = archived_runs(root / "studies/lora_word_token/data/word_token" / task / norm)
            if df.empty:
                continue
            df = df.sort_values("seed")
            steps, censored = steps_to_target(df)
            arms[norm] = (df, censored)
            per_seed = "; ".join(
                f"s{seed}: {count(successes(rate, n), int(n))}"
                for seed, rate, n in zip(df.seed, df.sampled_success, df.sampled_episodes)
            )
            rows.append(
                [
                    name,
                    norm,
                    len(df),
                    f"{sum(not np.isnan(x) for x in steps)}/{len(df)}",
                    interval(censored).text(digits=0),
                    est(df.sampled_success),
                    est(df.sampled_return),
                    per_seed,
                ]
            )
        if len(arms) == 2:
            (w, w_steps), (t, t_steps) = arms["word"], arms["token"]
            n = tuple(planned_seeds(root, WORD_TOKEN_PLAN, archive=f"word_token/{task}/{x}") for x in ("word", "token"))
            xs, ys = [-x for x in w_steps], [-x for x in t_steps]
            faster = poi(xs, ys)
            better = poi(w.sampled_success, t.sampled_success)
            claims.append([f"{name}: word learns faster than token", faster.text(), claim_status(faster, xs, ys, n)])
            claims.append([f"{name}: word ends with more sampled success than token", better.text(),
                           claim_status(better, list(w.sampled_success), list(t.sampled_success), n)])  # fmt: skip
    if not rows:
        return "Not run yet: `python experiments/campaign.py local studies/lora_word_token/plan_word_token.yaml`.\n"
    header = [
        "task",
        "norm",
        "seeds",
        f"reach {LORA_TARGET:.0%} of optimal",
        "steps to it, IQM [95% CI]",
        "final sampled success, IQM [95% CI]",
        "final sampled return / optimal, IQM [95% CI]",
        "per seed: sampled successes [Wilson 95%]",
    ]
    out = table(header, rows)
    if claims:
        out += "\n" + table(["comparison", "P(improvement) [95% CI]", "status"], claims)
    return out


TABLES: dict[str, Callable[[Path], str]] = {
    "lora_check": lora_check,
    "word_token": word_token,
}
