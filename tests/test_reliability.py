"""Faults a long run meets on a cluster (docs/RELIABILITY.md): SIGKILL, the requeue signal, a half-written checkpoint,
a failing sweep member, a non-finite loss, mistyped settings. None may cost finished work or change results."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from helpers import (
    compose_cfg,
    ctrl_c_after,
    run_cli,
    same_results,
    small_run,
    stand_in_scontrol,
    start,
    toy_config,
    wait_for_checkpoint,
)

from twosome.config import ConfigError, config_changes, validate
from twosome.training.checkpointing import AtomicCheckpointIO
from twosome.training.run_state import read_run_state
from twosome.training.train import train


def test_sigkill_then_the_same_command_ends_as_an_uninterrupted_run(tmp_path, tiny_model_dir, uninterrupted):
    args = small_run(tiny_model_dir, tmp_path / "run")
    proc = start(args, tmp_path)
    done = wait_for_checkpoint(tmp_path / "run", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert done < 6 and not (tmp_path / "run" / "summary.json").exists()
    resumed = run_cli(*args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming" in resumed.stdout
    same_results(uninterrupted, tmp_path / "run")
    # The same command once more: the run is finished, nothing is redone or overwritten.
    again = run_cli(*args, cwd=tmp_path)
    assert again.returncode == 0 and "already finished" in again.stdout


def test_requeue_signal_saves_stops_and_resumes_exactly(tmp_path, tiny_model_dir, uninterrupted):
    args = small_run(tiny_model_dir, tmp_path / "run")
    proc = start(args, tmp_path)
    wait_for_checkpoint(tmp_path / "run", proc)
    proc.send_signal(signal.SIGUSR1)
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode != 0, out[-2000:]
    assert "rerun the same command to resume" in out and "Traceback" not in out, out[-3000:]  # a stop, not a crash
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["status"] == "preempted" and "SIGUSR1" in status["reason"], out[-2000:]
    assert not (tmp_path / "run" / "summary.json").exists()
    resumed = run_cli(*args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    same_results(uninterrupted, tmp_path / "run")


def start_two_job_sweep(tmp_path: Path, model_dir: Path):
    """A 2-job sweep of ``small_run``, once job 0 has written its first checkpoint: (sweep dir, the command's
    arguments, the process, job 0's directory)."""
    sweep = tmp_path / "sweep"
    args = ["-m", *small_run(model_dir, None, "seed=0,1"), f"hydra.sweep.dir={sweep}"]
    proc = start(args, tmp_path)
    deadline = time.time() + 300
    while not list(sweep.glob("0_*")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    job0 = next(sweep.glob("0_*"))
    wait_for_checkpoint(job0, proc)
    return sweep, args, proc, job0


def test_sigterm_saves_stops_the_sweep_and_the_same_command_resumes_exactly(tmp_path, tiny_model_dir, uninterrupted):
    """Lightning turns SIGTERM into SIGTERMException (exit status 0, nothing saved) and Hydra's launcher
    then starts no other job. Now: the update ends, the checkpoint is written, status says preempted, the sweep
    stops with a non-zero status and its table, and the same command resumes and ends as an uninterrupted run."""
    sweep, args, proc, job0 = start_two_job_sweep(tmp_path, tiny_model_dir)
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode != 0, out[-3000:]
    status = json.loads((job0 / "status.json").read_text())
    assert status["status"] == "preempted" and "SIGTERM" in status["reason"], out[-3000:]
    assert read_run_state(job0 / "checkpoints" / "last.ckpt")["updates_done"] < 6
    assert not (job0 / "summary.json").exists() and not list(sweep.glob("1_*"))  # job 1 never started
    table = pd.read_csv(sweep / "sweep_summary.csv")
    assert table[["job", "status"]].values.tolist() == [[0, "preempted"]]
    assert f"rerun the same command with hydra.sweep.dir={sweep}" in out
    assert "Received SIGTERM" not in out  # Lightning's log line: the suite's own message says it, and what to do
    resumed = run_cli(*args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming" in resumed.stdout
    same_results(uninterrupted, job0)
    table = pd.read_csv(sweep / "sweep_summary.csv")
    assert table[["job", "status"]].values.tolist() == [[0, "finished"], [1, "finished"]]


def test_ctrl_c_saves_stops_the_sweep_and_the_same_command_resumes_exactly(tmp_path, tiny_model_dir, uninterrupted):
    """Ctrl-C once exited 1 silently, status.json said ``failed: SystemExit: 1`` and a sweep wrote no table.
    Now Ctrl-C (SIGINT to the process group, as a terminal sends it) is SIGTERM's twin: the update ends, the checkpoint
    is written, status says interrupted, the sweep stops with its table and names the command that finishes it."""
    sweep, args, proc, job0 = start_two_job_sweep(tmp_path, tiny_model_dir)
    os.killpg(proc.pid, signal.SIGINT)
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode != 0, out[-3000:]
    status = json.loads((job0 / "status.json").read_text())
    assert status["status"] == "interrupted" and "SIGINT at update" in status["reason"], out[-3000:]
    assert "Ctrl-C: saving at the end of this update" in out
    assert not (job0 / "summary.json").exists() and not list(sweep.glob("1_*"))  # job 1 never started
    table = pd.read_csv(sweep / "sweep_summary.csv")
    assert table[["job", "status"]].values.tolist() == [[0, "interrupted"]]
    assert "stopped on Ctrl-C during job 0; the jobs after it were not started. To finish it, rerun the same " in out
    assert f"hydra.sweep.dir={sweep}" in out
    resumed = run_cli(*args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    same_results(uninterrupted, job0)


def test_a_second_ctrl_c_stops_at_once_and_the_same_command_resumes_exactly(tmp_path, tiny_model_dir, uninterrupted):
    """Ctrl-C twice: stop now (Lightning's own exit was a bare ``sys.exit(1)``); the last checkpoint resumes."""
    args = small_run(tiny_model_dir, tmp_path / "run")
    proc = start(args, tmp_path)
    wait_for_checkpoint(tmp_path / "run", proc)
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode != 0, out[-3000:]
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["status"] == "interrupted", (status, out[-3000:])
    assert "Interrupted: Ctrl-C: stopped at once; the last checkpoint (" in out, out[-3000:]
    assert "resumes; rerun the same command to continue" in out, out[-3000:]
    resumed = run_cli(*args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming" in resumed.stdout
    same_results(uninterrupted, tmp_path / "run")


def signal_at(hook: str, signal_name: str, marker: Path) -> list[str]:
    """Overrides that make the run send itself ``signal_name`` in the callback hook ``hook``, once
    (tests/signal_at.py); the command needs ``TESTS_ON_PATH``."""
    stop = "+callbacks.stop"
    return [f"{stop}._target_=signal_at.SignalAt", f"{stop}.hook={hook}", f"{stop}.signal={signal_name}",
            f"{stop}.marker={marker}"]  # fmt: skip


TESTS_ON_PATH = {"PYTHONPATH": str(Path(__file__).parent)}


@pytest.mark.parametrize("signal_name, status", [("SIGTERM", "preempted"), ("SIGINT", "interrupted")])
def test_a_stop_during_the_final_evaluation_ends_at_once_and_resumes_at_the_evaluation(
    tmp_path, tiny_model_dir, uninterrupted, signal_name, status
):
    """The final evaluation ran inside the last update, before its checkpoint: a stop there waited for the whole
    evaluation (half an hour for a SmolLM2 GoTo run), and a kill lost every update since the last periodic checkpoint.
    Now the last update is saved first, and a stop signal in the evaluation (here at its start, the module's
    ``on_train_end``) ends the run at once; the same command trains nothing and evaluates."""
    args = small_run(tiny_model_dir, tmp_path / "run", *signal_at("on_train_end", signal_name, tmp_path / "sent"))
    stopped = run_cli(*args, cwd=tmp_path, extra_env=TESTS_ON_PATH)
    assert stopped.returncode != 0 and (tmp_path / "sent").exists(), stopped.stdout[-3000:] + stopped.stderr[-3000:]
    state = json.loads((tmp_path / "run" / "status.json").read_text())
    assert state["status"] == status and f"{signal_name} during the final evaluation" in state["reason"], state
    assert "rerun the same command to resume" in stopped.stdout + stopped.stderr
    assert read_run_state(tmp_path / "run" / "checkpoints" / "last.ckpt")["updates_done"] == 6
    assert pd.read_csv(tmp_path / "run" / "metrics.csv")["update"].tolist() == [1, 2, 3, 4, 5]  # row 6 waits for it
    resumed = run_cli(*args, cwd=tmp_path, extra_env=TESTS_ON_PATH)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "at its final evaluation, after update 6" in resumed.stdout, resumed.stdout[-3000:]
    same_results(uninterrupted, tmp_path / "run")


def test_a_kill_after_the_final_evaluation_logged_its_row_resumes_with_that_row_once(
    tmp_path, tiny_model_dir, uninterrupted
):
    """SIGKILL once the final evaluation has logged the last update's row, before the summary: the checkpoint (of the
    last update, before the evaluation) resumes at the evaluation, and the row is dropped and logged again, once."""
    args = small_run(tiny_model_dir, tmp_path / "run", *signal_at("on_fit_end", "SIGKILL", tmp_path / "sent"))
    killed = run_cli(*args, cwd=tmp_path, extra_env=TESTS_ON_PATH)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert pd.read_csv(tmp_path / "run" / "metrics.csv")["update"].tolist() == [1, 2, 3, 4, 5, 6]
    assert not (tmp_path / "run" / "summary.json").exists()
    resumed = run_cli(*args, cwd=tmp_path, extra_env=TESTS_ON_PATH)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    same_results(uninterrupted, tmp_path / "run")


def test_a_ctrl_c_while_the_run_takes_its_directory_ends_it_as_interrupted(tmp_path, monkeypatch, default_ctrl_c):
    """A launcher's SIGINT can land just after the run took its lock (a sweep stopped as its job starts): it once
    escaped as a bare KeyboardInterrupt, which Hydra does not report, so no status and no sweep record said how the
    run ended."""
    import twosome.training.train as train_module

    monkeypatch.setattr(train_module, "open_run", ctrl_c_after(train_module.open_run))
    cfg = toy_config(tmp_path, "agent=random", "eval.episodes=4")
    with pytest.raises(BaseException) as stopped:
        train(cfg, run_dir=tmp_path / "run")
    assert type(stopped.value).__name__ == "Interrupted", repr(stopped.value)
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["status"] == "interrupted" and "there is no checkpoint: it starts afresh" in status["reason"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the held handler is gone


def test_a_requeued_job_reads_preempted_and_ends_without_a_result(tmp_path, monkeypatch):
    """After a requeue (submitit's handler exits with SystemExit(-1)) status.json once said
    ``failed: SystemExit: -1``. ``Requeued`` is a SystemExit, not an Exception: Hydra's job runner and submitit record
    no result for it, so the submitting process waits for the requeued job instead of reporting a failure."""
    import twosome.training.train as train_module
    from twosome.training.stopping import Requeued

    def requeued(*args, **kwargs):
        raise Requeued("SIGUSR2 at update 5: checkpoint x; the job was requeued by submitit and resumes from it")

    monkeypatch.setattr(train_module, "_train", requeued)
    with pytest.raises(Requeued):
        train(compose_cfg(), run_dir=tmp_path / "run")
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["status"] == "preempted" and "the job was requeued by submitit" in status["reason"]
    assert not isinstance(Requeued("x"), Exception)


def test_resume_refuses_a_different_config(tmp_path, tiny_model_dir, uninterrupted):
    proc = run_cli(*small_run(tiny_model_dir, uninterrupted, "ppo.policy_lr=5e-3"), cwd=tmp_path)
    assert proc.returncode != 0
    assert "different config (ppo.policy_lr: 0.01 -> 0.005)" in proc.stderr
    assert json.loads((uninterrupted / "status.json").read_text())["status"] == "finished"  # untouched


def test_config_changes_ignore_settings_a_resume_may_change():
    old = {"ppo": {"policy_lr": 0.01}, "checkpoint": {"every_updates": 2}, "trainer": {"num_threads": 1}}
    new = {"ppo": {"policy_lr": 0.01}, "checkpoint": {"every_updates": 8}, "trainer": {"num_threads": 2}}
    assert config_changes(old, new) == []
    assert config_changes(old, {**new, "seed": 1}) == ["seed: '<absent>' -> 1"]


def test_an_interrupted_checkpoint_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"update": 1}, path)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies between writing the bytes and putting them in place

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"update": 2, "big": torch.zeros(1000)}, path)
    assert torch.load(path, weights_only=False) == {"update": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]  # no temporary file left behind


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomically_written_files_respect_the_umask(tmp_path, umask, mode):
    """mkstemp's 0600 once made config, status, summary, checkpoints (and metrics.csv after a resume) unreadable
    to colleagues whatever the umask."""
    from twosome.fileio import atomic_write_text

    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "status.json", "{}")
        AtomicCheckpointIO().save_checkpoint({"update": 1}, tmp_path / "last.ckpt")
    finally:
        os.umask(old)
    assert {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == {"status.json": mode, "last.ckpt": mode}


def test_a_runs_files_are_readable_as_the_umask_allows(uninterrupted):
    umask = os.umask(0)
    os.umask(umask)
    modes = {
        str(p.relative_to(uninterrupted)): p.stat().st_mode & 0o777 for p in uninterrupted.rglob("*") if p.is_file()
    }
    assert {"config.yaml", "status.json", "summary.json", "checkpoints/last.ckpt", "metrics.csv"} <= set(modes)
    assert {name: mode for name, mode in modes.items() if mode != 0o666 & ~umask} == {}


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, tiny_model_dir):
    """A NaN policy loss in update 3: training stops before any optimizer step of that update; the checkpoint of
    update 2 stays, nothing claims the run finished, and status.json says why."""
    import twosome.rl.ppo as ppo
    from twosome.rl.algorithm import NonFiniteLossError

    calls = {"n": 0}
    real = ppo.policy_loss

    def poisoned(*args, **kwargs):
        loss, stats = real(*args, **kwargs)
        calls["n"] += 1
        return (loss * float("nan"), stats) if calls["n"] > calls.get("limit", 10**9) else (loss, stats)

    monkeypatch.setattr(ppo, "policy_loss", poisoned)
    handlers = handlers_now()
    cfg = toy_config(
        tmp_path,
        f"model.path={tiny_model_dir}",
        "model.build=null",
        "checkpoint.every_updates=1",
        "rollout.total_env_steps=640",
        "rollout.num_steps=16",
        "ppo.target_kl=null",  # every update makes all its policy steps
        "eval.every_updates=0",
    )
    # Count the policy-loss calls of two updates, then poison the third update's.
    per_update = cfg.rollout.num_envs * cfg.rollout.num_steps // cfg.ppo.policy_chunk_size
    calls["limit"] = 2 * per_update * cfg.ppo.update_epochs
    with pytest.raises(NonFiniteLossError, match="the policy loss is nan at update 3"):
        train(cfg, run_dir=tmp_path / "run", enable_progress_bar=False)
    run = tmp_path / "run"
    assert read_run_state(run / "checkpoints" / "last.ckpt")["updates_done"] == 2
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "failed" and "NonFiniteLossError" in status["error"]
    assert not (run / "summary.json").exists() and not (run / "adapter").exists()
    assert pd.read_csv(run / "metrics.csv")["update"].tolist() == [1, 2]
    assert handlers_now() == handlers  # a failed run leaves the process's signal handlers as it found them


def handlers_now() -> dict:
    return {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2)}


