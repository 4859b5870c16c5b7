"""The paper's comparison as plans of its study, run by campaign.py: studies/ten_seeds/plan.yaml (10 seeds: its jobs
are composed with every study's plan by tests/test_campaign.py) and the profiles' plans, studies/ten_seeds/profiles/
(smoke, small, paper: composed here). Each runs every agent on its tasks; names it lacks are refused. And
experiments/prior_study.py, the one study still a script."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import compose_cfg, sweep_members

from twosome.config import validate

ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(ROOT / "experiments"))
import campaign  # noqa: E402

STUDY = ROOT / "studies" / "ten_seeds"
AGENTS = {"twosome", "saycan", "ppo", "zeroshot"}
FOUR_TASKS = {"tomato_salad", "tomato_lettuce_salad", "food_preparation", "entertainment"}
# plan -> (its tasks, its seeds, the archive its runs go to under its data folder, the fewest steps of a trained agent)
PLANS = {
    "plan.yaml": ({"tomato_salad", "food_preparation", "entertainment"}, 10, "ten_seeds", 8192),
    "profiles/plan_smoke.yaml": ({"tomato_salad", "food_preparation"}, 1, "compare_smoke", 1024),
    "profiles/plan_small.yaml": (FOUR_TASKS, 3, "compare_small", 8192),
    "profiles/plan_paper.yaml": (FOUR_TASKS, 3, "compare_paper", 200000),
}
PROFILES = sorted((STUDY / "profiles").glob("plan*.yaml"))


@pytest.mark.parametrize("name", sorted(PLANS))
def test_each_comparison_plan_runs_every_agent_on_each_of_its_tasks(name):
    """A sweep per task, agent and normalization, named ``<task>-<agent>[-<norm>]`` after what it runs (a task's
    sweeps are ``<task>-*``), with the profile's seeds, archived per task."""
    tasks, seeds, archive, fewest_steps = PLANS[name]
    plan = campaign.load_plan(STUDY / name)
    seen: dict[str, set[str]] = {}
    for sweep in plan.sweeps:
        overrides = dict(o.split("=", 1) for o in sweep.overrides)
        task, agent, *norm = sweep.name.split("-")
        assert sweep.archive == f"{archive}/{task}" and len(sweep.seeds) == seeds
        assert overrides.get("env.task", overrides.get("experiment", "").removeprefix("twosome_paper_")) == task
        assert overrides["agent"] == agent and overrides["norm"] == (norm or ["word"])[0]  # PPO reads no text
        if agent != "zeroshot":  # the untrained agent only evaluates
            assert int(overrides["rollout.total_env_steps"]) >= fewest_steps
        seen.setdefault(task, set()).add(agent)
    assert seen == {task: AGENTS for task in tasks}


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_every_job_of_a_profile_composes_and_validates(path):
    """The profiles' plans are not among the study's (``studies/*/plan*.yaml``), which test_campaign.py composes."""
    plan = campaign.load_plan(path)
    for sweep in plan.sweeps:
        for job in sweep_members(campaign.command(plan, sweep, Path("/tmp/root"), [])):
            validate(compose_cfg(*job))


def test_the_comparison_refuses_a_plan_task_or_agent_it_lacks_naming_what_is_valid(capsys):
    with pytest.raises(SystemExit, match=r"no plan at .*plan_huge.yaml; plans: .*studies/ten_seeds/plan.yaml"):
        campaign.main(["status", str(STUDY / "profiles" / "plan_huge.yaml")])
    for sweep in ("entertainment-twosome-word", "tomato_salad-dqn"):  # smoke runs two tasks; dqn is no agent
        with pytest.raises(SystemExit, match=f"--sweeps {sweep}: not in .*; valid: tomato_salad-twosome-word, "):
            campaign.main(["local", "--dry-run", str(STUDY / "profiles" / "plan_smoke.yaml"), "--sweeps", sweep])
    assert capsys.readouterr().out == ""  # refused before any job is composed or listed


import prior_study  # noqa: E402


def test_every_prior_study_job_composes_validates_and_has_its_own_run_name():
    """experiments/prior_study.py (the one study whose second part depends on its first's results): each job is a
    valid run that ends with 100 sampled episodes, and no two jobs archive under the same run name."""
    picked = {"tiny-household": "1e-3", "tiny-household-random": "1e-2"}
    names = set()
    for cmd, archive in prior_study.prior_pick([]) + prior_study.prior_final(picked, []):
        for job in sweep_members(cmd):
            cfg = compose_cfg(*job)
            validate(cfg)
            assert cfg.eval.final_sampled_episodes == 100
            key = (archive, cfg.run_name)
            assert key not in names, key
            names.add(key)


