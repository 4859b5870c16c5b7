"""The utilization tables of docs/BENCHMARKS.md: how close an update's phases run to the machine's matrix-product
rate (``twosome.bench.utilization``), where the rest of their time goes (``twosome.bench.phase_profile``), and what
``torch.compile`` of the adapted blocks does to it (``twosome.bench.compile_lever``). Raw data: docs/benchmarks/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from doctables.benchmarks import BENCH, NO_CPU_FLAGS, markdown, rate
from doctables.common import cpu_with_isa

UTILIZATION_CASES = {
    "tiny": "tiny (default)",
    "smollm2_fp32": "SmolLM2-135M float32",
    "smollm2_bf16": "SmolLM2-135M bfloat16",
}
UTILIZATION_TASKS = {
    "food_preparation": "Food Preparation",
    "tomato_salad": "Tomato Salad",
    "babyai_goto": "BabyAI-Text GoTo (GLAM)",
}
UTILIZATION_TARGET = 0.6  # a phase below this share of the GEMM rate is a phase to profile


def share(value: float) -> str:
    return f"{value:.0%}" if value >= 0.005 else "<1%"


def cpu_flag_sets(frame: pd.DataFrame) -> str:
    """The distinct CPU flag sets of a table's rows, for its caption."""
    return "; ".join(sorted({c.split("; ", 1)[1] for c in frame.cpu if "; " in c})) or NO_CPU_FLAGS


def utilization_cpu(root: Path) -> str:
    """Model FLOP utilization per update phase (``python -m twosome.bench.utilization``): each phase's counted
    GFLOP over its seconds, against the best matrix-product rate measured in the same process."""
    frame = pd.read_csv(root / BENCH / "utilization.csv")
    frame["update_seconds"] = frame.groupby(["model", "env", "lora_layers", "threads", "cpu"]).seconds.transform("sum")
    rows = pd.DataFrame(
        {
            "model": frame.model.map(UTILIZATION_CASES),
            "task": frame.env.map(UTILIZATION_TASKS),
            "LoRA blocks": frame.lora_layers,
            "threads": frame.threads,
            "phase": frame.phase,
            "GFLOP per update": (frame.gflop / frame.updates).map(lambda v: f"{v:.1f}"),
            "s per update": (frame.seconds / frame.updates).map(lambda v: f"{v:.2f}"),
            "share of update time": (frame.seconds / frame.update_seconds).map(share),
            "GFLOP/s": frame.gflop_per_s.map(rate),
            "GEMM GFLOP/s": frame.gemm_gflop_per_s.map(rate),
            "utilization": [f"**{u:.0%}**" if u >= UTILIZATION_TARGET else f"{u:.0%}" for u in frame.utilization],
            "cpu": frame.cpu.map(cpu_with_isa),
        }
    )
    caption = (
        f"Bold: at or above {UTILIZATION_TARGET:.0%} of the GEMM rate. The updates after the first (a warm-up) of "
        f"{', '.join(str(u + 1) for u in sorted(set(frame.updates)))}-update runs of 128 environment steps each. "
        f"CPU flags: {cpu_flag_sets(frame)}."
    )
    return markdown(rows.rename(columns={"cpu": "CPU"}), caption)


KINDS = ("matmul", "attention", "elementwise", "copy", "other")
KIND_NAMES = {
    "matmul": "matrix products",
    "attention": "attention and log-softmax",
    "elementwise": "elementwise and reductions",
    "copy": "copies and fills",
    "other": "other",
}
PROFILE_PHASES = {"rollout": "rollout", "update": "update (value and policy)"}


