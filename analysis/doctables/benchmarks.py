"""The tables of docs/BENCHMARKS.md, each a function of the repository root returning Markdown (registered in
``TABLES``; ``analysis/docs_tables.py`` writes them between their markers).

Every number comes from a CSV committed under docs/; a CPU table also says which CPU flags it ran with (a ``cpu``
column, as ``twosome.bench.dtype`` writes) or that they were not recorded, because bfloat16 speed depends on them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from twosome.run_dir import RunDir

BENCH = Path("docs/benchmarks")
DATA = Path("docs/data")
NO_CPU_FLAGS = "CPU flags not recorded"
PHASES = ("rollout", "value", "policy")
# Speedup targets of the shared-prefix scorer at ~150-token prompts, keyed by (phase, actions); reached ones bold.
SCORING_TARGETS = {("rollout", 8): 4.0, ("rollout", 42): 8.0, ("update", 8): 2.5}
E2E_CASES = {
    "overcooked": "Overcooked Tomato Salad",
    "babyai_goto": "BabyAI-Text GoTo, GLAM",
    "virtualhome": "VirtualHome Entertainment",
}
# Targets of the scorer's rework, keyed by (env, model, scorer); bold marks the case the rework was for.
E2E_TARGETS = {
    ("overcooked", "tiny", "shared"): ("target: no slower", False),
    ("babyai_goto", "tiny", "shared"): ("target 5x", True),
    ("overcooked", "smollm2_fp32", "shared"): ("target 3x", False),
}
TASKS = {
    "twosome/Overcooked-TomatoSalad-v0": "Tomato Salad",
    "twosome/VirtualHome-FoodPreparation-v0": "Food Preparation",
}


def markdown(table: pd.DataFrame, caption: str = "") -> str:
    """A frame of display strings as a Markdown table, its column names as header, with an optional caption line."""
    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines) + (f"\n\n{caption}" if caption else "") + "\n"


def cpu_keys(frame: pd.DataFrame) -> list[str]:
    """Group by the CPU flags too when the CSV has them, so that each row keeps the flags it was measured with."""
    return ["cpu"] if "cpu" in frame.columns else []


def cpu_table(table: pd.DataFrame, caption: str = "") -> str:
    """A CPU measurement's table: its flags as a column when recorded, else a caption that says they were not."""
    if "cpu" in table.columns:
        return markdown(table.rename(columns={"cpu": "CPU flags"}), caption)
    return markdown(table, f"{caption} {NO_CPU_FLAGS}.".strip())


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}x"


def rate(value: float) -> str:
    """Three significant figures for rates from 1 to 1000, as the doc printed them (3.97, 18.8, 355.6)."""
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def phase_shares(row: pd.Series) -> str:
    """Share of time in rollout / value / policy, e.g. "38/5/56%"."""
    return "/".join(f"{100 * row[f'{p}_share']:.0f}" for p in PHASES) + "%"


def against_target(speedup: float, target: float | None, bold: bool = False, note: str = "") -> str:
    """A speedup with its target: bold where the target is met (or the row is the case the work was for)."""
    text = f"{speedup:.2f}x"
    if target is not None:
        bold = bold or speedup >= target
        note = note or f"target {target:g}x"
    text = f"**{text}**" if bold else text
    return f"{text} ({note})" if note else text


def scoring_rows(frame: pd.DataFrame, modes: Sequence[str], digits: int) -> pd.DataFrame:
    """ms per decision of each mode side by side, and shared's speedup over naive, in the doc's row order."""
    keys = ["phase", "target_prompt_tokens", "actions", *cpu_keys(frame)]
    ms = frame.pivot_table(index=keys, columns="mode", values="seconds_per_decision", aggfunc="first") * 1000
    ms = ms.reset_index()
    ms = ms.assign(other_length=ms["target_prompt_tokens"] != 150)  # ~150-token prompts first, as the targets
    ms = ms.sort_values(["phase", "other_length", "target_prompt_tokens", "actions"])
    out = pd.DataFrame(
        {
            "phase": ms["phase"],
            "prompt tokens": ms["target_prompt_tokens"],
            "actions": ms["actions"],
            **{mode: ms[mode].map(lambda v: f"{v:.{digits}f}") for mode in modes},
        }
    )
    out["speedup (shared)"] = [
        against_target(
            r.naive / r.shared, SCORING_TARGETS.get((r.phase, r.actions)) if r.target_prompt_tokens == 150 else None
        )
        for r in ms.itertuples()
    ]
    for key in cpu_keys(frame):
        out[key] = ms[key]
    return out


