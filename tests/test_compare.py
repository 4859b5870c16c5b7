"""The comparison presets: every command they generate composes into a valid run config."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import compose_cfg, sweep_members

from twosome.config import validate

ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(ROOT / "experiments"))
import compare  # noqa: E402

PROFILES = sorted(p.stem for p in (ROOT / "conf" / "compare").glob("*.yaml"))


@pytest.mark.parametrize("profile", PROFILES)
def test_every_comparison_job_composes_and_validates(profile):
    from omegaconf import OmegaConf

    tasks = OmegaConf.load(ROOT / "conf" / "compare" / f"{profile}.yaml").tasks
    seen_agents = set()
    for task in tasks:
        cmds = compare.commands(profile, task, None, [])
        for cmd in cmds:
            for job in sweep_members(cmd):
                cfg = compose_cfg(*job)
                validate(cfg)
                seen_agents.add(cfg.agent.name)
                if cfg.agent.train:
                    assert cfg.rollout.total_env_steps >= 1000
    assert seen_agents == {"twosome", "ppo", "saycan", "zeroshot"}


def test_comparison_rejects_unknown_names():
    with pytest.raises(SystemExit, match="valid: "):
        compare.commands("small", "tomato_soup", None, [])
    with pytest.raises(SystemExit, match="valid: "):
        compare.commands("huge", "tomato_salad", None, [])
    with pytest.raises(SystemExit, match="unknown agents"):
        compare.commands("small", "tomato_salad", ["dqn"], [])


import studies  # noqa: E402


def study_jobs() -> dict[str, list]:
    picked = {"tiny-household": "1e-3", "tiny-household-random": "1e-2"}
    return {
        "poad": studies.poad([]),
        "tls_long": studies.tls_long([]),
        "lora_check": studies.lora_check([]),
        "word_token": studies.word_token([]),
        "misalignment": studies.misalignment([]),
        "wording": studies.wording([]),
        "generate_rl": studies.generate_rl([]),
        "gigpo": studies.gigpo([]),
        "prior": studies.prior_pick([]) + studies.prior_final(picked, []),
    }


@pytest.mark.parametrize("study", list(study_jobs()))
def test_every_study_job_composes_validates_and_has_its_own_run_name(study):
    """experiments/studies.py (the 10-seed studies): each job is a valid run that ends with 100 sampled episodes, and
    no two jobs of a study archive under the same run name (the directory docs/data/<study>/<run_name>)."""
    names = set()
    for cmd, archive in study_jobs()[study]:
        for job in sweep_members(cmd):
            cfg = compose_cfg(*job)
            validate(cfg)
            # success claims rest on 100 sampled episodes; an evaluation-only greedy generator on 100 greedy ones
            assert cfg.eval.final_sampled_episodes == 100 or (cfg.agent.name == "generate" and cfg.eval.episodes == 100)
            key = (archive, cfg.run_name)
            assert key not in names, key
            names.add(key)


def test_a_task_given_to_a_study_without_tasks_is_refused(capsys):
    with pytest.raises(SystemExit):
        studies.main(["tls_long", "--task", "tomato_salad", "--dry-run"])
    assert "--task is not valid for tls_long; valid for: poad, gigpo" in capsys.readouterr().err


def test_an_arm_of_another_study_is_refused_with_the_valid_ones(capsys):
    with pytest.raises(SystemExit):
        studies.main(["word_token", "--arm", "top8", "--dry-run"])
    assert "--arm top8 is not valid for word_token; valid: ['word', 'token']" in capsys.readouterr().err
    studies.main(["word_token", "--arm", "token", "--dry-run"])
    printed = [line for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")]
    assert len(printed) == 2 and all("norm=token" in line and "model=smollm2" in line for line in printed)


def test_a_study_try_out_is_never_archived_over_the_committed_data(capsys, monkeypatch):
    """Arguments after -- that change what a study runs make it a try-out: --dry-run says it will not be archived,
    and running it never calls the archiver; threads and launcher settings keep it archived."""
    studies.main(["gigpo", "--task", "tomato_salad", "--dry-run", "--", "trainer.num_threads=1"])
    assert "  archived into docs/data/gigpo_ten_seeds/tomato_salad when its runs finish" in capsys.readouterr().out
    studies.main(["gigpo", "--task", "tomato_salad", "--dry-run", "--", "rollout.total_env_steps=512"])
    out = capsys.readouterr().out
    assert "not archived: rollout.total_env_steps=512 change the study" in out and "archived into" not in out
    archiver = []
    monkeypatch.setattr(studies, "run_sweep", lambda cmd, name, sweep: 0)
    monkeypatch.setattr(studies.subprocess, "run", lambda cmd, **kw: archiver.append(cmd))
    studies.main(["gigpo", "--task", "tomato_salad", "--", "rollout.total_env_steps=512", "trainer.num_threads=1"])
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
    assert studies.pick_learning_rates(tmp_path) == {"tiny-household": "0.001", "tiny-household-random": "0.01"}
    import shutil

    shutil.rmtree(next(tmp_path.glob("0_0")))  # a pick seed missing: no pick from partial data
    with pytest.raises(SystemExit, match="missing: .*tiny-household lr 0.001"):
        studies.pick_learning_rates(tmp_path)


# A comparison or study stopped (kill, Ctrl-C, a closed terminal) or killed outright once took none of its
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
    "compare.py": "compare.commands = lambda *a: [[sys.executable, '-c', STAND_IN, LOG, 'agent=twosome']]\n"
    "compare.main(['--task', 'tomato_salad'])",
    "studies.py": "studies.execute([([sys.executable, '-c', STAND_IN, LOG, 'hydra.sweep.dir=s'], 'x')], False)",
}


def alive(pid: int) -> bool:
    from twosome.processes import process_identity

    return process_identity(pid) is not None


@pytest.mark.parametrize("script", sorted(DRIVERS))
@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "Ctrl-C", "SIGKILL"])
def test_stopping_a_comparison_stops_its_running_sweep(tmp_path, script, how):
    import os
    import signal
    import subprocess
    import time

    log = tmp_path / "signals"
    driver = f"import sys\nsys.path.insert(0, {str(ROOT / 'experiments')!r})\nimport compare, studies\n"
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
