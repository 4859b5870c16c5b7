"""The claims table that opens docs/RESULTS.md: each claim of TWOSOME and GLAM, with the default model at 10 seeds
and SmolLM2-135M on the CPU (studies/smollm2_cpu/plan.yaml). A claim's status is read only once both arms
have the seeds their plan names (common.claim_status); the metric of each claim is the one fixed in "How to read
these numbers"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from doctables.common import LATE, TEN_SEEDS, archived_runs, claim_status, est, planned_seeds, table, training_return
from studies.prior.tables import PRIOR_PLANNED
from studies.smollm2_cpu.tables import (
    CAMPAIGN,
    LR_ARMS,
    ROBUSTNESS_MARGIN,
    TASKS,
    perplexity_changes,
    planned,
    ppo_planned,
    retention_verdict,
    robustness_changes,
    robustness_verdict,
    smol_scores,
    unseen_aggregate,
)
from studies.ten_seeds import default_retention
from studies.ten_seeds.tables import ten_seed_planned, ten_seed_scores
from twosome.evaluation.statistics import probability_of_improvement

DEFAULT_TASKS = ("tomato_salad", "food_preparation", "entertainment")  # the default model's 10-seed comparison
PPO_TASKS = ("food_preparation", "tomato_salad")
RETENTION_PLAN = "studies/ten_seeds/plan_default_retention.yaml"


def smol_claim(root: Path, arm: str, other: str, tasks=PPO_TASKS) -> str:
    """X > Y on sampled success over the tasks both arms ran (Agarwal's aggregate: a task's runs are its own)."""
    a = {t: smol_scores(root, t, arm) for t in tasks}
    b = {t: smol_scores(root, t, other) for t in tasks}
    both = [t for t in tasks if a[t] and b[t]]
    if not both:
        return "not run yet"
    a, b = {t: a[t] for t in both}, {t: b[t] for t in both}
    e = probability_of_improvement(a, b)
    n = ({t: planned(root, t, arm) for t in both}, {t: planned(root, t, other) for t in both})
    return f"{e.text()}, {claim_status(e, a, b, n)}; {', '.join(TASKS[t] for t in both)}"


def default_claim(root: Path, agent: str, norm: str, other: tuple[str, str]) -> str:
    a, b = ten_seed_scores(root, agent, norm), ten_seed_scores(root, *other)
    both = [t for t in a if t in b]
    if not both:
        return "not run"
    a, b = {t: a[t] for t in both}, {t: b[t] for t in both}
    e = probability_of_improvement(a, b)
    n = {t: ten_seed_planned(root, t) for t in both}
    return f"{e.text()}, {claim_status(e, a, b, (n, n))}; {len(both)} tasks"


def efficiency_scores(root: Path, word_dirs: dict[str, Path]) -> dict[str, dict]:
    """Per task both ran: TWOSOME (word)'s training return / optimal over the last 2,048 steps of its budget and PPO
    from scratch's (studies/ten_seeds/data/ten_seeds) at the same step. The budget read is TWOSOME's (its runs' env
    steps), so PPO,
    whose own schedule may be longer, is read where TWOSOME stops; ``ppo_steps`` is PPO's schedule, for the reader."""
    out = {}
    for task, directory in word_dirs.items():
        runs, scratch = archived_runs(directory), archived_runs(root / TEN_SEEDS / task)
        scratch = scratch[scratch.agent == "ppo"] if not scratch.empty else scratch
        runs = runs[(runs.agent == "twosome") & (runs.norm == "word")] if not runs.empty else runs
        if runs.empty or scratch.empty:
            continue
        budget = int(runs.env_steps.max())  # the step both arms are read at: TWOSOME's budget
        out[task] = {
            "budget": budget,
            "ppo_steps": int(scratch.env_steps.max()),
            "word": [training_return(m, budget) / o for m, o in zip(runs.metrics, runs.optimal)],
            "ppo": [training_return(m, budget) / o for m, o in zip(scratch.metrics, scratch.optimal)],
        }
    return out


