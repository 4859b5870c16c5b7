"""The DVC pipeline (dvc.yaml, params.yaml): it parses into the documented stages and graph, its default (smoke)
comparison plan runs where the pipeline expects it, and (slow) the whole pipeline runs on a fresh clone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(ROOT / "experiments"))
import campaign  # noqa: E402

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


STAGES = {"default_model", "compare", "curves", "generalization"}


def plan_of(profile: str):
    return campaign.load_plan(ROOT / "studies" / "ten_seeds" / "profiles" / f"plan_{profile}.yaml")


def plan_tasks(profile: str) -> set[str]:
    return {sweep.name.split("-")[0] for sweep in plan_of(profile).sweeps}


@needs_dvc
def test_dvc_lists_the_stages_and_their_outputs():
    proc = dvc("stage", "list")
    assert proc.returncode == 0, proc.stderr
    outputs = {line.split()[0]: line.split(maxsplit=2)[2] for line in proc.stdout.splitlines() if line.strip()}
    assert set(outputs) == STAGES
    profile = PARAMS["profile"]
    # the runs, and their archive: outside the study's committed data/
    assert outputs["compare"].split(", ") == [f"multirun/compare-{profile}", f"results/compare-{profile}"]
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
    assert ("compare", "curves") in edges and ("compare", "generalization") in edges
    assert not any("default_model" in edge for edge in edges)  # runs use the shipped model: recipe optional


def test_params_choose_an_existing_plan_that_runs_what_the_later_stages_read():
    assert "food_preparation" in plan_tasks(PARAMS["profile"])  # the generalization stage's input
    assert (ROOT / "src" / "twosome" / "evaluation" / "suites" / f"{PARAMS['generalization']['suite']}.yaml").exists()
    runs = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["generalization"]["cmd"][0].split()
    runs = [r for r in runs if r.startswith("multirun/")]
    sweeps = {s.name for s in plan_of(PARAMS["profile"]).sweeps}
    assert len(runs) == 3
    for pattern in runs:  # the campaign's layout: <root>/<plan>/<sweep>/s<seed>, one job's run
        root, plan, sweep, run = pattern.rstrip("/").split("/")[1:]
        assert (root, plan, run) == ("compare-${profile}", "compare_${profile}", "s*") and sweep in sweeps


def test_smoke_plan_is_small_and_the_pipeline_runs_it_with_the_arguments_after_the_separator(tmp_path, capsys):
    assert PARAMS["profile"] == "smoke"  # the pipeline's default is what CI can run
    plan = plan_of("smoke")
    assert plan.name == "compare_smoke" and plan_tasks("smoke") == {"tomato_salad", "food_preparation"}
    assert len(plan.sweeps) == 8 and {s.runs for s in plan.sweeps} == {1}  # 4 agents x 2 tasks, one run each
    for sweep in plan.sweeps:
        steps = [int(o.split("=")[1]) for o in sweep.overrides if o.startswith("rollout.total_env_steps=")]
        assert all(1000 <= n <= 2048 for n in steps)
    cmd = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["compare"]["cmd"][-1].split()
    assert cmd[1:3] == ["experiments/campaign.py", "local"] and cmd[-2:] == ["--", "${run_overrides}"]
    args = [a.replace("${profile}", "smoke") for a in cmd[2:-2]]
    assert args[args.index("--data") + 1] == "results/compare-smoke"  # never the study's committed data/
    args[args.index("--data") + 1] = str(tmp_path)  # the stage makes its folder first
    campaign.main([*args, "--dry-run", "--", "trainer.num_threads=1"])
    out = capsys.readouterr().out
    assert out.count("hydra.run.dir=multirun/compare-smoke/compare_smoke/") == 8 and "trainer.num_threads=1" in out


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
    for task in plan_tasks(profile):  # each agent's run, and its archive outside the study's committed data/
        runs = repo / "multirun" / f"compare-{profile}" / f"compare_{profile}"
        assert len(list(runs.glob(f"{task}-*/s0/summary.json"))) == 4
        assert (
            len(list((repo / "results" / f"compare-{profile}" / f"compare_{profile}" / task).glob("*/summary.json")))
            == 4
        )
    assert not (repo / "studies" / "ten_seeds" / "data" / f"compare_{profile}").exists()
    for figure in (f"compare-{profile}/learning_curves", f"generalization-{profile}/table"):
        for suffix in (".png", ".pdf", ".csv"):
            assert (repo / "figures" / f"{figure}{suffix}").stat().st_size > 0
    assert (repo / "results" / f"generalization-{profile}" / "generalization.csv").exists()
    assert (repo / "artifacts" / "pipeline" / "models" / "tiny-household" / "model.safetensors").exists()
    assert (repo / "dvc.lock").exists()
    status = dvc("status", cwd=repo, env=env)
    assert status.returncode == 0 and "up to date" in status.stdout, status.stdout  # nothing left to rerun
