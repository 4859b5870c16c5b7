"""Language retention: does the LoRA-finetuned policy still model language as well as its frozen base?

lm-evaluation-harness is the engine. Three local tasks ship with the suite (YAML + JSONL under ``tasks/``):

- ``twosome_household_mc``: zero-shot multiple-choice household knowledge probes (``acc``, ``acc_norm``);
- ``twosome_household_ppl``: held-out perplexity on general household prose (``word_perplexity``,
  ``byte_perplexity``, ``bits_per_byte``), sized for the suite's own default model;
- ``twosome_english_ppl``: held-out perplexity on real English written by people (the GPL-3 text Debian ships).

Any other lm-eval task name (``arc_challenge``, ``hellaswag``, ``piqa``, ``mmlu``, ...) is passed through unchanged;
its dataset must already be in the local Hugging Face cache (or run with ``offline=False`` / ``--online``).

    python -m twosome.retention.evaluate runs/twosome-tomato_salad-word-s0 \\
        --tasks twosome_household_mc,twosome_household_ppl --out results/retention

For every run directory (one holding ``config.yaml``, ``summary.json`` and ``adapter/``, or any directory above
such runs) the base model named by ``model.path`` is evaluated once ("before") and base + adapter ("after");
the records go to ``<out>/retention.json``. ``analysis/retention_table.py`` turns them into the paper's table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf
from tqdm.auto import tqdm

from twosome.config import load_run_config
from twosome.fileio import atomic_write_text
from twosome.run_dir import ADAPTER_CONFIG, RunDir, trained_runs

log = logging.getLogger(__name__)

TASKS_DIR = Path(__file__).resolve().parent / "tasks"
PROBE_DATA = TASKS_DIR / "household_mc.jsonl"
PPL_DATA = TASKS_DIR / "household_ppl.jsonl"
LOCAL_PREFIX = "twosome_"
STANDARD_TASKS = ("arc_challenge", "hellaswag", "piqa", "mmlu")
OFFLINE_ENV = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")


class RetentionDataError(RuntimeError):
    """A task's dataset could not be loaded (typically: not in the local cache while offline)."""


# ----------------------------------------------------------------------------------------------- local task data
def local_tasks() -> dict[str, Path]:
    """Name -> YAML file of every task shipped under ``tasks/``."""
    out = {}
    for path in sorted(TASKS_DIR.glob("*.yaml")):
        config = yaml.safe_load(path.read_text())
        if isinstance(config, dict) and "task" in config:
            out[config["task"]] = path
    return out


def _check_probe(i: int, rec: Any) -> dict:
    if not isinstance(rec, dict):
        raise ValueError(f"probe {i}: expected a dict, got {type(rec).__name__}")
    query, choices, gold = rec.get("query"), rec.get("choices"), rec.get("gold")
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"probe {i}: 'query' must be a non-empty string, got {query!r}")
    if not isinstance(choices, list | tuple) or len(choices) < 2 or not all(isinstance(c, str) for c in choices):
        raise ValueError(f"probe {i}: 'choices' must be a list of at least 2 strings, got {choices!r}")
    if isinstance(gold, bool) or not isinstance(gold, int) or not 0 <= gold < len(choices):
        raise ValueError(f"probe {i}: 'gold' must be an index into choices (0..{len(choices) - 1}), got {gold!r}")
    # lm-eval joins context and choice with its target delimiter (one space): a choice that starts with a space, or
    # a query that ends with one, would be scored after two spaces.
    return {"query": query.rstrip(), "choices": [c.lstrip() for c in choices], "gold": int(gold)}


def write_probe_data(records: Iterable[dict], path: str | os.PathLike | None = None) -> Path:
    """Write multiple-choice probes ``{"query", "choices", "gold"}`` as the JSONL ``twosome_household_mc`` reads.

    ``path`` defaults to the shipped file, e.g. ``write_probe_data(corpus.knowledge_probes(seed=0, n=500))``
    regenerates the task's data in place.
    """
    rows = [_check_probe(i, rec) for i, rec in enumerate(records)]
    if not rows:
        raise ValueError("no probes to write")
    return _write_jsonl(rows, PROBE_DATA if path is None else Path(path))


def write_ppl_data(texts: Iterable[str], path: str | os.PathLike | None = None) -> Path:
    """Write held-out documents ``{"text"}`` as the JSONL ``twosome_household_ppl`` reads (default: shipped file)."""
    rows = []
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"document {i}: expected a non-empty string, got {text!r}")
        rows.append({"text": text})
    if not rows:
        raise ValueError("no documents to write")
    return _write_jsonl(rows, PPL_DATA if path is None else Path(path))


def _write_jsonl(rows: list[dict], path: Path) -> Path:
    atomic_write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    return path


