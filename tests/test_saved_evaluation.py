"""The final evaluation saves its progress as it goes (training/evaluation.py): a stop in it resumes at the step it
reached and ends with the episodes, and the summary, of an evaluation that was never stopped."""

from __future__ import annotations

import itertools
import json
import pickle
import signal
from types import SimpleNamespace

import pytest
import torch
from helpers import stand_in_scontrol, toy_config

import twosome.training.evaluation as evaluation
from twosome.agents.generate import GenerateAgent
from twosome.agents.twosome import TwosomeAgent
from twosome.lm.loading import load_lm
from twosome.run_dir import RunDir
from twosome.training.evaluation import SavedEvaluation, evaluate
from twosome.training.train import train
from twosome.training.vector_env import make_vector_env

TOMATO = "twosome/Overcooked-TomatoSalad-v0"
SETTINGS = {"episodes": 5, "deterministic": False, "num_envs": 2, "seed": 3}


def stop_at_step(monkeypatch, step: int, *signals: int) -> list[int]:
    """The evaluation stops (KeyboardInterrupt) as its ``step``-th step begins, or there receives ``signals`` (and
    goes on, as a signal's handler says); returns the steps' count."""
    steps = [0]
    original = evaluation.to_obs_batch

    def counted(obs, info):
        steps[0] += 1
        if steps[0] == step and not signals:
            raise KeyboardInterrupt
        if steps[0] == step:
            for signum in signals:
                signal.raise_signal(signum)
        return original(obs, info)

    monkeypatch.setattr(evaluation, "to_obs_batch", counted)
    return steps


def twosome_agent(model_dir) -> TwosomeAgent:
    """A fresh agent, as a new process builds it: same weights (seeded LoRA), empty memos."""
    lm, tok = load_lm(str(model_dir), None, "float32", None)
    torch.manual_seed(0)
    return TwosomeAgent(lm, tok, norm="word", lora_layers=1)


def run(agent, saved=None, progress=None) -> list[dict]:
    envs = make_vector_env(TOMATO, SETTINGS["num_envs"])
    try:
        return evaluate(
            agent, envs, SETTINGS["episodes"], 0.99, SETTINGS["seed"], False, progress=progress, saved=saved
        )
    finally:
        envs.close()


def test_a_stopped_evaluation_resumes_at_its_step_and_plays_the_same_episodes(tmp_path, tiny_model_dir, monkeypatch):
    """Sampled actions (the sampler's generator), two environments mid-episode and the agent's memoized scores are
    all in the saved state: the resumed evaluation's episodes are the uninterrupted one's, to the last bit."""
    steps = stop_at_step(monkeypatch, 0)  # counts only
    whole = run(twosome_agent(tiny_model_dir))
    monkeypatch.undo()
    stop_at_step(monkeypatch, 25)
    path = tmp_path / "final_evaluation.pkl"
    with pytest.raises(KeyboardInterrupt):
        run(twosome_agent(tiny_model_dir), SavedEvaluation(path, 7, every_s=0).phase("sampled", SETTINGS))
    monkeypatch.undo()
    stored = pickle.loads(path.read_bytes())
    assert stored["update"] == 7 and stored["phases"]["sampled"]["state"]["agent_cache"]["scores"]  # memos kept
    told = []
    resumed_steps = stop_at_step(monkeypatch, 0)  # counts only
    resumed = run(
        twosome_agent(tiny_model_dir), SavedEvaluation(path, 7, every_s=0).phase("sampled", SETTINGS), told.append
    )
    assert resumed == whole
    done_before = len(stored["phases"]["sampled"]["state"]["records"])
    assert told[0] == done_before and sum(told) == len(whole)  # the progress bar starts where the evaluation was
    assert resumed_steps[0] == steps[0] - 24  # it went on after step 24, not from the start
    assert "envs" not in pickle.loads(path.read_bytes())["phases"]["sampled"]["state"]  # ended: its episodes only


