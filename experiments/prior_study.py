"""Does the default model's pretraining help it learn? A fair comparison of pretrained and random-init weights: each
model gets the policy learning rate that serves it best on three pick seeds (100-102, never the reported ones), by
mean sampled success, then 10 seeds at that rate (Tomato Salad, 16,384 steps). The pick depends on the pick runs'
results, so this study is a script; every other study is a plan in its folder, studies/<name>/plan*.yaml (campaign.py
local).

    python experiments/prior_study.py                              # pick, then the 10 seeds
    python experiments/prior_study.py --dry-run                    # print the commands
    python experiments/prior_study.py -- trainer.num_threads=1     # arguments after -- go to every run

Each part is a Hydra multirun of ``src/run.py`` into ``multirun/prior/...``; every run ends with 100 sampled
evaluation episodes. Rerunning continues: finished runs are kept, interrupted ones resume. When a sweep's runs are
done, their raw data is copied into ``studies/prior/data/prior_ten_seeds/`` (analysis/archive_runs.py), where the
tables of
docs/RESULTS.md are made from. A try-out with arguments after ``--`` that change what runs (a smaller budget, say)
is not archived: its runs stay in ``multirun/``. Only settings of where and how it runs (threads, checkpoints,
loggers, launcher) keep it archived. The pick is printed and kept in ``multirun/prior/pick.json``.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path

from twosome.processes import Stopped, run_attached
from twosome.run_dir import SUMMARY, RunDir

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ",".join(str(s) for s in range(10))
FINAL = "eval.final_sampled_episodes=100"
TOMATO_SALAD = ["env=overcooked", "env.task=tomato_salad", "rollout.total_env_steps=16384"]
# Each model's grid of policy learning rates for the pick. Random init picked 1e-3, the low edge of the first grid,
# so its grid extends downward until its best rate is bracketed.
LEARNING_RATES = {"tiny": ("1e-3", "3e-3", "1e-2"), "tiny_random": ("1e-4", "3e-4", "1e-3", "3e-3", "1e-2")}
PICK_SEEDS = "100,101,102"
MODELS = ("tiny", "tiny_random")


def run(overrides: list[str], sweep_dir: str, extra: list[str], final: str = FINAL) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "src" / "run.py"),
        "-m",
        *overrides,
        final,
        f"hydra.sweep.dir={sweep_dir}",
        *extra,
    ]


def prior_pick(extra: list[str]) -> list[tuple[list[str], str]]:
    out = []
    for model in MODELS:
        overrides = [*TOMATO_SALAD, f"model={model}", f"ppo.policy_lr={','.join(LEARNING_RATES[model])}"]
        overrides.append("run_name=${agent.name}-${agent.run_label}-lr${ppo.policy_lr}-s${seed}")  # one per rate
        sweep = f"multirun/prior/pick/{model}"
        out.append((run([*overrides, f"seed={PICK_SEEDS}"], sweep, extra), "prior_ten_seeds/pick"))
    return out


def pick_learning_rates(sweep: Path) -> dict[str, str]:
    """Per model, the learning rate with the highest mean sampled success over the pick seeds (ties: the higher
    mean sampled discounted return)."""
    from omegaconf import OmegaConf

    scores: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for summary in sweep.rglob(SUMMARY):
        cfg = OmegaConf.load(RunDir(summary.parent).config)
        s = json.loads(summary.read_text())
        key = (str(cfg.model.name), f"{float(cfg.ppo.policy_lr):g}")
        scores.setdefault(key, []).append((s["sampled/success_rate"], s["sampled/discounted_return"]))
    short = sorted(f"{m} lr {lr}" for (m, lr), v in scores.items() if len(v) < len(PICK_SEEDS.split(",")))
    models = {m for m, _ in scores}
    if short or len(scores) < sum(len(rates) for rates in LEARNING_RATES.values()) or not models:
        raise SystemExit(
            f"the pick needs every (model, rate) on all pick seeds {PICK_SEEDS}; missing: {short or 'runs'}"
        )
    best: dict[str, tuple[tuple[float, float], str]] = {}
    for (model, lr), values in sorted(scores.items()):
        mean = tuple(sum(v[i] for v in values) / len(values) for i in (0, 1))
        if model not in best or mean > best[model][0]:
            best[model] = (mean, lr)
    return {model: lr for model, (_, lr) in best.items()}


def prior_final(picked: dict[str, str], extra: list[str]) -> list[tuple[list[str], str]]:
    names = {"tiny": "tiny-household", "tiny_random": "tiny-household-random"}
    out = []
    for model in MODELS:
        lr = picked[names[model]]
        overrides = [*TOMATO_SALAD, f"model={model}", f"ppo.policy_lr={lr}", f"seed={SEEDS}"]
        out.append((run(overrides, f"multirun/prior/{model}", extra), "prior_ten_seeds"))
    return out


# Arguments after -- that say where and how a study runs, not what it runs: a study given only these is archived.
KEEPS_THE_STUDY = ("trainer.num_threads=", "checkpoint.", "logger.", "hydra.", "hydra/launcher=")


def changes_to_the_study(extra: list[str]) -> list[str]:
    """The passthrough arguments that change what a study runs (its runs are then a try-out, never archived)."""
    return [e for e in extra if not e.lstrip("+~").startswith(KEEPS_THE_STUDY)]


def split_passthrough(argv: list[str] | None) -> tuple[list[str], list[str]]:
    """(this script's arguments, the arguments after ``--`` that go to every run)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        return argv, []
    return argv[: argv.index("--")], argv[argv.index("--") + 1 :]


def run_sweep(cmd: list[str], script: str, during: str) -> int:
    """Run one sweep to its end and return its status; a stop of this script (SIGTERM, SIGHUP, Ctrl-C) is passed to
    the sweep, which saves, and then ends this script saying how to continue."""
    try:
        return run_attached(cmd, cwd=ROOT)
    except Stopped as stop:
        raise SystemExit(
            f"{script} stopped on {signal.Signals(stop.signum).name} during {during}; rerun the same command "
            "to continue: finished runs are kept, the stopped ones resume from their checkpoints"
        ) from None


def execute(jobs: list[tuple[list[str], str]], dry_run: bool, changes: list[str] | None = None) -> list[str]:
    failed = []
    for cmd, archive in jobs:
        print(" ".join(cmd[1:]), flush=True)
        sweep = next(c for c in cmd if c.startswith("hydra.sweep.dir=")).split("=", 1)[1]
        if changes:
            print(f"  not archived: {' '.join(changes)} change the study; its runs stay in {sweep}", flush=True)
        else:
            print(f"  archived into studies/prior/data/{archive} when its runs finish", flush=True)
        if dry_run:
            continue
        returncode = run_sweep(cmd, "prior_study.py", sweep)  # stopping this script stops the sweep
        if returncode != 0:
            failed.append(f"hydra.sweep.dir={sweep}")
        if changes:
            continue
        archived = subprocess.run(
            [
                sys.executable,
                str(ROOT / "analysis" / "archive_runs.py"),
                sweep,
                "--out",
                f"studies/prior/data/{archive}",
            ],
            cwd=ROOT,
        )
        if archived.returncode != 0:
            failed.append(f"archiving hydra.sweep.dir={sweep} into studies/prior/data/{archive}")
    return failed


def main(argv: list[str] | None = None) -> None:
    argv, extra = split_passthrough(argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)
    changes = changes_to_the_study(extra)
    failed = execute(prior_pick(extra), args.dry_run, changes)
    if args.dry_run:
        picked = {"tiny-household": "<picked>", "tiny-household-random": "<picked>"}
    else:
        picked = pick_learning_rates(ROOT / "multirun" / "prior" / "pick")
        (ROOT / "multirun" / "prior" / "pick.json").write_text(json.dumps(picked, indent=2))
        print(f"picked policy learning rates: {picked}")
    failed += execute(prior_final(picked, extra), args.dry_run, changes)
    if failed:
        raise SystemExit(f"failed: {failed}; see each sweep's sweep_summary.csv and the messages above")


if __name__ == "__main__":
    main()
