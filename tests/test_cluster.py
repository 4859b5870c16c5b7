"""Cluster launching (docs/CLUSTER.md): the SLURM launcher config composes with the main config and becomes the
sbatch script we mean (submitted to a stand-in ``sbatch``, never to a cluster), and a real multirun goes through
submitit's local executor, the same code path as SLURM without a cluster."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import NO_SAMPLED_EPISODES, run_cli
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "conf"
SLURM_LAUNCHER = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
LOCAL_LAUNCHER = "hydra_plugins.twosome_local_launcher.LocalLauncher"  # submitit's, with jobs that end with it

pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="pip install -e '.[cluster]'")


def compose_with_hydra(*overrides):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("train", overrides=list(overrides), return_hydra_config=True)


def launcher(cfg) -> dict:
    """hydra.launcher resolved against the whole config, as the launcher receives it."""
    return OmegaConf.to_container(cfg.hydra.launcher, resolve=True)


def test_slurm_launcher_composes_with_the_documented_fields():
    cfg = compose_with_hydra("hydra/launcher=slurm", "hydra.launcher.partition=gpu", "env=overcooked", "trainer=gpu")
    assert cfg.hydra.runtime.choices["hydra/launcher"] == "slurm"
    assert cfg.hydra.runtime.choices.hydra == "default"  # conf/hydra/default.yaml (run/sweep dirs) still applies
    assert OmegaConf.to_container(cfg.hydra.sweep)["subdir"] == "${hydra.job.num}_${run_name}"
    slurm = launcher(cfg)
    assert slurm["_target_"] == SLURM_LAUNCHER
    assert slurm["partition"] == "gpu"
    documented = {"timeout_min", "gpus_per_node", "nodes", "tasks_per_node", "cpus_per_task", "mem_gb"}
    documented |= {"max_num_timeout", "additional_parameters", "account", "qos", "constraint", "setup"}
    assert documented <= set(slurm)
    # one task per GPU, as Lightning requires under SLURM; one node unless the trainer says otherwise
    assert slurm["tasks_per_node"] == slurm["gpus_per_node"] == cfg.trainer.devices == 1
    assert slurm["nodes"] == 1
    assert slurm["max_num_timeout"] == 3 and slurm["additional_parameters"] == {}
    assert slurm["submitit_folder"].endswith("/.submitit/%j")


def test_slurm_launcher_values_follow_the_trainer_and_overrides():
    cfg = compose_with_hydra(
        "hydra/launcher=slurm",
        "trainer=gpu_cluster",
        "trainer.devices=4",
        "trainer.num_nodes=2",
        "hydra.launcher.timeout_min=30",
        "hydra.launcher.max_num_timeout=3",
        "hydra.launcher.mem_gb=200",
        "+hydra.launcher.additional_parameters.mail-type=END",
    )
    slurm = launcher(cfg)
    assert (slurm["nodes"], slurm["tasks_per_node"], slurm["gpus_per_node"]) == (2, 4, 4)
    assert (slurm["timeout_min"], slurm["max_num_timeout"], slurm["mem_gb"]) == (30, 3, 200)
    assert slurm["additional_parameters"] == {"mail-type": "END"}
    assert (cfg.trainer.accelerator, cfg.trainer.strategy, cfg.trainer.num_nodes) == ("gpu", "fsdp", 2)
    from pytorch_lightning.strategies import ModelParallelStrategy

    from twosome.config.schema import trainer_settings
    from twosome.training.build import build_strategy

    # FSDP over all 8 GPUs: one data-parallel group, no tensor parallelism
    strategy = build_strategy(trainer_settings(cfg))
    assert isinstance(strategy, ModelParallelStrategy)
    assert (strategy._data_parallel_size, strategy._tensor_parallel_size) == (8, 1)


@pytest.mark.parametrize("trainer,gpus", [("cpu", None), ("fsdp_cpu", None), ("gpu", 1), ("gpu_cluster", 1)])
def test_slurm_gpus_follow_the_accelerator(tmp_path, trainer, gpus):
    """trainer=cpu once asked for trainer.devices (1) GPUs, which a CPU partition refuses; now no GPU line."""
    from submitit.slurm.slurm import _make_sbatch_string

    slurm = launcher(compose_with_hydra("hydra/launcher=slurm", f"trainer={trainer}"))
    assert slurm["gpus_per_node"] == gpus
    script = _make_sbatch_string(command="python -c 1", folder=tmp_path, gpus_per_node=slurm["gpus_per_node"])
    assert ("#SBATCH --gpus-per-node=1" in script.splitlines()) == (gpus == 1)
    assert ("gpus-per-node" in script) == (gpus is not None)


def test_local_launcher_composes():
    local = launcher(compose_with_hydra("hydra/launcher=local"))
    assert local["_target_"] == LOCAL_LAUNCHER
    assert local["gpus_per_node"] == 0 and local["tasks_per_node"] == 1


def test_documented_slurm_sweep_becomes_the_expected_sbatch_script(tmp_path):
    """The README/CLUSTER.md sweep through the real CLI; a stand-in sbatch keeps the script and refuses the job."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = tmp_path / "submitted.sh"
    fake_sbatch = bin_dir / "sbatch"
    fake_sbatch.write_text(f'#!/bin/sh\nfor a; do last="$a"; done\ncp "$last" "{script}"\necho refused >&2\nexit 1\n')
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 1\n")  # submitit only checks that srun exists
    for tool in bin_dir.iterdir():
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    proc = run_cli(
        "-m",
        "hydra/launcher=slurm",
        "hydra.launcher.partition=gpu",
        "env=overcooked",
        "norm=word,token",
        "seed=0,1,2",
        "trainer=gpu",
        f"paths.root_dir={tmp_path}",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        cwd=tmp_path,
        extra_env={"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert proc.returncode != 0 and "refused" in proc.stderr, proc.stderr[-3000:]
    lines = script.read_text().splitlines()
    for flag in (
        "--array=0-5%6",  # 2 norms x 3 seeds, all at once
        "--partition=gpu",
        "--gpus-per-node=1",
        "--ntasks-per-node=1",
        "--nodes=1",
        "--cpus-per-task=8",
        "--mem=64GB",
        "--time=240",
        "--job-name=run",
    ):
        assert f"#SBATCH {flag}" in lines, (flag, lines)
    assert any(line.startswith("srun ") and "submitit.core._submit" in line for line in lines)
    assert not list((tmp_path / "sweep").glob("*/summary.json"))  # nothing ran


def test_real_two_job_multirun_through_submitit_local(tmp_path):
    """Two evaluation-only jobs (uniform random agent, 2 VirtualHome episodes), each a submitit process."""
    sweep = tmp_path / "sweep"
    proc = run_cli(
        "-m",
        "hydra/launcher=local",
        "agent=random",
        "env=virtualhome",
        "eval.episodes=2",
        "seed=0,1",
        f"paths.root_dir={tmp_path}",
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summaries = [json.loads(p.read_text()) for p in sorted(sweep.glob("*/summary.json"))]
    assert sorted(s["seed"] for s in summaries) == [0, 1]
    assert {(s["agent"], s["env_id"], s["eval/episodes"]) for s in summaries} == {
        ("random", "twosome/VirtualHome-FoodPreparation-v0", 2.0)
    }
    # each job ran in its own submitit process, which left its pickled result and logs
    assert len(list((sweep / ".submitit").glob("*/*_result.pkl"))) == 2


def _requeued():
    from twosome.training.stopping import Requeued

    raise Requeued("SIGUSR2 at update 5: checkpoint x; SLURM job 1 was requeued and resumes from it")


def _preempted():
    from twosome.training.stopping import Preempted

    raise Preempted("SIGTERM at update 5: checkpoint x; SLURM job 1 was not requeued: resubmit it to resume")


def test_a_requeued_job_leaves_submitit_no_result_and_a_stopped_one_an_error(tmp_path):
    """submitit's submitter reads a job's result pickle when the job's state is final; a requeued job
    must write none (as submitit's own requeue, sys.exit(-1), does) or the submitter reports a failure while SLURM
    reruns the job. A job that SLURM did not requeue (scancel) does report its error."""
    import cloudpickle
    import submitit

    executor = submitit.AutoExecutor(folder=tmp_path, cluster="local")
    executor.update_parameters(timeout_min=5)
    this_module = sys.modules[__name__]  # the job process cannot import tests/: pickle these functions by value
    cloudpickle.register_pickle_by_value(this_module)
    try:
        requeued, preempted = executor.submit(_requeued), executor.submit(_preempted)
    finally:
        cloudpickle.unregister_pickle_by_value(this_module)
    for job in (requeued, preempted):
        job.wait()
    assert not requeued.paths.result_pickle.exists()
    assert "requeued and resumes from it" in requeued.stderr()
    assert preempted.paths.result_pickle.exists()
    with pytest.raises(submitit.core.utils.FailedJobError, match="was not requeued"):
        preempted.result()


# submitit's local jobs once outlived a launcher stopped by kill or killed outright (its controllers are meant
# to outlive the submitting process, and its jobs ignore SIGTERM). One evaluation-only job that runs for minutes.
LONG_SWEEP = ("-m", "hydra/launcher=local", "agent=random", "env=virtualhome", "eval.episodes=5000", "seed=0")


def start_sweep(tmp_path: Path, name: str) -> tuple[subprocess.Popen, Path]:
    env = {k: v for k, v in os.environ.items() if k != "TWOSOME_ROOT"}
    env.update(PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1")
    sweep = tmp_path / "sweep"
    cmd = [sys.executable, str(ROOT / "src" / "run.py"), *LONG_SWEEP, NO_SAMPLED_EPISODES, f"paths.root_dir={tmp_path}"]
    with open(tmp_path / f"{name}.log", "w") as log:  # a file: a job left running would hold a pipe open
        proc = subprocess.Popen(
            [*cmd, f"hydra.sweep.dir={sweep}"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    return proc, sweep / "0_random-food_preparation-s0"


def job_pid(run_dir: Path, launcher: subprocess.Popen) -> int:
    """The PID of the job that holds the run directory (twosome.training.lifecycle.run_dir_lock)."""
    deadline = time.time() + 240
    while time.time() < deadline and launcher.poll() is None:
        text = (run_dir / ".lock").read_text().strip() if (run_dir / ".lock").exists() else ""
        if text:
            return int(text)
        time.sleep(0.2)
    raise AssertionError(f"no job took {run_dir}")


def ends_within(pid: int, seconds: float) -> bool:
    from twosome.processes import process_identity

    deadline = time.time() + seconds
    while process_identity(pid) is not None and time.time() < deadline:
        time.sleep(0.2)
    return process_identity(pid) is None


@contextlib.contextmanager
def job_of(run_dir: Path, launcher: subprocess.Popen):
    """The PID of the job running in ``run_dir``; job and launcher are killed at the end if the test left them
    running."""
    job = job_pid(run_dir, launcher)
    try:
        yield job
    finally:
        if launcher.poll() is None:
            launcher.kill()
        if ends_within(job, 0) is False:
            os.kill(job, signal.SIGKILL)


def test_a_local_sweep_stopped_by_sigterm_stops_its_jobs_and_says_how_to_finish(tmp_path):
    launcher_proc, run_dir = start_sweep(tmp_path, "launcher")
    with job_of(run_dir, launcher_proc) as job:
        launcher_proc.send_signal(signal.SIGTERM)
        # generous: after its job ends the launcher unpickles the job's result, which imports torch and Lightning
        # (15-20 s measured beside two training jobs on 2 cores)
        assert launcher_proc.wait(timeout=240) == 1
        assert ends_within(job, 5), f"job {job} outlived its launcher"
        out = (tmp_path / "launcher.log").read_text()
        assert "SIGTERM: stopping the jobs of this sweep, each at the end of its update" in out, out[-3000:]
        assert f"PID {job} ({run_dir})" in out and "job 0 interrupted" in out, out[-3000:]
        assert f"To finish it, rerun the same command with hydra.sweep.dir={run_dir.parent}" in out, out[-3000:]
        assert json.loads((run_dir / "status.json").read_text())["status"] == "interrupted"


def test_a_rerun_while_a_job_runs_names_it_and_leaves_it_alone(tmp_path):
    first, run_dir = start_sweep(tmp_path, "first")
    with job_of(run_dir, first) as job:
        second, _ = start_sweep(tmp_path, "second")  # the same sweep again, while the first one runs
        assert second.wait(timeout=240) != 0
        out = (tmp_path / "second.log").read_text()
        assert "job 0 in use: " in out and f"{run_dir} is in use by process {job}" in out, out[-3000:]
        summary = (run_dir.parent / "sweep_summary.csv").read_text()
        assert ",in use,agent=random" in summary and f"in use by process {job}" in summary, summary
        assert ends_within(job, 0) is False


def test_the_jobs_of_a_killed_local_launcher_stop_by_themselves(tmp_path):
    launcher_proc, run_dir = start_sweep(tmp_path, "launcher")
    with job_of(run_dir, launcher_proc) as job:
        launcher_proc.send_signal(signal.SIGKILL)
        launcher_proc.wait(timeout=10)
        assert ends_within(job, 15), f"job {job} outlived its launcher, killed"
        assert json.loads((run_dir / "status.json").read_text())["status"] == "interrupted"
        log = next((run_dir.parent / ".submitit").glob("*/*_0_log.err")).read_text()
        assert f"The launcher (PID {launcher_proc.pid}) has ended: stopping this job" in log, log[-2000:]