def cost_growth(frame: pd.DataFrame, few: int = 2, many: int = 42) -> str:
    """The shared-prefix scorer's scaling target: shared rollout cost at ``many`` actions over its cost at ``few``
    (at most 3x)."""
    shared = frame[(frame["mode"] == "shared") & (frame["phase"] == "rollout") & (frame["target_prompt_tokens"] == 150)]
    cost = shared.set_index("actions")["seconds_per_decision"]
    return (
        f"Shared rollout cost at {many} actions is {ratio(cost[many], cost[few])} its cost at {few} actions "
        "(target: at most 3x)."
    )


def scoring_cpu(root: Path) -> str:
    """The first CPU scoring benchmark (tiny Llama), with the since-deleted ``shared_repeat`` mode."""
    frame = pd.read_csv(root / BENCH / "scoring_cpu.csv")
    return cpu_table(scoring_rows(frame, ("naive", "shared_repeat", "shared"), 2), cost_growth(frame))


def scoring_cpu_rework(root: Path) -> str:
    """The rerun after the scorer's rework: ``shared`` picks its kernel."""
    frame = pd.read_csv(root / BENCH / "scoring_cpu_rework.csv")
    return cpu_table(scoring_rows(frame, ("naive", "shared"), 2), cost_growth(frame))


def scoring_cpu_fsdp2(root: Path) -> str:
    """The same benchmark on a model sharded over 2 gloo ranks (the one-pass kernel)."""
    frame = pd.read_csv(root / BENCH / "scoring_cpu_fsdp2.csv")
    return cpu_table(scoring_rows(frame, ("naive", "shared"), 1))


def e2e_rows(frame: pd.DataFrame, keys: Sequence[str], label: Callable[[pd.Series], dict]) -> pd.DataFrame:
    """env steps/s (share of time per phase) before (the ``--ref`` commit) and after, and the speedup, one row per
    ``keys`` group, led by the columns ``label`` names for it."""
    ref = next(code for code in frame["code"].unique() if code != "this")
    rows = []
    for _, group in frame.groupby([*keys, *cpu_keys(frame)], sort=False):
        before = group[group["code"] == ref].iloc[0]
        after = group[group["code"] == "this"].iloc[0]
        speedup = after["env_steps_per_second"] / before["env_steps_per_second"]
        note, bold = E2E_TARGETS.get((after["env"], after["model"], after["scorer"]), ("", False))
        row = {
            **label(after),
            "updates measured": f"{after['updates_measured']:.0f}",
            f"before ({ref})": f"{rate(before['env_steps_per_second'])} ({phase_shares(before)})",
            "after": f"{rate(after['env_steps_per_second'])} ({phase_shares(after)})",
            "speedup": against_target(speedup, None, bold, note),
        }
        rows.append(row | {k: after[k] for k in cpu_keys(frame)})
    return pd.DataFrame(rows)


def e2e_tiny_cpu(root: Path) -> str:
    """The scorer rework's end-to-end benchmark on the tiny model, three environments, both scorers."""
    frame = pd.read_csv(root / BENCH / "e2e_tiny_cpu.csv")
    order = {name: rank for rank, name in enumerate([*E2E_CASES, "shared", "naive"])}
    frame = frame.sort_values(["env", "scorer"], key=lambda column: column.map(order))

    def case(row: pd.Series) -> dict:
        main_job = row["env"] == "overcooked" and row["scorer"] == "shared"
        return {"case": E2E_CASES[row["env"]] + (" (the main job)" if main_job else ""), "scorer": row["scorer"]}

    return cpu_table(e2e_rows(frame, ["env", "scorer"], case), "Shares: rollout/value/policy.")


def e2e_smollm2_cpu(root: Path) -> str:
    """The same benchmark with SmolLM2-135M in float32 and bfloat16 on Overcooked."""
    frame = pd.read_csv(root / BENCH / "e2e_smollm2_cpu.csv")
    dtypes = {"smollm2_fp32": "float32", "smollm2_bf16": "bfloat16"}
    rows = e2e_rows(frame, ["model"], lambda row: {"model dtype": dtypes[row["model"]]})
    return cpu_table(rows, "Shares: rollout/value/policy.")


