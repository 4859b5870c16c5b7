"""Exact success probability of runs' sampled policies within the horizon (VirtualHome: every reachable state).

    python analysis/exact_success.py RUN_DIR [RUN_DIR ...] --out docs/data/exact_success.csv
    python analysis/exact_success.py RUN_DIR [RUN_DIR ...] --untrained --out ...     # the runs' untrained twins

For each run directory (written by ``src/run.py``) the agent is rebuilt from its ``config.yaml`` (with its trained
weights, or without them: ``--untrained``), its environment's reachable states are enumerated, and the probability
that an episode sampled from the policy succeeds within the horizon is computed by backward induction
(``twosome.evaluation.exact_success``): what 100 sampled episodes estimate, without their error, down to the
1e-5 that decides whether an exploring agent ever sees a reward. One row per run and mode, appended to ``--out``
atomically after each; rerunning the same command skips the rows already there (a run named by another path
included). ``--out`` is this tool's own CSV or a new file: anything else is refused before anything is computed, and
a second command on the same file refuses while the first runs. An evaluation-only agent (zero-shot, the written
actions of ``agent=generate`` untrained) is recorded as ``trained=False``: it has no trained weights.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from twosome.evaluation.exact_success import action_probabilities, decision_graph, horizon_of, success_within
from twosome.evaluation.generalization import load_run, run_config
from twosome.fileio import DirectoryInUse, atomic_write_text, flock
from twosome.run_dir import RunDir, check_weights

COLUMNS = ["run", "run_name", "env_id", "model", "norm", "seed", "trained", "states", "horizon", "p_success"]


def task_of(cfg) -> tuple[str, str, dict]:
    """The run's environment as it trained on it: id, wording, constructor kwargs."""
    return cfg.env.id, cfg.env.get("wording", "canonical"), dict(cfg.env.get("kwargs") or {})


def trained(cfg, untrained: bool) -> bool:
    """Whether the row is of trained weights: not for ``--untrained``, nor for an agent that trains nothing."""
    return not untrained and bool(cfg.agent.train)


def evaluate(run_dir: Path, untrained: bool) -> dict:
    cfg = run_config(run_dir)
    graph = decision_graph(*task_of(cfg))
    _, agent = load_run(run_dir, untrained=untrained, cfg=cfg)
    p = success_within(graph, action_probabilities(agent.distribution, graph))[0]
    return {
        "run": str(run_dir),
        "run_name": cfg.get("run_name") or run_dir.name,
        "env_id": cfg.env.id,
        "model": cfg.model.name,
        "norm": OmegaConf.select(cfg, "norm.mode"),
        "seed": int(cfg.seed),
        "trained": trained(cfg, untrained),
        "states": graph.n_states,
        "horizon": graph.horizon,
        "p_success": float(p),
    }


def previous_rows(out: Path) -> list[dict]:
    """The rows this tool wrote to ``out`` earlier ([] for a new or empty file); anything else is refused, naming
    the file, before anything is computed: this tool rewrites the whole file."""
    if not out.exists() or (out.is_file() and out.stat().st_size == 0):
        return []
    way_out = "choose another --out, or move the file away"
    if not out.is_file():
        raise ValueError(f"--out {out} is not a file: {way_out}")
    try:
        table = pd.read_csv(out)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ValueError(
            f"--out {out} cannot be read as a CSV ({type(err).__name__}); it would be replaced: {way_out}"
        ) from None
    if list(table.columns) != COLUMNS:
        raise ValueError(
            f"--out {out} is not this tool's table (columns {list(table.columns)}, this tool writes {COLUMNS}); it "
            f"would be replaced: {way_out}"
        )
    return table.to_dict("records")


def same_run(path: str | Path) -> str:
    """A run directory however it is named (relative, absolute, through a link): rows are kept once per run."""
    return str(Path(path).resolve())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="run directories (src/run.py's)")
    ap.add_argument("--untrained", action="store_true", help="each run's untrained twin (same model and norm)")
    ap.add_argument("--out", type=Path, required=True, help="CSV to write (rows already there are kept)")
    args = ap.parse_args(argv)
    try:
        configs = {}
        for run in args.runs:  # every directory, its task and its weights checked before anything is computed
            configs[run] = run_config(run)
            horizon_of(*task_of(configs[run]))
            if trained(configs[run], args.untrained):
                check_weights(RunDir(run))
        previous_rows(args.out)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        lock = args.out.with_name(f".{args.out.name}.lock")

        def refuse(holder: str) -> None:
            raise DirectoryInUse(f"--out {args.out} is in use by process {holder}: wait, or choose another --out")

        with flock(lock, str(os.getpid()), on_busy=refuse):
            write_rows(args.runs, configs, args.untrained, args.out)
    except (ValueError, FileNotFoundError, DirectoryInUse) as error:
        ap.error(str(error))


def write_rows(runs: list[Path], configs: dict, untrained: bool, out: Path) -> None:
    rows = previous_rows(out)
    done = {(same_run(r["run"]), bool(r["trained"])) for r in rows}
    for run in runs:
        key = (same_run(run), trained(configs[run], untrained))
        if key in done:
            continue
        row = evaluate(run, untrained)
        rows.append(row)
        done.add(key)
        print(
            f"{row['run_name']} ({'trained' if row['trained'] else 'untrained'}): P(success within "
            f"{row['horizon']}) = {row['p_success']:.3g} over {row['states']} states",
            flush=True,
        )
        atomic_write_text(out, pd.DataFrame(rows, columns=COLUMNS).to_csv(index=False))


if __name__ == "__main__":
    main()
