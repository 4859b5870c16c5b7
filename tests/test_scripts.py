"""Every documented script starts (analysis/inspect_policy.py once imported a function that no longer
existed, and nothing ran it). Each script in analysis/ and experiments/ answers --help; the ones that read a run
also run on a tiny real one."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, run_cli, small_run

SCRIPTS = sorted((ROOT / "analysis").glob("*.py")) + sorted((ROOT / "experiments").glob("*.py"))


def run_script(script: Path, *args, cwd: Path = ROOT, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_script_answers_help(script):
    proc = run_script(script, "--help")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "usage:" in proc.stdout


# Modules the docs run with `python -m` (the benchmarks, the generalization tests...), and the training entry point.
DOCUMENTED_MODULES = sorted(
    {
        module
        for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
        for module in re.findall(r"python -m (twosome\.[\w.]+)", doc.read_text())
    }
)


@pytest.mark.parametrize("module", DOCUMENTED_MODULES)
def test_every_documented_module_answers_help(module):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "usage:" in proc.stdout


def test_the_training_entry_point_answers_help(tmp_path):
    proc = run_script(ROOT / "src" / "run.py", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "python src/run.py [group=option ...] [key=value ...]" in proc.stdout


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, tiny_model_dir) -> Path:
    root = tmp_path_factory.mktemp("scripts")
    proc = run_cli(*small_run(tiny_model_dir, root / "run", "rollout.total_env_steps=64"), cwd=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root / "run"


def test_inspect_policy_reads_a_run_with_its_own_config(finished_run, tmp_path):
    out = tmp_path / "rows.json"
    proc = run_script(ROOT / "analysis" / "inspect_policy.py", "--run", str(finished_run), "--json", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "mean probability of the optimal action along the plan" in proc.stdout
    assert out.exists()


def test_learning_curves_reads_a_run(finished_run, tmp_path):
    script = ROOT / "analysis" / "learning_curves.py"
    proc = run_script(script, str(finished_run), "--out", str(tmp_path / "curves"))
    assert proc.returncode != 0  # 64 steps: no training episode ended, and the script says what to do
    assert "no training episodes points in these runs (no episode ended?): try --curves eval" in proc.stderr
    proc = run_script(script, str(finished_run), "--out", str(tmp_path / "curves"), "--curves", "eval")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "curves.png").exists() and (tmp_path / "curves_summary.csv").exists()


@pytest.mark.parametrize(
    "script,name", [("generalization_table.py", "generalization.csv"), ("retention_table.py", "retention.json")]
)
def test_table_scripts_explain_a_directory_or_an_empty_input(tmp_path, script, name):
    """Both once crashed with a traceback on a directory or an empty file."""
    script = ROOT / "analysis" / script
    proc = run_script(script, str(tmp_path), "--out", str(tmp_path / "t"))
    assert proc.returncode != 0 and f"{tmp_path} is a directory without {name}" in proc.stderr
    assert "Traceback" not in proc.stderr
    (tmp_path / name).write_text("")
    proc = run_script(script, str(tmp_path), "--out", str(tmp_path / "t"))
    assert proc.returncode != 0 and f"{tmp_path / name} is empty" in proc.stderr, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    if name.endswith(".csv"):
        (tmp_path / name).write_text("run,agent,task,applicable\n")  # a header, no rows
        proc = run_script(script, str(tmp_path / name), "--out", str(tmp_path / "t"))
        assert proc.returncode != 0 and "has no rows" in proc.stderr and "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def glam_run(tmp_path_factory, tiny_model_dir) -> Path:
    """A causal GLAM on GoTo with the tiny model (one update), with the GoTo arms' settings (smollm2_cpu.yaml)."""
    run = tmp_path_factory.mktemp("glam") / "tiny_s0"
    args = small_run(tiny_model_dir, run, "env=babyai_text", "env.task=goto", "agent=glam", "norm=none",
                     "agent.policy.lora_layers=1", "rollout.total_env_steps=128", "rollout.num_envs=4",
                     "rollout.num_steps=32", "eval.every_updates=0", "eval.episodes=2")  # fmt: skip
    proc = run_cli(*args, cwd=run.parent)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["env_steps"] == 128 and summary["agent"] == "glam"
    return run


def test_check_glam_policy_agrees_with_plain_transformers_on_a_trained_glam_run(glam_run, tmp_path):
    out = tmp_path / "check.json"
    proc = run_script(ROOT / "analysis" / "check_glam_policy.py", str(glam_run), "--states", "3", "--json", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(out.read_text())["max_abs_probability_difference"] < 1e-5


@pytest.mark.parametrize("script, args", [("check_glam_policy.py", []), ("inspect_policy.py", ["--run"])])
def test_a_path_that_is_not_a_run_is_refused_before_a_model_loads(tmp_path, script, args):
    proc = run_script(ROOT / "analysis" / script, *args, str(tmp_path / "no-run"))
    assert proc.returncode == 2 and "has no config.yaml: is it a run directory" in proc.stderr, proc.stderr[-2000:]
