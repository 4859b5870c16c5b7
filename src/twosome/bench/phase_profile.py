"""Where does a phase's time go? torch.profiler over the rollout and the update of a short training run, per operator.

    python -m twosome.bench.phase_profile --model smollm2_fp32 --env food_preparation --lora-layers 15
    python -m twosome.bench.phase_profile --model smollm2_bf16 --env babyai_goto --lora-layers 8 --updates 2

The utilization benchmark (bench/utilization.py) says how far a phase is from the machine's matrix-product rate;
this says what the rest is. Each call of the collector's ``collect`` (rollout) and of the algorithm's ``update``
(value and policy phases: the value phase is under 1% of it) is a labelled range of one profiler; operators' self
times are summed per phase over the updates after the first (a warm-up) and sorted into kinds: matrix products (their
backward included), attention, elementwise and reductions, copies and layout, and the rest. Writes
``phase_profile.csv`` (phase, operator, kind, calls, self seconds, share of the phase's profiled time) and prints
the kinds per phase. The profiler's own bookkeeping adds to the small operators' times: read shares, not seconds.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from torch.profiler import ProfilerActivity, profile, record_function

from twosome.bench import append_rows
from twosome.bench.utilization import case_parser, parse_case, training_config
from twosome.lm.dtype import cpu_flags, cpu_model


def _ops(names: str) -> tuple[str, ...]:
    return tuple(f"aten::{name}" for name in names.split())


MATMUL = _ops("mm addmm bmm baddbmm matmul linear dot mv addmv")
ATTENTION = (
    "attention",
    "softmax",
)  # substrings: the fused kernels, their backward, the log-softmax over the vocabulary
COPIES = _ops(
    "copy_ clone contiguous cat stack index gather scatter to _to_copy index_select empty zeros fill_ zero_ new_ pad "
    "constant_pad_nd embedding masked_fill where resize_ empty_strided slice_scatter"
)
ELEMENTWISE = _ops(
    "mul add sub div neg silu exp log pow rsqrt mean sum max sigmoid tanh sqrt clamp rsub lerp addcmul addcdiv "
    "_foreach norm linalg_vector_norm logsumexp gelu cumsum min abs square eq ne lt gt ge le threshold nll_loss"
)


def kind(op: str) -> str:
    """Which kind of work an operator (or its backward) is: matmul, attention, elementwise, copy or other."""
    name = op.lower()
    if any(a in name for a in ATTENTION):
        return "attention"
    if any(op == m or op.startswith(m + "_") or f"{m[6:]}backward" in name for m in MATMUL):
        return "matmul"
    if op.startswith(COPIES):
        return "copy"
    if op.startswith(ELEMENTWISE) or "backward" in name:
        return "elementwise"
    return "other"


class PhaseProfiles:
    """Operators' self CPU time per phase: one profiler over the whole run (Kineto prints a line at every start and
    stop), each call of ``collect`` and of ``update`` a labelled range, each operator counted under its range."""

    LABEL = "phase::"

    def __init__(self):
        self.calls: dict[str, int] = defaultdict(int)
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.counts: dict[tuple[str, str], int] = defaultdict(int)

    def _wrap(self, owner, name: str, phase: str):
        original, meter = getattr(owner, name), self

        def labelled(*args, **kwargs):
            meter.calls[phase] += 1
            label = phase if meter.calls[phase] > 1 else "warm-up"  # the first call of a phase is a warm-up
            with record_function(meter.LABEL + label):
                return original(*args, **kwargs)

        return original, labelled

    def _add(self, events) -> None:
        for event in events:
            if event.name.startswith(self.LABEL):
                continue
            parent = event.cpu_parent
            while parent is not None and not parent.name.startswith(self.LABEL):
                parent = parent.cpu_parent
            if parent is None or parent.name == self.LABEL + "warm-up":
                continue
            key = (parent.name.removeprefix(self.LABEL), event.name)
            self.seconds[key] += event.self_cpu_time_total / 1e6
            self.counts[key] += 1

    @contextlib.contextmanager
    def installed(self) -> Iterator[PhaseProfiles]:
        from twosome.rl.ppo import PPO
        from twosome.training.rollout import RolloutCollector

        saved = []
        try:
            for owner, name, phase in ((RolloutCollector, "collect", "rollout"), (PPO, "update", "update")):
                original, labelled = self._wrap(owner, name, phase)
                saved.append((owner, name, original))
                setattr(owner, name, labelled)
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                yield self
            self._add(prof.events())
        finally:
            for owner, name, original in saved:
                setattr(owner, name, original)

    def table(self) -> pd.DataFrame:
        rows = [{"phase": phase, "operator": op, "kind": kind(op), "calls": self.counts[(phase, op)], "seconds": s}
                for (phase, op), s in self.seconds.items()]  # fmt: skip
        df = pd.DataFrame(rows)
        df["share"] = df["seconds"] / df.groupby("phase")["seconds"].transform("sum")
        return df.sort_values(["phase", "seconds"], ascending=[True, False]).reset_index(drop=True)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    args = parse_case(case_parser(__doc__.split("\n\n")[0], 3, "results/phase_profile", min_updates=2), argv)
    from twosome.training.train import train

    cfg = training_config(args.model, args.env, args.lora_layers, args.updates, args.threads)
    profiles = PhaseProfiles()
    with tempfile.TemporaryDirectory(prefix="phase-profile-") as runs, profiles.installed():
        summary = train(cfg, run_dir=Path(runs) / "run", enable_progress_bar=False)
    df = profiles.table()
    case = {"model": args.model, "env": args.env, "lora_layers": args.lora_layers, "threads": args.threads}
    for i, (name, value) in enumerate(case.items()):
        df.insert(i, name, value)
    df["dtype"], df["cpu"] = summary["model_dtype"], f"{cpu_model()}; {cpu_flags()}"
    path = append_rows(df, args.out, "phase_profile.csv")
    kinds = df.groupby(["phase", "kind"])["share"].sum().unstack("kind").fillna(0)
    print(kinds.round(3).to_string())
    for phase, rows in df.groupby("phase"):
        print(f"\n{phase}: top operators by self time")
        print(rows.head(15)[["operator", "kind", "calls", "seconds", "share"]].round(3).to_string(index=False))
    print(f"appended to {path}")
    return df


if __name__ == "__main__":
    main()
