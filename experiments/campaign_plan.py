"""A campaign's plan: its sweeps of ``src/run.py`` (overrides, seeds, the archive each goes to, steps after each run),
read and checked before anything runs, and the arguments a call may add to it."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class PlanError(ValueError):
    """A plan that cannot run; the message names the key, the value and what is valid."""


@dataclass(frozen=True)
class Sweep:
    name: str
    overrides: tuple[str, ...]
    seeds: tuple[int, ...]
    archive: str  # under the data/ folder beside the plan (its study's)
    after: tuple[dict, ...] = ()  # steps run on each finished run (``local``): {name, run, creates}
    # an archived run counts as done only if its summary holds these keys: a metric added since reruns the runs
    # archived before it
    summary_keys: tuple[str, ...] = ()

    @property
    def runs(self) -> int:
        """The sweep's job count: every comma list of its overrides times its seeds."""
        count = len(self.seeds)
        for override in self.overrides:
            if "=" in override and not override.split("=", 1)[0].startswith("hydra"):
                count *= len(override.split("=", 1)[1].split(","))
        return count


@dataclass(frozen=True)
class Plan:
    name: str
    common: tuple[str, ...]
    parallel: int
    sweeps: tuple[Sweep, ...]
    path: Path = Path()

    def sweep_dir(self, root: Path, sweep: Sweep) -> Path:
        return root / self.name / sweep.name


# Arguments after -- that say where and how a plan's runs go, not what they are: anything else would archive a try-out
# beside (or, by name, in place of) the plan's committed runs.
KEEPS_THE_PLAN = ("trainer.num_threads=", "checkpoint.", "logger.", "hydra.", "hydra/launcher=")


# What the plan sets for each job: where its run goes and its seed. Given after --, every job would share one run
# directory (each resuming the other's run) or one seed.
PLAN_OWNS = ("hydra.run.dir", "hydra.sweep.dir", "seed")


def check_passthrough(extra: list[str], verb: str = "local") -> None:
    owned = [e for e in extra if e.lstrip("+~").split("=", 1)[0] in PLAN_OWNS]
    if owned:
        raise PlanError(
            f"arguments after -- {' '.join(owned)}: the plan sets {', '.join(PLAN_OWNS)} for each job (its run "
            f"directory under --root, its seed from `seeds:`); give --root for another place, or a plan of its own"
        )
    if verb not in ("local", "job"):
        return
    changes = [e for e in extra if not e.lstrip("+~").startswith(KEEPS_THE_PLAN)]
    if changes:
        raise PlanError(
            f"arguments after -- {' '.join(changes)} change what the plan runs, and its runs are archived into "
            f"its study's data/ by run name: write a plan of its own for a try-out (another name and archive); "
            f"valid after --: {', '.join(k.rstrip('=.') for k in KEEPS_THE_PLAN)} settings"
        )


def only_sweeps(plan: Plan, names: list[str] | None) -> Plan:
    """The plan with only the sweeps named (all when none are): one arm or one task of a larger study."""
    if not names:
        return plan
    valid = [s.name for s in plan.sweeps]
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise PlanError(f"--sweeps {' '.join(unknown)}: not in {plan.path}; valid: {', '.join(valid)}")
    return dataclasses.replace(plan, sweeps=tuple(s for s in plan.sweeps if s.name in names))