def update_rows(metrics: pd.DataFrame) -> pd.DataFrame:
    """The update rows of a run's metrics.csv, with each update's env steps and seconds (rollout + value + policy)."""
    metrics = metrics.dropna(subset=["charts/rollout_seconds"])
    return metrics.assign(
        steps=metrics["global_step"].diff().fillna(metrics["global_step"]),
        seconds=sum(metrics[f"charts/{p}_seconds"] for p in PHASES),
    )


def update_phases(metrics: pd.DataFrame) -> pd.DataFrame:
    """Seconds per phase of each PPO update from a run's metrics.csv, its env steps/s and peak GPU memory."""
    metrics = update_rows(metrics)
    return pd.DataFrame(
        {
            "update": metrics["update"].map(
                lambda u: f"{u:.0f}" + (" (warm-up)" if u == 1 and len(metrics) > 1 else "")
            ),
            **{f"{p} s": metrics[f"charts/{p}_seconds"].map("{:.2f}".format) for p in PHASES},
            "total s": metrics["seconds"].map("{:.1f}".format),
            "env steps/s": (metrics["steps"] / metrics["seconds"]).map(rate),
            "peak GPU memory GB": metrics["charts/gpu_peak_memory_gb"].map(rate),
        }
    )


def gpu_paper7b_three_updates(root: Path) -> str:
    """The paper's preset on the random 7B architecture, alone on one H100."""
    metrics = pd.read_csv(root / DATA / "gpu_paper7b_three_updates.csv")
    warm = update_rows(metrics).iloc[1:]
    seconds_per_step = warm["seconds"].sum() / warm["steps"].sum()
    hours = 500_000 * seconds_per_step / 3600
    caption = (
        f"Once warm (updates 2-{warm['update'].iloc[-1]:.0f}): {rate(1 / seconds_per_step)} env steps/s, so the "
        f"paper's 500,000 steps would take {hours:.1f} hours on one H100."
    )
    return markdown(update_phases(metrics), caption)


def gpu_fsdp_one_update(root: Path) -> str:
    """One PPO update under FSDP2 on one GPU (twelve other runs shared the GPU: not a speed figure)."""
    return markdown(update_phases(pd.read_csv(root / DATA / "gpu_fsdp_one_update.csv")))


def smollm2_gpu_runs(root: Path) -> str:
    """Per-update cost of the SmolLM2 training runs that shared one H100 twelve at a time (docs/RESULTS.md's 3b)."""
    updates = []
    for run in sorted((root / "studies/smollm2_gpu/data/smollm2_gpu").iterdir()):
        summary = pd.read_json(RunDir(run).summary, typ="series")
        agent = "SayCan" if summary["agent"] == "saycan" else f"TWOSOME, {summary['norm']}"
        metrics = update_rows(pd.read_csv(RunDir(run).metrics))
        task = TASKS[summary["env_id"]]
        updates.append(
            metrics.assign(
                task=task, agent=agent, run=run.name, env_steps=summary["env_steps"], wall=summary["wall_seconds"]
            )
        )
    rows = []
    for (task, agent), group in pd.concat(updates).groupby(["task", "agent"], sort=False):
        runs = group.groupby("run").first()
        rows.append(
            {
                "task": task,
                "agent": agent,
                "runs": len(runs),
                "env steps per run": f"{runs['env_steps'].iloc[0]:,.0f}",
                **{f"{p} s": f"{group[f'charts/{p}_seconds'].median():.2f}" for p in PHASES},
                "env steps/s": rate((group["steps"] / group["seconds"]).median()),
                "peak GPU memory GB": f"{group['charts/gpu_peak_memory_gb'].max():.1f}",
                "wall minutes per run": f"{runs['wall'].median() / 60:.1f}",
            }
        )
    caption = (
        "Seconds per phase and env steps/s: medians over every update of every run in a row; peak GPU memory: the "
        "largest of the row's runs; wall time includes evaluations."
    )
    return markdown(pd.DataFrame(rows).sort_values(["task", "agent"], ascending=[False, True]), caption)


