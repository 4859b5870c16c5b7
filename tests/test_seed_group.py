"""Seed groups: N runs of one configuration in one process through one frozen LM are the N runs alone.

Tolerance: a member's rows are scored in one forward with the other members' rows (one padded batch), so its
log-likelihoods differ from a lone run's in the last float32 bits (measured: at most 5e-6 in any metric after six
updates); sampled actions are the same (the same random draws from probabilities that close). Hence 1e-4."""

from __future__ import annotations

import json
import signal
import time

import pandas as pd
import pytest
import torch
from helpers import (
    TIMING,
    compose_cfg,
    ctrl_c_after,
    learning_config,
    run_cli,
    same_results,
    small_run,
    start,
    wait_for_checkpoint,
)
from safetensors.torch import load_file

from hydra_plugins.twosome_seed_batch_launcher import form_groups, group_key
from twosome.config import ConfigError
from twosome.training.seed_group import not_batchable_reason, train_group
from twosome.training.train import train

TWO_UPDATES = ("rollout.total_env_steps=128", "rollout.num_steps=16", "eval.episodes=4")


def _configs(tmp_path, model_dir, seeds, *overrides):
    return [learning_config(tmp_path, model_dir, f"seed={s}", *TWO_UPDATES, *overrides) for s in seeds]


def _weights(run_dir):
    files = sorted(run_dir.glob("*.pt"))
    weights = {f"{f.stem}.{k}": v for f in files for k, v in _flat(torch.load(f, weights_only=True)).items()}
    if (run_dir / "adapter").exists():
        weights.update(load_file(run_dir / "adapter" / "adapter_model.safetensors"))
    return weights


def _flat(state, prefix=""):
    out = {}
    for k, v in state.items():
        out.update(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def _assert_same_run(alone, grouped, atol=1e-4):
    a, b = pd.read_csv(alone / "metrics.csv"), pd.read_csv(grouped / "metrics.csv")
    columns = sorted(set(a.columns) - TIMING)
    assert sorted(set(b.columns) - TIMING) == columns
    pd.testing.assert_frame_equal(a[columns], b[columns], atol=atol, rtol=0)
    wa, wb = _weights(alone), _weights(grouped)
    assert wa.keys() == wb.keys() and wa
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], atol=atol, rtol=0, msg=k)


def _alone_and_grouped(tmp_path, cfgs):
    for s, cfg in enumerate(cfgs):
        train(cfg, run_dir=tmp_path / f"alone{s}", enable_progress_bar=False)
    dirs = [tmp_path / f"group{s}" for s in range(len(cfgs))]
    results = train_group(cfgs, dirs, enable_progress_bar=False)
    assert all(isinstance(r, dict) for r in results), results
    return dirs


@pytest.mark.parametrize(
    "overrides",
    [
        ("agent=twosome",),
        ("agent=glam",),
        ("agent=saycan", "ppo.value_minibatch_size=16", "ppo.policy_minibatch_size=16", "ppo.policy_chunk_size=16"),
        ("algo=poad",),
        ("algo=gigpo", "algo.kl_coef=0.5"),  # the reference pass reads the group's base rows
    ],
    ids=["twosome", "glam", "saycan", "poad", "gigpo_kl"],
)
def test_a_two_seed_group_equals_the_two_runs_alone(tmp_path, tiny_model_dir, overrides):
    cfgs = _configs(tmp_path, tiny_model_dir, [0, 1], *overrides)
    dirs = _alone_and_grouped(tmp_path, cfgs)
    for s in (0, 1):
        _assert_same_run(tmp_path / f"alone{s}", dirs[s])
        assert json.loads((dirs[s] / "status.json").read_text())["status"] == "finished"
    # The two members trained different weights (their own seeds), not one copy.
    w0, w1 = _weights(dirs[0]), _weights(dirs[1])
    assert any(not torch.allclose(w0[k], w1[k]) for k in w0)


def test_a_seed_that_stops_early_by_kl_leaves_the_other_unchanged(tmp_path, tiny_model_dir):
    """At target_kl=0.01 one of seeds 0 and 1 stops its first update early and the other does not (alone); grouped,
    each still does what it does alone."""
    cfgs = _configs(tmp_path, tiny_model_dir, [0, 1], "ppo.target_kl=0.01")
    dirs = _alone_and_grouped(tmp_path, cfgs)
    stops = [pd.read_csv(tmp_path / f"alone{s}" / "metrics.csv")["losses/kl_early_stop"].iloc[0] for s in (0, 1)]
    assert sorted(stops) == [0.0, 1.0], stops  # the precondition: alone, the seeds stop differently
    for s in (0, 1):
        _assert_same_run(tmp_path / f"alone{s}", dirs[s])


