"""Cluster launching (docs/CLUSTER.md): the SLURM launcher config composes with the main config and becomes the
sbatch script we mean (submitted to a stand-in ``sbatch``, never to a cluster), and a real multirun goes through
submitit's local executor, the same code path as SLURM without a cluster."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "conf"
SLURM_LAUNCHER = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
LOCAL_LAUNCHER = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher"

pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="pip install -e '.[cluster]'")


def compose_with_hydra(*overrides):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("train", overrides=list(overrides), return_hydra_config=True)


def launcher(cfg) -> dict:
    """hydra.launcher resolved against the whole config, as the launcher receives it."""
    return OmegaConf.to_container(cfg.hydra.launcher, resolve=True)


def run_cli(*args, cwd: Path, extra_env: dict | None = None, timeout: int = 300):
    env = {k: v for k, v in os.environ.items() if k != "TWOSOME_ROOT"}  # src/run.py sets it to its own root
    env.update(PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1", **(extra_env or {}))
    return subprocess.run(
        [sys.executable, str(ROOT / "src" / "run.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


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

    from twosome.training.build import build_strategy

    strategy = build_strategy(cfg)  # FSDP over all 8 GPUs: one data-parallel group, no tensor parallelism
    assert isinstance(strategy, ModelParallelStrategy)
    assert (strategy._data_parallel_size, strategy._tensor_parallel_size) == (8, 1)


@pytest.mark.parametrize("trainer,gpus", [("cpu", None), ("fsdp_cpu", None), ("gpu", 1), ("gpu_cluster", 1)])
def test_slurm_gpus_follow_the_accelerator(tmp_path, trainer, gpus):
    """Issue 15.3: trainer=cpu asked for trainer.devices (1) GPUs, which a CPU partition refuses; now no GPU line."""
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
    from twosome.training.checkpointing import Requeued

    raise Requeued("SIGUSR2 at update 5: checkpoint x; SLURM job 1 was requeued and resumes from it")


def _preempted():
    from twosome.training.checkpointing import Preempted

    raise Preempted("SIGTERM at update 5: checkpoint x; SLURM job 1 was not requeued: resubmit it to resume")


def test_a_requeued_job_leaves_submitit_no_result_and_a_stopped_one_an_error(tmp_path):
    """Issue 15.2: submitit's submitter reads a job's result pickle when the job's state is final; a requeued job
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