def dtype_auto_e2e_cpu(root: Path) -> str:
    """model.dtype=auto's probe beside what it predicts: SmolLM2 training in each dtype on the probing CPU."""
    frame = pd.read_csv(root / "docs/benchmarks/dtype_auto_e2e_cpu.csv")
    last = frame.sort_values("update").groupby("dtype", sort=False).last()
    rows = pd.DataFrame(
        {
            "base dtype": last.index,
            "seconds per update (rollout + update), last update": [
                f"{r.rollout_seconds:.2f} + {r.update_seconds:.2f}" for r in last.itertuples()
            ],
            "env steps/s after 3 updates": [f"{r.sps:.1f}" for r in last.itertuples()],
            "probe: bfloat16 speed / float32": [f"{r.probe_speedup:.2f}x" for r in last.itertuples()],
            "CPU flags": list(last.cpu),
        }
    )
    return markdown(rows)


MODEL_NAMES = {
    "tiny": "tiny default",
    "smollm2_fp32": "SmolLM2-135M, float32",
    "smollm2_bf16": "SmolLM2-135M, bfloat16",
}


# Targets of the trunk cache, keyed by (env, model, lora_layers): against the same lora_layers before the cache,
# and against the all-block default before it (None: not a target).
TRUNK_TARGETS = {
    ("overcooked", "smollm2_fp32", "8"): (3.0, 3.0),
    ("overcooked", "smollm2_fp32", "15"): (3.0, 3.0),
    ("overcooked", "smollm2_bf16", "8"): (3.0, 3.0),
    ("overcooked", "smollm2_bf16", "15"): (3.0, 3.0),
    ("babyai_goto", "smollm2_fp32", "8"): (2.5, None),
    ("babyai_goto", "smollm2_bf16", "8"): (2.5, None),
    ("overcooked", "tiny", "all"): (1.0, None),
}


def trunk_cache_cpu(root: Path) -> str:
    """The frozen trunk cached, before (the ref) and after at each lora_layers, and against the ref's
    all-block run of the same case; peak resident memory after, the cache at its default size."""
    frame = pd.read_csv(root / BENCH / "trunk_cache_cpu.csv", dtype={"lora_layers": str})
    ref = next(code for code in frame["code"].unique() if code != "this")
    rows = []
    for (env, model, layers), group in frame.groupby(["env", "model", "lora_layers"], sort=False):
        before = group[group["code"] == ref].iloc[0]
        after = group[group["code"] == "this"].iloc[0]
        all_blocks = frame[(frame.env == env) & (frame.model == model) & (frame.lora_layers == "all")]
        all_before = all_blocks[all_blocks.code == ref]
        equal_target, all_target = TRUNK_TARGETS.get((env, model, layers), (None, None))
        speedup = after.env_steps_per_second / before.env_steps_per_second
        versus_all = (
            against_target(after.env_steps_per_second / all_before.env_steps_per_second.iloc[0], all_target)
            if len(all_before) and layers != "all"
            else ""
        )
        rows.append(
            {
                "case": E2E_CASES[env],
                "model": MODEL_NAMES.get(model, model),
                "LoRA on": "every block" if layers == "all" else f"top {layers} blocks",
                f"before ({ref})": f"{rate(before.env_steps_per_second)} ({phase_shares(before)})",
                "after": f"{rate(after.env_steps_per_second)} ({phase_shares(after)})",
                "speedup, same LoRA blocks": against_target(speedup, equal_target),
                f"speedup over every block before ({ref})": versus_all,
                "peak resident memory after (GiB)": f"{after.peak_rss_gib:.2f}",
                "CPU flags": after.cpu,
            }
        )
    return markdown(pd.DataFrame(rows), "Shares: rollout/value/policy.")


def over(row: pd.Series, ref: pd.Series) -> str:
    """``a / b = ratio`` of two benchmark rows' env steps/s."""
    a, b = row.env_steps_per_second, ref.env_steps_per_second
    return f"{rate(a)} / {rate(b)} = {ratio(a, b)}"


def trunk_cache_bf16_fix(root: Path) -> str:
    """The bfloat16 slowdown the first benchmark call found (its console table, kept in
    trunk_cache_bf16_first_call.csv: the rerun overwrote its e2e.csv) beside the call after the fix, each against the
    9ee44e2 rows of its own call."""
    first = pd.read_csv(root / BENCH / "trunk_cache_bf16_first_call.csv", dtype={"lora_layers": str})
    after = pd.read_csv(root / BENCH / "trunk_cache_cpu.csv", dtype={"lora_layers": str})
    after = after[after.model == "smollm2_bf16"]
    rows = []
    for layers, call in first.groupby("lora_layers", sort=False):
        before_fix = call[call.code != "9ee44e2"].iloc[0]
        ref_first = call[call.code == "9ee44e2"].iloc[0]
        case = after[after.lora_layers == layers]
        fixed, ref_second = case[case.code == "this"].iloc[0], case[case.code == "9ee44e2"].iloc[0]
        rows.append(
            {
                "LoRA on": "every block" if layers == "all" else f"top {layers} blocks",
                f"first call: {before_fix.code} / 9ee44e2": over(before_fix, ref_first),
                "after the fix: a83940b / 9ee44e2": over(fixed, ref_second),
                "9ee44e2, second call / first": ratio(ref_second.env_steps_per_second, ref_first.env_steps_per_second),
                "CPU flags": before_fix.cpu,
            }
        )
    return markdown(pd.DataFrame(rows), "SmolLM2-135M, bfloat16, Overcooked Tomato Salad; env steps/s.")


