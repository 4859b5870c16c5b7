"""The tables of generated TextWorld cooking games (studies/textworld/plan.yaml; raw data
studies/textworld/data/textworld_cpu/): each arm's success on its training games and on TextWorld's unseen validation
and test
games, and the claims fixed in docs/RESULTS.md before the data came in. The seed is the unit: a run's episodes are
one success rate; IQM and mean over seeds with 95% stratified bootstrap intervals; comparisons as probabilities of
improvement, with a status only once both arms have the seeds their plan names."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from doctables.common import (
    claim_status,
    count,
    est,
    facts,
    finished,
    planned_seeds,
    short_cpu,
    successes,
    table,
    window_counts,
)

from twosome.evaluation.statistics import probability_of_improvement

CAMPAIGN = "studies/textworld/data/textworld_cpu"
PRIOR = "studies/textworld/data/textworld_prior"  # twosome.evaluation.walkthrough_prior, one CSV per policy
PLAN = "studies/textworld/plan.yaml"
PLANNED = 5  # seeds per arm (the plan's)
ARMS = {  # archive folder -> (model, agent, planned training steps), in the order of the comparison
    "tiny/word": ("default model", "TWOSOME (word)", 8192),
    "tiny/untrained": ("default model", "untrained TWOSOME (word)", 0),
    "drrn": ("none (from scratch)", "DRRN", 8192),
    "drrn_1024": ("none (from scratch)", "DRRN", 1024),
    "smollm2/word": ("SmolLM2-135M", "TWOSOME (word)", 1024),
    "smollm2/untrained": ("SmolLM2-135M", "untrained TWOSOME (word)", 0),
    # the exploration screening's mechanism on the real LLM (studies/smollm2_cpu/README.md, "The exploration
    # mechanism on SmolLM2"): the SmolLM2 arm's settings plus the mechanism
    "smollm2/word_mechanism": ("SmolLM2-135M", "TWOSOME (word) + mechanism", 1024),
}
TRAINING = "training"  # the final evaluation of the run itself: 100 sampled episodes on its own training games
SPLITS = {  # the generalization tool's tasks (twosome/evaluation/suites/textworld_cooking.yaml) -> column
    "twosome/TextWorld-CookingValid-v0": "validation",
    "twosome/TextWorld-CookingTest-v0": "test",
}
CLAIMS = [  # (trained arm, other arm, games, what it asks): fixed before the data, metric: sampled success
    ("tiny/word", "tiny/untrained", TRAINING, "training pays on the training games"),
    ("tiny/word", "tiny/untrained", "test", "training carries to unseen test games"),
    ("tiny/word", "drrn", "test", "the pretrained model's prior helps on unseen test games"),
    ("tiny/word", "drrn", TRAINING, "... and on the training games (beside)"),
    ("smollm2/word", "smollm2/untrained", TRAINING, "training pays on the training games"),
    ("smollm2/word", "smollm2/untrained", "test", "training carries to unseen test games"),
    # SmolLM2 trains 1,024 steps and barely leaves its untrained twin there: against DRRN at the same 1,024 steps the
    # comparison is of learning speed at equal experience, not of the prior (the plan asked it as the prior's)
    ("smollm2/word", "drrn_1024", "test", "learns faster at equal experience (1,024 steps): unseen test games"),
    ("smollm2/word", "drrn_1024", TRAINING, "... and on the training games (beside)"),
    # fixed before the mechanism's first seed: does it let SmolLM2 learn the games at 1,024 steps?
    ("smollm2/word_mechanism", "drrn_1024", "test", "with the mechanism, faster than DRRN at equal experience"),
    ("smollm2/word_mechanism", "drrn_1024", TRAINING, "... and on the training games (beside)"),
    ("smollm2/word_mechanism", "smollm2/word", TRAINING, "the mechanism against none: training games"),
]
# Arms whose claims were fixed after the status rules were written: their statuses carry no "(rule set after the
# data)", which marks a rule applied to data that came in before it (docs/RESULTS.md, "How to read these numbers").
REGISTERED_AFTER_THE_RULES = {"smollm2/word_mechanism"}


def seed_scores(directory: Path) -> pd.DataFrame:
    """One row per finished run: its seed, sampled success on its training games and on each unseen split, its
    minutes, env steps per second and CPU. A run counts once its summary is written (after all its evaluations)."""
    summary = {TRAINING: "sampled/success_rate", "points": "sampled/episodic_return", "env_steps": "env_steps"}
    runs = facts(directory, summary)  # "points": the game's score gained per episode
    for split in SPLITS.values():
        runs[split] = np.nan
    for csv in finished(directory, "*/unseen/generalization.csv"):
        unseen = pd.read_csv(csv)
        unseen = unseen[unseen.applicable.astype(bool) & unseen.task.isin(SPLITS)]
        for r in unseen.itertuples():
            runs.loc[runs.seed == int(r.seed), SPLITS[r.task]] = float(r.success_rate)
    return runs.sort_values("seed", ignore_index=True)


def arms(root: Path) -> dict[str, pd.DataFrame]:
    base = root / CAMPAIGN
    found = {arm: seed_scores(base / arm) for arm in ARMS if (base / arm).is_dir()}
    return {arm: runs for arm, runs in found.items() if len(runs)}


def name(arm: str) -> str:
    """The arm's agent and model, and the steps it trains for (the plan's)."""
    model, agent, steps = ARMS[arm]
    return f"{agent}, {model}" + (f", {steps:,} steps" if steps else "")


def cell(values: pd.Series) -> str:
    values = values.dropna()
    return f"{est(values)}; mean {est(values, 'mean')}" if len(values) else "not run"


def textworld_cpu_arms(root: Path) -> str:
    """Every arm: seeds archived of those planned, final sampled success on its training games (100 episodes per
    seed) with the game points those episodes scored beside (the reward: the increase of the game's score), success on
    the unseen validation and test games (50 per seed and split), and what a seed costs on which CPU."""
    rows = []
    for arm, runs in arms(root).items():
        model, agent, _ = ARMS[arm]
        trained = runs.sps.notna().any()
        steps = sorted({int(n) for n in runs.env_steps.dropna() if n})
        rows.append([
            model,
            agent,
            ", ".join(f"{n:,}" for n in steps) or "- (evaluation only)",
            f"{len(runs)}/{PLANNED} ({', '.join(str(s) for s in runs.seed)})",
            cell(runs[TRAINING]),
            est(runs.points.dropna()) if runs.points.notna().any() else "not recorded",
            cell(runs["validation"]),
            cell(runs["test"]),
            f"{runs.minutes.median():.1f}",
            f"{runs.sps.median():.1f}" if trained else "-",
            short_cpu(runs.cpu),
        ])  # fmt: skip
    if not rows:
        return "Not run yet: no seed of the plan is archived.\n"
    header = ["model", "agent", "training env steps", "seeds (of planned)",
              "training games: sampled success IQM [95% CI]",
              "training games: points scored per episode, IQM", "validation games", "test games",
              "minutes per seed (median)", "env steps/s", "CPU"]  # fmt: skip
    return table(header, rows)


def textworld_cpu_claims(root: Path) -> str:
    """The claims fixed before the data: P(the first arm's seed ends with more sampled success than the other's)
    on the named games, with the status rule applied once both arms have their planned seeds."""
    found = arms(root)
    rows = []
    for first, other, games, question in CLAIMS:
        a = found[first][games].dropna() if first in found else pd.Series(dtype=float)
        b = found[other][games].dropna() if other in found else pd.Series(dtype=float)
        label = f"{name(first)} > {name(other)}"
        if len(a) == 0 or len(b) == 0:
            rows.append([question, label, f"{games} games", "-", f"not run ({len(a)} and {len(b)} seeds)"])
            continue
        e = probability_of_improvement(list(a), list(b))
        n = tuple(planned_seeds(root, PLAN, archive=f"textworld_cpu/{arm}") for arm in (first, other))
        status = claim_status(e, list(a), list(b), n, late=first not in REGISTERED_AFTER_THE_RULES)
        rows.append([question, label, f"{games} games", e.text(), status])
    header = ["question", "comparison", "games (sampled success)", "P(improvement) [95% CI]", "status"]
    return table(header, rows) + "\nA status is read once both arms have the seeds their plan names.\n"


PER_SEED = ["smollm2/word", "smollm2/word_mechanism"]  # the trained SmolLM2 arms, whose seeds barely move


def textworld_smollm2_seeds(root: Path) -> str:
    """Each trained SmolLM2 seed on its own: how many training episodes it won, the points they scored and where its
    policy's entropy went, beside its final sampled success on its training and unseen test games; the arms' IQMs
    (table ``textworld_cpu_arms``) cannot tell a seed that never met a win from one that met some and lost them."""
    rows = []
    for arm in PER_SEED:
        tests = seed_scores(root / CAMPAIGN / arm).set_index("seed")["test"]
        summaries = [(json.loads(p.read_text()), p.parent) for p in (root / CAMPAIGN / arm).glob("*/summary.json")]
        for s, run in sorted(summaries, key=lambda summary_run: summary_run[0]["seed"]):
            metrics = pd.read_csv(run / "metrics.csv")
            points = metrics.dropna(subset=["charts/episodes"])["charts/episodic_return"]
            entropy = metrics["losses/entropy"].dropna()
            test = tests.get(int(s["seed"]), np.nan)
            rows.append([
                ARMS[arm][1],
                s["seed"],
                count(*window_counts(metrics, 0, int(metrics.global_step.max()))),
                f"{points.iloc[0]:.2f} -> {points.iloc[-1]:.2f}",
                f"{entropy.iloc[0]:.2f} -> {entropy.iloc[-1]:.2f}",
                count(successes(s["sampled/success_rate"], s["sampled/episodes"]), int(s["sampled/episodes"])),
                "not run" if np.isnan(test) else f"{test:.2f}",
            ])  # fmt: skip
    if not rows:
        return "Not run yet: no trained SmolLM2 seed is archived.\n"
    header = ["arm", "seed", "training episodes won [Wilson 95%]", "points per training episode, first -> last update",
              "policy entropy (nats), first -> last update", "final sampled success, training games [Wilson 95%]",
              "... test games (50 episodes)"]  # fmt: skip
    return table(header, rows)


def textworld_walkthrough_prior(root: Path) -> str:
    """Along TextWorld's walkthrough of each training game (twosome.evaluation.walkthrough_prior), the probability
    the untrained policy gives the winning command, by kind of command: its median over games, beside a uniform
    policy's (1 / the state's admissible commands) and the command's median rank among them."""
    files = sorted((root / PRIOR).glob("*.csv"))
    if not files:
        return "Not run yet: `python -m twosome.evaluation.walkthrough_prior --games 20 --out FILE.csv`.\n"
    steps = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    steps["kind"] = steps.command.map(lambda c: "take <the ingredient>" if c.startswith("take ") else c)
    rows = []
    for (model, norm), policy in steps.groupby(["model", "norm"], sort=False):
        label = "DRRN, fresh weights" if model == "none" else f"{model}, untrained ({norm})"
        for kind, g in policy.groupby("kind", sort=False):
            rank = f"{g['rank'].median():.0f} of {g.commands.median():.0f}"
            uniform = (1 / g.commands).median()
            rows.append([label, kind, g.game.nunique(), f"{g.probability.median():.1e}", f"{uniform:.1e}", rank])
    header = ["policy", "walkthrough command", "games", "its probability (median)", "a uniform policy's (median)",
              "its rank (median)"]  # fmt: skip
    return table(header, rows)


TABLES = {
    "textworld_cpu_arms": textworld_cpu_arms,
    "textworld_cpu_claims": textworld_cpu_claims,
    "textworld_smollm2_seeds": textworld_smollm2_seeds,
    "textworld_walkthrough_prior": textworld_walkthrough_prior,
}
