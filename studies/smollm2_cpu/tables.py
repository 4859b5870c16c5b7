"""The tables of SmolLM2-135M at ten seeds on the CPU (studies/smollm2_cpu/plan.yaml; raw data
studies/smollm2_cpu/data/smollm2_cpu/), with the readers the claims table (doctables/claims.py) takes from it. Every
statistic follows the rules of docs/RESULTS.md, "How to read these numbers": the seed is the unit, IQM with 95%
stratified bootstrap intervals, claims
as probabilities of improvement with their status, each claim's metric the one fixed there before its data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from doctables.common import (
    JOINT,
    LATE,
    TEN_SEEDS,
    archived_runs,
    boundary_note,
    claim_status,
    est,
    facts,
    finished,
    planned_seeds,
    retention_records,
    short_cpu,
    steps_to_target,
    table,
    training_return,
)

from twosome.evaluation.statistics import interval, joint_probability_of_improvement, probability_of_improvement

CAMPAIGN = "studies/smollm2_cpu/data/smollm2_cpu"
PLAN = "studies/smollm2_cpu/plan.yaml"  # each arm's planned seeds: its sweeps' ``seeds:``
PPO_PLAN = "studies/ten_seeds/plan.yaml"  # PPO from scratch's seeds: its sweep <task>-ppo
TASKS = {
    "food_preparation": "Food Preparation",
    "tomato_salad": "Tomato Salad",
    "entertainment": "Entertainment",
    "glam_goto": "BabyAI-Text GoTo (GLAM)",
}
ARMS = {  # arm folder -> label, in the order of the papers' comparison
    "word": "TWOSOME (word)",
    "token": "TWOSOME (token)",
    "none": "TWOSOME (none)",
    "saycan": "SayCan (word)",
    "untrained_word": "untrained TWOSOME (word)",
    "untrained_token": "untrained TWOSOME (token)",
    "untrained_none": "untrained TWOSOME (none)",
    "word_lr3e-4": "TWOSOME (word), policy lr 3e-4",
    "word_lr1e-4": "TWOSOME (word), policy lr 1e-4",
    "word_50k": "TWOSOME (word), 50,000 steps",
    "pretrained": "GLAM, pretrained SmolLM2",
    "random": "GLAM, random-init SmolLM2",
    "random_token": "GLAM, random-init SmolLM2, token-normalized",
    "pretrained_retrained": "GLAM, pretrained SmolLM2, retrained for robustness",
    # the exploration screening's mechanism on the real LLM (mechanism.py): the same settings plus the mechanism
    "word_mechanism": "TWOSOME (word) + mechanism",
    "word_50k_mechanism": "TWOSOME (word), 50,000 steps + mechanism",
    "pretrained_mechanism": "GLAM, pretrained SmolLM2 + mechanism",
    "random_mechanism": "GLAM, random-init SmolLM2 + mechanism",
}
# The seeds of earlier studies with these settings but another dtype (bfloat16, or `dtype: auto` with no resolved
# dtype recorded: each labelled as recorded): shown beside, never pooled; each study planned 5 seeds
# (studies/lora_word_token/plan_word_token.yaml, lora_check.yaml).
BFLOAT16_PLANNED = 5
BFLOAT16 = {
    ("food_preparation", "word"): "studies/lora_word_token/data/word_token/food_preparation/word",
    ("food_preparation", "token"): "studies/lora_word_token/data/word_token/food_preparation/token",
    ("tomato_salad", "word"): "studies/lora_word_token/data/lora_check/top15",
}
RETENTION = [("twosome_english_ppl", "word_perplexity", "English word perplexity"),
             ("twosome_household_mc", "acc", "household MC accuracy")]  # fmt: skip
PERPLEXITY_MARGIN = 0.10  # "no significant loss" shown only if the perplexity rises by less than 10%, interval included
LR_ARMS = {"word": "1e-3", "word_lr3e-4": "3e-4", "word_lr1e-4": "1e-4"}  # Food Preparation word arms by policy lr
# GLAM's robustness, per seed of the pretrained GoTo arm: sampled success in each unseen setting less the seed's own
# final sampled success on GoTo (100 episodes); "robust" only where the change's whole interval lies within +-0.1.
ROBUSTNESS_MARGIN = 0.10
# Where each seed's robustness is read: the arm's run, else (its adapter lost before the step, and a rerun on another
# CPU not the same agent) a retrained run of the same seed, evaluated against its own final GoTo success.
ROBUSTNESS_ARMS = ("pretrained", "pretrained_retrained")
ROBUSTNESS_GROUPS = {
    "more or fewer distractors (0, 4, 16)": ("Distractors0", "Distractors4", "Distractors16"),
    "other action sets (3, 6, 9 actions)": ("Navigation3", "Useless6", "Useless9"),
}


def planned(root: Path, task: str, arm: str) -> int:
    """The seeds the plan names for an arm of the campaign."""
    return planned_seeds(root, PLAN, archive=f"smollm2_cpu/{task}/{arm}")


def ppo_planned(root: Path, task: str) -> int:
    return planned_seeds(root, PPO_PLAN, sweep=f"{task}-ppo")


def arm_dirs(root: Path) -> list[tuple[str, str, Path]]:
    """(task, arm, folder) of every archived arm, in the tables' order."""
    base = root / CAMPAIGN
    found = [(t, a, base / t / a) for t in TASKS for a in ARMS if (base / t / a).is_dir()]
    return [(t, a, d) for t, a, d in found if any(d.glob("*/summary.json"))]


