"""The language-retention table: each task/metric before (frozen base) and after (base + LoRA) RL, and the delta.

    python analysis/retention_table.py results/retention/retention.json --out results/retention/table

Reads the records written by ``python -m twosome.retention.evaluate`` and writes ``<out>.csv`` and ``<out>.md``.
``--by config`` (default) averages over seeds, one row per (model, agent, env, norm), cells ``mean ± std``
(std over seeds; blank with one seed); ``--by run`` gives one row per run. ``delta`` is after - before,
computed per run and then averaged.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pandas as pd

from twosome.fileio import input_file

RUN_KEYS = ["run", "model", "agent", "env_id", "norm", "seed"]
CONFIG_KEYS = ["model", "agent", "env_id", "norm"]
WHICH = ["before", "after", "delta"]
LOWER_IS_BETTER = ("perplexity", "bits_per_byte", "_stderr")


def load_records(source: str | Path | list[dict]) -> pd.DataFrame:
    """Records (a list, or the path of retention.json) as a frame with one row per value."""
    if isinstance(source, str | Path):
        path = input_file(source, "retention.json", "python -m twosome.retention.evaluate")
        try:
            records = json.loads(path.read_text())
        except ValueError as err:
            raise SystemExit(f"{path} is not JSON ({err}): did python -m twosome.retention.evaluate fail?") from None
    else:
        records = list(source)
    if not records:
        raise SystemExit("no retention records")
    df = pd.DataFrame(records)
    missing = {"run", "which", "task", "metric", "value"} - set(df.columns)
    if missing:
        raise SystemExit(f"retention records lack the fields {sorted(missing)}")
    for key in RUN_KEYS:
        if key not in df:
            df[key] = None
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    df["column"] = df["task"] + "/" + df["metric"]
    return df


def per_run(df: pd.DataFrame) -> pd.DataFrame:
    """One row per run; columns ``(task/metric, which)`` with which in before, after, delta."""
    keys = [k for k in RUN_KEYS if df[k].notna().any()]
    df = df.assign(**{k: df[k].astype(object).where(df[k].notna(), "") for k in keys})  # keep rows lacking a key
    columns = list(dict.fromkeys(df["column"]))  # the order the evaluation produced
    wide = df.pivot_table(index=keys, columns=["column", "which"], values="value", aggfunc="mean", sort=False)
    out = pd.DataFrame(index=wide.index)
    for col in columns:
        before = wide.get((col, "before"), pd.Series(math.nan, index=wide.index))
        after = wide.get((col, "after"), pd.Series(math.nan, index=wide.index))
        out[(col, "before")], out[(col, "after")], out[(col, "delta")] = before, after, after - before
    out.columns = pd.MultiIndex.from_tuples(out.columns, names=["column", "which"])
    return out


def retention_table(
    source: str | Path | list[dict] | pd.DataFrame, by: str = "config", metrics: list[str] | None = None
) -> pd.DataFrame:
    """The table, flat columns ``"<task>/<metric> <which>"`` (plus ``" std"`` and ``n_seeds`` with by=config).

    ``metrics`` keeps only those metric names (``acc``) or task/metric pairs (``twosome_household_mc/acc``).
    """
    df = source if isinstance(source, pd.DataFrame) else load_records(source)
    if metrics:
        df = df[df["metric"].isin(metrics) | df["column"].isin(metrics)]
        if df.empty:
            raise SystemExit(f"no records for the metrics {metrics}")
    runs = per_run(df)
    if by == "run":
        table = runs.copy()
        table.columns = [f"{c} {w}" for c, w in runs.columns]
        return table.reset_index()
    if by != "config":
        raise ValueError(f"by={by!r}: use 'run' or 'config'")
    flat = runs.copy()
    flat.columns = [f"{c} {w}" for c, w in runs.columns]
    flat = flat.reset_index()
    keys = [k for k in CONFIG_KEYS if k in flat and flat[k].notna().any()]
    values = [c for c in flat.columns if c.rsplit(" ", 1)[-1] in WHICH]
    grouped = flat.groupby(keys, dropna=False, sort=False)
    mean, std = grouped[values].mean(), grouped[values].std(ddof=1)
    table = pd.DataFrame(index=mean.index)
    table["n_seeds"] = grouped.size()
    for col in values:
        table[col], table[f"{col} std"] = mean[col], std[col]
    return table.reset_index()


def _fmt(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4g}"


def to_markdown(table: pd.DataFrame) -> str:
    """Markdown by hand (no tabulate needed); mean ± std where a std column exists; arrows say which way is better."""
    values = [c for c in table.columns if c.rsplit(" ", 1)[-1] in WHICH]
    keys = [c for c in table.columns if c not in values and not c.endswith(" std")]
    header = list(keys)
    for col in values:
        name, which = col.rsplit(" ", 1)
        arrow = "↓" if any(s in name for s in LOWER_IS_BETTER) else "↑"
        header.append(f"{name} {arrow} {which}")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(keys) + ["---:"] * len(values)) + "|"]
    for _, row in table.iterrows():
        cells = [str(row[k]) for k in keys]
        for col in values:
            cell = _fmt(row[col])
            std = row.get(f"{col} std")
            if cell and std is not None and not pd.isna(std):
                cell += f" ± {_fmt(std)}"
            cells.append(cell)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def write_table(source, out: str | Path, by: str = "config", metrics: list[str] | None = None) -> pd.DataFrame:
    out = Path(out)
    table = retention_table(source, by=by, metrics=metrics)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out.with_suffix(".csv"), index=False)
    out.with_suffix(".md").write_text(to_markdown(table))
    return table


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("records", type=Path, help="retention.json from twosome.retention.evaluate")
    ap.add_argument("--out", type=Path, default=Path("results/retention/table"), help="writes <out>.csv and <out>.md")
    ap.add_argument("--by", choices=["config", "run"], default="config", help="average seeds, or a row per run")
    ap.add_argument("--metrics", default=None, help="comma-separated metric names to keep (default: all)")
    args = ap.parse_args(argv)
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    table = write_table(args.records, args.out, by=args.by, metrics=metrics)
    print(f"Wrote {args.out.with_suffix('.csv')} and .md ({len(table)} rows)")


if __name__ == "__main__":
    main()
