"""The DVC pipeline (dvc.yaml, params.yaml): it parses into the documented stages and graph, its default (smoke)
comparison composes, writes where the pipeline expects it, and (slow) the whole pipeline runs on a fresh clone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers import compose_cfg

from twosome.config import validate

ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(ROOT / "experiments"))
import compare  # noqa: E402

DVC = Path(sys.executable).parent / "dvc"
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
needs_dvc = pytest.mark.skipif(not DVC.exists(), reason="dvc is not installed: pip install -e '.[pipeline]'")


def dvc(*args, cwd: Path = ROOT, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != "TWOSOME_ROOT"}  # src/run.py sets it to its own root
    return subprocess.run(
        [str(DVC), *args],
        cwd=cwd,
        env={**base, "DVC_NO_ANALYTICS": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def expected_stages(params: dict) -> set[str]:
    return {"default_model", "curves", "generalization", *(f"compare@{task}" for task in params["tasks"])}


@needs_dvc
def test_dvc_lists_the_stages_and_their_outputs():
    proc = dvc("stage", "list")
    assert proc.returncode == 0, proc.stderr
    outputs = {line.split()[0]: line.split(maxsplit=2)[2] for line in proc.stdout.splitlines() if line.strip()}
    assert set(outputs) == expected_stages(PARAMS)
    profile = PARAMS["profile"]
    for task in PARAMS["tasks"]:
        assert outputs[f"compare@{task}"] == f"multirun/compare-{profile}/{task}"
    assert outputs["default_model"] == "artifacts/pipeline/models/tiny-household"  # never the shipped model
    assert f"figures/compare-{profile}" in outputs["curves"]
    assert f"figures/generalization-{profile}" in outputs["generalization"]


@needs_dvc
def test_dvc_graph_connects_comparisons_to_figures_and_not_to_the_model_recipe():
    proc = dvc("dag", "--dot")
    assert proc.returncode == 0, proc.stderr
    edges = {
        tuple(part.strip().strip('";') for part in line.split("->"))
        for line in proc.stdout.splitlines()
        if "->" in line
    }
    for task in PARAMS["tasks"]:
        assert (f"compare@{task}", "curves") in edges
    assert ("compare@food_preparation", "generalization") in edges
    assert not any("default_model" in edge for edge in edges)  # runs use the shipped model: recipe optional


def test_params_choose_an_existing_profile_and_its_tasks():
    profile = yaml.safe_load((ROOT / "conf" / "compare" / f"{PARAMS['profile']}.yaml").read_text())
    assert set(PARAMS["tasks"]) <= set(profile["tasks"])
    assert "food_preparation" in PARAMS["tasks"]  # the generalization stage's input
    assert (ROOT / "conf" / "generalization" / f"{PARAMS['generalization']['suite']}.yaml").exists()


def test_smoke_profile_is_small_and_its_commands_compose():
    assert PARAMS["profile"] == "smoke"  # the pipeline's default is what CI can run
    spec = yaml.safe_load((ROOT / "conf" / "compare" / "smoke.yaml").read_text())
    assert spec["seeds"] == [0] and set(spec["tasks"]) == {"tomato_salad", "food_preparation"}
    agents = set()
    for task in spec["tasks"]:
        cmds = compare.commands("smoke", task, None, ["hydra/launcher=slurm"])
        assert len(cmds) == len(spec["agents"])
        for cmd in cmds:
            assert cmd[1] == str(ROOT / "src" / "run.py") and cmd[2] == "-m"
            assert f"hydra.sweep.dir=multirun/compare-smoke/{task}" in cmd  # the dvc.yaml output of compare@task
            assert cmd[-1] == "hydra/launcher=slurm"  # what follows -- reaches every run
            overrides = [a for a in cmd[3:] if not a.startswith("hydra")]
            assert not any("," in a for a in overrides)  # one job per agent: one seed, one normalization
            cfg = compose_cfg(*overrides)
            validate(cfg)
            agents.add(cfg.agent.name)
            if cfg.agent.train:
                assert 1000 <= cfg.rollout.total_env_steps <= 2048
            else:
                assert cfg.eval.episodes == 2
    assert agents == {"twosome", "saycan", "ppo", "zeroshot"}


def fresh_clone(dst: Path) -> Path:
    """``git clone`` of the repository, plus the working tree's uncommitted changes to tracked and untracked,
    not ignored, files (the state a commit would record): no runs, caches, models built or .venv come along."""
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(dst)], check=True)

    def git_files(*args):
        out = subprocess.run(["git", "ls-files", "-z", *args], cwd=ROOT, capture_output=True, text=True, check=True)
        return [p for p in out.stdout.split("\0") if p]

    deleted = set(git_files("--deleted"))
    for rel in deleted:
        (dst / rel).unlink(missing_ok=True)
    for rel in git_files("--modified", "--others", "--exclude-standard"):
        if rel not in deleted:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dst / rel)
    return dst


@pytest.mark.slow
@pytest.mark.timeout(3600)
@needs_dvc
def test_smoke_pipeline_reproduces_on_a_fresh_clone(tmp_path):
    repo = fresh_clone(tmp_path / "repo")
    assert not (repo / "multirun").exists() and not (repo / "figures").exists()
    # params.yaml's interpreter is .venv/bin/python: this environment's, and the clone's own source first
    (repo / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    env = {"PYTHONPATH": str(repo / "src"), "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    start = time.time()
    proc = dvc("repro", cwd=repo, env=env, timeout=3600)
    seconds = time.time() - start
    assert proc.returncode == 0, (proc.stdout[-4000:], proc.stderr[-4000:])
    print(f"dvc repro (smoke) took {seconds:.0f}s")
    profile = PARAMS["profile"]
    for task in PARAMS["tasks"]:
        assert len(list((repo / "multirun" / f"compare-{profile}" / task).glob("*/summary.json"))) == 4
    for figure in (f"compare-{profile}/learning_curves", f"generalization-{profile}/table"):
        for suffix in (".png", ".pdf", ".csv"):
            assert (repo / "figures" / f"{figure}{suffix}").stat().st_size > 0
    assert (repo / "results" / f"generalization-{profile}" / "generalization.csv").exists()
    assert (repo / "artifacts" / "pipeline" / "models" / "tiny-household" / "model.safetensors").exists()
    assert (repo / "dvc.lock").exists()
    status = dvc("status", cwd=repo, env=env)
    assert status.returncode == 0 and "up to date" in status.stdout, status.stdout  # nothing left to rerun
