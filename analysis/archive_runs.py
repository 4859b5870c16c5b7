"""Copy the raw data of finished runs into the repository (docs/data/), where the tables of docs/ are made from.

    python analysis/archive_runs.py multirun/prior/tiny --out studies/prior/data/prior_ten_seeds

Every directory below the given paths that holds a ``summary.json`` is one finished run; it is copied to
``<out>/<run_name>/`` as its ``config.yaml`` (the checkout's absolute path written as ``.``), its ``summary.json``
unchanged and its ``metrics.csv`` with the columns
the tables and curves read (returns, success, episodes, evaluations, entropy and KL), floats to 6 significant
digits: the weights, checkpoints and TensorBoard files stay behind. Unfinished runs are listed and skipped. A run
already archived with the same settings is overwritten (atomically, file by file), so rerunning after more seeds
finish adds them; a run whose settings differ from those of the runs archived under its name or its other seeds (a
try-out at a smaller budget, say) is neither written over them nor added beside them unless ``--replace`` is given:
every run is checked before anything is written.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import pandas as pd
import yaml

from twosome.config.run_config import RESUMABLE_CHANGES
from twosome.fileio import atomic_write_text
from twosome.run_dir import CONFIG, SUMMARY, RunDir

KEPT_COLUMNS = (
    "charts/SPS",
    "charts/discounted_return",
    "charts/episodes",
    "charts/episodic_length",
    "charts/episodic_return",
    "charts/success_rate",
    "losses/approx_kl",
    "losses/entropy",
    "losses/kl_early_stop",
    "losses/policy_update_steps",
    "charts/invalid_action_rate",  # agents that write their actions (agent=generate, generate_rl)
    "charts/tokens_per_action",  # token-level algorithms
    "charts/trained_decisions",  # GiGPO: the share of decisions in complete episodes
    # the exploration mechanisms' state (rl/exploration.py); explore/* (how the policy explores) is kept whole
    "charts/uniform_mix",
    "losses/ent_coef",
    "losses/entropy_fraction",
    "losses/reference_kl",
)


def kept(column: str) -> bool:
    return column in ("global_step", "update", *KEPT_COLUMNS) or column.startswith(("eval/", "sampled/", "explore/"))


def relative_paths(config_text: str) -> str:
    """The config with the machine's checkout (``paths.root_dir``) written as ``.``: an archived run names its
    model, artifacts and run folders relative to the repository, never by one machine's absolute path."""
    # a wheel given by path (model.wheel) is named by its file: the name and version identify it
    config_text = re.sub(r"^(\s+wheel: )/\S*/([^/\s]+\.whl)$", r"\1\2", config_text, flags=re.MULTILINE)
    match = re.search(r"^  root_dir: (/.*)$", config_text, flags=re.MULTILINE)
    if match is None:
        return config_text
    root = match.group(1).rstrip("/")
    return re.sub(re.escape(root) + r"(?=/|$|\s)", ".", config_text, flags=re.MULTILINE)


def flat(tree: object, prefix: str = "") -> dict[str, object]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    return {k: v for key, value in tree.items() for k, v in flat(value, f"{prefix}{key}.").items()} or {prefix: {}}


# Settings that do not change what a run computes: where it lived, and what a resume may change (threads, loggers,
# checkpoints, the labels that only compose its name); a study's seeds differ in their seed and name alone.
RESULT_FREE = ("paths.", *RESUMABLE_CHANGES)
SEED_KEYS = ("seed.", "run_name.")


def differences(archived: str, new: str, free: tuple[str, ...] = ()) -> list[str]:
    """The settings both configs hold on which they differ (``RESULT_FREE`` and ``free`` aside; a key only one holds
    is a key the suite added or moved since, not a setting the runs differ on)."""
    old, now = (flat(yaml.safe_load(text) or {}) for text in (archived, new))
    skip = (*RESULT_FREE, *free)
    keys = sorted(k for k in old.keys() & now.keys() if not k.startswith(skip) and old[k] != now[k])
    return [f"{k.rstrip('.')}: {old[k]} -> {now[k]}" for k in keys]


