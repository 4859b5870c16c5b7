"""The paper's comparison for one task: TWOSOME (word, token, none), PPO from scratch, SayCan, untrained TWOSOME.

    python experiments/compare.py --profile small --task tomato_salad            # 2-core CPU budgets
    python experiments/compare.py --profile paper --task food_preparation -- trainer.devices=1
    python experiments/compare.py --profile small --task tomato_salad --dry-run  # print the commands

A profile (``conf/compare/<profile>.yaml``) lists the tasks, seeds and per-agent budgets. Each agent is one Hydra
multirun of ``src/run.py`` (seeds x norms), all into ``multirun/compare-<profile>/<task>/``; arguments after ``--``
go to every command (a launcher, a trainer). Rerunning continues the comparison: finished runs are kept as they are,
interrupted ones resume from their checkpoints (``-- checkpoint.resume=false`` redoes them). An agent whose sweep
has a failing job does not stop the others; the failures are listed at the end (and in each sweep's
``sweep_summary.csv``). Stopping this script (Ctrl-C, SIGTERM, SIGHUP) stops the running sweep: its runs save at the
end of their update and stop, then the script exits; killed outright (SIGKILL), it takes the sweep along all the
same (the kernel sends the sweep SIGTERM). Then:

    python analysis/learning_curves.py multirun/compare-small/tomato_salad --out figures/compare_tomato_salad
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from omegaconf import OmegaConf

from twosome.processes import Stopped, run_attached

ROOT = Path(__file__).resolve().parent.parent


def commands(profile: str, task: str, agents: list[str] | None, extra: list[str]) -> list[list[str]]:
    path = ROOT / "conf" / "compare" / f"{profile}.yaml"
    if not path.exists():
        valid = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise SystemExit(f"unknown profile {profile!r}; valid: {valid}")
    spec = OmegaConf.load(path)
    if task not in spec.tasks:
        raise SystemExit(f"unknown task {task!r} in profile {profile}; valid: {sorted(spec.tasks)}")
    chosen = agents or list(spec.agents)
    unknown = [a for a in chosen if a not in spec.agents]
    if unknown:
        raise SystemExit(f"unknown agents {unknown}; valid: {sorted(spec.agents)}")
    out = []
    for agent in chosen:
        a = spec.agents[agent]
        cmd = [sys.executable, str(ROOT / "src" / "run.py"), "-m", *spec.tasks[task], f"agent={agent}"]
        cmd += [f"seed={','.join(str(s) for s in spec.seeds)}", f"norm={','.join(a.norms)}"]
        if task in a.get("steps", {}):
            cmd.append(f"rollout.total_env_steps={a.steps[task]}")
        cmd += [*a.get("overrides", []), f"hydra.sweep.dir=multirun/compare-{profile}/{task}", *extra]
        out.append(cmd)
    return out


def split_passthrough(argv: list[str] | None) -> tuple[list[str], list[str]]:
    """(this script's arguments, the arguments after ``--`` that go to every run)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        return argv, []
    return argv[: argv.index("--")], argv[argv.index("--") + 1 :]


def run_sweep(cmd: list[str], script: str, during: str, where: str = "") -> int:
    """Run one sweep to its end and return its status; a stop of this script (SIGTERM, SIGHUP, Ctrl-C) is passed to
    the sweep, which saves, and then ends this script saying how to continue."""
    try:
        return run_attached(cmd, cwd=ROOT)
    except Stopped as stop:
        raise SystemExit(
            f"{script} stopped on {signal.Signals(stop.signum).name} during {during}; {where}rerun the same command "
            "to continue: finished runs are kept, the stopped ones resume from their checkpoints"
        ) from None


def main(argv: list[str] | None = None) -> None:
    argv, extra = split_passthrough(argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="small")
    parser.add_argument("--task", required=True)
    parser.add_argument("--agents", nargs="+", help="a subset of the profile's agents")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    failed = []
    summary = ROOT / f"multirun/compare-{args.profile}/{args.task}/sweep_summary.csv"
    for cmd in commands(args.profile, args.task, args.agents, extra):
        print(" ".join(cmd[1:]), flush=True)
        if args.dry_run:
            continue
        agent = next(c for c in cmd if c.startswith("agent="))
        returncode = run_sweep(cmd, "compare.py", f"the sweep of {agent}", f"{summary} says where each run stands; ")
        if returncode != 0:
            failed.append(agent)
    if failed:
        raise SystemExit(f"jobs failed in the sweeps of {failed}; see {summary}")


if __name__ == "__main__":
    main()