def arm_row(task: str, label: str, runs: pd.DataFrame, info: pd.DataFrame, planned: int) -> list:
    trained = runs.env_steps.max() > 0
    if trained and runs.optimal.notna().all():
        steps, censored = steps_to_target(runs)
        reached = f"{sum(not np.isnan(x) for x in steps)}/{len(runs)}"
        steps_cell = interval(censored).text(digits=0)
    else:
        reached, steps_cell = "-", "-"
    seeds = ", ".join(str(s) for s in sorted(runs.seed))
    return [
        TASKS[task],
        label,
        "/".join(sorted(set(info.dtype))),
        f"{len(runs)}/{planned} ({seeds})",
        reached,
        steps_cell,
        est(runs.sampled_success),
        est(runs.sampled_success, "mean"),
        f"{info.minutes.median():.1f}",
        f"{info.sps.median():.1f}" if trained else "-",
        short_cpu(info.cpu),
    ]


def smollm2_cpu_arms(root: Path) -> str:
    """Every arm of the campaign: seeds archived of those planned, steps to 95% of optimal (training episodes; a
    seed that never gets there counts as its budget), final sampled success, and what a seed costs on which CPU.
    The earlier bfloat16 seeds of the same settings are rows of their own."""
    rows = []
    for task, arm, directory in arm_dirs(root):
        rows.append(arm_row(task, ARMS[arm], archived_runs(directory), facts(directory), planned(root, task, arm)))
        earlier = root / BFLOAT16.get((task, arm), "none")
        if (task, arm) in BFLOAT16 and any(earlier.glob("*/summary.json")):
            rows.append(
                arm_row(task, f"{ARMS[arm]}, earlier study", archived_runs(earlier), facts(earlier), BFLOAT16_PLANNED)
            )
    if not rows:
        return "Not run yet: `python experiments/campaign.py local studies/smollm2_cpu/plan.yaml`.\n"
    header = ["task", "arm", "dtype", "seeds archived / planned", "reach 95% of optimal", "steps to it, IQM [95% CI]",
              "final sampled success, IQM [95% CI]", "... mean [95% CI]", "minutes per run (median)",
              "env steps/s (median)", "CPU"]  # fmt: skip
    return table(header, rows)


