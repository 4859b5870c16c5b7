"""The command line as users type it: a two-job Hydra multirun on Overcooked, and a bad override."""

from __future__ import annotations

import json

import pandas as pd
from helpers import run_cli


def test_two_job_multirun_on_overcooked(tmp_path, tiny_model_dir):
    sweep = tmp_path / "sweep"
    proc = run_cli(
        "-m",
        "env=overcooked",
        "norm=word,token",
        "seed=0",
        f"model.path={tiny_model_dir}",
        "model.build=null",
        "rollout.total_env_steps=64",
        "rollout.num_envs=2",
        "rollout.num_steps=16",
        "ppo.value_minibatch_size=16",
        "ppo.policy_minibatch_size=16",
        "ppo.policy_chunk_size=8",
        "eval.episodes=2",
        "eval.num_envs=2",
        "logger.tensorboard=false",
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,  # any working directory works
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and (p / "summary.json").exists())
    assert len(jobs) == 2
    norms = set()
    for job in jobs:
        summary = json.loads((job / "summary.json").read_text())
        norms.add(summary["norm"])
        assert summary["env_id"] == "twosome/Overcooked-TomatoSalad-v0"
        assert summary["env_steps"] == 64 and summary["eval/episodes"] == 2
        metrics = pd.read_csv(job / "metrics.csv")
        assert metrics["global_step"].tolist() == [32, 64]
        assert (job / "adapter" / "adapter_model.safetensors").exists()
    assert norms == {"word", "token"}
    assert "Summary: twosome on twosome/Overcooked-TomatoSalad-v0" in proc.stdout


def test_bad_override_fails_before_training_with_the_valid_choices(tmp_path):
    proc = run_cli("norm.mode=sum", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path, timeout=120)
    assert proc.returncode != 0
    assert "norm.mode='sum' is not valid; valid: ['none', 'token', 'word', 'trie']" in proc.stderr
    assert not (tmp_path / "run" / "summary.json").exists()


def test_a_misspelt_or_mistyped_setting_fails_at_compose_time_naming_the_key(tmp_path):
    """The typed schema (twosome.config): Hydra rejects the override before the run directory exists."""
    for override, message in (
        ("ppo.polcy_lr=1", "Key 'polcy_lr' not in 'PPOConfig'"),
        ("rollout.num_envs=abc", "Value 'abc' of type 'str' could not be converted to Integer"),
    ):
        proc = run_cli(override, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path, timeout=120)
        assert proc.returncode != 0
        assert message in proc.stderr and f"full_key: {override.split('=')[0]}" in proc.stderr, proc.stderr
        assert not (tmp_path / "run").exists()