def test_a_group_where_one_seed_has_finished_runs_only_the_others(tmp_path, tiny_model_dir, capsys):
    cfgs = _configs(tmp_path, tiny_model_dir, [0, 1])
    train(cfgs[0], run_dir=tmp_path / "group0", enable_progress_bar=False)
    train(cfgs[1], run_dir=tmp_path / "alone1", enable_progress_bar=False)
    finished = (tmp_path / "group0" / "summary.json").read_bytes()
    metrics_mtime = (tmp_path / "group0" / "metrics.csv").stat().st_mtime_ns
    results = train_group(cfgs, [tmp_path / "group0", tmp_path / "group1"], enable_progress_bar=False)
    assert results[0] == json.loads(finished)
    assert "group0 is already finished" in capsys.readouterr().out
    assert (tmp_path / "group0" / "summary.json").read_bytes() == finished
    assert (tmp_path / "group0" / "metrics.csv").stat().st_mtime_ns == metrics_mtime
    _assert_same_run(tmp_path / "alone1", tmp_path / "group1")


def test_a_group_refuses_runs_that_differ_in_more_than_the_seed(tmp_path, tiny_model_dir):
    cfgs = [*_configs(tmp_path, tiny_model_dir, [0]), *_configs(tmp_path, tiny_model_dir, [1], "norm=token")]
    results = train_group(cfgs, [tmp_path / "a", tmp_path / "b"], enable_progress_bar=False)
    assert isinstance(results[1], ConfigError) and "differ only in their seed" in str(results[1])


def test_what_cannot_be_batched_says_why(tmp_path, tiny_model_dir):
    (cfg,) = _configs(tmp_path, tiny_model_dir, [0])
    assert not_batchable_reason(cfg) is None
    assert "reads no LM" in not_batchable_reason(_configs(tmp_path, tiny_model_dir, [0], "agent=ppo")[0])
    assert "evaluation only" in not_batchable_reason(_configs(tmp_path, tiny_model_dir, [0], "agent=zeroshot")[0])
    assert "data-parallel" in not_batchable_reason(_configs(tmp_path, tiny_model_dir, [0], "trainer=fsdp_cpu")[0])


def test_the_launcher_groups_jobs_that_differ_only_in_their_seed(tmp_path, tiny_model_dir):
    sweep = [[f"norm={n}", f"seed={s}"] for n in ("word", "token") for s in range(3)]
    keys = [group_key(o) for o in sweep]
    assert keys[0] == ("norm=word",) and keys[3] == ("norm=token",)
    assert form_groups(keys, [True] * 6, max_batch=16) == [[0, 1, 2], [3, 4, 5]]
    assert form_groups(keys, [True] * 6, max_batch=2) == [[0, 1], [2], [3, 4], [5]]
    assert form_groups(keys, [False] * 3 + [True] * 3, max_batch=16) == [[0], [1], [2], [3, 4, 5]]
    # grouped by resolved configs: a setting that follows the seed keeps the jobs apart (a group would refuse them)
    sweep = [["eval.seed_offset=${seed}", f"seed={s}"] for s in range(2)] + [["norm=word", f"seed={s}"] for s in (0, 1)]
    tasks = [learning_config(tmp_path, tiny_model_dir, *o) for o in sweep]
    keys = [group_key(o, t) for o, t in zip(sweep, tasks)]
    assert keys[0] != keys[1] and keys[2] == keys[3]
    assert form_groups(keys, [True] * 4, max_batch=16) == [[0], [1], [2, 3]]