def smollm2_cpu_dtype(root: Path) -> str:
    """Seed for seed, the same settings in the earlier studies and in float32 (the campaign): does the dtype change
    what a seed learns? Compared on the pre-specified metric, final sampled success. Each earlier study's dtype is
    labelled as its runs recorded it (the resolved dtype where a summary gives it, else the config's setting)."""
    rows, claims = [], []
    for (task, arm), folder in BFLOAT16.items():
        f32, b16 = archived_runs(root / CAMPAIGN / task / arm), archived_runs(root / folder)
        if f32.empty or b16.empty:
            continue
        pairs = f32.merge(b16, on="seed", suffixes=("_f32", "_bf16")).sort_values("seed")
        if pairs.empty:
            continue
        dtype = "/".join(sorted(set(facts(root / folder).dtype)))
        for p in pairs.itertuples():
            rows.append([TASKS[task], ARMS[arm], dtype, p.seed, f"{p.sampled_success_bf16:.2f}",
                         f"{p.sampled_success_f32:.2f}"])  # fmt: skip
        x, y = list(pairs.sampled_success_f32), list(pairs.sampled_success_bf16)
        e = probability_of_improvement(x, y)
        n = (BFLOAT16_PLANNED, BFLOAT16_PLANNED)
        claims.append([f"{TASKS[task]}, {ARMS[arm]}: float32 ends with more sampled success than the earlier study, "
                       f"dtype {dtype}", e.text(), claim_status(e, x, y, n)])  # fmt: skip
    if not rows:
        return "Not run yet: no seed in both dtypes.\n"
    header = ["task", "arm", "earlier study's dtype (as its runs recorded it)", "seed",
              "earlier study: final sampled success", "float32: final sampled success"]  # fmt: skip
    return table(header, rows) + "\n" + table(["comparison", "P(improvement) [95% CI]", "status"], claims)


def unseen_rows(directory: Path) -> pd.DataFrame:
    frames = [pd.read_csv(p) for p in finished(directory, "*/unseen/generalization.csv")]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def smollm2_cpu_unseen(root: Path) -> str:
    """Food Preparation TWOSOME (word) agents on the unseen tasks and the nonce-word controls (50 sampled episodes
    per run and task): IQM over all seeds, and over the seeds whose greedy policy reaches the optimum, against the
    untrained twin (one policy: each of its rows a sampling seed)."""
    base = root / CAMPAIGN / "food_preparation"
    trained, twin = unseen_rows(base / "word"), unseen_rows(base / "untrained_word")
    if trained.empty:
        return "Not run yet: the campaign's Food Preparation word arm evaluates each seed on the unseen tasks.\n"
    runs = archived_runs(base / "word")
    optimal_seeds = set(runs[runs.greedy >= 0.97].seed)
    rows = []
    for task, cells in trained.groupby("task", sort=False):
        name = task.split("/")[-1].removesuffix("-v0").replace("VirtualHome-", "")
        cells = cells.sort_values("seed")
        best = cells[cells.seed.isin(optimal_seeds)]
        twin_cells = twin[twin.task == task] if not twin.empty else twin
        row = [name, f"{est(cells.success_rate)} ({len(cells)} seeds)",
               f"{est(best.success_rate)} ({len(best)} seeds)" if len(best) else "no seed",
               f"{est(twin_cells.success_rate)} ({len(twin_cells)} sampling seeds)" if len(twin_cells)
               else "not run"]  # fmt: skip
        if len(twin_cells) and task != "twosome/VirtualHome-FoodPreparation-v0":
            x, y = list(cells.success_rate), list(twin_cells.success_rate)
            e = probability_of_improvement(x, y)
            row += [e.text(), claim_status(e, x, y, unseen_planned(root))]
        else:
            row += ["-", "-"]
        rows.append(row)
    aggregate = unseen_aggregate(root)
    if aggregate:
        rows.append([f"**all {aggregate[0]} other tasks** ({JOINT})", "", "", "",
                     *aggregate[1:]])  # fmt: skip
    header = ["task", "trained, sampled success IQM [95% CI]", "... seeds whose greedy policy is optimal",
              "untrained twin", "P(trained > untrained) [95% CI]", "status"]  # fmt: skip
    return table(header, rows)