def render_local_tasks(
    out_dir: str | os.PathLike, names: Iterable[str] | None = None, data: dict[str, str | os.PathLike] | None = None
) -> Path:
    """Copy the shipped task YAMLs into ``out_dir`` with ``data_files`` made absolute.

    ``datasets.load_dataset("json", data_files=...)`` resolves relative paths against the current directory, not
    the YAML's, so the shipped YAMLs (paths relative to ``tasks/``) are rendered at run time. ``data`` maps a task
    name to another JSONL file to use instead of the shipped one.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shipped = local_tasks()
    data = dict(data or {})
    for name in shipped if names is None else names:
        if name not in shipped:
            raise ValueError(f"unknown local task {name!r}; shipped: {sorted(shipped)}")
        config = yaml.safe_load(shipped[name].read_text())
        files = config["dataset_kwargs"]["data_files"]
        if isinstance(files, str | list):
            files = {"test": files}
        base_dir = TASKS_DIR  # shipped paths are relative to the YAML; an override is relative to the cwd
        if name in data:
            files, base_dir = dict.fromkeys(files, str(data.pop(name))), Path.cwd()
        resolved = {}
        for split, spec in files.items():
            paths = [spec] if isinstance(spec, str) else list(spec)
            paths = [str((base_dir / Path(p).expanduser()).resolve()) for p in paths]
            for p in paths:
                if not Path(p).is_file():
                    raise FileNotFoundError(f"task {name}: data file {p} does not exist")
            resolved[split] = paths[0] if len(paths) == 1 else paths
        config["dataset_kwargs"]["data_files"] = resolved
        (out / shipped[name].name).write_text(yaml.safe_dump(config, sort_keys=False))
    if data:
        raise ValueError(f"data given for tasks that are not local or not requested: {sorted(data)}")
    return out


# ----------------------------------------------------------------------------------------------- offline switch
@contextlib.contextmanager
def hf_offline(enabled: bool = True) -> Iterator[None]:
    """Hub and datasets offline for the duration (env vars *and* the constants the libraries read at import)."""
    if not enabled:
        yield
        return
    saved_env = {k: os.environ.get(k) for k in OFFLINE_ENV}
    patched: list[tuple[Any, str, Any]] = []
    for k in OFFLINE_ENV:
        os.environ[k] = "1"
    try:
        import datasets.config
        import huggingface_hub.constants

        for module, attrs in (
            (huggingface_hub.constants, ("HF_HUB_OFFLINE",)),
            (datasets.config, ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")),
        ):
            for attr in attrs:
                if hasattr(module, attr):
                    patched.append((module, attr, getattr(module, attr)))
                    setattr(module, attr, True)
        yield
    finally:
        for module, attr, value in reversed(patched):
            setattr(module, attr, value)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ----------------------------------------------------------------------------------------------- task resolution
def _builtin_yaml_mentions(names: Sequence[str]) -> set[str]:
    """Names that occur anywhere in lm-eval's built-in task YAMLs (a cheap necessary condition for existing).

    Building lm-eval's full task index takes ~20 s; this scan takes ~3 s and catches typos first.
    """
    import lm_eval.tasks

    root = Path(lm_eval.tasks.__file__).resolve().parent
    pending, found = set(names), set()
    for path in root.rglob("*.y*ml"):
        if not pending:
            break
        text = path.read_text(errors="ignore")
        hits = {n for n in pending if n in text}
        found |= hits
        pending -= hits
    return found


def _unknown_task_error(names: Sequence[str]) -> ValueError:
    return ValueError(
        f"unknown task name(s) {sorted(names)}: use a local task ({', '.join(sorted(local_tasks()))}) or an "
        f"lm-eval task name (e.g. {', '.join(STANDARD_TASKS)})"
    )


def split_tasks(tasks: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(local, external)`` task names; raises ``ValueError`` for empty lists and names that cannot exist."""
    tasks = [t.strip() for t in tasks if t and t.strip()]
    if not tasks:
        raise ValueError("no tasks given")
    shipped = local_tasks()
    local = [t for t in tasks if t in shipped]
    external = [t for t in tasks if t not in shipped]
    bad_local = [t for t in external if t.startswith(LOCAL_PREFIX)]  # the prefix is reserved for shipped tasks
    if bad_local:
        raise _unknown_task_error(bad_local)
    if external:
        missing = sorted(set(external) - _builtin_yaml_mentions(external))
        if missing:
            raise _unknown_task_error(missing)
    return local, external


