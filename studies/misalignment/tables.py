"""Action misalignment, measured: the LM writing its action zero-shot (raw data
studies/misalignment/data/misalignment/), and the
tiny model writing its action trained by reward, `agent=generate_rl` (studies/misalignment/data/generate_rl/ and the
pilot that
chose its update, studies/misalignment/data/generate_rl_pilot/)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from doctables.common import (
    LORA_TARGET,
    _config,
    archived_runs,
    claim_status,
    est,
    fmt_steps,
    planned_seeds,
    poi,
    steps_to_fraction,
    table,
)

from twosome.evaluation.statistics import interval, wilson
from twosome.run_dir import RunDir


def invalid_share(metrics: pd.DataFrame, start: int, stop: int) -> float:
    """Invalid decisions over all decisions of the training episodes that ended in steps (start, stop]."""
    m = metrics.dropna(subset=["charts/episodes"])
    m = m[(m.global_step > start) & (m.global_step <= stop)]
    decisions = (m["charts/episodic_length"] * m["charts/episodes"]).sum()
    invalid = (m["charts/invalid_action_rate"] * m["charts/episodic_length"] * m["charts/episodes"]).sum()
    return float(invalid / decisions) if decisions else np.nan


def summary_of(run: Path) -> dict:
    return RunDir(run).read_summary()


def generate_rl(root: Path) -> str:
    """Action misalignment: the tiny model writing its actions, trained by reward (agent=generate_rl, POAD's
    token-level update), against TWOSOME scoring the valid ones (word), Tomato Salad, the same budget and PPO
    settings. Steps to 95% of optimal as in lora_check (a seed that never gets there counts as the run's budget: a
    lower bound)."""
    arms = [
        ("TWOSOME (word): scores the valid actions", root / "studies/ten_seeds/data/ten_seeds/tomato_salad", "twosome"),
        (
            "generate_rl: writes its action, trained by reward",
            root / "studies/misalignment/data/generate_rl",
            "generate_rl",
        ),
    ]
    writer = archived_runs(arms[1][1]) if arms[1][1].is_dir() else pd.DataFrame()
    if writer.empty:
        return "Not run yet: `python experiments/campaign.py local studies/misalignment/plan_generate_rl.yaml`.\n"
    seeds = sorted(writer.seed)
    rows, steps_by_arm = [], {}
    for label, directory, agent in arms:
        df = archived_runs(directory)
        df = df[(df.agent == agent) & (df.norm.isin(["word", "-"])) & df.seed.isin(seeds)].sort_values("seed")
        budget = int(df.env_steps.max())
        steps = [steps_to_fraction(m, o, LORA_TARGET) for m, o in zip(df.metrics, df.optimal)]
        censored = [b if np.isnan(x) else x for x, b in zip(steps, df.env_steps)]
        steps_by_arm[agent] = censored
        if agent == "twosome":
            first = last = sampled_invalid = "0 (by construction)"
        else:
            first = f"{np.mean([invalid_share(m, 0, 1024) for m in df.metrics]):.2f}"
            last = f"{np.mean([invalid_share(m, budget - 1024, budget) for m in df.metrics]):.2f}"
            sampled_invalid = est([summary_of(directory / r)["sampled/invalid_action_rate"] for r in df.run_name])
        rows.append(
            [
                label,
                len(df),
                fmt_steps(budget),
                f"{sum(not np.isnan(x) for x in steps)}/{len(df)}",
                interval(censored).text(digits=0),
                est(df.sampled_success),
                sampled_invalid,
                first,
                last,
                f"{np.median([summary_of(directory / r)['sampled/episodic_length'] for r in df.run_name]):.0f}",
            ]
        )
    header = [
        "agent",
        "seeds",
        "env steps",
        f"reach {LORA_TARGET:.0%} of optimal (training episodes)",
        "steps to it, IQM [95% CI]",
        "final sampled success, IQM [95% CI]",
        "final sampled invalid decisions / decisions, IQM [95% CI]",
        "training invalid share, first 1,024 steps (mean)",
        "training invalid share, last 1,024 steps (mean)",
        "decisions per sampled episode (median)",
    ]
    out = table(header, rows)
    x, y = [-x for x in steps_by_arm["twosome"]], [-x for x in steps_by_arm["generate_rl"]]
    faster = poi(x, y)
    n = planned_seeds(root, "studies/misalignment/plan_generate_rl.yaml", archive="generate_rl")  # TWOSOME: its seeds
    claims = [
        ["TWOSOME reaches 95% of optimal sooner than the writer", faster.text(), claim_status(faster, x, y, (n, n))]
    ]
    return out + "\n" + table(["comparison", "P(improvement) [95% CI]", "status"], claims)


PILOT_WINDOWS = ((0, 512), (1280, 1792))  # every pilot ran at least 1,792 steps


def generate_rl_pilot(root: Path) -> str:
    """Action misalignment, trained by reward: how the writer's update was chosen. One seed (0) per setting on Tomato
    Salad: the invalid share of the training episodes early and late in a common window, and the length of what it
    wrote."""
    rows = []
    for run in sorted((root / "studies/misalignment/data/generate_rl_pilot").glob("*/metrics.csv")):
        cfg = _config(run.parent)
        m = pd.read_csv(run)
        late = m[(m.global_step > PILOT_WINDOWS[1][0]) & (m.global_step <= PILOT_WINDOWS[1][1])]
        rows.append(
            [
                cfg["algo"].get("credit", "token"),  # runs from before the option: BAD's per-token credit
                f"{cfg['ppo']['ent_coef']:g}",
                f"{cfg['ppo']['policy_lr']:g}",
                f"{int(m.global_step.max()):,}",
                *(f"{invalid_share(m, a, b):.2f}" for a, b in PILOT_WINDOWS),
                f"{late['charts/tokens_per_action'].dropna().mean():.1f}",
            ]
        )
    if not rows:
        return "Not run yet.\n"
    header = ["credit", "entropy coefficient", "policy lr", "steps run", "invalid share, steps 1-512",
              "invalid share, steps 1,281-1,792", "tokens per action, steps 1,281-1,792"]  # fmt: skip
    return table(header, rows)


MISALIGNMENT_TASKS = {  # env id -> the task's name in the table, in the order of the papers
    "twosome/Overcooked-TomatoSalad-v0": "Tomato Salad",
    "twosome/Overcooked-TomatoLettuceSalad-v0": "Tomato-Lettuce Salad",
    "twosome/VirtualHome-FoodPreparation-v0": "Food Preparation",
    "twosome/VirtualHome-Entertainment-v0": "Entertainment",
    "twosome/BabyAI-GoTo-v0": "BabyAI-Text GoTo",
}


def misalignment(root: Path) -> str:
    """Action misalignment, measured: the LM writing its action (agent=generate, greedy, zero-shot): the share of
    decisions that name no valid action, success with its Wilson interval over the episodes, and the texts it wrote most
    often."""
    rows = []
    summaries = [
        json.loads(p.read_text())
        for p in sorted((root / "studies/misalignment/data/misalignment").glob("*/summary.json"))
    ]
    order = list(MISALIGNMENT_TASKS)
    summaries.sort(key=lambda s: (order.index(s["env_id"]) if s["env_id"] in order else len(order), s["run_name"]))
    for s in summaries:
        episodes = int(s["eval/episodes"])
        successes = round(s["eval/success_rate"] * episodes)
        low, high = wilson(successes, episodes)
        texts = "; ".join(f'"{t}" ({c})' for t, c in s["generate/top_invalid_texts"][:3]) or "none"
        rows.append(
            [
                MISALIGNMENT_TASKS.get(s["env_id"], s["env_id"]),
                s["model"],
                s["run_name"].rsplit("-", 2)[-2],  # the decoding (run_label's last part)
                episodes,
                f"{s['eval/success_rate']:.2f} [{low:.2f}, {high:.2f}]",
                f"{s['eval/invalid_action_rate']:.2f}",
                f"{s['generate/lenient_invalid_rate']:.2f}" if "generate/lenient_invalid_rate" in s else "not read",
                f"{s['eval/episodic_length']:.1f}",
                texts,
            ]
        )
    if not rows:
        return "Not run yet: `python experiments/campaign.py local studies/misalignment/plan_misalignment.yaml`.\n"
    header = [
        "task",
        "model",
        "decoding",
        "episodes",
        "success [Wilson 95%]",
        "invalid decisions / decisions, exact match (upper bound)",
        "... lenient reading (lower bound)",
        "decisions per episode",
        "most frequent invalid texts (count)",
    ]
    return table(header, rows)


def parser_judge(root: Path) -> str:
    """The writer on TextWorld judged by the game's own parser (``python -m twosome.evaluation.parser_judge``): per
    episode the share of written commands the parser refused, its mean over episodes with the bootstrap interval the
    tool computed, beside the string match on the same decisions."""
    rows = []
    for path in sorted((root / "studies/misalignment/data/textworld_parser").glob("*/summary.json")):
        s = json.loads(path.read_text())
        refused_low, refused_high = s["parser_refusal_ci"]
        invalid_low, invalid_high = s["string_invalid_ci"]

        def top(counts: dict) -> str:
            return "; ".join(f'"{t}" ({c})' if t else f"(no text) ({c})" for t, c in list(counts.items())[:3]) or "none"

        rows.append(
            [
                s["model"], s["decoding"], s["split"], s["episodes"], s["decisions"],
                f"{s['parser_refusal_rate']:.2f} [{refused_low:.2f}, {refused_high:.2f}]",
                f"{s['string_invalid_rate']:.2f} [{invalid_low:.2f}, {invalid_high:.2f}]",
                s["read_by_parser_not_admissible"], top(s["top_refused"]), top(s["top_read_not_admissible"]),
            ]
        )  # fmt: skip
    if not rows:
        return "Not run yet: `python -m twosome.evaluation.parser_judge --out DIR`.\n"
    header = [
        "model", "decoding", "games", "episodes", "decisions",
        "refused by the game's parser, per episode [95% bootstrap]", "naming no admissible command (string match)",
        "decisions the parser read but no admissible command names", "most refused commands (count)",
        "most read, not admissible (count)",
    ]  # fmt: skip
    return table(header, rows)


TABLES: dict[str, Callable[[Path], str]] = {
    "misalignment": misalignment,
    "parser_judge": parser_judge,
    "generate_rl": generate_rl,
    "generate_rl_pilot": generate_rl_pilot,
}