def test_a_study_try_out_is_never_archived_over_the_committed_data(capsys, monkeypatch):
    """Arguments after -- that change what the study runs make it a try-out: --dry-run says it will not be archived,
    and running it never calls the archiver; threads and launcher settings keep it archived."""
    prior_study.main(["--dry-run", "--", "trainer.num_threads=1"])
    assert "  archived into studies/prior/data/prior_ten_seeds/pick when its runs finish" in capsys.readouterr().out
    prior_study.main(["--dry-run", "--", "rollout.total_env_steps=512"])
    out = capsys.readouterr().out
    assert "not archived: rollout.total_env_steps=512 change the study" in out and "archived into" not in out
    archiver = []
    monkeypatch.setattr(prior_study, "run_sweep", lambda cmd, name, sweep: 0)
    monkeypatch.setattr(prior_study.subprocess, "run", lambda cmd, **kw: archiver.append(cmd))
    jobs = prior_study.prior_pick(["rollout.total_env_steps=512", "trainer.num_threads=1"])
    prior_study.execute(jobs, False, prior_study.changes_to_the_study(["rollout.total_env_steps=512"]))
    assert archiver == []


def test_the_prior_study_picks_each_models_best_learning_rate(tmp_path):
    import json

    results = {  # (model, lr): sampled success per pick seed
        ("tiny-household", 0.001): [1.0, 1.0, 0.9],
        ("tiny-household", 0.003): [1.0, 0.8, 0.9],
        ("tiny-household", 0.01): [0.2, 0.0, 0.1],
        ("tiny-household-random", 0.0001): [0.0, 0.0, 0.0],
        ("tiny-household-random", 0.0003): [0.0, 0.1, 0.0],
        ("tiny-household-random", 0.001): [0.0, 0.0, 0.0],
        ("tiny-household-random", 0.003): [0.1, 0.0, 0.0],
        ("tiny-household-random", 0.01): [0.5, 0.0, 0.4],
    }
    for i, ((model, lr), rates) in enumerate(results.items()):
        for seed, rate in enumerate(rates):
            run = tmp_path / f"{i}_{seed}"
            run.mkdir()
            (run / "config.yaml").write_text(f"model:\n  name: {model}\nppo:\n  policy_lr: {lr}\n")
            summary = {"sampled/success_rate": rate, "sampled/discounted_return": rate / 2}
            (run / "summary.json").write_text(json.dumps(summary))
    assert prior_study.pick_learning_rates(tmp_path) == {"tiny-household": "0.001", "tiny-household-random": "0.01"}
    import shutil

    shutil.rmtree(next(tmp_path.glob("0_0")))  # a pick seed missing: no pick from partial data
    with pytest.raises(SystemExit, match="missing: .*tiny-household lr 0.001"):
        prior_study.pick_learning_rates(tmp_path)


# A study stopped (kill, Ctrl-C, a closed terminal) or killed outright once took none of its
# running sweep along. The sweep here is a stand-in that records the signals it gets and ends, as a run does, after it
# has "saved".
STAND_IN = """
import os, signal, sys, time
log = sys.argv[1]
def stop(signum, frame):
    with open(log, "a") as f:
        f.write(signal.Signals(signum).name + "\\n")
    time.sleep(0.3)  # saving
    sys.exit(3)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
with open(log + ".pid", "w") as f:
    f.write(str(os.getpid()))
time.sleep(60)
"""
DRIVERS = {  # each script's loop over its sweeps, with the stand-in as the one sweep
    "prior_study.py": "prior_study.execute([([sys.executable, '-c', STAND_IN, LOG, 'hydra.sweep.dir=s'], 'x')], False)",
}


def alive(pid: int) -> bool:
    from twosome.processes import process_identity

    return process_identity(pid) is not None


@pytest.mark.parametrize("script", sorted(DRIVERS))
@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "Ctrl-C", "SIGKILL"])
def test_stopping_a_study_stops_its_running_sweep(tmp_path, script, how):
    import os
    import signal
    import subprocess
    import time

    log = tmp_path / "signals"
    driver = f"import sys\nsys.path.insert(0, {str(ROOT / 'experiments')!r})\nimport prior_study\n"
    driver += f"STAND_IN, LOG = {STAND_IN!r}, {str(log)!r}\n{DRIVERS[script]}\n"
    err = tmp_path / "stderr"
    with open(err, "w") as stderr:  # a file, not a pipe: a sweep left running would hold a pipe open
        proc = subprocess.Popen([sys.executable, "-c", driver], cwd=tmp_path, start_new_session=True, stderr=stderr)
    pid_file = tmp_path / "signals.pid"
    deadline = time.time() + 20
    while not (pid_file.exists() and pid_file.read_text()) and time.time() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    try:
        if how == "Ctrl-C":  # a terminal sends SIGINT to its whole foreground process group
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, getattr(signal, how))
        proc.wait(timeout=20)
        stderr = err.read_text()
        deadline = time.time() + 10
        while alive(child) and time.time() < deadline:
            time.sleep(0.05)
        assert not alive(child), f"the sweep (PID {child}) outlived {script} stopped by {how}"
        expected = {"Ctrl-C": "SIGINT", "SIGKILL": "SIGTERM"}.get(how, "SIGTERM")
        assert log.read_text().split() == [expected]  # once: a second Ctrl-C would mean "stop now"
        if how != "SIGKILL":  # the script waited for its sweep, then said how to go on
            name = "SIGINT" if how == "Ctrl-C" else how
            assert proc.returncode == 1 and f"{script} stopped on {name} during" in stderr, stderr
            assert "rerun the same command to continue" in stderr.lower(), stderr
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
