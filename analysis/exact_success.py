"""Exact success probability of runs' sampled policies within the horizon (VirtualHome: every reachable state).

    python analysis/exact_success.py RUN_DIR [RUN_DIR ...] --out docs/data/exact_success.csv
    python analysis/exact_success.py RUN_DIR [RUN_DIR ...] --untrained --out ...     # the runs' untrained twins

For each run directory (written by ``src/run.py``) the agent is rebuilt from its ``config.yaml`` (with its trained
weights, or without them: ``--untrained``), its environment's reachable states are enumerated, and the probability
that an episode sampled from the policy succeeds within the horizon is computed by backward induction
(``twosome.evaluation.exact_success``): what 100 sampled episodes estimate, without their error, down to the
1e-5 that decides whether an exploring agent ever sees a reward. One row per run and mode, appended to ``--out``
atomically after each; rerunning the same command skips the rows already there.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from twosome.evaluation.exact_success import action_probabilities, decision_graph, horizon_of, success_within
from twosome.evaluation.generalization import load_run, run_config
from twosome.fileio import atomic_write_text

COLUMNS = ["run", "run_name", "env_id", "model", "norm", "seed", "trained", "states", "horizon", "p_success"]


def task_of(cfg) -> tuple[str, str, dict]:
    """The run's environment as it trained on it: id, wording, constructor kwargs."""
    return cfg.env.id, cfg.env.get("wording", "canonical"), dict(cfg.env.get("kwargs") or {})


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
        "trained": not untrained,
        "states": graph.n_states,
        "horizon": graph.horizon,
        "p_success": float(p),
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="run directories (src/run.py's)")
    ap.add_argument("--untrained", action="store_true", help="each run's untrained twin (same model and norm)")
    ap.add_argument("--out", type=Path, required=True, help="CSV to write (rows already there are kept)")
    args = ap.parse_args(argv)
    for run in args.runs:  # every directory and its task checked before anything is computed or written
        horizon_of(*task_of(run_config(run)))
    rows = pd.read_csv(args.out).to_dict("records") if args.out.exists() else []
    done = {(r["run"], bool(r["trained"])) for r in rows}
    for run in args.runs:
        if (str(run), not args.untrained) in done:
            continue
        row = evaluate(run, args.untrained)
        rows.append(row)
        print(
            f"{row['run_name']} ({'trained' if row['trained'] else 'untrained'}): P(success within "
            f"{row['horizon']}) = {row['p_success']:.3g} over {row['states']} states",
            flush=True,
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.out, pd.DataFrame(rows, columns=COLUMNS).to_csv(index=False))


if __name__ == "__main__":
    main()
