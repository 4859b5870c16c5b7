"""``hydra/launcher=seed_batch``: the sweep's jobs that differ only in ``seed`` run together in this process, through
one frozen LM (``twosome.training.seed_group``), at most ``max_batch`` to a group. Jobs that cannot share a model
(an agent without an LM, evaluation-only agents, data-parallel runs) run one at a time, as with Hydra's basic
launcher. Here, in the ``hydra_plugins`` namespace, because Hydra instantiates launchers from there only.

A user sees what the basic launcher gives: one job directory per seed (``.hydra/``, config.yaml, metrics.csv,
summary.json, checkpoints, adapter, critic head), one ``sweep_summary.csv`` row per job; the same command resumes
every seed of a group from its own checkpoint. A stop signal (Ctrl-C, SIGTERM) stops the running group at the end of
its update, each seed saved, and starts no other group.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Sequence
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, JobStatus, configure_log, filter_overrides, run_job, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext
from omegaconf import DictConfig, OmegaConf, open_dict

SEED_KEYS = ("seed", "+seed", "++seed")


def group_key(overrides: Sequence[str], task: DictConfig | None = None) -> tuple[str, ...]:
    """Jobs with the same key are one configuration: their resolved configs less the seed (so a setting that follows
    the seed, ``'eval.seed_offset=${seed}'``, keeps them apart: they run alone, as the basic launcher runs them);
    without a config, or one that cannot be resolved here, their overrides less the seed."""
    plain = tuple(o for o in overrides if o.split("=", 1)[0] not in SEED_KEYS)
    if task is None:
        return plain
    from twosome.training.seed_group import without_seed

    try:
        return (json.dumps(without_seed(task), sort_keys=True, default=str),)
    except Exception:  # an interpolation only Hydra's job context resolves: the overrides decide
        return plain


def form_groups(keys: list[tuple[str, ...]], batchable: list[bool], max_batch: int) -> list[list[int]]:
    """Job indices in groups, in the sweep's order: batchable jobs of one key together, ``max_batch`` at most; every
    other job alone."""
    groups: list[list[int]] = []
    open_group: dict[tuple[str, ...], list[int]] = {}
    for i, (key, ok) in enumerate(zip(keys, batchable)):
        if not ok:
            groups.append([i])
            continue
        group = open_group.get(key)
        if group is None or len(group) >= max_batch:
            group = open_group[key] = []
            groups.append(group)
        group.append(i)
    return groups


class _StartOnly:
    """The sweep's callbacks, less ``on_job_end``: a group member's job ends when the group has trained it."""

    def __init__(self, callbacks):
        self.callbacks = callbacks

    def on_job_start(self, **kwargs) -> None:
        self.callbacks.on_job_start(**kwargs)

    def on_job_end(self, **kwargs) -> None:
        pass


def _prepare(cfg: DictConfig):
    """The task a group member's job runs first: its config and its directory (where Hydra wrote ``.hydra/``)."""
    return cfg, Path(HydraConfig.get().runtime.output_dir)


def _stop_signal(result) -> str | None:
    """'Ctrl-C' or 'SIGTERM' when ``result`` is a run stopped by one (the sweep then stops), else None."""
    if isinstance(result, KeyboardInterrupt) or getattr(result, "signum", None) == signal.SIGINT:
        return "Ctrl-C"
    if getattr(result, "signum", None) == signal.SIGTERM:
        return "SIGTERM"
    return None


class SeedBatchLauncher(Launcher):
    def __init__(self, max_batch: int = 16) -> None:
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
            raise ValueError(f"hydra.launcher.max_batch={max_batch!r} is not valid; valid: an integer >= 1")
        self.max_batch = max_batch
        self.config: DictConfig | None = None
        self.hydra_context: HydraContext | None = None
        self.task_function = None

    def setup(self, *, hydra_context: HydraContext, task_function, config: DictConfig) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        from twosome.training.seed_group import not_batchable_reason

        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        configs = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            config = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
            with open_dict(config):
                config.hydra.job.id = idx
                config.hydra.job.num = idx
            configs.append(config)
        tasks = [OmegaConf.masked_copy(c, [k for k in c if k != "hydra"]) for c in configs]
        batchable = [not_batchable_reason(task) is None for task in tasks]
        keys = [group_key(o, task) for o, task in zip(job_overrides, tasks)]
        groups = form_groups(keys, batchable, self.max_batch)
        returns: dict[int, JobReturn] = {}
        for group in groups:
            seeds = ", ".join(" ".join(filter_overrides(job_overrides[i])) for i in group)
            print(f"Seed group of {len(group)} in one process: {seeds}" if batchable[group[0]] else f"Alone: {seeds}")
            if batchable[group[0]]:
                stopped = self._run_group(group, configs, returns)
            else:
                returns[group[0]] = run_job(
                    hydra_context=self.hydra_context,
                    task_function=self.task_function,
                    config=configs[group[0]],
                    job_dir_key="hydra.sweep.dir",
                    job_subdir_key="hydra.sweep.subdir",
                )
                stopped = _stop_signal(returns[group[0]]._return_value)
            configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
            if stopped:
                from twosome.training.sweep_summary import print_sweep_summary

                print_sweep_summary(sweep_dir)
                raise SystemExit(
                    f"The sweep stopped on {stopped}; the groups after it were not started. To finish it, rerun the "
                    f"same command with hydra.sweep.dir={sweep_dir}"
                )
        return [returns[i] for i in sorted(returns)]

    def _run_group(self, group: list[int], configs: list[DictConfig], returns: dict[int, JobReturn]) -> str | None:
        """Prepare each member's job as Hydra does (its directory, ``.hydra/``), train them together, then end each
        job with the sweep's callbacks (``sweep_summary.csv``). Returns the stop signal's name if one stopped them."""
        from twosome.training.seed_group import train_group
        from twosome.training.stopping import Requeued

        loader, callbacks = self.hydra_context.config_loader, self.hydra_context.callbacks
        quiet = HydraContext(config_loader=loader, callbacks=_StartOnly(callbacks))
        prepared = {}
        for i in group:
            prepared[i] = run_job(
                hydra_context=quiet,
                task_function=_prepare,
                config=configs[i],
                job_dir_key="hydra.sweep.dir",
                job_subdir_key="hydra.sweep.subdir",
            )
        ready = [i for i in group if prepared[i].status == JobStatus.COMPLETED]
        results = dict.fromkeys(group)
        for i in group:
            if i not in ready:
                results[i] = prepared[i]._return_value
        if ready:
            cfgs, run_dirs = zip(*(prepared[i].return_value for i in ready))
            trained = train_group(list(cfgs), list(run_dirs))
            results.update(zip(ready, trained))
        stopped, requeued = None, None
        for i in group:
            ret, result = prepared[i], results[i]
            if isinstance(result, BaseException):
                ret.status, ret.return_value = JobStatus.FAILED, result
            else:
                ret.status, ret.return_value = JobStatus.COMPLETED, result.get("eval/episodic_return", float("nan"))
            self.hydra_context.callbacks.on_job_end(config=configs[i], job_return=ret)
            returns[i] = ret
            stopped = stopped or _stop_signal(result)
            if isinstance(result, Requeued):
                requeued = result
        if requeued is not None:  # SLURM requeued the job running this group: end it; the requeued job resumes
            raise requeued
        return stopped