def phase_profile_cpu(root: Path) -> str:
    """Where each phase's time goes, by kind of operator (``python -m twosome.bench.phase_profile``): shares of the
    profiled self time, summed over the updates after the first."""
    frame = pd.read_csv(root / BENCH / "phase_profile.csv")
    case = ["model", "env", "lora_layers", "threads", "cpu"]
    shares = frame.pivot_table(index=[*case, "phase"], columns="kind", values="share", aggfunc="sum")
    shares = shares.reindex(columns=list(KINDS)).fillna(0.0).reset_index()
    rows = pd.DataFrame(
        {
            "model": shares.model.map(UTILIZATION_CASES),
            "task": shares.env.map(UTILIZATION_TASKS),
            "LoRA blocks": shares.lora_layers,
            "threads": shares.threads,
            "phase": shares.phase.map(PROFILE_PHASES),
            **{KIND_NAMES[k]: shares[k].map(share) for k in KINDS},
            "largest other than mm": [
                largest_non_mm(frame, key) for key in shares[[*case, "phase"]].itertuples(index=False)
            ],
            "cpu": shares.cpu.map(cpu_with_isa),
        }
    )
    caption = (
        "Shares of each phase's profiled operator time (self time, torch.profiler), the first update (a warm-up) "
        "left out; attention includes the log-softmax over the vocabulary that turns the LM head's logits into "
        f"token log-probabilities. CPU flags: {cpu_flag_sets(frame)}."
    )
    return markdown(rows.rename(columns={"cpu": "CPU"}), caption)


def largest_non_mm(frame: pd.DataFrame, key: tuple) -> str:
    """The operator with the most self time after the matrix products, and its share of the phase."""
    rows = frame[(frame[list(key._fields)] == pd.Series(key._asdict())).all(axis=1) & (frame.kind != "matmul")]
    row = rows.sort_values("seconds", ascending=False).iloc[0]
    name = row.operator.replace("aten::", "").replace("_scaled_dot_product_flash_attention_for_cpu", "flash attention")
    return f"{name.replace('_', ' ').strip()} {share(row.share)}"


def compile_lever_cpu(root: Path) -> str:
    """``torch.compile`` of the adapted blocks against eager, alternated pairs of short runs
    (``python -m twosome.bench.compile_lever``): seconds of the updates after the first, the first update (which
    carries the compilation), and whether the trained weights are eager's."""
    frame = pd.read_csv(root / BENCH / "compile_lever.csv", dtype={"lora_layers": str})
    case = ["model", "env", "lora_layers", "threads", "updates", "cpu"]
    eager = frame[frame.variant == "eager"].groupby(case)
    frame = frame.join(eager.weights_digest.first().rename("eager_digest"), on=case)
    frame = frame.join(eager.later_updates_s.mean().rename("eager_s"), on=case)
    frame["same"] = (frame.weights_digest == frame.eager_digest).map({True: "yes", False: "no"})
    agg = (
        frame.groupby([*case, "variant"], sort=False)
        .agg(
            runs=("pair", "size"),
            mean=("later_updates_s", "mean"),
            low=("later_updates_s", "min"),
            high=("later_updates_s", "max"),
            eager=("eager_s", "first"),
            first=("first_update_s", "mean"),
            same=("same", lambda v: "/".join(sorted(set(v)))),
        )  # fmt: skip
        .reset_index()
    )
    rows = pd.DataFrame(
        {
            "model": agg.model.map(UTILIZATION_CASES),
            "task": agg.env.map(UTILIZATION_TASKS),
            "LoRA blocks": agg.lora_layers,
            "threads": agg.threads,
            "variant": agg.variant,
            "runs": agg.runs,
            "s, updates after the first (mean, range)": [
                f"{m:.1f} ({lo:.1f}-{hi:.1f})" for m, lo, hi in zip(agg["mean"], agg.low, agg.high)
            ],
            "speed against eager": (agg.eager / agg["mean"]).map(lambda v: f"{v:.2f}x"),
            "s, first update": agg["first"].map(lambda v: f"{v:.1f}"),
            "same weights as eager": agg.same,
            "cpu": agg.cpu.map(cpu_with_isa),
        }
    )
    updates = ", ".join(str(u) for u in sorted(set(frame.updates)))
    caption = (
        f"Runs of {updates} updates of 128 environment steps, eager and compiled alternated in one process (compiled "
        "code discarded between runs, so each compiled run pays its compilation in its first update). Speed against "
        "eager: eager's mean seconds over the variant's (above 1: faster). "
        f"CPU flags: {cpu_flag_sets(frame)}; torch {', '.join(sorted(set(frame.torch)))}."
    )
    return markdown(rows.rename(columns={"cpu": "CPU"}), caption)


TABLES: dict[str, Callable[[Path], str]] = {
    f.__name__: f for f in (utilization_cpu, phase_profile_cpu, compile_lever_cpu)
}