@pytest.mark.parametrize("presses", [1, 2], ids=["ctrl_c", "ctrl_c_twice"])
def test_an_in_process_run_stopped_by_ctrl_c_leaves_the_signal_handlers_as_it_found_them(
    tmp_path, monkeypatch, tiny_model_dir, default_ctrl_c, presses
):
    """Lightning's teardown, after the callbacks' on_exception, reinstalled the handlers it found when training began,
    the preemption callback's among them (and after a second Ctrl-C left it ignored): a later run in the same process
    (a notebook, an in-process sweep) then sent its Ctrl-C to a finished run's callback and trained to its end."""
    import twosome.rl.ppo as ppo

    real, ctrl_c = ppo.policy_loss, ctrl_c_after(ppo.policy_loss)
    calls = iter([ctrl_c] * presses)  # in the first update: one asks for a stop after it, a second stops at once
    monkeypatch.setattr(ppo, "policy_loss", lambda *args, **kwargs: next(calls, real)(*args, **kwargs))
    handlers = handlers_now()
    cfg = toy_config(tmp_path, f"model.path={tiny_model_dir}", "model.build=null", "eval.every_updates=0")
    with pytest.raises(BaseException) as stopped:
        train(cfg, run_dir=tmp_path / "run", enable_progress_bar=False)
    assert type(stopped.value).__name__ == "Interrupted", repr(stopped.value)
    assert ("SIGINT at update 1" if presses == 1 else "stopped at once") in str(stopped.value), stopped.value
    assert handlers_now() == handlers


