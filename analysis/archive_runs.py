"""Copy the raw data of finished runs into the repository (docs/data/), where the tables of docs/ are made from.

    python analysis/archive_runs.py multirun/compare-ten_seeds/tomato_salad --out docs/data/ten_seeds/tomato_salad

Every directory below the given paths that holds a ``summary.json`` is one finished run; it is copied to
``<out>/<run_name>/`` as its ``config.yaml`` (the checkout's absolute path written as ``.``), its ``summary.json``
unchanged and its ``metrics.csv`` with the columns
the tables and curves read (returns, success, episodes, evaluations, entropy and KL), floats to 6 significant
digits: the weights, checkpoints and TensorBoard files stay behind. Unfinished runs are listed and skipped. A run
already archived with the same settings is overwritten (atomically, file by file), so rerunning after more seeds
finish adds them; one archived with other settings (a try-out at a smaller budget, say) is never replaced unless
``--replace`` is given: every run is checked before anything is written.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import pandas as pd
import yaml

from twosome.run_dir import CONFIG, SUMMARY, RunDir
from twosome.training.checkpointing import atomic_write_text

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


def differences(archived: str, new: str) -> list[str]:
    """The settings both configs hold on which they differ (``paths`` aside: where a run lived is not what it ran;
    a key only one holds is a key the suite added or moved since, not a setting the runs differ on)."""
    old, now = (flat(yaml.safe_load(text) or {}) for text in (archived, new))
    keys = sorted(k for k in old.keys() & now.keys() if not k.startswith("paths.") and old[k] != now[k])
    return [f"{k.rstrip('.')}: {old[k]} -> {now[k]}" for k in keys]


class Conflict(ValueError):
    """An archived run would be replaced by a run of other settings."""


def conflict(run: Path, out: Path) -> str | None:
    """Why archiving ``run`` into ``out`` would replace a run of other settings, or None."""
    target = out / RunDir(run).read_summary()["run_name"]
    if not (target / CONFIG).exists():
        return None
    changed = differences((target / CONFIG).read_text(), relative_paths((run / CONFIG).read_text()))
    if not changed:
        return None
    shown = "; ".join(changed[:5]) + (f"; and {len(changed) - 5} more" if len(changed) > 5 else "")
    return f"{target} holds a run of other settings than {run} ({shown})"


def archive(run: Path, out: Path, replace: bool = False) -> Path:
    """Copy one finished run into ``out``; a run of other settings already there is replaced only if ``replace``."""
    reason = None if replace else conflict(run, out)
    if reason:
        raise Conflict(f"{reason}; not replaced (archive_runs.py --replace replaces it)")
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
            f"nothing archived: {len(conflicts)} archived runs would be replaced by runs of other settings "
            f"(pass --replace to replace them):\n  " + "\n  ".join(conflicts)
        )
    done = [archive(run, args.out, replace=True) for run in finished]
    print(f"archived {len(done)} runs into {args.out}")
    if unfinished:
        print(f"skipped {len(unfinished)} unfinished: {', '.join(str(r) for r in unfinished)}")
    return done


if __name__ == "__main__":
    main()