def seed_batch_cpu(root: Path) -> str:
    """Seed groups: N seeds as one seed group against N processes sharing the cores, the same work."""
    frame = pd.read_csv(root / BENCH / "seed_batch_cpu.csv")
    rows = []
    for (model, seeds), case in frame.groupby(["model", "seeds"], sort=False):
        ways = case.set_index("way")
        for way in ("separate", "batched"):
            r = ways.loc[way]
            rows.append(
                {
                    "model": MODEL_NAMES.get(model, model),
                    "seeds": seeds,
                    "how": f"{'seed group' if way == 'batched' else 'separate'}: {r.processes} process(es) x "
                    f"{r.threads_per_process} thread(s)",
                    "env steps/s (training)": rate(r.env_steps_per_second),
                    "env steps/s (wall clock)": rate(r.wall_env_steps_per_second),
                    "seconds per update: rollout + updates": f"{r.rollout_seconds_per_update:.2f} + "
                    f"{r.update_seconds_per_update:.2f}",
                    "peak resident memory (GiB)": f"{r.peak_rss_gib:.2f}",
                    "CPU flags": r.cpu,
                }
            )
        sep, bat = ways.loc["separate"], ways.loc["batched"]
        rows.append(
            {
                "model": "",
                "seeds": "",
                "how": "batched / separate",
                "env steps/s (training)": ratio(bat.env_steps_per_second, sep.env_steps_per_second),
                "env steps/s (wall clock)": ratio(bat.wall_env_steps_per_second, sep.wall_env_steps_per_second),
                "seconds per update: rollout + updates": " + ".join(
                    ratio(bat[k], sep[k]) for k in ("rollout_seconds_per_update", "update_seconds_per_update")
                ),
                "peak resident memory (GiB)": ratio(bat.peak_rss_gib, sep.peak_rss_gib),
                "CPU flags": "",
            }
        )
    return markdown(pd.DataFrame(rows))


def critic_memory_7b(root: Path) -> str:
    """What TWOSOME's critic holds at LLaMA-7B's width, the memory GiGPO does without (counted from
    shapes by ``python -m twosome.bench.critic_memory``)."""
    path = root / "docs/data/critic_memory_7b.csv"
    if not path.exists():
        return "Not measured yet: `python -m twosome.bench.critic_memory --out results/critic_memory`.\n"
    row = pd.read_csv(path).iloc[0]
    parts = {
        "head weights (float32)": row.weights_mib,
        "head gradients": row.gradients_mib,
        "Adam state (two moments)": row.adam_state_mib,
        "prompt-feature memo, full": row.feature_memo_mib,
        "**total**": row.total_mib,
    }
    frame = pd.DataFrame({"part": list(parts), "MiB": [f"{v:,.1f}" for v in parts.values()]})
    caption = f"hidden size {int(row.hidden_size)}, critic head of {int(row.critic_parameters):,} parameters"
    return markdown(frame, caption)


