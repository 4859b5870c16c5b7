"""Prompt sensitivity, measured: trained agents and their untrained twins in every wording
(docs/data/prompt_robustness_*.csv), and training on random paraphrases against training on the canonical wording
(docs/data/wording_training_*.csv)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from doctables.common import LATE, claim_status, est, planned_seeds, poi, table

from twosome.evaluation.statistics import wilson


def prompt_robustness(csv_name: str) -> Callable[[Path], str]:
    """Prompt sensitivity: success per wording and the sensitivity, each seed's spread across wordings (max - min,
    standard deviation). The seed is the unit for the trained runs (each run's 100 sampled episodes give one number);
    their untrained twins are one agent (the same base model, evaluated on the same episodes), so it is one row with a
    Wilson interval over its episodes, and its spread is one number."""

    def make(root: Path) -> str:
        path = root / "studies/misalignment/data" / csv_name
        if not path.exists():
            return f"Not run yet: docs/data/{csv_name} is missing.\n"
        df = pd.read_csv(path)
        df = df[df.applicable]
        order = list(dict.fromkeys(df.wording))
        trained, twin = df[df.agent == "twosome"], df[df.agent == "zeroshot"]
        twin = twin[twin.seed == twin.seed.min()]  # every twin is the same agent: one of them
        twin_label = "untrained twin" if len(trained) else f"untrained TWOSOME ({twin.model.iloc[0]}, zero-shot)"
        rows = []
        for wording in order:
            cell = [wording + (" (the original's)" if wording == "canonical" else "")]
            if len(trained):
                cell.append(est(trained[trained.wording == wording].sort_values("seed").success_rate))
            if len(twin):
                row = twin[twin.wording == wording].iloc[0]
                low, high = wilson(round(row.success_rate * row.episodes), int(row.episodes))
                cell.append(f"{row.success_rate:.2f} [{low:.2f}, {high:.2f}]")
            rows.append(cell)
        for name, fn in (("spread: max - min over wordings", np.ptp), ("spread: std over wordings", np.std)):
            cell = [f"**{name}**"]
            if len(trained):
                cell.append(est(trained.groupby("seed").success_rate.agg(fn)))
            if len(twin):
                cell.append(f"{fn(twin.success_rate.to_numpy()):.2f}")
            rows.append(cell)
        header = ["wording"]
        if len(trained):
            header.append(f"trained TWOSOME (word): success, IQM over {trained.seed.nunique()} seeds [95% CI]")
        if len(twin):
            header.append(f"{twin_label}: success over {int(twin.episodes.iloc[0])} episodes [Wilson 95%]")
        return table(header, rows)

    return make


PLAN = "studies/misalignment/plan_wording.yaml"
LEARNED = 0.5  # a seed "learned" its task at this sampled success on the canonical wording
MIN_SPREAD_SEEDS = 3  # fewer learning seeds in an arm: the spread comparison is not made
TRAINING_WORDINGS = 3  # env.wording=random draws from each family's first three paraphrases (envs/wording.py)


def wording_training(csv_name: str) -> Callable[[Path], str]:
    """Prompt sensitivity, narrowed by paraphrases? TWOSOME trained on the canonical wording against trained on a random
    training paraphrase per episode, each evaluated in every wording (100 sampled episodes per run and wording). Spread
    per seed over the wordings neither arm trained on (canonical counts: both were evaluated on it; the random arm never
    saw it alone but its paraphrases' actions are the canonical ones reworded) and over all of them."""

    def make(root: Path) -> str:
        path = root / "studies/misalignment/data" / csv_name
        if not path.exists():
            return f"Not run yet: docs/data/{csv_name} is missing.\n"
        df = pd.read_csv(path)
        df = df[df.applicable & (df.agent == "twosome")]
        order = list(dict.fromkeys(df.wording))
        paraphrases = [w for w in order if w not in ("canonical", "shuffled")]
        pool, held_out = paraphrases[:TRAINING_WORDINGS], paraphrases[TRAINING_WORDINGS:]
        arms = {"canonical": "trained on canonical", "random": "trained on random training paraphrases"}
        runs = {arm: df[df.train_wording == arm] for arm in arms}
        rows = []
        for wording in order:
            note = " (the original's)" if wording == "canonical" else ""
            note = " (training pool of random)" if wording in pool else " (held out)" if wording in held_out else note
            cell = [wording + note]
            for arm in arms:
                cell.append(est(runs[arm][runs[arm].wording == wording].sort_values("seed").success_rate))
            rows.append(cell)
        unseen = ["canonical", *held_out]
        # A spread means something only for a seed that learned its task: a seed that succeeds nowhere has none.
        # Learned: sampled success >= LEARNED on the canonical wording, on which both arms were evaluated.
        learned = {
            arm: set(runs[arm][(runs[arm].wording == "canonical") & (runs[arm].success_rate >= LEARNED)].seed)
            for arm in arms
        }
        spreads = {}
        for label, subset in (("held out and canonical", unseen), ("all wordings", order)):
            for name, fn in (("max - min", np.ptp), ("std", np.std)):
                cell = [f"spread ({name}), {label}, seeds that learned"]
                for arm in arms:
                    kept = runs[arm][runs[arm].wording.isin(subset) & runs[arm].seed.isin(learned[arm])]
                    per_seed = kept.groupby("seed").success_rate.agg(fn)
                    spreads[(arm, label, name)] = list(per_seed.sort_index())
                    cell.append(est(per_seed.sort_index()) if len(per_seed) else "no seed learned")
                rows.append(cell)
        seeds = {arm: runs[arm].seed.nunique() for arm in arms}
        header = [
            "wording",
            *(f"{label}: success, IQM over {seeds[arm]} seeds [95% CI]" for arm, label in arms.items()),
        ]
        out = table(header, rows)
        out += "\nSeeds that learned (sampled success >= {:g} on the canonical wording): {}.\n".format(
            LEARNED, "; ".join(f"{arms[arm]} {len(learned[arm])}/{seeds[arm]}" for arm in arms)
        )
        for arm in arms:
            per_seed = runs[arm].pivot_table(index="seed", columns="wording", values="success_rate")
            out += (
                f"\n{arms[arm].capitalize()}, sampled success per seed: "
                + "; ".join(
                    f"seed {seed}: " + ", ".join(f"{w} {row[w]:.2f}" for w in order)
                    for seed, row in per_seed.iterrows()
                )
                + ".\n"
            )
        task = csv_name.removeprefix("wording_training_").removesuffix(".csv")
        planned = tuple(planned_seeds(root, PLAN, archive=f"wording/{task}/{arm}") for arm in ("random", "canonical"))
        claims = []
        n_learned = min(len(v) for v in learned.values())
        for label in ("held out and canonical", "all wordings"):
            what = f"random paraphrases narrow the spread (max - min, {label}, seeds that learned)"
            if n_learned < MIN_SPREAD_SEEDS:
                claims.append([what, f"not made: {n_learned} seeds learned in one arm", "—"])
                continue
            xs, ys = ([-x for x in spreads[(arm, label, "max - min")]] for arm in ("random", "canonical"))
            narrower = poi(xs, ys)
            # read once both arms have their planned seeds; the spread is over the seeds of those that learned
            have = min(seeds.values())
            verdict = claim_status(narrower, xs, ys, (len(xs), len(ys)), seeds=n_learned)
            claims.append(
                [what, narrower.text(), verdict if have >= max(planned) else f"interim, {have} of {planned[0]}{LATE}"]
            )
        canonical = {arm: runs[arm][runs[arm].wording == "canonical"].sort_values("seed").success_rate for arm in arms}
        better = poi(canonical["random"], canonical["canonical"])
        verdict = claim_status(better, list(canonical["random"]), list(canonical["canonical"]), planned)
        claims.append(["random paraphrases succeed more on the canonical wording", better.text(), verdict])
        return out + "\n" + table(["comparison", "P(improvement) [95% CI]", "status"], claims)

    return make


TABLES: dict[str, Callable[[Path], str]] = {
    "prompt_robustness_tomato_salad": prompt_robustness("prompt_robustness_tomato_salad.csv"),
    "prompt_robustness_smollm2_tomato_salad": prompt_robustness("prompt_robustness_smollm2_tomato_salad.csv"),
    "wording_training_tomato_salad": wording_training("wording_training_tomato_salad.csv"),
    "wording_training_food_preparation": wording_training("wording_training_food_preparation.csv"),
}