def efficiency_aggregate(root: Path, scores: dict[str, dict], word_planned: dict[str, int]) -> tuple[str, str]:
    """Agarwal's aggregate P(TWOSOME better) over the tasks of ``scores`` (efficiency_scores) and its status."""
    word, ppo = ({t: v[arm] for t, v in scores.items()} for arm in ("word", "ppo"))
    e = probability_of_improvement(word, ppo)
    return e.text(), claim_status(
        e, word, ppo, ({t: word_planned[t] for t in word}, {t: ppo_planned(root, t) for t in ppo})
    )


def sample_efficiency(root: Path, word_dirs: dict[str, Path], word_planned: dict[str, int]) -> str:
    """TWOSOME (word)'s training return / optimal over the last 2,048 steps of its budget against PPO from scratch
    (studies/ten_seeds/data/ten_seeds) at the same step, over the tasks both ran (Agarwal's aggregate)."""
    scores = efficiency_scores(root, word_dirs)
    if not scores:
        return "not run yet"
    text, status = efficiency_aggregate(root, scores, word_planned)
    return f"{text}, {status}; {', '.join(TASKS.get(t, t) for t in scores)}"


def where_read(budget: int, schedule: int) -> str:
    """Where in PPO from scratch's own schedule the sample-efficiency reading falls."""
    if budget >= schedule:
        return f"at its end ({schedule:,} steps)"
    return f"mid-schedule: {budget / schedule:.0%} of its {schedule:,} steps"


def efficiency_arms(root: Path) -> list[tuple[str, dict[str, Path], dict[str, int]]]:
    """(model, task -> TWOSOME (word) archive, task -> planned seeds) of the sample-efficiency claim's two models."""
    smol_dirs = {**{t: root / CAMPAIGN / t / "word" for t in PPO_TASKS},
                 "entertainment": root / CAMPAIGN / "entertainment" / "word_50k"}  # fmt: skip
    smol_planned = {**{t: planned(root, t, "word") for t in PPO_TASKS},
                    "entertainment": planned(root, "entertainment", "word_50k")}  # fmt: skip
    ten_planned = {t: ten_seed_planned(root, t) for t in DEFAULT_TASKS}
    return [("default model", {t: root / TEN_SEEDS / t for t in DEFAULT_TASKS}, ten_planned),
            ("SmolLM2-135M, CPU", smol_dirs, smol_planned)]  # fmt: skip


def sample_efficiency_per_task(root: Path) -> str:
    """The sample-efficiency claim task by task, beside its aggregate: the step each task is read at (TWOSOME's
    budget) and where that falls in PPO from scratch's own schedule, each arm's training return / optimal there, and
    P(TWOSOME better) with its status."""
    rows = []
    for model, dirs, want in efficiency_arms(root):
        scores = efficiency_scores(root, dirs)
        for task, v in scores.items():
            e = probability_of_improvement(v["word"], v["ppo"])
            status = claim_status(e, v["word"], v["ppo"], (want[task], ppo_planned(root, task)))
            rows.append([model, TASKS.get(task, task), f"{v['budget']:,}", where_read(v["budget"], v["ppo_steps"]),
                         f"{est(v['word'])} ({len(v['word'])})", f"{est(v['ppo'])} ({len(v['ppo'])})", e.text(),
                         status])  # fmt: skip
        if scores:
            rows.append([model, f"**all {len(scores)} tasks** (aggregate)", "", "", "", "",
                         *efficiency_aggregate(root, scores, want)])  # fmt: skip
    header = ["model", "task", "read at (TWOSOME's budget, steps)", "PPO from scratch read",
              "TWOSOME (word): training return / optimal, IQM [95% CI] (seeds)",
              "PPO from scratch, IQM [95% CI] (seeds)",
              "P(TWOSOME better) [95% CI]", "status"]  # fmt: skip
    return table(header, rows)


SMOL_OTHERS = {"saycan": "SayCan (word)", "untrained_word": "untrained TWOSOME (word)", "none": "TWOSOME (none)"}


