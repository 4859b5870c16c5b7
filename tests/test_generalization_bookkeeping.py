"""The generalization evaluation's bookkeeping: rows are saved as they come and a rerun resumes them, one
evaluation holds an --out at a time, a run named twice is evaluated once, the CLI shows progress, and parallel
workers give the rows of one process."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import torch
from helpers import count_evaluations, fake_run, toy_config
from toy_env import register, register_unseen

from twosome.evaluation.generalization import generalization
from twosome.training.train import train
from twosome.training.vector_env import make_vector_env


def test_rows_are_saved_as_they_come_and_a_rerun_evaluates_only_what_is_missing(tmp_path, monkeypatch):
    """A long evaluation killed midway keeps its finished rows; the same command again resumes from them. Rows of
    another evaluation in the same file are not overwritten."""
    import json

    import pytest

    from twosome.evaluation import generalization as gen

    seen, unseen = register(), register_unseen()
    run = fake_run(tmp_path, monkeypatch, {"name": "glam"}, seen)
    calls = []

    def evaluate_on(agent, task, episodes, gamma, seed, num_envs, greedy, progress=None, env_kwargs=None, saved=None):
        calls.append((task, episodes))
        if task == unseen and len(calls) == 2:
            raise KeyboardInterrupt  # the job is killed while evaluating the second task
        return dict(success_rate=0.5, success_se=0.1, return_mean=1.0, return_se=0.2, episodes=episodes)

    monkeypatch.setattr(gen, "evaluate_on", evaluate_on)
    out = tmp_path / "generalization.csv"
    with pytest.raises(KeyboardInterrupt):
        gen.generalization([run], [seen, unseen], episodes=4, with_untrained=False, out_csv=out)
    first = pd.read_csv(out)
    assert list(first.task) == [seen] and first.loc[0, "sampling"] == "sampled" and first.loc[0, "eval_seed"] == 10_000
    assert first.loc[0, "weights"] == "abc"

    # The same evaluation, the run named by another path to the same directory: only the missing row is evaluated.
    monkeypatch.chdir(tmp_path)
    table = gen.generalization([Path("run")], [seen, unseen], episodes=4, with_untrained=False, out_csv=out)
    assert calls == [(seen, 4), (unseen, 4), (unseen, 4)]
    assert list(table.task) == [seen, unseen] and table.loc[0].to_dict() == first.fillna("").loc[0].to_dict()
    pd.testing.assert_frame_equal(pd.read_csv(out).fillna(""), table, check_dtype=False)

    # Another measurement (other episodes, seed, sampling or weights) would overwrite these rows: refused, untouched.
    before = out.read_bytes()
    for kwargs in ({"episodes": 8}, {"seed": 1}, {"greedy": True}):
        with pytest.raises(ValueError, match="rows of another evaluation"):
            gen.generalization([run], [seen, unseen], **{"episodes": 4, **kwargs}, with_untrained=False, out_csv=out)
    (run / "summary.json").write_text(json.dumps({"weights_digest": "retrained"}))
    with pytest.raises(ValueError, match="rows of another evaluation"):
        gen.generalization([run], [seen, unseen], episodes=4, with_untrained=False, out_csv=out)
    assert out.read_bytes() == before and len(calls) == 3
    table = gen.generalization([run], [seen, unseen], episodes=4, with_untrained=False, out_csv=tmp_path / "new.csv")
    assert len(calls) == 5 and set(table.weights) == {"retrained"}  # the retrained weights are evaluated afresh

    # A file from before these columns cannot be resumed, nor overwritten.
    old = tmp_path / "old.csv"
    first.drop(columns=["eval_seed", "sampling", "weights"]).to_csv(old, index=False)
    with pytest.raises(ValueError, match="cannot be resumed"):
        gen.generalization([run], [seen], episodes=4, with_untrained=False, out_csv=old)


def test_a_second_evaluation_into_the_same_out_refuses_naming_the_holder(tmp_path, monkeypatch, capsys):
    """Two evaluations into one --out at once: the second used to overwrite the first's rows and exit 0."""
    import signal
    import subprocess
    import textwrap

    import pytest

    from twosome.evaluation.generalization import main

    seen = register()
    run = fake_run(tmp_path, monkeypatch, {"name": "glam"}, seen)
    calls = count_evaluations(monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    code = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).resolve().parents[1] / "src")!r})
        from twosome.fileio import directory_lock
        with directory_lock({str(out)!r}, "wait"):
            print("locked", flush=True)
            time.sleep(600)
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(SystemExit):
            main([str(run), "--tasks", seen, "--episodes", "2", "--no-untrained", "--out", str(out)])
        err = capsys.readouterr().err
        assert f"{out} is in use by process {holder.pid}" in err and "another --out" in err
        assert calls == [] and not (out / "generalization.csv").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    main(
        [str(run), "--tasks", seen, "--episodes", "2", "--no-untrained", "--out", str(out)]
    )  # a dead holder does not block
    assert calls == [seen] and len(pd.read_csv(out / "generalization.csv")) == 1