class Conflict(ValueError):
    """An archived run would be replaced by, or joined by, a run of other settings."""


def seeds_of(out: Path, run_name: str) -> list[Path]:
    """The runs archived in ``out`` under ``run_name`` (first) or its other seeds (another ``-s<seed>`` ending)."""
    arm = re.sub(r"-s\d+$", "", run_name)
    seeds = re.compile(re.escape(arm) + r"-s\d+")
    others = (
        [p for p in sorted(out.glob("*-s*")) if seeds.fullmatch(p.name)] if arm != run_name and out.is_dir() else []
    )
    found = [out / run_name, *(p for p in others if p.name != run_name)]
    return [p for p in found if (p / CONFIG).is_file()]


def study_conflict(config_text: str, run_name: str, out: Path) -> str | None:
    """Why a run of these settings (its config.yaml's text) does not belong in ``out``: the run archived under its
    name, or another seed of it, holds other settings (results-free keys aside); None when it belongs."""
    config_text = relative_paths(config_text)
    for archived in seeds_of(out, run_name):
        changed = differences((archived / CONFIG).read_text(), config_text, SEED_KEYS)
        if changed:
            shown = "; ".join(changed[:5]) + (f"; and {len(changed) - 5} more" if len(changed) > 5 else "")
            if archived.name == run_name:
                return f"{archived} holds a run of other settings ({shown})"
            return f"{out} holds other seeds of {run_name} with other settings ({archived.name}: {shown})"
    return None


def conflict(run: Path, out: Path) -> str | None:
    """Why archiving ``run`` into ``out`` would replace, or join, runs of other settings, or None."""
    reason = study_conflict((run / CONFIG).read_text(), RunDir(run).read_summary()["run_name"], out)
    return None if reason is None else f"{reason}, not those of {run}"


def archive(run: Path, out: Path, replace: bool = False) -> Path:
    """Copy one finished run into ``out``; beside or over runs of other settings only if ``replace``."""
    reason = None if replace else conflict(run, out)
    if reason:
        raise Conflict(f"{reason}; not archived (a try-out goes into an archive of its own; archive_runs.py --replace "
                       "archives it anyway)")  # fmt: skip
    summary = RunDir(run).read_summary()
    target = out / summary["run_name"]
    target.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target / CONFIG, relative_paths((run / CONFIG).read_text()))
    for name in (SUMMARY,):
        shutil.copyfile(run / name, target / f".{name}.tmp")
        (target / f".{name}.tmp").replace(target / name)
    if RunDir(run).metrics.exists():  # evaluation-only agents (zero-shot, random) log none
        metrics = pd.read_csv(RunDir(run).metrics)
        metrics = metrics[[c for c in metrics.columns if kept(c)]]
        atomic_write_text(RunDir(target).metrics, metrics.to_csv(index=False, float_format="%.6g"))
    return target


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories or directories above them")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--replace", action="store_true", help="replace archived runs of other settings")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.runs if not p.exists()]
    if missing:
        raise SystemExit(f"no such run directory: {', '.join(missing)}")
    finished, unfinished = [], []
    for root in args.runs:
        for config in sorted(root.rglob(CONFIG)):
            run = config.parent
            if run.name == ".hydra":
                continue
            (finished if RunDir(run).summary.exists() else unfinished).append(run)
    conflicts = [] if args.replace else [c for c in (conflict(run, args.out) for run in finished) if c]
    if conflicts:
        raise SystemExit(
            f"nothing archived: {len(conflicts)} runs have other settings than the runs archived under their names "
            f"or other seeds (pass --replace to archive them anyway):\n  " + "\n  ".join(conflicts)
        )
    done = [archive(run, args.out, replace=True) for run in finished]
    print(f"archived {len(done)} runs into {args.out}")
    if unfinished:
        print(f"skipped {len(unfinished)} unfinished: {', '.join(str(r) for r in unfinished)}")
    return done


if __name__ == "__main__":
    main()