GROUP_SWEEP = ("-m", "seed=0,1", "hydra/launcher=seed_batch")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, tiny_model_dir):
    """The sweep of seeds 0 and 1 (``small_run``) as one group, never interrupted: its sweep directory."""
    root = tmp_path_factory.mktemp("uninterrupted_group")
    args = [*GROUP_SWEEP, *small_run(tiny_model_dir, None), f"hydra.sweep.dir={root / 'sweep'}"]
    proc = run_cli(*args, cwd=root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Seed group of 2 in one process" in proc.stdout
    return root / "sweep"


def start_group_sweep(tmp_path, model_dir):
    """The group sweep started, once both job directories exist and seed 1 has a checkpoint: (sweep dir, the
    command's arguments, the process, the two job directories, the updates seed 1 has checkpointed)."""
    sweep = tmp_path / "sweep"
    args = [*GROUP_SWEEP, *small_run(model_dir, None), f"hydra.sweep.dir={sweep}"]
    proc = start(args, tmp_path)
    jobs, deadline = [], time.time() + 300
    while len(jobs) < 2 and proc.poll() is None and time.time() < deadline:
        jobs = sorted(sweep.glob("[01]_*"))
        time.sleep(0.05)
    assert len(jobs) == 2, "the group's job directories did not appear"
    return sweep, args, proc, jobs, wait_for_checkpoint(jobs[1], proc)


def resume_and_compare(args, tmp_path, sweep, jobs, uninterrupted) -> None:
    """The same command again: both seeds resume and end bit for bit as the uninterrupted group, both finished."""
    resumed = run_cli(*args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert resumed.stdout.count("Resuming") == 2
    for job in jobs:
        same_results(next(uninterrupted.glob(job.name)), job)
    table = pd.read_csv(sweep / "sweep_summary.csv")
    assert table[["job", "status"]].values.tolist() == [[0, "finished"], [1, "finished"]]


def test_sigkill_of_the_group_then_the_same_command_resumes_every_seed_exactly(tmp_path, tiny_model_dir, uninterrupted):
    """The group killed after its first checkpoints, then the same command: each seed ends exactly as the group
    uninterrupted, and within 1e-4 of its run alone; a lone run refuses a group's checkpoint."""
    sweep, args, proc, jobs, done = start_group_sweep(tmp_path, tiny_model_dir)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert done < 6 and not any((j / "summary.json").exists() for j in jobs)

    lone = run_cli(*small_run(tiny_model_dir, jobs[0], "seed=0"), cwd=tmp_path)
    assert lone.returncode != 0 and "written by a seed group" in lone.stdout + lone.stderr

    resume_and_compare(args, tmp_path, sweep, jobs, uninterrupted)

    alone = tmp_path / "alone"
    proc = run_cli(*small_run(tiny_model_dir, alone, "seed=1"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _assert_same_run(alone, jobs[1])


def test_sigterm_stops_every_seed_of_the_group_and_the_same_command_resumes_them(
    tmp_path, tiny_model_dir, uninterrupted
):
    sweep, args, proc, jobs, _ = start_group_sweep(tmp_path, tiny_model_dir)
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode != 0, out[-3000:]
    for job in jobs:
        status = json.loads((job / "status.json").read_text())
        assert status["status"] == "preempted" and "SIGTERM" in status["reason"], (status, out[-3000:])
        assert all(str(other) not in status["reason"] for other in jobs if other != job), status  # its own checkpoint
        assert not (job / "summary.json").exists()
    table = pd.read_csv(sweep / "sweep_summary.csv")
    assert table[["job", "status"]].values.tolist() == [[0, "preempted"], [1, "preempted"]]
    assert f"rerun the same command with hydra.sweep.dir={sweep}" in out
    resume_and_compare(args, tmp_path, sweep, jobs, uninterrupted)


def test_a_seed_that_fails_stops_alone_and_the_others_finish(tmp_path, tiny_model_dir, monkeypatch):
    from twosome.rl.algorithm import NonFiniteLossError
    from twosome.rl.ppo import PPO

    original = PPO.update

    def poisoned(self, rollout, ctx):
        if self.agent.adapter_name == "seed_group_0":
            raise NonFiniteLossError("the policy loss is nan")
        return original(self, rollout, ctx)

    monkeypatch.setattr(PPO, "update", poisoned)
    cfgs = _configs(tmp_path, tiny_model_dir, [0, 1])
    results = train_group(cfgs, [tmp_path / "a", tmp_path / "b"], enable_progress_bar=False)
    assert isinstance(results[0], NonFiniteLossError) and isinstance(results[1], dict), results
    status = json.loads((tmp_path / "a" / "status.json").read_text())
    assert status["status"] == "failed" and "the policy loss is nan at update 1" in status["error"]
    assert json.loads((tmp_path / "b" / "status.json").read_text())["status"] == "finished"
    assert not (tmp_path / "a" / "summary.json").exists() and (tmp_path / "b" / "summary.json").exists()


def test_a_ctrl_c_while_the_group_takes_its_directories_stops_every_seed_with_its_status(
    tmp_path, tiny_model_dir, monkeypatch, default_ctrl_c
):
    import twosome.training.seed_group as seed_group

    monkeypatch.setattr(seed_group, "open_run", ctrl_c_after(seed_group.open_run))
    cfgs = _configs(tmp_path, tiny_model_dir, [0, 1])
    results = train_group(cfgs, [tmp_path / "a", tmp_path / "b"], enable_progress_bar=False)
    assert all(isinstance(r, KeyboardInterrupt) for r in results), results
    for run_dir in ("a", "b"):
        assert json.loads((tmp_path / run_dir / "status.json").read_text())["status"] == "interrupted"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


class Killed(BaseException):
    """A SIGKILL at a chosen instant, in-process: nothing after it runs, no handler saves anything."""


def test_a_group_killed_between_its_members_checkpoint_writes_resumes_every_seed_exactly(
    tmp_path, tiny_model_dir, monkeypatch
):
    """Members write their checkpoints one after another: killed right after seed 0's second write, seed 0 has
    saved update 2 and seeds 1 and 2 update 1. The same call again resumes all three from update 1 (seed 0 from
    its previous checkpoint), and every seed ends bit for bit as the uninterrupted group."""
    from twosome.training.seed_group import SeedGroupModule

    # Tomato Salad: the members' prompts differ in length, so a batch's padding depends on who is in it
    every = ("checkpoint.every_updates=1", "rollout.total_env_steps=128", f"paths.root_dir={tmp_path}")
    cfgs = [compose_cfg(*small_run(tiny_model_dir, None, f"seed={s}", *every)) for s in (0, 1, 2)]
    whole = [tmp_path / f"whole{s}" for s in range(3)]
    assert all(isinstance(r, dict) for r in train_group(cfgs, whole, enable_progress_bar=False))

    original, writes = SeedGroupModule.save_checkpoint, []

    def save_then_die(self, m):
        original(self, m)
        writes.append(m.index)
        if writes.count(0) == 2:
            raise Killed

    monkeypatch.setattr(SeedGroupModule, "save_checkpoint", save_then_die)
    killed = [tmp_path / f"killed{s}" for s in range(3)]
    stopped = train_group(cfgs, killed, enable_progress_bar=False)
    assert all(isinstance(r, Killed) for r in stopped), stopped
    monkeypatch.setattr(SeedGroupModule, "save_checkpoint", original)
    from twosome.training.run_state import read_run_state

    assert [read_run_state(d / "checkpoints" / "last.ckpt")["updates_done"] for d in killed] == [2, 1, 1]
    results = train_group(cfgs, killed, enable_progress_bar=False)
    assert all(isinstance(r, dict) for r in results), results
    for a, b in zip(whole, killed):
        assert (
            results[killed.index(b)]["weights_digest"] == json.loads((a / "summary.json").read_text())["weights_digest"]
        )
        _assert_same_run(a, b, atol=0)


def test_a_damaged_member_checkpoint_stops_that_seed_alone_with_its_own_way_out(tmp_path, tiny_model_dir, monkeypatch):
    """One member's truncated checkpoint fails that member (status failed, naming the file and how to restart it
    alone); the healthy member resumes and finishes instead of failing with the other's error."""
    from twosome.training.seed_group import SeedGroupModule

    cfgs = [compose_cfg(*small_run(tiny_model_dir, None, f"seed={s}", "checkpoint.every_updates=1")) for s in (0, 1)]
    original = SeedGroupModule.save_checkpoint

    def save_then_die(self, m):
        original(self, m)
        if m.index == 1:
            raise Killed

    monkeypatch.setattr(SeedGroupModule, "save_checkpoint", save_then_die)
    dirs = [tmp_path / "a", tmp_path / "b"]
    assert all(isinstance(r, Killed) for r in train_group(cfgs, dirs, enable_progress_bar=False))
    monkeypatch.setattr(SeedGroupModule, "save_checkpoint", original)
    damaged = dirs[0] / "checkpoints" / "last.ckpt"
    damaged.write_bytes(damaged.read_bytes()[:100])
    results = train_group(cfgs, dirs, enable_progress_bar=False)
    assert isinstance(results[0], Exception) and isinstance(results[1], dict), results
    assert str(damaged) in str(results[0]) and f"delete {dirs[0] / 'checkpoints'}" in str(results[0])
    assert json.loads((dirs[0] / "status.json").read_text())["status"] == "failed"
    assert json.loads((dirs[1] / "status.json").read_text())["status"] == "finished"


def test_a_run_alone_stopped_at_its_final_evaluation_is_refused_by_a_group_with_the_way_out(tmp_path):
    """A group reads a lone run's checkpoint, but one saved before the run's final evaluation has no update left in
    which a group would evaluate it: that seed alone is refused, naming the command that finishes it."""
    import pickle

    from twosome.training.seed_group import own_checkpoint

    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir(parents=True)
    state = {"updates_done": 6, "env_steps": 192, "final_row": {"update": 6.0}}
    torch.save({"run_state": pickle.dumps(state)}, ckpt)
    with pytest.raises(ConfigError, match="stopped at its final evaluation as a run alone: finish it alone"):
        own_checkpoint(tmp_path / "run", ckpt)
    torch.save({"run_state": pickle.dumps({**state, "final_row": None})}, ckpt)  # evaluated (or a group's)
    assert own_checkpoint(tmp_path / "run", ckpt)["updates_done"] == 6