def _load_task_specs(task_manager, names: Sequence[str]) -> tuple[list[Any], dict[str, list[str]]]:
    """Build every task (this loads its dataset); returns the objects and, per name, the result keys to report."""
    unknown = [n for n in names if n not in task_manager.all_tasks]
    if unknown:
        raise _unknown_task_error(unknown)
    objects: list[Any] = []
    report: dict[str, list[str]] = {}
    for name in names:
        try:
            loaded = task_manager.load([name])
        except Exception as e:  # datasets raises many types: ConnectionError, FileNotFoundError, DatasetNotFound...
            raise RetentionDataError(
                f"task {name!r}: its dataset could not be loaded ({type(e).__name__}: {e}). The data must be "
                "available offline (in the local Hugging Face datasets cache; run once with network access, "
                "offline=False / --online, to populate it) or the evaluation must run with network access."
            ) from e
        groups, tasks = loaded.get("groups", {}), loaded["tasks"]
        if name in groups:
            objects.append(groups[name])
            report[name] = [name]
        elif name in tasks:
            objects.append(tasks[name])
            report[name] = [name]
        else:  # a tag: a plain list of tasks, reported one by one
            objects.extend(tasks.values())
            report[name] = sorted(tasks)
    return objects, report


# ----------------------------------------------------------------------------------------------- evaluation
def _flatten(results: dict[str, dict], keys: Iterable[str], include_stderr: bool) -> dict[str, float]:
    flat: dict[str, float] = {}
    for task in keys:
        for key, value in results.get(task, {}).items():
            if "," not in key or isinstance(value, bool) or not isinstance(value, int | float):
                continue  # alias, name, sample_len, "N/A" stderrs
            metric, _, filt = key.partition(",")
            if metric.endswith("_stderr") and not include_stderr:
                continue
            if filt and filt != "none":
                metric = f"{metric}[{filt}]"
            flat[f"{task}/{metric}"] = float(value)
    return flat


def evaluate_retention(
    base_model: str,
    adapter: str | None,
    tasks: list[str],
    limit: int | None = None,
    batch_size: int | str = 8,
    device: str = "cpu",
    *,
    dtype: str | None = None,
    offline: bool = True,
    data: dict[str, str | os.PathLike] | None = None,
    include_stderr: bool = False,
    bootstrap_iters: int = 0,
) -> dict[str, float]:
    """Evaluate ``base_model`` (+ the peft ``adapter`` if given) on ``tasks``; returns ``{"<task>/<metric>": value}``.

    Local tasks (see :func:`local_tasks`) are rendered into a temporary include dir; other names go to lm-eval
    unchanged. ``offline`` (default) forbids any network access: a standard task whose dataset is not cached
    raises :class:`RetentionDataError` naming the task. ``data`` overrides a local task's JSONL file.
    ``bootstrap_iters`` > 0 (with ``include_stderr``) adds bootstrap stderrs of the perplexity metrics.
    """
    from twosome.lm.loading import local_model_dir  # torch and transformers: only when evaluating

    local, external = split_tasks(tasks)
    base = local_model_dir(os.path.expanduser(base_model), f"base model {base_model!r}")
    if base is not None:
        base_model = str(base.resolve())
    if adapter is not None:
        if not (Path(adapter) / ADAPTER_CONFIG).is_file():
            raise FileNotFoundError(f"adapter {adapter!r} is not a peft adapter directory (no adapter_config.json)")
        adapter = str(Path(adapter).resolve())

    with hf_offline(offline), tempfile.TemporaryDirectory(prefix="twosome-retention-tasks-") as include:
        import lm_eval
        from lm_eval.tasks import TaskManager

        render_local_tasks(include, local, data)
        task_manager = TaskManager(include_path=include, include_defaults=bool(external))
        objects, report = _load_task_specs(task_manager, local + external)

        model_args: dict[str, Any] = {"pretrained": base_model}
        if adapter is not None:
            model_args["peft"] = adapter
        if dtype is not None:
            model_args["dtype"] = dtype
        log.info("lm-eval: %s on %s (limit=%s)", model_args, local + external, limit)
        out = lm_eval.simple_evaluate(
            model="hf",
            model_args=model_args,
            tasks=objects,
            task_manager=task_manager,
            limit=limit,
            batch_size=batch_size,
            device=device,
            bootstrap_iters=bootstrap_iters,
            log_samples=False,
        )
    if out is None:  # only on non-zero ranks of a distributed launch
        return {}
    flat = _flatten(out["results"], [k for keys in report.values() for k in keys], include_stderr)
    for name, keys in report.items():
        if not any(f.startswith(f"{k}/") for k in keys for f in flat):
            raise RuntimeError(f"lm-eval returned no metrics for task {name!r}")
    return flat


# ----------------------------------------------------------------------------------------------- run directories
def find_run_dirs(path: str | os.PathLike) -> list[Path]:
    """``path`` itself if it is a trained run (config.yaml + adapter/), else every such run below it."""
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"run directory {root} does not exist")
    runs = [run.root for run in trained_runs(root)]
    if not runs:
        raise FileNotFoundError(f"no trained run (config.yaml + adapter/adapter_config.json) in or below {root}")
    return runs