def unseen_planned(root: Path) -> tuple[int, int]:
    return planned(root, "food_preparation", "word"), planned(root, "food_preparation", "untrained_word")


def unseen_matrices(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeds x other tasks of sampled success, trained agents and their untrained twin's sampling seeds: the same
    agents are scored on every task, so an agent is one row (a seed missing a task is left out)."""
    base = root / CAMPAIGN / "food_preparation"
    trained, twin = unseen_rows(base / "word"), unseen_rows(base / "untrained_word")
    if trained.empty or twin.empty:
        return pd.DataFrame(), pd.DataFrame()
    tasks = [t for t in trained.task.unique() if t in set(twin.task) and not t.endswith("FoodPreparation-v0")]
    a, b = (d.pivot_table(index="seed", columns="task", values="success_rate")[tasks].dropna() for d in (trained, twin))
    return a, b


def unseen_aggregate(root: Path) -> tuple[int, str, str] | None:
    """Trained > untrained twin over the other tasks: the per-task probabilities averaged, agents drawn jointly."""
    a, b = unseen_matrices(root)
    if a.shape[1] < 2:
        return None
    e = joint_probability_of_improvement(a.to_numpy(), b.to_numpy())
    return a.shape[1], e.text(), claim_status(e, a.to_numpy(), b.to_numpy(), unseen_planned(root))


def base_scores(root: Path) -> dict[tuple[str, str], float]:
    """The frozen base's scores (float32), from the campaign's call that evaluated it ("before" records)."""
    records = retention_records_all(root)
    if records.empty:
        return {}
    before = records[records.which == "before"]
    return {(t, m): float(v.iloc[0]) for (t, m), v in before.groupby(["task", "metric"]).value}


def retention_records_all(root: Path) -> pd.DataFrame:
    frames = [retention_records(d) for *_, d in arm_dirs(root)]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# Adapters of this campaign's questions archived in another study: the mechanism's TextWorld arm (README, "The
# exploration mechanism on SmolLM2"), its retention measured against the same float32 base
RETENTION_ELSEWHERE = {
    ("TextWorld", "TWOSOME (word) + mechanism"): "studies/textworld/data/textworld_cpu/smollm2/word_mechanism"
}


def retention_dirs(root: Path) -> list[tuple[str, str, Path]]:
    """(task, arm, folder) of every adapter whose retention the table reads: the campaign's arms, then the others."""
    here = [(TASKS[t], ARMS[a], d) for t, a, d in arm_dirs(root)]
    return here + [
        (t, a, root / d) for (t, a), d in RETENTION_ELSEWHERE.items() if any((root / d).glob("*/summary.json"))
    ]


def smollm2_cpu_retention(root: Path) -> str:
    """Language retention per adapter: the base against each seed's adapted model, the change IQM over seeds; the
    policy learning rate beside (the paper's 7B rates, 1e-6 on VirtualHome and 5e-7 on Overcooked, are 1,000x and
    2,000x below this suite's 1e-3)."""
    base = base_scores(root)
    rows = []
    for task, arm, directory in retention_dirs(root):
        records = retention_records(directory)
        if records.empty or not base:
            continue
        after = records[records.which == "after"]
        lr = archived_runs(directory).policy_lr.iloc[0]
        for rtask, metric, label in RETENTION:
            values = after[(after.task == rtask) & (after.metric == metric)].sort_values("seed")
            if values.empty or (rtask, metric) not in base:
                continue
            b = base[(rtask, metric)]
            change = values.value / b - 1 if metric.endswith("perplexity") else values.value - b
            rows.append([task, arm, f"{lr:g}", label, len(values), f"{b:.3g}", est(values.value),
                         est(change)])  # fmt: skip
    if not rows:
        return "Not run yet: the campaign evaluates each adapter's retention as its run finishes.\n"
    header = ["task", "arm", "policy lr", "measure", "seeds", "base", "adapted, IQM [95% CI]",
              "change (perplexity: relative), IQM [95% CI]"]  # fmt: skip
    return table(header, rows)


# --- the campaign's further questions -----------------------------------------------------------------------------
def smollm2_cpu_lr(root: Path) -> str:
    """The paper's learning-rate question on Food Preparation TWOSOME (word): does a lower policy rate keep English
    (the retention metric and margin of the claims table) and still learn (final sampled success against lr 1e-3)?"""
    reference = smol_scores(root, "food_preparation", "word")
    rows = []
    for arm, lr in LR_ARMS.items():
        scores = smol_scores(root, "food_preparation", arm)
        if not scores:
            rows.append([lr, 0, "not run yet", "-", "-", "-", "-"])
            continue
        changes = perplexity_changes(root, "food_preparation", arm)
        n = planned(root, "food_preparation", arm)
        text, verdict = retention_verdict(changes, n) if changes else ("not measured", "-")
        if arm == "word" or not reference:
            learn = ["-", "-"]
        else:
            e = probability_of_improvement(scores, reference)
            n = (planned(root, "food_preparation", arm), planned(root, "food_preparation", "word"))
            learn = [e.text(), claim_status(e, scores, reference, n)]
        rows.append([lr, len(scores), est(scores), *learn, text, verdict])
    if sum(row[1] > 0 for row in rows) < 2:
        return "Not run yet: the campaign's learning-rate arms (fp-word-lr3e-4, fp-word-lr1e-4).\n"
    header = ["policy lr", "seeds", "final sampled success, IQM [95% CI]", "P(ends with more sampled success than lr "
              "1e-3) [95% CI]", "status", "English perplexity change, IQM [95% CI]", "retention status"]  # fmt: skip
    return table(header, rows)


def smollm2_cpu_lr_seeds(root: Path) -> str:
    """The learning-rate arms seed by seed: whether each adapter learned the task beside what it did to English, so a
    reader sees whether a rate keeps language or only learns less often."""
    rows = []
    for arm, lr in LR_ARMS.items():
        runs = archived_runs(root / CAMPAIGN / "food_preparation" / arm)
        if runs.empty:
            continue
        changes = perplexity_change_by_seed(root, "food_preparation", arm)
        runs = runs.sort_values("seed")
        steps, _ = steps_to_target(runs)
        for run, step in zip(runs.itertuples(), steps):
            change = changes.get(int(run.seed))
            rows.append([lr, run.seed, "never" if np.isnan(step) else f"{step:,.0f}", f"{run.sampled_success:.2f}",
                         "not measured" if change is None else f"{change:+.2f}"])  # fmt: skip
    if len({row[0] for row in rows}) < 2:
        return "Not run yet: the campaign's learning-rate arms (fp-word-lr3e-4, fp-word-lr1e-4).\n"
    header = ["policy lr", "seed", "steps to 95% of optimal", "final sampled success", "English perplexity change"]
    return table(header, rows)


def ppo_from_scratch(root: Path, task: str) -> pd.DataFrame:
    """PPO from scratch's runs on ``task``: the ten-seed study's."""
    runs = archived_runs(root / TEN_SEEDS / task)
    return runs[runs.agent == "ppo"] if not runs.empty else runs


def returns_at(runs: pd.DataFrame, budget: int) -> list[float]:
    """Each run's training return / optimal over the last 2,048 steps up to ``budget``; runs with no episode there
    are left out."""
    values = [training_return(m, budget) / o for m, o in zip(runs.metrics, runs.optimal)] if len(runs) else []
    return [v for v in values if not np.isnan(v)]


def smollm2_cpu_entertainment(root: Path) -> str:
    """TWOSOME (word) on Entertainment at PPO from scratch's budget against PPO's 10 seeds: the sample-efficiency
    metric (training return / optimal at TWOSOME's budget, PPO at the same step) and, beside it, sampled success at
    the end of each one's schedule."""
    word = archived_runs(root / CAMPAIGN / "entertainment" / "word_50k")
    ppo = ppo_from_scratch(root, "entertainment")
    if word.empty or ppo.empty:
        return "Not run yet: the campaign's Entertainment arm at 50,000 steps (ent-word-50k).\n"
    budget = int(word.env_steps.max())
    a, b = returns_at(word, budget), returns_at(ppo, budget)
    rows = []
    for metric, x, y in [(f"training return / optimal at {budget:,} steps (the claim's metric)", a, b),
                         ("final sampled success, each at the end of its schedule (beside)",
                          list(word.sampled_success), list(ppo.sampled_success))]:  # fmt: skip
        e = probability_of_improvement(x, y)
        n = (planned(root, "entertainment", "word_50k"), ppo_planned(root, "entertainment"))
        rows.append([metric, f"{len(x)} vs {len(y)}", est(x), est(y), e.text(), claim_status(e, x, y, n)])
    header = ["metric", "seeds (TWOSOME vs PPO)", "TWOSOME (word), SmolLM2, IQM [95% CI]", "PPO from scratch, IQM",
              "P(TWOSOME better) [95% CI]", "status"]  # fmt: skip
    return table(header, rows)


def goto_setting(task: str) -> str:
    """'twosome/BabyAI-GoTo-Distractors4-v0' -> 'Distractors4'; GoTo itself -> 'GoTo'."""
    name = task.split("/")[-1].removesuffix("-v0").removeprefix("BabyAI-")
    return name if name == "GoTo" else name.removeprefix("GoTo-")


def robustness_changes(root: Path) -> tuple[pd.DataFrame, dict[str, list[float]]]:
    """The pretrained GoTo agents on GLAM's robustness settings (8 sampled episodes per seed and setting), and per
    group of settings each seed's mean change in sampled success against its own final sampled success on GoTo.
    A seed whose adapter was lost before its robustness step is read from its retrained run (ROBUSTNESS_ARMS), the
    change against that run's own GoTo success (column ``reference``)."""
    per_seed: dict[int, pd.DataFrame] = {}
    for arm in ROBUSTNESS_ARMS:
        for path in finished(root / CAMPAIGN / "glam_goto" / arm, "*/robustness/generalization.csv"):
            summary = json.loads((path.parents[1] / "summary.json").read_text())
            reference = summary.get("sampled/success_rate", np.nan)
            per_seed.setdefault(int(summary["seed"]), pd.read_csv(path).assign(reference=reference, arm=arm))
    if not per_seed:
        return pd.DataFrame(), {}
    rows = pd.concat(per_seed.values(), ignore_index=True).assign(setting=lambda d: d.task.map(goto_setting))
    reference = rows.groupby("seed").reference.first()
    changes = {}
    for group, settings in ROBUSTNESS_GROUPS.items():
        success = rows[rows.setting.isin(settings)].groupby("seed").success_rate.mean()
        changes[group] = [v - reference[seed] for seed, v in success.sort_index().items()]
    return rows, changes


def robustness_verdict(changes: list[float], planned: int) -> str:
    """GLAM's robustness rule on the per-seed changes, read once the arm has its ``planned`` seeds."""
    e = interval(changes)
    if len(changes) < planned:
        return f"interim, {len(changes)} of {planned}{LATE}"
    bounds = [-ROBUSTNESS_MARGIN, ROBUSTNESS_MARGIN]
    if e.within(0.0, ROBUSTNESS_MARGIN):
        return f"**robust**: equivalent within ±{ROBUSTNESS_MARGIN:g} ({len(changes)} seeds)" + boundary_note(e, bounds)
    if e.excludes(0.0):
        return ("**loss holds**" if e.value < 0 else "**gain holds**") + boundary_note(e, [0.0])
    return f"not shown ({len(changes)} seeds)" + boundary_note(e, [0.0, *bounds])


def smollm2_cpu_glam_robustness(root: Path) -> str:
    """GLAM's robustness over the seeds of the pretrained GoTo arm: each setting's sampled success, and per group the
    change against each seed's own GoTo success with its status (margin ROBUSTNESS_MARGIN)."""
    rows, changes = robustness_changes(root)
    if rows.empty:
        return "Not run yet: the campaign's pretrained GoTo arm evaluates each seed on the robustness settings.\n"
    out = [[s, f"{est(c.sort_values('seed').success_rate)} ({len(c)} seeds)"]
           for s, c in rows.groupby("setting", sort=False)]  # fmt: skip
    reference = rows.groupby("seed").reference.first().sort_index()
    retrained = sorted(rows[rows.arm != ROBUSTNESS_ARMS[0]].seed.unique())
    seeds = ", ".join(map(str, retrained))
    one = len(retrained) == 1
    which = f"seed {seeds} from its retrained run" if one else f"seeds {seeds} from their retrained runs"
    note = f"; {which}" if retrained else ""
    out.insert(0, [f"GoTo, each evaluated run's final 100 sampled episodes (the reference{note})",
                   f"{est(reference)} ({len(reference)} seeds)"])  # fmt: skip
    n = planned(root, "glam_goto", "pretrained")
    claims = [[g, est(c), robustness_verdict(c, n)] for g, c in changes.items() if c]
    return (
        table(["setting", "sampled success, IQM [95% CI]"], out)
        + "\n"
        + table(["unseen settings", "change in sampled success against GoTo, IQM [95% CI]", "status"], claims)
    )


def smol_scores(root: Path, task: str, arm: str, column: str = "sampled_success") -> list[float]:
    runs = archived_runs(root / CAMPAIGN / task / arm)
    return list(runs.sort_values("seed")[column]) if not runs.empty else []


def perplexity_changes(root: Path, task: str, arm: str) -> list[float]:
    """Each adapter's relative change in English word perplexity against the float32 base, in seed order."""
    return [change for _, change in sorted(perplexity_change_by_seed(root, task, arm).items())]


def perplexity_change_by_seed(root: Path, task: str, arm: str) -> dict[int, float]:
    base = base_scores(root).get(("twosome_english_ppl", "word_perplexity"))
    records = retention_records(root / CAMPAIGN / task / arm)
    if records.empty or base is None:
        return {}
    after = records[(records.which == "after") & (records.task == "twosome_english_ppl")]
    after = after[after.metric == "word_perplexity"]
    return {int(seed): float(value) / base - 1 for seed, value in zip(after.seed, after.value)}


def retention_verdict(changes: list[float], planned: int, late: bool = True) -> tuple[str, str]:
    """The change's IQM with its interval, and its status: a loss holds where the interval lies above 0; "no loss"
    only where it lies below +PERPLEXITY_MARGIN; an interval in both says both (a small loss, detected); read once
    the arm has its ``planned`` adapters (interim before)."""
    e = interval(changes)
    if len(changes) < planned:
        return e.text(), f"interim, {len(changes)} of {planned}{LATE}"
    within = not np.isnan(e.low) and e.high < PERPLEXITY_MARGIN
    no_loss = f"**no loss beyond +{PERPLEXITY_MARGIN:.0%}**"
    note = boundary_note(e, [0.0, PERPLEXITY_MARGIN]) + (LATE if late else "")  # SmolLM2's: after its first data
    if e.low > 0:
        return e.text(), "**loss holds**" + (f", {no_loss}" if within else "") + note
    if within:
        return e.text(), no_loss + note
    return e.text(), f"not shown ({len(changes)} adapters)" + note


TABLES: dict[str, Callable[[Path], str]] = {
    "smollm2_cpu_arms": smollm2_cpu_arms,
    "smollm2_cpu_dtype": smollm2_cpu_dtype,
    "smollm2_cpu_unseen": smollm2_cpu_unseen,
    "smollm2_cpu_retention": smollm2_cpu_retention,
    "smollm2_cpu_lr": smollm2_cpu_lr,
    "smollm2_cpu_lr_seeds": smollm2_cpu_lr_seeds,
    "smollm2_cpu_entertainment": smollm2_cpu_entertainment,
    "smollm2_cpu_glam_robustness": smollm2_cpu_glam_robustness,
}