def arm_cells(runs) -> list[str]:
    """An arm's final sampled success (IQM), how many seeds end at 0.00, and its final greedy return / optimal."""
    at_zero = int((runs.sampled_success.round(2) == 0).sum())
    return [est(runs.sampled_success), f"{at_zero}/{len(runs)}", est(runs.greedy)]


def smollm2_cpu_claims_per_task(root: Path) -> str:
    """The claims that hold over Food Preparation and Tomato Salad together, task by task: TWOSOME (word) against
    SayCan, the untrained LLM and TWOSOME (none) on each task's own seeds, with each arm's final sampled success, how
    many of its seeds end at 0.00, and its final greedy return / optimal beside (a metric the claim does not use)."""
    rows = []
    for task in PPO_TASKS:
        word = archived_runs(root / CAMPAIGN / task / "word")
        if word.empty:
            continue
        word = word.sort_values("seed")
        for arm, label in SMOL_OTHERS.items():
            other = archived_runs(root / CAMPAIGN / task / arm)
            if other.empty:
                continue
            other = other.sort_values("seed")
            x, y = list(word.sampled_success), list(other.sampled_success)
            e = probability_of_improvement(x, y)
            status = claim_status(e, x, y, (planned(root, task, "word"), planned(root, task, arm)))
            rows.append([TASKS[task], f"TWOSOME (word) > {label}", *arm_cells(word), *arm_cells(other), e.text(),
                         status])  # fmt: skip
    if not rows:
        return "Not run yet: the campaign's Food Preparation and Tomato Salad arms.\n"
    header = ["task", "claim", "TWOSOME (word): final sampled success, IQM [95% CI]", "... seeds at 0.00",
              "... final greedy return / optimal, IQM [95% CI]", "other arm: final sampled success, IQM [95% CI]",
              "... seeds at 0.00", "... final greedy return / optimal, IQM [95% CI]",
              "P(word ends with more sampled success) [95% CI]", "status"]  # fmt: skip
    return table(header, rows)


def smol_retention_claim(root: Path) -> str:
    per_task = {t: perplexity_changes(root, t, "word") for t in PPO_TASKS}
    changes = [c for t in PPO_TASKS for c in per_task[t]]
    if not changes:
        return "not run yet"
    text, verdict = retention_verdict(changes, sum(planned(root, t, "word") for t in PPO_TASKS))
    cell = f"English perplexity change {text} (IQM over {len(changes)} adapters), {verdict}; policy lr 1e-3"
    for arm, lr in list(LR_ARMS.items())[1:]:
        lower = perplexity_changes(root, "food_preparation", arm)
        if lower:
            text, verdict = retention_verdict(lower, planned(root, "food_preparation", arm))
            cell += f"; lr {lr} (Food Preparation): {text}, {verdict}"
    return cell


def default_retention_claim(root: Path) -> str:
    """The default model's adapters by SmolLM2's rule, on the perplexity of its own language (household text)."""
    per_task = default_retention.perplexity_changes(root)
    changes = [c for v in per_task.values() for c in v]
    if not changes:
        return "not measured yet (studies/ten_seeds/plan_default_retention.yaml)"
    want = sum(planned_seeds(root, RETENTION_PLAN, archive=f"default_retention/{t}") for t in per_task)
    text, verdict = retention_verdict(changes, want, late=False)  # its rule was fixed before its data
    lr = default_retention.policy_lr(root)
    return f"household perplexity change {text} (IQM over {len(changes)} adapters), {verdict}; policy lr {lr}"


def unseen_claim(root: Path) -> str:
    """Trained Food Preparation agents against their untrained twin over the other tasks, agents drawn jointly."""
    aggregate = unseen_aggregate(root)
    if aggregate is None:
        return "not run yet"
    tasks, text, verdict = aggregate
    return f"{text}, {verdict}; {tasks} other tasks (agents resampled with all their tasks; {LATE.strip(' ()')})"


def prior_claim(root: Path) -> str:
    """The default model's pretrained against random-init weights (TWOSOME on Tomato Salad, each at its picked rate)."""
    runs = archived_runs(root / "studies/prior/data/prior_ten_seeds")
    if runs.empty:
        return "not run"
    pre, rand = (runs[runs.model == m].sort_values("seed") for m in ("tiny-household", "tiny-household-random"))
    x, y = list(pre.sampled_success), list(rand.sampled_success)
    e = probability_of_improvement(x, y)
    return f"{e.text()}, {claim_status(e, x, y, (PRIOR_PLANNED, PRIOR_PLANNED))}; Tomato Salad (TWOSOME)"


