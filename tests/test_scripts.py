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
SHELL_SCRIPTS = sorted((ROOT / "experiments").glob("*.sh")) + sorted((ROOT / "analysis").glob("*.sh"))


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


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shell_script_parses(script):
    proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def run_shell_script(script: Path, arg: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, Path, Path]:
    """``bash script arg`` with every way to start Python (PY, PYTHON, python/python3 on PATH) a stand-in that only
    records its call: (the result, the record, OUT)."""
    record, out, bin_dir = tmp_path / "python_called", tmp_path / "out", tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python"
    fake.write_text(f'#!/bin/sh\necho "$@" >> "{record}"\n')
    fake.chmod(0o755)
    (bin_dir / "python3").symlink_to(fake)
    env = {**os.environ, "PY": str(fake), "PYTHON": str(fake), "OUT": str(out), "HOME": str(tmp_path)}
    env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    proc = subprocess.run(["bash", str(script), arg], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    return proc, record, out


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shell_script_answers_help_without_starting_anything(script, tmp_path):
    """``bash experiments/prior_knowledge.sh --help`` once ignored --help and started hours of runs."""
    proc, record, out = run_shell_script(script, "--help", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout and script.name in proc.stdout, proc.stdout
    assert not record.exists(), f"--help started: {record.read_text()}"
    assert not out.exists()


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shell_script_refuses_an_unknown_option_without_starting_anything(script, tmp_path):
    proc, record, out = run_shell_script(script, "--no-such-option", tmp_path)
    assert proc.returncode == 2 and "usage:" in proc.stderr, (proc.returncode, proc.stderr)
    assert not record.exists(), f"an unknown option started: {record.read_text()}"
    assert not out.exists()


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


GLAM_SCRIPT = ROOT / "experiments" / "glam_babyai.sh"


@pytest.fixture(scope="module")
def glam_script_env(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("glam")
    return {**os.environ, "PYTHON": sys.executable, "STEPS": "128", "LORA_LAYERS": "1", "OUT": str(out)}


@pytest.fixture(scope="module")
def glam_run(glam_script_env) -> Path:
    """A GLAM run of experiments/glam_babyai.sh on GoTo with the tiny model (one update)."""
    proc = subprocess.run(
        ["bash", str(GLAM_SCRIPT), "tiny", "0", "1"], cwd=ROOT, env=glam_script_env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Path(glam_script_env["OUT"]) / "tiny_s0"


def test_glam_babyai_script_trains_a_causal_glam_on_goto_and_refuses_bad_usage(glam_run, glam_script_env):
    summary = json.loads((glam_run / "summary.json").read_text())
    assert summary["env_steps"] == 128 and summary["agent"] == "glam"
    assert summary["env_id"] == "twosome/BabyAI-GoTo-v0"
    proc = subprocess.run(
        ["bash", str(GLAM_SCRIPT), "tiny"], cwd=ROOT, env=glam_script_env, capture_output=True, text=True
    )
    assert proc.returncode == 2 and "usage:" in proc.stderr


def test_glam_babyai_script_normalizes_on_request_into_its_own_run_directory(glam_script_env):
    env = glam_script_env | {"NORM": "token"}
    proc = subprocess.run(
        ["bash", str(GLAM_SCRIPT), "tiny", "0", "1"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((Path(env["OUT"]) / "tiny_token_s0" / "summary.json").read_text())
    assert summary["norm"] == "token" and summary["agent"] == "glam"


def test_check_glam_policy_agrees_with_plain_transformers_on_a_trained_glam_run(glam_run, tmp_path):
    out = tmp_path / "check.json"
    proc = run_script(ROOT / "analysis" / "check_glam_policy.py", str(glam_run), "--states", "3", "--json", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(out.read_text())["max_abs_probability_difference"] < 1e-5