@pytest.mark.parametrize("override", ["rollout.num_envs=four", "ppo.target_kl=high", "ppo.anneal_lr=maybe"])
def test_wrongly_typed_settings_fail_when_the_config_is_composed(override):
    """Hydra checks types against the schema (twosome.config) before any run code, naming the override."""
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException, match=f"Error merging override {override}"):
        compose_cfg(override)


@pytest.mark.parametrize(
    "override,message",
    [
        ("ppo.policy_lr=-1", "ppo.policy_lr=-1.0 is not valid; valid: > 0"),
        ("trainer.strategy=horovod", "trainer.strategy='horovod' is not valid; valid: \\['auto', 'fsdp'\\]"),
        ("trainer.devices=2", "trainer.strategy='auto' is not valid; valid: fsdp when devices x num_nodes > 1"),
    ],
)
def test_invalid_settings_fail_before_anything_is_written(tmp_path, override, message):
    cfg = compose_cfg(override)
    with pytest.raises(ConfigError, match=message):
        validate(cfg)
    with pytest.raises(ConfigError, match=message):
        train(cfg, run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_failing_sweep_member_loses_none_of_the_others(tmp_path, tiny_model_dir):
    sweep = tmp_path / "sweep"
    proc = run_cli(
        "-m",
        *small_run(tiny_model_dir, None, "rollout.total_env_steps=64", "ppo.policy_lr=1e-3,-1"),
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    assert proc.returncode != 0  # the sweep reports its failure
    table = pd.read_csv(sweep / "sweep_summary.csv")
    assert table["job"].tolist() == [0, 1]
    ok, bad = table.iloc[0], table.iloc[1]
    assert ok["status"] == "finished" and ok["env_steps"] == 64
    assert (Path(ok["run_dir"]) / "summary.json").exists() and (Path(ok["run_dir"]) / "adapter").exists()
    assert bad["status"] == "failed" and "ppo.policy_lr=-1" in bad["overrides"]
    assert "ppo.policy_lr=-1.0 is not valid" in bad["error"]
    assert f"Sweep summary (2 jobs so far, 1 not finished): {sweep / 'sweep_summary.csv'}" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr  # a refused job: its line, not a traceback around it


def test_a_run_that_died_before_its_first_checkpoint_starts_afresh(tmp_path):
    from omegaconf import OmegaConf

    from twosome.config import run_settings
    from twosome.training.lifecycle import prepare_run_dir

    cfg = compose_cfg()
    run = tmp_path / "run"
    (run / "tensorboard").mkdir(parents=True)
    (run / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    (run / "metrics.csv").write_text("update,global_step\n1,32\n")  # logged, then killed before last.ckpt
    assert prepare_run_dir(run_settings(cfg), run) == (None, None)
    assert not (run / "metrics.csv").exists() and not (run / "tensorboard").exists()  # no stale rows to append to


class _FakeTrainer:
    is_global_zero = True
    received_sigterm = False

    def __init__(self):
        self.saved = []

    def save_checkpoint(self, path, weights_only=None):
        self.saved.append(path)


class _FakeModule:
    updates_done = 5


def test_requeue_signal_calls_submitits_handler_after_saving(tmp_path):
    """Under hydra/launcher=slurm, submitit's SIGUSR2 handler (installed first) requeues the job: ours saves at the
    update boundary, then hands the signal to it."""
    from twosome.training.stopping import Preempted, PreemptionCheckpoint

    handed = []
    previous = signal.signal(signal.SIGUSR2, lambda signum, frame: handed.append(signum))
    try:
        callback, trainer = PreemptionCheckpoint(tmp_path / "last.ckpt", ("SIGUSR2",)), _FakeTrainer()
        callback.on_fit_start(trainer, _FakeModule())
        os.kill(os.getpid(), signal.SIGUSR2)
        assert handed == [] and trainer.saved == []  # mid-update: nothing happens yet
        with pytest.raises(Preempted, match="SIGUSR2 at update 5"):
            callback.on_train_batch_end(trainer, _FakeModule(), None, None, 0)
        assert trainer.saved == [tmp_path / "last.ckpt"] and handed == [signal.SIGUSR2]
    finally:
        signal.signal(signal.SIGUSR2, previous)


def test_submitits_requeue_exit_becomes_requeued(tmp_path):
    from twosome.training.stopping import PreemptionCheckpoint, Requeued

    def submitit_requeues(signum, frame):
        sys.exit(-1)  # what submitit's checkpoint_and_try_requeue does after `scontrol requeue`

    previous = signal.signal(signal.SIGUSR2, submitit_requeues)
    try:
        callback, trainer = PreemptionCheckpoint(tmp_path / "last.ckpt", ("SIGUSR2",)), _FakeTrainer()
        callback.on_fit_start(trainer, _FakeModule())
        os.kill(os.getpid(), signal.SIGUSR2)
        with pytest.raises(Requeued, match="SIGUSR2 at update 5: .*requeued by submitit"):
            callback.on_train_batch_end(trainer, _FakeModule(), None, None, 0)
        assert trainer.saved == [tmp_path / "last.ckpt"]
    finally:
        signal.signal(signal.SIGUSR2, previous)


def test_requeue_signal_inside_a_slurm_job_runs_scontrol_requeue(tmp_path, monkeypatch):
    from twosome.training.stopping import PreemptionCheckpoint, Requeued

    scontrol_args = stand_in_scontrol(tmp_path, monkeypatch)
    before = signal.signal(signal.SIGUSR1, signal.SIG_DFL)  # no handler of an earlier test (or library) to hand to
    callback, trainer = PreemptionCheckpoint(tmp_path / "last.ckpt", ("SIGUSR1",)), _FakeTrainer()
    callback.on_fit_start(trainer, _FakeModule())
    try:
        os.kill(os.getpid(), signal.SIGUSR1)
        with pytest.raises(Requeued, match="SLURM job 4242 was requeued"):
            callback.on_train_batch_end(trainer, _FakeModule(), None, None, 0)
    finally:
        callback.on_fit_end(trainer, _FakeModule())
        signal.signal(signal.SIGUSR1, before)
    assert trainer.saved and scontrol_args.read_text().split() == ["requeue", "4242"]


@pytest.mark.parametrize("restarts", [1, 0])
def test_sigterm_inside_a_slurm_job_saves_and_ends_as_slurm_decided(tmp_path, monkeypatch, restarts):
    """SLURM sends SIGTERM on scontrol requeue and on preemption (PreemptMode=REQUEUE), having already requeued the
    job (its restart count went up; seen on Slurm 22.05): the job saves and ends as requeued. On scancel (count
    unchanged) it saves and stops as preempted, not requeued: cancelling means stop."""
    from twosome.training.stopping import Preempted, PreemptionCheckpoint, Requeued

    scontrol_args = stand_in_scontrol(tmp_path, monkeypatch, restarts)
    callback, trainer = PreemptionCheckpoint(tmp_path / "last.ckpt", ()), _FakeTrainer()
    trainer.received_sigterm = True  # what Lightning's SIGTERM handler sets
    expected = (Requeued, "SLURM requeued job 4242") if restarts else (Preempted, "job 4242 was not requeued")
    with pytest.raises(expected[0], match=f"SIGTERM at update 5: .*{expected[1]}"):
        callback.on_train_batch_end(trainer, _FakeModule(), None, None, 0)
    assert trainer.saved and not scontrol_args.exists()  # no requeue asked for