def glam_claim(root: Path) -> str:
    """Pretrained against the random-init control that can move (token-normalized scores, which explore at about
    chance); the summed-score control beside, not instead: it puts its mass on the one-token actions and never moves."""
    fair = smol_claim(root, "pretrained", "random_token", ("glam_goto",))
    if fair == "not run yet":
        have = len(smol_scores(root, "glam_goto", "pretrained"))
        fair = (f"not run yet against random init with token-normalized scores (0 of "
                f"{planned(root, 'glam_goto', 'random_token')} seeds; pretrained {have} of "
                f"{planned(root, 'glam_goto', 'pretrained')})")  # fmt: skip
    summed = smol_claim(root, "pretrained", "random", ("glam_goto",))
    return f"{fair}; beside it, against random init with summed scores (a control that cannot move): {summed}"


def robustness_claim(root: Path) -> str:
    _, changes = robustness_changes(root)
    n = planned(root, "glam_goto", "pretrained")
    cells = [f"{g.split(' (')[0]}: {est(c)}, {robustness_verdict(c, n)}" for g, c in changes.items() if c]
    return "; ".join(cells) if cells else "not run yet"


DEFAULT_MODEL_SECTION = "../studies/ten_seeds/README.md#the-papers-comparison-at-10-seeds-the-embedded-default-model"


def papers_claims(root: Path) -> str:
    """Each claim of the two papers: what the paper found, the default model at 10 seeds, SmolLM2 on the CPU."""
    (_, default_dirs, default_want), (_, smol_efficiency, smol_planned) = efficiency_arms(root)
    rows = [
        ["TWOSOME more sample efficient than PPO from scratch (training return / optimal at TWOSOME's budget)",
         "yes, on every task",
         sample_efficiency(root, default_dirs, default_want),
         sample_efficiency(root, smol_efficiency, smol_planned)],
        ["TWOSOME (word) better than SayCan", "yes", default_claim(root, "twosome", "word", ("saycan", "word")),
         smol_claim(root, "word", "saycan")],
        ["TWOSOME (word) better than the untrained LLM", "yes",
         default_claim(root, "twosome", "word", ("zeroshot", "word")), smol_claim(root, "word", "untrained_word")],
        ["word >= token", "yes", "token = word by construction (every action word is one token)",
         smol_claim(root, "word", "token", ("food_preparation",))],
        ["word > none", "yes", default_claim(root, "twosome", "word", ("twosome", "none")),
         smol_claim(root, "word", "none")],
        ["generalization to unseen tasks (trained > untrained twin, sampled success on the other tasks)",
         "yes (Food Preparation agent on 6 unseen tasks)", f"see [the 10-seed comparison]({DEFAULT_MODEL_SECTION})",
         unseen_claim(root)],
        ["no significant loss of language ability", "yes (7B, lr ~1e-6)", default_retention_claim(root),
         smol_retention_claim(root)],
        ["GLAM: pretrained >> random init", "yes (Flan-T5, BabyAI-Text)",
         prior_claim(root), glam_claim(root)],
        ["GLAM: robust to distractors and to useless actions (change in sampled success on unseen settings, "
         f"margin ±{ROBUSTNESS_MARGIN:g})", "yes (one agent trained per setting)",
         "not measured (the default model does not learn GoTo)", robustness_claim(root)],
    ]  # fmt: skip
    header = ["claim", "paper", "default model, 10 seeds: P(improvement) [95% CI], status", "SmolLM2-135M, CPU"]
    return table(header, rows)


TABLES: dict[str, Callable[[Path], str]] = {
    "papers_claims": papers_claims,
    "sample_efficiency_per_task": sample_efficiency_per_task,
    "smollm2_cpu_claims_per_task": smollm2_cpu_claims_per_task,
}