def test_saved_progress_of_another_update_or_other_settings_is_not_resumed(tmp_path, tiny_model_dir, monkeypatch):
    """A saved evaluation belongs to one update and one phase's settings: any other evaluation starts afresh."""
    path = tmp_path / "final_evaluation.pkl"
    stop_at_step(monkeypatch, 10)
    with pytest.raises(KeyboardInterrupt):
        run(twosome_agent(tiny_model_dir), SavedEvaluation(path, 7, every_s=0).phase("sampled", SETTINGS))
    monkeypatch.undo()
    assert SavedEvaluation(path, 8, every_s=0).phase("sampled", SETTINGS).load() is None
    assert SavedEvaluation(path, 7, every_s=0).phase("sampled", {**SETTINGS, "seed": 4}).load() is None
    assert SavedEvaluation(path, 7, every_s=0).phase("eval", SETTINGS).load() is None
    assert SavedEvaluation(path, 7, every_s=0).phase("sampled", SETTINGS).load() is not None
    path.write_bytes(b"not a pickle")
    assert SavedEvaluation(path, 7, every_s=0).phase("sampled", SETTINGS).load() is None


class PromptWriter(GenerateAgent):
    """Writes a valid action for some prompts and an invalid text for others, as a function of the prompt alone (a
    resumed writer must write what the uninterrupted one did)."""

    def generate(self, prompts):
        return ["Chop the tomato." if len(p) % 3 else "dance" for p in prompts]


def test_a_writers_tally_of_invalid_texts_resumes_with_its_episodes(tmp_path, tiny_model_dir, monkeypatch):
    lm, tok = load_lm(str(tiny_model_dir), None, "float32", None)

    def writer_run(agent, saved=None):
        envs = make_vector_env(TOMATO, 2, invalid_action={"max_in_a_row": 3})
        try:
            return evaluate(agent, envs, 4, 0.99, 0, True, saved=saved)
        finally:
            envs.close()

    steps = stop_at_step(monkeypatch, 0)  # counts only
    whole_agent = PromptWriter(lm, tok)
    whole = writer_run(whole_agent)
    monkeypatch.undo()
    assert whole_agent.report()["generate/invalid_rate"] > 0 and steps[0] > 4
    path = tmp_path / "final_evaluation.pkl"
    stop_at_step(monkeypatch, steps[0] // 2)
    with pytest.raises(KeyboardInterrupt):
        writer_run(PromptWriter(lm, tok), SavedEvaluation(path, 0, every_s=0).phase("eval", {}))
    monkeypatch.undo()
    resumed_agent = PromptWriter(lm, tok)
    assert writer_run(resumed_agent, SavedEvaluation(path, 0, every_s=0).phase("eval", {})) == whole
    assert resumed_agent.report() == whole_agent.report()


def evaluation_only_config(tmp_path, tiny_model_dir, *overrides, every_s: float = 0):
    return toy_config(
        tmp_path,
        f"model.path={tiny_model_dir}",
        "model.build=null",
        "agent=zeroshot",
        "eval.episodes=4",
        "eval.final_sampled_episodes=6",
        f"checkpoint.evaluation_every_s={every_s}",
        *overrides,
    )


def test_an_evaluation_only_run_stopped_midway_resumes_there(tmp_path, tiny_model_dir, monkeypatch, default_ctrl_c):
    """An agent that does not train has no checkpoint: its evaluation's saved progress is what the same command
    resumes (it used to start over), and Ctrl-C says so."""
    steps = stop_at_step(monkeypatch, 0)  # counts only
    whole = train(evaluation_only_config(tmp_path / "a", tiny_model_dir), run_dir=tmp_path / "a" / "run")
    monkeypatch.undo()
    stop = steps[0] - 2  # in the sampled episodes (4 steps each), after the greedy ones
    stop_at_step(monkeypatch, stop)
    cfg = evaluation_only_config(tmp_path / "b", tiny_model_dir)
    with pytest.raises(BaseException) as stopped:
        train(cfg, run_dir=tmp_path / "b" / "run")
    assert type(stopped.value).__name__ == "Interrupted", repr(stopped.value)
    status = json.loads(RunDir(tmp_path / "b" / "run").status.read_text())
    assert "the evaluation's saved progress" in status["reason"] and "resumes" in status["reason"], status
    monkeypatch.undo()
    resumed_steps = stop_at_step(monkeypatch, 0)
    summary = train(cfg, run_dir=tmp_path / "b" / "run")
    assert resumed_steps[0] == steps[0] - (stop - 1)  # it went on from the step it reached, not from the start
    for key in whole:
        if key.startswith(("eval/", "sampled/")):
            assert summary[key] == whole[key], key
    assert not RunDir(tmp_path / "b" / "run").saved_evaluation.exists()  # finished: nothing left to resume


def test_a_trained_run_stopped_in_its_final_evaluation_resumes_at_that_step(
    tmp_path, tiny_model_dir, monkeypatch, default_ctrl_c, capsys
):
    """The checkpoint of the last update resumes at the evaluation; its saved progress, at the step it reached. The
    summary and the last update's row are the uninterrupted run's."""
    import pandas as pd

    def config(root):
        return evaluation_only_config(
            root, tiny_model_dir, "agent=twosome", "rollout.total_env_steps=64", "rollout.num_steps=16",
            "eval.every_updates=0",
        )  # fmt: skip

    steps = stop_at_step(monkeypatch, 0)  # counts only: the final evaluation's steps
    whole = train(config(tmp_path / "a"), run_dir=tmp_path / "a" / "run")
    monkeypatch.undo()
    stop = steps[0] - 2
    stop_at_step(monkeypatch, stop)
    with pytest.raises(BaseException) as stopped:
        train(config(tmp_path / "b"), run_dir=tmp_path / "b" / "run")
    assert type(stopped.value).__name__ == "Interrupted", repr(stopped.value)
    assert RunDir(tmp_path / "b" / "run").saved_evaluation.is_file()
    monkeypatch.undo()
    resumed_steps = stop_at_step(monkeypatch, 0)
    capsys.readouterr()
    summary = train(config(tmp_path / "b"), run_dir=tmp_path / "b" / "run")
    out = capsys.readouterr().out
    assert "at its final evaluation" in out and "sampled episodes: resumed after" in out, out
    assert resumed_steps[0] == steps[0] - (stop - 1)
    for key in whole:
        if key.startswith(("eval/", "sampled/")) or key == "weights_digest":
            assert summary[key] == whole[key], key
    rows = [pd.read_csv(RunDir(tmp_path / d / "run").metrics) for d in ("a", "b")]
    assert rows[0]["update"].tolist() == rows[1]["update"].tolist()  # the last update's row once
    assert rows[0].iloc[-1]["sampled/episodic_return"] == rows[1].iloc[-1]["sampled/episodic_return"]


class KilledBySignal(Exception):
    """What SIGTERM does to a process left to its default (ending it), here an error the test sees."""


@pytest.fixture
def fatal_signals_raise():
    """SIGTERM raises and SIGUSR1 is ignored, where by default either would end the test process. (SIGUSR1's handler
    cannot raise too: a requeue signal's earlier handler is called, as submitit's is.)"""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGUSR1)}

    def killed(signum, frame):
        raise KilledBySignal(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, killed)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    yield killed
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