def candidate_scaling_cpu(root: Path) -> str:
    """Scoring and update time per decision on real TextWorld states, grouped by the length of their admissible
    command list (``python -m twosome.bench.candidates``)."""
    frame = pd.read_csv(root / BENCH / "candidate_scaling.csv")
    frame = frame.sort_values(["model", "dtype", "threads", "phase", "mode", "commands_low"], kind="stable")
    rows = pd.DataFrame(
        {
            "model": frame.model.map({"tiny": "tiny (default)", "smollm2": "SmolLM2-135M"}) + " " + frame.dtype,
            "threads": frame.threads,
            "phase": frame.phase,
            "scoring": frame["mode"],
            "commands per state": [
                f"{lo}-{hi} (mean {m:.1f})"
                for lo, hi, m in zip(frame.commands_low, frame.commands_high, frame.commands)
            ],  # fmt: skip
            "prompt tokens": frame.prompt_tokens.map(lambda v: f"{v:.0f}"),
            "ms per decision": frame.ms_per_decision.map(rate),
            "ms per command": frame.ms_per_candidate.map(rate),
            "cpu": frame.cpu,
        }
    )
    caption = (
        f"{int(frame.envs.iloc[0])} states scored per call (a rollout's environments), the median of timed calls; "
        "states reached by random admissible commands in tw-cooking games of three difficulties."
    )
    return cpu_table(rows, caption) + "\n" + candidate_growth(frame)


def candidate_growth(frame: pd.DataFrame) -> str:
    """How the cost per decision grows from the shortest command list to the longest, per model, phase and mode,
    and what shared-prefix scoring saves over naive at each end (where both were measured)."""
    rows = []
    for (model, dtype, threads, phase), cases in frame.groupby(["model", "dtype", "threads", "phase"], sort=True):
        by_mode = {mode: g.sort_values("commands") for mode, g in cases.groupby("mode")}
        for mode, g in by_mode.items():
            first, last = g.iloc[0], g.iloc[-1]
            grows = ratio(last.ms_per_decision, first.ms_per_decision)
            lists = f"{first.commands:.1f} -> {last.commands:.1f}"
            row = [f"{model} {dtype}", threads, phase, mode, lists, ratio(last.commands, first.commands), grows]
            if mode == "naive" and "shared" in by_mode:
                shared = by_mode["shared"].set_index("commands_low").ms_per_decision
                naive = g.set_index("commands_low").ms_per_decision
                both = [low for low in naive.index if low in shared.index]
                row.append(" / ".join(f"{naive[low] / shared[low]:.2f}x" for low in (both[0], both[-1])))
            else:
                row.append("-")
            rows.append(row)
    header = ["model", "threads", "phase", "scoring", "commands per state (mean), shortest -> longest group",
              "list grows", "ms per decision grows", "naive / shared, shortest / longest group"]  # fmt: skip
    return markdown(pd.DataFrame(rows, columns=header))


def update_memory_cpu(root: Path) -> str:
    """Peak memory of one training update by ``ppo.policy_chunk_size`` (``python -m twosome.bench.update_memory``),
    with what each further decision in a chunk adds (the least-squares slope over the finished cases)."""
    frame = pd.read_csv(root / BENCH / "update_memory.csv").sort_values(["overrides", "threads", "chunk"])
    seconds = frame.rollout_seconds.notna()
    rows = pd.DataFrame(
        {
            "run": frame.overrides,
            "threads": frame.threads,
            "decisions per update": frame.decisions,
            "decisions per chunk": frame.chunk,
            "peak memory (GiB)": frame.peak_rss_gib.map(lambda v: f"{v:.2f}"),
            "outcome": frame.outcome,
            "update s per decision": (frame.update_seconds / frame.decisions)
            .where(seconds)
            .map(lambda v: "-" if pd.isna(v) else f"{v:.2f}"),
            "cpu": frame.cpu,
        }
    )
    slopes = []
    for run, cases in frame[frame.outcome == "finished"].groupby("overrides"):
        if cases.chunk.nunique() > 1:
            slope, base = np.polyfit(cases.chunk, cases.peak_rss_gib, 1)
            slopes.append(f"`{run}`: {slope:.2f} GiB per decision in a chunk, above {base:.2f} GiB")
    caption = (
        "Peak: the run's process, as the kernel recorded it (model, environments and one evaluation episode "
        "included). " + "; ".join(slopes) + ("." if slopes else "")
    )
    return cpu_table(rows, caption)


TABLES: dict[str, Callable[[Path], str]] = {
    f.__name__: f
    for f in (
        scoring_cpu,
        scoring_cpu_rework,
        scoring_cpu_fsdp2,
        e2e_tiny_cpu,
        e2e_smollm2_cpu,
        gpu_paper7b_three_updates,
        gpu_fsdp_one_update,
        smollm2_gpu_runs,
        dtype_auto_e2e_cpu,
        seed_batch_cpu,
        trunk_cache_cpu,
        trunk_cache_bf16_fix,
        critic_memory_7b,
        candidate_scaling_cpu,
        update_memory_cpu,
    )
}
