"""Copy the raw data of finished runs into the repository (docs/data/), where the tables of docs/ are made from.

    python analysis/archive_runs.py multirun/compare-ten_seeds/tomato_salad --out docs/data/ten_seeds/tomato_salad

Every directory below the given paths that holds a ``summary.json`` is one finished run; it is copied to
``<out>/<run_name>/`` as its ``config.yaml`` (the checkout's absolute path written as ``.``), its ``summary.json``
unchanged and its ``metrics.csv`` with the columns
the tables and curves read (returns, success, episodes, evaluations, entropy and KL), floats to 6 significant
digits: the weights, checkpoints and TensorBoard files stay behind. Unfinished runs are listed and skipped. A run
already archived is overwritten (atomically, file by file), so rerunning after more seeds finish adds them.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import pandas as pd

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
    "charts/invalid_action_rate",  # agents that write their actions (issue 31)
    "charts/tokens_per_action",  # token-level algorithms
    "charts/trained_decisions",  # GiGPO: the share of decisions in complete episodes
)


def kept(column: str) -> bool:
    return column in ("global_step", "update", *KEPT_COLUMNS) or column.startswith(("eval/", "sampled/"))


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


def archive(run: Path, out: Path) -> Path:
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
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.runs if not p.exists()]
    if missing:
        raise SystemExit(f"no such run directory: {', '.join(missing)}")
    done, unfinished = [], []
    for root in args.runs:
        for config in sorted(root.rglob(CONFIG)):
            run = config.parent
            if run.name == ".hydra":
                continue
            if RunDir(run).summary.exists():
                done.append(archive(run, args.out))
            else:
                unfinished.append(str(run))
    print(f"archived {len(done)} runs into {args.out}")
    if unfinished:
        print(f"skipped {len(unfinished)} unfinished: {', '.join(unfinished)}")
    return done


if __name__ == "__main__":
    main()