@pytest.mark.parametrize(
    "signum, stopped",
    [(signal.SIGINT, "Interrupted"), (signal.SIGTERM, "Preempted"), (signal.SIGUSR1, "Preempted")],
    ids=["SIGINT", "SIGTERM", "SIGUSR1"],
)
def test_a_stop_signal_in_an_evaluation_only_run_saves_the_step_it_arrives_in(
    tmp_path, tiny_model_dir, monkeypatch, default_ctrl_c, fatal_signals_raise, signum, stopped
):
    """SIGTERM and the requeue signal killed an evaluation-only run (no status; SLURM never requeued it) and Ctrl-C
    stopped it at once. Now each saves the evaluation at the step it arrives in, though the last periodic save is an
    hour away, and stops; the same command resumes at that step."""
    steps = stop_at_step(monkeypatch, 0)  # counts only
    whole = train(evaluation_only_config(tmp_path / "a", tiny_model_dir), run_dir=tmp_path / "a" / "run")
    monkeypatch.undo()
    stop = steps[0] - 2  # in the sampled episodes
    stop_at_step(monkeypatch, stop, signum)
    clock = itertools.count(0.0, 100.0)  # the evaluation's clock: 100 s a reading
    monkeypatch.setattr(evaluation, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    cfg = evaluation_only_config(tmp_path / "b", tiny_model_dir, every_s=3600)
    with pytest.raises(BaseException) as raised:
        train(cfg, run_dir=tmp_path / "b" / "run")
    assert type(raised.value).__name__ == stopped, repr(raised.value)
    status = json.loads(RunDir(tmp_path / "b" / "run").status.read_text())
    assert "saved at the step it reached" in status["reason"], status
    assert signal.getsignal(signal.SIGTERM) is fatal_signals_raise  # the run's handlers are gone
    elapsed = pickle.loads(RunDir(tmp_path / "b" / "run").saved_evaluation.read_bytes())["elapsed_s"]
    monkeypatch.undo()
    resumed_steps = stop_at_step(monkeypatch, 0)
    summary = train(cfg, run_dir=tmp_path / "b" / "run")
    assert resumed_steps[0] == steps[0] - stop  # it went on after the step the signal arrived in
    assert elapsed >= 1000 and summary["wall_seconds"] >= elapsed  # the time before the stop counts
    for key in whole:
        if key.startswith(("eval/", "sampled/")):
            assert summary[key] == whole[key], key


def test_a_requeue_signal_in_an_evaluation_only_slurm_job_saves_and_requeues_it(
    tmp_path, tiny_model_dir, monkeypatch, fatal_signals_raise
):
    """Inside a SLURM job the requeue signal (``#SBATCH --signal=USR1@90``) requeues an evaluation-only job as it
    does a training one, after its evaluation saved the step under way."""
    scontrol_args = stand_in_scontrol(tmp_path, monkeypatch)
    stop_at_step(monkeypatch, 6, signal.SIGUSR1)
    with pytest.raises(BaseException) as raised:
        train(evaluation_only_config(tmp_path, tiny_model_dir, every_s=3600), run_dir=tmp_path / "run")
    assert type(raised.value).__name__ == "Requeued", repr(raised.value)
    assert "SLURM job 4242 was requeued" in str(raised.value)
    assert scontrol_args.read_text().split() == ["requeue", "4242"]
    saved = pickle.loads(RunDir(tmp_path / "run").saved_evaluation.read_bytes())
    assert "envs" in saved["phases"]["sampled"]["state"]  # the episodes under way, at step 6


def test_a_second_ctrl_c_in_the_evaluation_stops_at_once(tmp_path, tiny_model_dir, monkeypatch, default_ctrl_c):
    """The first Ctrl-C waits for the step to end; a second one does not, and the last save resumes (here the
    greedy episodes', saved as their phase ended)."""
    steps = stop_at_step(monkeypatch, 0)  # counts only
    train(evaluation_only_config(tmp_path / "a", tiny_model_dir), run_dir=tmp_path / "a" / "run")
    monkeypatch.undo()
    stop = steps[0] - 2
    stop_at_step(monkeypatch, stop, signal.SIGINT, signal.SIGINT)
    cfg = evaluation_only_config(tmp_path / "b", tiny_model_dir, every_s=3600)
    with pytest.raises(BaseException) as raised:
        train(cfg, run_dir=tmp_path / "b" / "run")
    assert type(raised.value).__name__ == "Interrupted", repr(raised.value)
    assert "stopped at once; the progress it last saved" in str(raised.value)
    saved = pickle.loads(RunDir(tmp_path / "b" / "run").saved_evaluation.read_bytes())
    assert "sampled" not in saved["phases"]  # nothing of the step under way was saved
    monkeypatch.undo()
    resumed_steps = stop_at_step(monkeypatch, 0)
    train(cfg, run_dir=tmp_path / "b" / "run")
    assert resumed_steps[0] == steps[0] - 4  # the sampled episodes from their start (the 4 greedy steps skipped)


def test_a_stop_signal_in_a_trained_runs_final_evaluation_saves_the_step_it_arrives_in(
    tmp_path, tiny_model_dir, monkeypatch, default_ctrl_c, fatal_signals_raise
):
    """The final evaluation follows the last update's checkpoint; a signal in it used to stop it at once, losing the
    steps since its last periodic save. Now that step is saved first."""

    def config(root):
        return evaluation_only_config(
            root, tiny_model_dir, "agent=twosome", "rollout.total_env_steps=64", "rollout.num_steps=16",
            "eval.every_updates=0", every_s=3600,
        )  # fmt: skip

    steps = stop_at_step(monkeypatch, 0)  # counts only: the final evaluation's steps
    whole = train(config(tmp_path / "a"), run_dir=tmp_path / "a" / "run")
    monkeypatch.undo()
    stop = steps[0] - 2
    stop_at_step(monkeypatch, stop, signal.SIGTERM)
    with pytest.raises(BaseException) as raised:
        train(config(tmp_path / "b"), run_dir=tmp_path / "b" / "run")
    assert type(raised.value).__name__ == "Preempted", repr(raised.value)
    assert "at the step it reached" in str(raised.value), raised.value
    monkeypatch.undo()
    resumed_steps = stop_at_step(monkeypatch, 0)
    summary = train(config(tmp_path / "b"), run_dir=tmp_path / "b" / "run")
    assert resumed_steps[0] == steps[0] - stop
    for key in whole:
        if key.startswith(("eval/", "sampled/")) or key == "weights_digest":
            assert summary[key] == whole[key], key


def test_a_generalization_row_stopped_midway_resumes_at_its_step(tmp_path, tiny_model_dir, monkeypatch):
    """The generalization tool reused the rows it had written; a row it stopped in (50 episodes of an LLM agent take
    a quarter of an hour) started over. Its progress is saved beside the table and removed as the row is written."""
    import pandas as pd
    from toy_env import register, register_unseen

    from twosome.evaluation.generalization import generalization

    seen, unseen = register(), register_unseen()
    short = ["agent=twosome", "rollout.total_env_steps=64", "rollout.num_steps=32", "eval.every_updates=0"]
    train(evaluation_only_config(tmp_path, tiny_model_dir, *short), run_dir=tmp_path / "run")

    def table(name: str) -> pd.DataFrame:
        out = tmp_path / name / "generalization.csv"
        return generalization([tmp_path / "run"], [seen, unseen], 6, with_untrained=False, out_csv=out, save_every_s=0)

    steps = stop_at_step(monkeypatch, 0)  # counts only
    whole = table("whole")
    monkeypatch.undo()
    stop = steps[0] - 3  # in the second row
    stop_at_step(monkeypatch, stop)
    with pytest.raises(KeyboardInterrupt):
        table("stopped")
    monkeypatch.undo()
    assert len(list((tmp_path / "stopped" / ".progress").glob("*.pkl"))) == 1  # the row it stopped in
    resumed_steps = stop_at_step(monkeypatch, 0)
    resumed = table("stopped")
    assert resumed_steps[0] == steps[0] - (stop - 1)  # the first row reused, the second resumed at its step
    pd.testing.assert_frame_equal(resumed, whole)
    assert not (tmp_path / "stopped" / ".progress").exists()


@pytest.mark.parametrize("agent", ["random", "zeroshot"])
def test_an_evaluation_only_run_says_running_from_its_start(tmp_path, tiny_model_dir, monkeypatch, agent):
    """Evaluation-only runs wrote status.json only at their end: none while they ran, none after a SIGKILL."""
    import twosome.training.train as training

    seen = {}

    def status() -> str | None:
        path = RunDir(tmp_path / "run").status
        return json.loads(path.read_text())["status"] if path.is_file() else None

    build = training.build_agent
    monkeypatch.setattr(
        training, "build_agent", lambda *a, **k: (seen.setdefault("built", status()), build(*a, **k))[1]
    )
    original = evaluation.to_obs_batch
    monkeypatch.setattr(evaluation, "to_obs_batch", lambda *a: (seen.setdefault("step", status()), original(*a))[1])
    train(evaluation_only_config(tmp_path, tiny_model_dir, f"agent={agent}"), run_dir=tmp_path / "run")
    assert seen == {"built": "running", "step": "running"} and status() == "finished"


def test_a_resumed_evaluation_counts_no_more_episodes_than_it_plays(tmp_path, capsys):
    """Several environments can end an episode at the same step, so a phase may end with more episodes than it
    plays: resumed, it said "resumed after 4 of 2"."""
    from twosome.agents.random_agent import UniformRandomAgent

    saved = SavedEvaluation(tmp_path / "final_evaluation.pkl", 3, every_s=0)
    saved.write("greedy", SETTINGS, {"records": [{"episode": i} for i in range(4)]})
    envs = make_vector_env(TOMATO, 2)
    try:
        records = evaluate(UniformRandomAgent(), envs, 2, 0.99, 0, True, saved=saved.phase("greedy", SETTINGS))
    finally:
        envs.close()
    assert records == [{"episode": 0}, {"episode": 1}]
    assert "greedy episodes: all 2 were played before the stop" in capsys.readouterr().out