def load_plan(path: Path) -> Plan:
    """Read and check a plan before anything runs."""
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if not path.is_file():
        raise PlanError(
            f"no plan at {path}; plans: {sorted(str(p.relative_to(ROOT)) for p in ROOT.glob('studies/*/plan*.yaml'))}"
        )
    try:
        raw = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    except (yaml.YAMLError, OmegaConfBaseException) as err:  # the parser's own words, on one line
        raise PlanError(f"{path} is not a valid plan: {' '.join(str(err).split())}") from None
    if not isinstance(raw, dict):
        raise PlanError(f"{path} is not a valid plan: a mapping of name, common, parallel, sweeps; got {raw!r:.80}")
    unknown = set(raw) - {"name", "description", "common", "parallel", "sweeps"}
    if unknown:
        raise PlanError(f"{path}: unknown keys {sorted(unknown)}; valid: name, description, common, parallel, sweeps")
    name = str(raw.get("name", path.stem))
    parallel = raw.get("parallel", 1)
    if not NAME.match(name):
        raise PlanError(f"{path}: name={name!r} is not valid; valid: letters, digits, '.', '_', '-'")
    if not isinstance(parallel, int) or isinstance(parallel, bool) or parallel < 1:
        raise PlanError(f"{path}: parallel={parallel!r} is not valid; valid: an integer >= 1")
    if not isinstance(raw.get("common") or [], list):
        raise PlanError(f"{path}: common={raw['common']!r} is not valid; valid: a list of overrides")
    if not isinstance(raw.get("sweeps") or [], list):
        raise PlanError(f"{path}: sweeps is not valid; valid: a list of sweeps")
    sweeps, seen = [], set()
    for i, entry in enumerate(raw.get("sweeps") or []):
        where = f"{path}: sweeps[{i}]"
        if not isinstance(entry, dict):
            raise PlanError(f"{where}={entry!r} is not valid; valid: a mapping with name, overrides, seeds, archive")
        missing = {"name", "overrides", "seeds", "archive"} - set(entry)
        if missing:
            raise PlanError(f"{where} lacks {sorted(missing)}; a sweep has name, overrides, seeds and archive")
        unknown = set(entry) - {"name", "overrides", "seeds", "archive", "after", "summary_keys"}
        if unknown:
            raise PlanError(
                f"{where}: unknown keys {sorted(unknown)}; valid: name, overrides, seeds, archive, after, summary_keys"
            )
        entry = {"summary_keys": [], **entry}
        for key in ("overrides", "seeds", "summary_keys"):
            if not isinstance(entry[key], list):
                raise PlanError(f"{where}: {key}={entry[key]!r} is not valid; valid: a list")
        sweep = Sweep(
            str(entry["name"]), tuple(map(str, entry["overrides"])), tuple(entry["seeds"]), str(entry["archive"]),
            after_steps(entry.get("after") or [], where), tuple(map(str, entry["summary_keys"])),
        )  # fmt: skip
        if not NAME.match(sweep.name) or sweep.name in seen:
            raise PlanError(f"{where}: name={sweep.name!r} is not valid; valid: unique, letters, digits, '.', '_', '-'")
        if not sweep.seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in sweep.seeds):
            raise PlanError(f"{where}: seeds={list(sweep.seeds)!r} is not valid; valid: a non-empty list of integers")
        if any(o.startswith(("seed=", "hydra.sweep.dir=")) for o in (*raw.get("common", []), *sweep.overrides)):
            raise PlanError(f"{where}: seed and hydra.sweep.dir are the campaign's; give seeds as `seeds:`")
        if Path(sweep.archive).is_absolute() or ".." in Path(sweep.archive).parts:
            raise PlanError(
                f"{where}: archive={sweep.archive!r} is not valid; valid: a relative path under the plan's data/"
            )
        seen.add(sweep.name)
        sweeps.append(sweep)
    if not sweeps:
        raise PlanError(f"{path}: no sweeps")
    return Plan(name, tuple(map(str, raw.get("common") or [])), parallel, tuple(sweeps), path)


def after_steps(steps: list, where: str) -> tuple[dict, ...]:
    """A sweep's ``after`` steps: commands run on each finished run, ``{python}``, ``{run}`` (its directory) and
    ``{data}`` (its archive folder) and ``{seed}`` filled in; ``creates`` (relative to ``{data}``) marks a step done."""
    if not isinstance(steps, list):
        raise PlanError(f"{where}: after={steps!r} is not valid; valid: a list of {{name, run, creates}}")
    for k, step in enumerate(steps):
        if not isinstance(step, dict) or set(step) != {"name", "run", "creates"}:
            raise PlanError(f"{where}: after[{k}]={step!r} is not valid; valid: a mapping with name, run, creates")
        try:
            step["run"].format(python="", run="", data="", seed=0)
        except (KeyError, IndexError) as e:
            raise PlanError(
                f"{where}: after[{k}].run names {e}; valid placeholders: {{python}} {{run}} {{data}} {{seed}}"
            ) from None
        if Path(step["creates"]).is_absolute() or ".." in Path(step["creates"]).parts:
            raise PlanError(f"{where}: after[{k}].creates={step['creates']!r}; valid: a path inside the run's archive")
    return tuple(steps)


if __name__ == "__main__":  # a module of campaign.py: it only explains itself
    import argparse
    import sys

    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    sys.exit("a plan is run by: python experiments/campaign.py local PLAN")
