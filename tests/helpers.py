"""What several test modules share: composing configs, the toy and small runs, the CLI, scorer fixtures' data.
One place, so that no test module imports another (and no module-scoped fixture runs twice)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import pandas as pd
import torch
from hydra import compose, initialize_config_dir
from safetensors.torch import load_file
from toy_env import register

from twosome.scoring import ActionScorer
from twosome.training.run_state import read_run_state

CONF = Path(__file__).resolve().parent.parent / "conf"


# The suite's short runs skip the 100 sampled episodes every run ends with by default (a test that wants them asks);
# the same override in every way a test runs the suite, so that a command's rerun is the same run.
NO_SAMPLED_EPISODES = "eval.final_sampled_episodes=0"


def without_sampled_episodes(args) -> list[str]:
    """A command line with NO_SAMPLED_EPISODES last (after Hydra's flags), unless it sets the key itself."""
    args = list(args)
    return args if any(a.startswith("eval.final_sampled_episodes=") for a in args) else [*args, NO_SAMPLED_EPISODES]


def compose_cfg(*overrides):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("train", overrides=[NO_SAMPLED_EPISODES, *overrides])


def toy_config(tmp_path, *overrides):
    env_id = register()
    with initialize_config_dir(config_dir=os.path.abspath(CONF), version_base="1.3"):
        return compose(
            "train",
            overrides=[
                NO_SAMPLED_EPISODES,
                f"env.id={env_id}",
                "~env.kwargs",
                f"paths.root_dir={tmp_path}",
                "model.path=" + str(tmp_path / "lm"),
                *overrides,
            ],
        )


def learning_config(tmp_path, model_dir, *overrides):
    """The toy task with 20 updates at a learning rate the tiny model moves with: learning tests use it."""
    return toy_config(
        tmp_path,
        f"model.path={model_dir}",
        "model.build=null",
        "rollout.total_env_steps=1280",
        "rollout.num_steps=16",
        "ppo.policy_lr=1e-2",
        "eval.every_updates=0",
        "eval.episodes=16",
        *overrides,
    )


ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, cwd=ROOT, timeout=600, extra_env: dict | None = None):
    """``src/run.py`` in a subprocess, offline; it finds its own root (TWOSOME_ROOT is not passed on)."""
    env = {k: v for k, v in os.environ.items() if k != "TWOSOME_ROOT"}
    env.update(PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1", **(extra_env or {}))
    return subprocess.run(
        [sys.executable, str(ROOT / "src" / "run.py"), *without_sampled_episodes(args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


TIMING = {
    "charts/SPS",
    "charts/rollout_seconds",
    "charts/update_seconds",
    "charts/value_seconds",
    "charts/policy_seconds",
    "charts/gpu_peak_memory_gb",
    "epoch",
    "step",
}


def small_run(model_dir: Path, run_dir: Path | None, *extra: str) -> list[str]:
    """A 6-update TWOSOME run on Tomato Salad that checkpoints every 2 updates."""
    return [
        f"model.path={model_dir}",
        "model.build=null",
        "rollout.total_env_steps=192",
        "rollout.num_envs=2",
        "rollout.num_steps=16",
        "ppo.value_minibatch_size=16",
        "ppo.policy_minibatch_size=16",
        "ppo.policy_chunk_size=8",
        "ppo.policy_lr=1e-2",
        "eval.every_updates=3",
        "eval.episodes=2",
        "eval.num_envs=2",
        "logger.tensorboard=false",
        "checkpoint.every_updates=2",
        "trainer.num_threads=1",
        *([f"hydra.run.dir={run_dir}"] if run_dir else []),
        *extra,
    ]


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "src" / "run.py"), *without_sampled_episodes(args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: a kill reaches the ranks Lightning launches too
    )


def wait_for_checkpoint(run_dir: Path, proc: subprocess.Popen, timeout: float = 300) -> int:
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if ckpt.exists():
            return read_run_state(ckpt)["updates_done"]
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before its first checkpoint:\n{proc.stdout.read()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared")


def same_results(a: Path, b: Path) -> None:
    """Metrics (all but timings), adapter, critic head and final evaluation are equal, bit for bit."""
    ma, mb = pd.read_csv(a / "metrics.csv"), pd.read_csv(b / "metrics.csv")
    columns = sorted(set(ma.columns) - TIMING)
    assert sorted(set(mb.columns) - TIMING) == columns
    assert ma["update"].tolist() == list(range(1, 7)) and mb["update"].tolist() == list(range(1, 7))
    pd.testing.assert_frame_equal(ma[columns], mb[columns], check_exact=True)
    adapter_a = load_file(a / "adapter" / "adapter_model.safetensors")
    adapter_b = load_file(b / "adapter" / "adapter_model.safetensors")
    assert adapter_a.keys() == adapter_b.keys()
    for k in adapter_a:
        assert torch.equal(adapter_a[k], adapter_b[k]), k
    head_a, head_b = (torch.load(d / "critic_head.pt", weights_only=True) for d in (a, b))
    assert all(torch.equal(head_a[k], head_b[k]) for k in head_a)
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (a, b))
    assert {k: v for k, v in sa.items() if k.startswith("eval/")} == {
        k: v for k, v in sb.items() if k.startswith("eval/")
    }
    assert sa["weights_digest"] == sb["weights_digest"]


def sweep_members(cmd: list[str]) -> list[list[str]]:
    """The overrides of each job of a multirun command (comma lists expanded), minus hydra.* settings."""
    jobs: list[list[str]] = [[]]
    for arg in cmd[3:]:
        if arg.startswith("hydra.") or "=" not in arg:
            continue
        key, value = arg.split("=", 1)
        values = value.split(",")[:1] if key == "seed" else value.split(",")  # seeds compose alike: one is enough
        jobs = [job + [f"{key}={v}"] for job in jobs for v in values]
    return jobs


PROMPTS = [
    "There is a fixed cutting board in the room. You notice a tomato on the table. Currently you don't have "
    "anything in hand. To serve the dish of a bowl only containing chopped tomato, you should first",
    "You are in the kitchen.",
    "Hi",
]

# "shared" on one process uses the prefix-cache kernel; "one_pass" is the kernel FSDP-sharded models use.
MODES = ["naive", "shared", "one_pass"]


def scorer_for(model, tokenizer, mode: str) -> ActionScorer:
    if mode == "one_pass":
        return ActionScorer.for_model(model, tokenizer, mode="shared", shared_kernel="one_pass")
    return ActionScorer.for_model(model, tokenizer, mode=mode, shared_kernel="prefix_cache")


CANDIDATES = [
    ["pick up the tomato", "take the bowl", "walk to the cutting board", "serve nothing", "chop nothing"],
    ["open the microwave", "walk to the living room"],
    ["x"],
]


TEXTWORLD_GAMES = 2  # a TextWorld id draws from this many games in tests: each is compiled once (~4 s), then cached


def make_env(env_id: str, **kwargs) -> gym.Env:
    """``gym.make`` with test-sized options: a TextWorld id draws its episodes from ``TEXTWORLD_GAMES`` games."""
    if "TextWorld" in env_id:
        kwargs.setdefault("num_games", TEXTWORLD_GAMES)
    return gym.make(env_id, **kwargs)


def ctrl_c_after(function):
    """``function``, then a Ctrl-C (SIGINT to this process) the moment it returns."""

    def then_ctrl_c(*args, **kwargs):
        result = function(*args, **kwargs)
        signal.raise_signal(signal.SIGINT)
        return result

    return then_ctrl_c


def fake_run(tmp_path, monkeypatch, agent: dict, env_id: str, name: str = "run") -> Path:
    """A run directory for the generalization evaluation whose config and agent are stand-ins: its bookkeeping
    without training."""
    import json

    from omegaconf import OmegaConf

    from twosome.evaluation import generalization as gen

    cfg = OmegaConf.create(
        {
            "agent": {"uses_lm": True, "uses_vectors": False, "policy": {"norm": "none"}, **agent},
            "model": {"name": "lm"},
            "env": {"id": env_id},
            "seed": 3,
            "rollout": {"gamma": 0.99},
        }
    )
    run = tmp_path / name
    run.mkdir()
    (run / "config.yaml").touch()
    (run / "summary.json").write_text(json.dumps({"weights_digest": "abc"}))
    monkeypatch.setattr(gen, "load_run_config", lambda path: cfg)
    monkeypatch.setattr(gen, "load_run", lambda run_dir, untrained=False, **_: (cfg, object()))
    return run


def count_evaluations(monkeypatch) -> list:
    """The tasks the generalization evaluation evaluates, recorded instead of run."""
    from twosome.evaluation import generalization as gen

    calls = []

    def evaluate_on(agent, task, episodes, gamma, seed, num_envs, greedy, progress=None, env_kwargs=None, saved=None):
        calls.append(task)
        return dict(success_rate=0.5, success_se=0.1, return_mean=1.0, return_se=0.2, episodes=episodes)

    monkeypatch.setattr(gen, "evaluate_on", evaluate_on)
    return calls


def stand_in_scontrol(tmp_path, monkeypatch, restarts: int = 0) -> Path:
    """A stand-in ``scontrol``: ``show job`` reports the job's restart count (SLURM raises it when it requeues a
    job: ``scontrol requeue``, preemption), ``requeue`` is recorded."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "scontrol").write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = show ]; then echo "JobId=$3 JobState=COMPLETING Restarts={restarts}"; exit 0; fi\n'
        f'echo "$@" > {tmp_path / "scontrol_args"}\n'
    )
    (bin_dir / "scontrol").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("SLURM_RESTART_COUNT", "0")
    return tmp_path / "scontrol_args"


def archived_run_stub(
    directory: Path,
    seed: int,
    success: float,
    digest: str,
    metrics: pd.DataFrame | None = None,
    env_id: str = "twosome/Overcooked-TomatoSalad-v0",
) -> None:
    """An archived run as the doc tables read it: its summary, config and (optionally) metrics."""
    run = directory / f"twosome-word-s{seed}"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text("env:\n  gamma: 0.99\n")
    summary = {"run_name": run.name, "agent": "twosome", "norm": "word", "seed": seed, "env_steps": 16384,
               "env_id": env_id, "eval/discounted_return": 0.0, "weights_digest": digest,
               "sampled/success_rate": success, "sampled/episodes": 100, "sampled/discounted_return": 0.0,
               "wall_seconds": 480.0, "cpu": "AMD EPYC; avx512f=yes avx512_bf16=yes"}  # fmt: skip
    (run / "summary.json").write_text(json.dumps(summary))
    if metrics is not None:
        metrics.to_csv(run / "metrics.csv", index=False)