def read_run(run_dir: Path) -> dict[str, Any]:
    """What the retention records need from one run directory."""
    run = RunDir(run_dir)
    config = OmegaConf.to_container(load_run_config(run.config), resolve=True)
    model = config.get("model") or {}
    if not model.get("path"):
        raise ValueError(f"{run.config} has no model.path")
    base = Path(str(model["path"])).expanduser()
    summary = run.read_summary() if run.summary.is_file() else {}
    agent_cfg = config.get("agent") or {}
    policy = agent_cfg.get("policy") or {}
    return {
        "run": summary.get("run_name") or run_dir.name,
        "run_dir": str(run_dir),
        "agent": summary.get("agent", agent_cfg.get("name")),
        "env_id": summary.get("env_id", (config.get("env") or {}).get("id")),
        "norm": summary.get("norm", policy.get("norm")),
        "seed": summary.get("seed", config.get("seed")),
        "model": summary.get("model") or model.get("name") or base.name,
        "base": str(base if base.is_absolute() else base.resolve()),
        "adapter": str(run.adapter),
    }


def retention_records(
    run_dirs: Sequence[str | os.PathLike],
    tasks: list[str],
    out: Path | None = None,
    with_base: bool = True,
    **eval_kwargs,
) -> list[dict[str, Any]]:
    """Evaluate every run (each distinct base once, unless ``with_base`` is False: a campaign that evaluates its
    adapters one call at a time reads the base's records from one call) and return the flat records; write them
    as they come."""
    split_tasks(tasks)  # fail on bad names before any model is loaded
    runs = [read_run(r) for d in run_dirs for r in find_run_dirs(d)]
    before: dict[str, dict[str, float]] = {}
    records: list[dict[str, Any]] = []
    # one evaluation per distinct base and one per run: models evaluated of all, with the time left
    bases = len({run["base"] for run in runs}) if with_base else 0
    bar = tqdm(total=bases + len(runs), unit="model", desc="retention")
    for run in runs:
        if not with_base:
            before[run["base"]] = {}
        elif run["base"] not in before:
            log.info("before: %s", run["base"])
            bar.set_postfix_str(f"base {Path(run['base']).name}")
            before[run["base"]] = evaluate_retention(run["base"], None, tasks, **eval_kwargs)
            bar.update()
        log.info("after: %s + %s", run["base"], run["adapter"])
        bar.set_postfix_str(run["run"])
        after = evaluate_retention(run["base"], run["adapter"], tasks, **eval_kwargs)
        bar.update()
        meta = {k: run[k] for k in ("run", "agent", "env_id", "norm", "seed", "model", "run_dir")}
        for which, scores in (("before", before[run["base"]]), ("after", after)):
            for key, value in scores.items():
                task, _, metric = key.partition("/")
                records.append({**meta, "which": which, "task": task, "metric": metric, "value": value})
        if out is not None:
            write_records(records, out)
    bar.close()
    return records


def write_records(records: list[dict[str, Any]], out: Path) -> Path:
    path = out / "retention.json"
    clean = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()} for r in records]
    atomic_write_text(path, json.dumps(clean, indent=1))
    return path


def main(argv: Sequence[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(prog="python -m twosome.retention.evaluate", description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dirs", nargs="+", help="trained run directories (or directories above them)")
    ap.add_argument("--tasks", default="twosome_household_mc,twosome_household_ppl", help="comma-separated")
    ap.add_argument("--limit", type=int, default=None, help="at most this many documents per task (smoke tests)")
    ap.add_argument("--batch-size", default="8")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default=None, help="float32, bfloat16, ... (default: the checkpoint's)")
    ap.add_argument("--online", action="store_true", help="allow downloads (datasets of standard tasks)")
    ap.add_argument("--out", type=Path, default=Path("results/retention"))
    ap.add_argument(
        "--no-base",
        action="store_true",
        help="adapted models only (the base's records come from a call without this flag)",
    )
    args = ap.parse_args(argv)
    try:  # a path with no trained run, or a task that cannot exist, is refused before the models load
        for run_dir in args.run_dirs:
            find_run_dirs(run_dir)
        split_tasks(args.tasks.split(","))
    except (FileNotFoundError, ValueError) as err:
        ap.error(str(err))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    batch_size = int(args.batch_size) if args.batch_size.isdigit() else args.batch_size
    records = retention_records(
        args.run_dirs,
        args.tasks.split(","),
        out=args.out,
        with_base=not args.no_base,
        limit=args.limit,
        batch_size=batch_size,
        device=args.device,
        dtype=args.dtype,
        offline=not args.online,
    )
    path = write_records(records, args.out)
    print(f"Wrote {path} ({len(records)} records)")
    return path


if __name__ == "__main__":
    main()