def test_an_out_that_is_not_this_evaluations_is_named_and_left_untouched(tmp_path, monkeypatch, capsys):
    import gzip

    import pytest

    from twosome.evaluation.generalization import main

    seen = register()
    run = fake_run(tmp_path, monkeypatch, {"name": "glam"}, seen)
    calls = count_evaluations(monkeypatch)
    argv = [str(run), "--tasks", seen, "--episodes", "2", "--no-untrained", "--out"]

    plain = tmp_path / "plain"
    plain.write_text("notes")
    with pytest.raises(SystemExit):
        main([*argv, str(plain)])
    assert f"--out {plain} is a file; --out names a directory" in capsys.readouterr().err
    assert plain.read_text() == "notes"

    for name, make, says in [
        ("dir", lambda p: (p / "x").mkdir(parents=True), "is a directory, not the CSV"),
        ("gzip", lambda p: p.write_bytes(gzip.compress(b"a,b\n1,2\n" * 50)), "cannot be read as the CSV"),
        ("garbage", lambda p: p.write_text('a,"b\n1'), "cannot be read as the CSV"),
    ]:
        out = tmp_path / name
        out.mkdir()
        csv = out / "generalization.csv"
        make(csv)
        before = sorted(str(p) for p in out.rglob("*"))
        with pytest.raises(SystemExit):
            main([*argv, str(out)])
        err = capsys.readouterr().err
        assert str(csv) in err and says in err and "another --out" in err, err
        assert sorted(str(p) for p in out.rglob("*") if p.name != ".lock") == before
    assert calls == []

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "generalization.csv").touch()  # nothing to keep: evaluated and written
    main([*argv, str(empty)])
    assert calls == [seen] and len(pd.read_csv(empty / "generalization.csv")) == 1


def test_a_run_given_by_several_paths_is_evaluated_once(tmp_path, monkeypatch, capsys):
    seen = register()
    run = fake_run(tmp_path, monkeypatch, {"name": "glam"}, seen)
    (tmp_path / "link").symlink_to(run)
    calls = count_evaluations(monkeypatch)
    monkeypatch.chdir(tmp_path)
    table = generalization([run, Path("run"), tmp_path / "link"], [seen], episodes=2, with_untrained=False)
    assert calls == [seen] and len(table) == 1
    assert "is the same run as" in capsys.readouterr().out


def test_the_cli_shows_progress_in_episodes_and_ends_with_a_readable_table(tmp_path, monkeypatch, capsys):
    from twosome.evaluation import generalization as gen

    seen, unseen = register(), register_unseen()
    run = fake_run(tmp_path, monkeypatch, {"name": "twosome"}, seen)

    def evaluate_on(agent, task, episodes, gamma, seed, num_envs, greedy, progress=None, env_kwargs=None, saved=None):
        for _ in range(episodes):
            progress(1)
        return dict(success_rate=0.5, success_se=0.1, return_mean=1.0, return_se=0.2, episodes=episodes)

    monkeypatch.setattr(gen, "evaluate_on", evaluate_on)
    gen.main([str(run), "--tasks", seen, unseen, "--episodes", "3", "--no-untrained", "--out", str(tmp_path / "o")])
    out, err = capsys.readouterr()
    assert "6/6" in err  # two rows of three episodes
    assert "0.50 ± 0.10" in out and "ToyColorDoorBlue-v0" in out and "{" not in out  # a table, no raw dicts


