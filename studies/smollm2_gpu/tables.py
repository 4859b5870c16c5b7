"""A real pretrained LLM, SmolLM2-135M (docs/RESULTS.md, 3a-3d): the zero-shot prior of the untrained models,
training on a GPU at 3 seeds (raw data studies/smollm2_gpu/data/smollm2_gpu/), one trained agent on unseen tasks, and
language
retention after training."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from doctables.common import TARGET, archived_runs, count, count_rows, est, successes, table

# --- SmolLM2 on a GPU, 3 seeds --------------------------------------------------------------------------------------
SMOL = "studies/smollm2_gpu/data/smollm2_gpu"
SMOL_ROWS = [
    ("twosome", "word", "TWOSOME (word)"),
    ("twosome", "token", "TWOSOME (token)"),
    ("twosome", "none", "TWOSOME (none)"),
    ("saycan", "word", "SayCan (word)"),
]


def smollm2_gpu(prefix: str) -> Callable[[Path], str]:
    def make(root: Path) -> str:
        df = archived_runs(root / SMOL)
        df = df[df.run_name.str.startswith(prefix)]
        rows = []
        for agent, norm, label in SMOL_ROWS:
            runs = df[(df.agent == agent) & (df.norm == norm)].sort_values("seed")
            reached = runs.steps_to_target.dropna()
            rows.append(
                [
                    label,
                    ", ".join(str(s) for s in runs.seed),
                    ", ".join(f"{g:.3f}" for g in runs.greedy),
                    est(runs.greedy),
                    f"{len(reached)}/{len(runs)}",
                    ", ".join(f"{x:,.0f}" for x in reached) or "never",
                    "; ".join(training_history(m) for m in runs.metrics),
                ]
            )
        header = [
            "agent",
            "seeds",
            "final greedy return / optimal, per seed",
            "IQM [95% CI]",
            f"greedy reaches {TARGET:.0%} of optimal",
            "at steps",
            "per seed: successful training episodes (first-last step), policy entropy max -> last",
        ]
        return table(header, rows)

    return make


def training_history(metrics: pd.DataFrame) -> str:
    """What a run's training episodes did: how many succeeded and when, and how far its policy entropy fell."""
    m = metrics.dropna(subset=["charts/episodes"])
    won = m[m["charts/success_rate"] > 0]
    k = sum(successes(r, n) for r, n in zip(won["charts/success_rate"], won["charts/episodes"]))
    when = f" ({won.global_step.min():,.0f}-{won.global_step.max():,.0f})" if k else ""
    entropy = metrics["losses/entropy"].dropna()
    return f"{k}{when}, entropy {entropy.max():.2f} -> {entropy.iloc[-1]:.2g}"


def smollm2_generalization(root: Path) -> str:
    """One trained SmolLM2 agent (seed 2) and its untrained twin on the Food Preparation suite, 50 episodes per cell."""
    df = count_rows(root / "studies/smollm2_gpu/data/generalization_smollm2_food_preparation_raw.csv")
    rows = []
    for task, cells in df.groupby("task", sort=False):
        by = {r.agent: count(r.k, int(r.episodes)) for r in cells.itertuples()}
        name = task.split("/")[-1].removesuffix("-v0").replace("VirtualHome-", "")
        if task == cells.train_task.iloc[0]:
            name += " (trained on)"
        rows.append([name, by.get("twosome", "n/a"), by.get("zeroshot", "n/a")])
    return table(["task", "SmolLM2 TWOSOME (word, seed 2) [Wilson 95%]", "untrained SmolLM2 [Wilson 95%]"], rows)


RETENTION = [  # (task, metric, label, digits)
    ("twosome_household_mc", "acc", "household MC acc", 3),
    ("twosome_household_ppl", "word_perplexity", "household word perplexity", 1),
    ("twosome_english_ppl", "word_perplexity", "English word perplexity", 0),
    ("twosome_english_ppl", "bits_per_byte", "English bits per byte", 2),
]


def smollm2_retention(root: Path) -> str:
    records = pd.DataFrame(json.loads((root / "studies/smollm2_gpu/data/retention_smollm2.json").read_text()))
    rows = []
    for _, rec in records.groupby("run", sort=False):
        cells = []
        for task, metric, _, digits in RETENTION:
            pick = rec[(rec.task == task) & (rec.metric == metric)].set_index("which")["value"]
            before, after = pick["before"], pick["after"]
            change = f" ({after / before - 1:+.0%})" if metric != "acc" else ""
            cells.append(f"{before:.{digits}f} -> {after:.{digits}f}{change}")
        env = rec.env_id.iloc[0].split("/")[-1].removesuffix("-v0")
        rows.append([f"{env}, {rec.norm.iloc[0]}, seed {rec.seed.iloc[0]}", *cells])
    return table(["run", *[f"{label} before -> after" for *_, label, _ in RETENTION]], rows)


# --- zero-shot prior: untrained models, every task ------------------------------------------------------------------
def zero_shot(root: Path) -> str:
    df = count_rows(root / "studies/smollm2_gpu/data/zero_shot_prior.csv")
    tasks = [
        "Overcooked-TomatoSalad",
        "Overcooked-TomatoLettuceSalad",
        "VirtualHome-FoodPreparation",
        "VirtualHome-Entertainment",
        "BabyAI-GoTo",
    ]
    columns = [
        ("random", "-", "-", "uniform random"),
        ("zeroshot", "tiny-household", "word", "household model, word"),
        ("zeroshot", "tiny-household", "none", "household model, none"),
        ("zeroshot", "smollm2-135m", "word", "SmolLM2, word"),
        ("zeroshot", "smollm2-135m", "token", "SmolLM2, token"),
        ("zeroshot", "smollm2-135m", "none", "SmolLM2, none"),
    ]
    rows = []
    for task in tasks:
        cells = []
        for agent, model, norm, _ in columns:
            hit = df[(df.task == task) & (df.agent == agent) & (df.model == model) & (df.norm == norm)]
            cells.append(count(int(hit.k.iloc[0]), int(hit.episodes.iloc[0])) if len(hit) else "not run")
        rows.append([task.split("-", 1)[1], *cells])
    return table(["task", *[c[-1] for c in columns]], rows)


TABLES: dict[str, Callable[[Path], str]] = {
    "smollm2_tomato_salad": smollm2_gpu("smol-ts-"),
    "smollm2_food_preparation": smollm2_gpu("smol-fp-"),
    "smollm2_generalization": smollm2_generalization,
    "smollm2_retention": smollm2_retention,
    "zero_shot": zero_shot,
}