class _RandomWriter(torch.nn.Module):
    """A stand-in for a writer (agent=generate): its action comes from torch's global generator, as a sampled text
    from ``generate`` does."""

    def __init__(self, n_actions: int):
        super().__init__()
        self.n_actions = n_actions
        self.scale = torch.nn.Parameter(torch.ones(1))

    def act(self, obs, greedy: bool = False):
        from twosome.agents.capabilities import Written

        n = len(obs.prompts)
        actions = torch.randint(self.n_actions, (n,))
        return Written(actions, torch.zeros(n, 1, dtype=torch.long), torch.zeros(n))


def test_an_evaluation_draws_from_its_seed_alone_and_leaves_the_global_generator_as_it_was():
    """A written action is sampled from torch's global generator: an evaluation used to depend on what ran before
    it in the process (a resumed or parallel generalization evaluation gave other rows) and moved training's stream."""
    from twosome.training.evaluation import evaluate

    envs = make_vector_env(register(), 2)
    writer = _RandomWriter(2)
    torch.manual_seed(1)
    first = evaluate(writer, envs, 8, 0.99, seed=5, deterministic=False)
    torch.rand(7)  # another global state before the same evaluation
    before = torch.random.get_rng_state()
    again = evaluate(writer, envs, 8, 0.99, seed=5, deterministic=False)
    assert again == first
    assert torch.equal(torch.random.get_rng_state(), before)
    assert evaluate(writer, envs, 8, 0.99, seed=6, deterministic=False) != first  # the seed is what they draw from
    envs.close()


def test_rows_evaluated_by_parallel_workers_are_the_rows_of_one_process_and_the_workers_die_with_it(
    tmp_path, tiny_model_dir
):
    """``workers=2``: the rows run in two processes (started afresh, which learn this test's environments from the
    specs they are given) and the table, and its file, are those of one process, in the same order. When the
    evaluating process is killed outright, its workers end too instead of evaluating on for nobody."""
    import signal
    import subprocess
    import textwrap
    import time

    from twosome.processes import command_line, descendants, process_identity

    def spawned(pids: list[int]) -> list[int]:  # the pool's workers (not its resource tracker)
        return [pid for pid in pids if "spawn_main" in command_line(pid)]

    seen, unseen = register(), register_unseen()
    short = ["rollout.total_env_steps=64", "rollout.num_steps=32", "eval.every_updates=0", "eval.episodes=2"]
    lm = [f"model.path={tiny_model_dir}", "model.build=null", "ppo.policy_lr=1e-2"]
    train(toy_config(tmp_path, *lm, *short), run_dir=tmp_path / "twosome", enable_progress_bar=False)
    writer = ["agent=generate", "agent.policy.decoding=sample", "eval.episodes=1"]
    train(toy_config(tmp_path, *lm, *writer), run_dir=tmp_path / "generate", enable_progress_bar=False)
    runs = [tmp_path / "twosome", tmp_path / "generate"]

    one = generalization(runs, [seen, unseen], episodes=6, out_csv=tmp_path / "one.csv")
    two = generalization(runs, [seen, unseen], episodes=6, out_csv=tmp_path / "two.csv", workers=2)
    agents = ("twosome", "zeroshot", "generate")
    assert list(zip(one.agent, one.task)) == [(a, t) for a in agents for t in (seen, unseen)]
    pd.testing.assert_frame_equal(two, one)
    assert (tmp_path / "two.csv").read_text() == (tmp_path / "one.csv").read_text()

    code = textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = [{str(Path(__file__).resolve().parent)!r}]
        from toy_env import register, register_unseen
        from twosome.evaluation.generalization import generalization
        generalization([{str(runs[0])!r}], [register(), register_unseen()], episodes=10**6, workers=2)
        """
    )
    evaluating = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(workers := spawned(descendants(evaluating.pid))) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(workers) >= 2, "the evaluation started no workers"
    finally:
        evaluating.send_signal(signal.SIGKILL)
        evaluating.wait()
    deadline = time.monotonic() + 30
    while any(map(process_identity, workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(process_identity, workers))
