"""The exact success probability (evaluation/exact_success.py) against brute force over action sequences and against
sampled episodes in the real environment; the CLI over run directories."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch
from torch.distributions import Categorical

from twosome.envs.contract import read_decision
from twosome.evaluation.exact_success import action_probabilities, decision_graph, success_within
from twosome.training.train import train
from twosome.training.vector_env import single_obs_batch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "analysis"))
import exact_success  # noqa: E402
from helpers import compose_cfg, small_run, toy_config  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FP = "twosome/VirtualHome-FoodPreparation-v0"


def keyword_policy(words: tuple[str, ...], bonus: float):
    """A policy that reads only the text: actions naming one of ``words`` get ``bonus`` more logit."""

    def policy(obs):
        logits = torch.tensor([[bonus if any(w in a for w in words) else 0.0 for a in acts] for acts in obs.actions])
        return Categorical(logits=logits.masked_fill(~obs.action_mask, torch.finfo(logits.dtype).min))

    return policy


def brute_force(env_id: str, policy, steps: int) -> float:
    """Sum over every action sequence of at most ``steps`` offered actions of its probability, where it succeeds:
    no graph, no induction, the environment replayed by copies."""
    env = gym.make(env_id)
    obs, info = env.reset(seed=0)

    def go(env, obs, info, left: int) -> float:
        if left == 0:
            return 0.0
        probs = policy(single_obs_batch(obs, info)).logits[0].double().softmax(-1)
        total = 0.0
        for a in np.flatnonzero(read_decision(info).action_mask):
            nxt = copy.deepcopy(env)
            obs2, _, terminated, truncated, info2 = nxt.step(int(a))
            if terminated:
                total += float(probs[a]) * float(info2["success"])
            elif not truncated:
                total += float(probs[a]) * go(nxt, obs2, info2, left - 1)
        return total

    return go(env, obs, info, steps)


@pytest.mark.parametrize("steps", [5, 6, pytest.param(7, marks=pytest.mark.slow)])
def test_the_induction_equals_a_sum_over_every_action_sequence(steps):
    """Food Preparation's shortest plan is 6 decisions: nothing succeeds in 5; 7 adds the paths with a detour."""
    policy = keyword_policy(("pancake", "microwave"), 2.0)
    graph = decision_graph(FP)
    exact = success_within(graph, action_probabilities(policy, graph), steps)[0]
    assert exact == pytest.approx(brute_force(FP, policy, steps), abs=1e-12)
    assert (exact == 0.0) == (steps < 6)


def test_the_probability_over_the_horizon_matches_sampled_episodes():
    graph = decision_graph(FP)
    assert (graph.n_states, graph.horizon) == (48, 50)
    policy = keyword_policy(("pancake", "microwave"), 2.0)
    exact = success_within(graph, action_probabilities(policy, graph))[0]
    memo, rng, wins, n = {}, np.random.default_rng(0), 0, 1500
    env = gym.make(FP)
    for _ in range(n):
        obs, info = env.reset(seed=0)
        while True:
            key = info["prompt"]
            if key not in memo:
                memo[key] = policy(single_obs_batch(obs, info)).probs[0].numpy()
            obs, reward, terminated, truncated, info = env.step(int(rng.choice(len(memo[key]), p=memo[key])))
            if terminated or truncated:
                wins += int(info["success"])
                break
    se = np.sqrt(exact * (1 - exact) / n)
    assert 0.3 < exact < 0.8 and abs(wins / n - exact) < 4 * se
    # A near-certain policy: 50 steps of float32 probabilities used to sum to 1 + 1e-7.
    sure = success_within(graph, action_probabilities(keyword_policy(("pancake", "microwave"), 30.0), graph))
    assert 0.9999 < sure.max() <= 1.0


def test_only_deterministic_environments_with_a_state_key_are_accepted():
    from toy_env import register

    with pytest.raises(ValueError, match="state_key"):
        decision_graph(register())
    with pytest.raises(ValueError, match="not registered"):
        decision_graph("twosome/NoSuchTask-v0")
    with pytest.raises(ValueError, match="random"):
        decision_graph(FP, wording="random")


def test_the_cli_writes_a_row_per_run_and_mode_and_a_rerun_computes_nothing(tmp_path, tiny_model_dir, monkeypatch):
    overrides = ["env=virtualhome", "env.task=food_preparation", "rollout.total_env_steps=32", "eval.episodes=1"]
    cfg = compose_cfg(*small_run(tiny_model_dir, None, *overrides, f"paths.root_dir={tmp_path}"))
    run = tmp_path / "run"
    train(cfg, run_dir=run, enable_progress_bar=False)
    out = tmp_path / "exact.csv"
    exact_success.main([str(run), "--out", str(out)])
    exact_success.main([str(run), "--untrained", "--out", str(out)])
    table = pd.read_csv(out)
    assert list(table.trained) == [True, False] and (table.states == 48).all() and (table.horizon == 50).all()
    assert table.p_success.between(0, 1).all() and list(table.norm) == ["word", "word"]

    def recompute(*_):
        raise AssertionError("a row already written was computed again")

    monkeypatch.setattr(exact_success, "evaluate", recompute)
    exact_success.main([str(run), "--untrained", "--out", str(out)])
    assert len(pd.read_csv(out)) == 2


def test_the_cli_refuses_a_run_whose_task_cannot_be_enumerated_before_writing(tmp_path, tiny_model_dir, capsys):
    cfg = toy_config(tmp_path, "agent=zeroshot", f"model.path={tiny_model_dir}", "model.build=null", "eval.episodes=1")
    train(cfg, run_dir=tmp_path / "toy", enable_progress_bar=False)
    out = tmp_path / "exact.csv"
    with pytest.raises(SystemExit):
        exact_success.main([str(tmp_path / "toy"), "--out", str(out)])
    assert "state_key" in capsys.readouterr().err and not out.exists()


def short_food_preparation_run(tmp_path, tiny_model_dir, *extra) -> tuple[object, Path]:
    overrides = ["env=virtualhome", "env.task=food_preparation", "rollout.total_env_steps=32", "eval.episodes=1"]
    cfg = compose_cfg(*small_run(tiny_model_dir, None, *overrides, *extra, f"paths.root_dir={tmp_path}"))
    run = tmp_path / "run"
    train(cfg, run_dir=run, enable_progress_bar=False)
    return cfg, run


@pytest.mark.parametrize("damage", ["truncate", "remove"])
def test_a_damaged_adapter_is_named_before_it_is_read_and_the_run_writes_it_again(
    tmp_path, tiny_model_dir, capsys, damage
):
    """A finished run whose adapter file is truncated or gone: the tools refuse naming the file (not a raw
    SafetensorError), and the run's own command writes the weights again from its checkpoint, the same weights."""
    cfg, run = short_food_preparation_run(tmp_path, tiny_model_dir)
    weights = run / "adapter" / "adapter_model.safetensors"
    written = weights.read_bytes()
    if damage == "truncate":
        weights.write_bytes(written[: len(written) // 2])
    else:
        weights.unlink()
    out = tmp_path / "exact.csv"
    with pytest.raises(SystemExit):
        exact_success.main([str(run), "--out", str(out)])
    err = capsys.readouterr().err
    assert "adapter/adapter_model.safetensors (" in err and "missing or damaged" in err and not out.exists()
    train(cfg, run_dir=run, enable_progress_bar=False)
    assert "writing them again from its checkpoint" in capsys.readouterr().out
    assert weights.read_bytes() == written
    exact_success.main([str(run), "--out", str(out)])
    assert len(pd.read_csv(out)) == 1


def test_exact_success_out_is_its_own_table_or_refused_and_a_run_counts_once(tmp_path, tiny_model_dir, capsys):
    """--out guarded: a foreign or another tool's CSV is refused and kept; the same run named by another path is
    not appended twice; an evaluation-only agent is never recorded as trained."""
    _, run = short_food_preparation_run(tmp_path, tiny_model_dir)
    for foreign in ("hello,world\n", "run,agent,task\n", "run,agent,task\nr,a,t\n"):
        out = tmp_path / "other.csv"
        out.write_text(foreign)
        with pytest.raises(SystemExit):
            exact_success.main([str(run), "--out", str(out)])
        assert "is not this tool's table" in capsys.readouterr().err and out.read_text() == foreign
    out = tmp_path / "exact.csv"
    exact_success.main([str(run), "--out", str(out)])
    exact_success.main([str(run.resolve()), "--out", str(out)])
    (tmp_path / "link").symlink_to(run)
    exact_success.main([str(tmp_path / "link"), "--out", str(out)])
    assert len(pd.read_csv(out)) == 1
    zeroshot = tmp_path / "zeroshot"
    overrides = ["env=virtualhome", "env.task=food_preparation", "agent=zeroshot", f"model.path={tiny_model_dir}",
                 "model.build=null", "eval.episodes=1", "logger.tensorboard=false",
                 f"paths.root_dir={tmp_path}"]  # fmt: skip
    train(compose_cfg(*overrides), run_dir=zeroshot, enable_progress_bar=False)
    exact_success.main([str(zeroshot), "--out", str(out)])
    exact_success.main([str(zeroshot), "--untrained", "--out", str(out)])
    table = pd.read_csv(out)
    assert len(table) == 2 and list(table.trained) == [True, False]


def test_the_tool_agrees_with_sampling_where_a_real_lm_policy_sometimes_succeeds(tmp_path):
    """The check that tests the instrument: a policy that succeeds in neither none nor all of its episodes. The
    shipped household model's untrained policy on Food Preparation samples a success about a third of the time;
    its exact probability must lie within 4 standard errors of 400 sampled episodes of the same policy."""
    model = ROOT / "models" / "tiny-household"
    overrides = ["env=virtualhome", "env.task=food_preparation", "agent=zeroshot", f"model.path={model}",
                 "eval.episodes=1", "eval.final_sampled_episodes=400", "logger.tensorboard=false",
                 "trainer.num_threads=1", f"paths.root_dir={tmp_path}"]  # fmt: skip
    run = tmp_path / "untrained"
    summary = train(compose_cfg(*overrides), run_dir=run, enable_progress_bar=False)
    sampled, n = summary["sampled/success_rate"], int(summary["sampled/episodes"])
    out = tmp_path / "exact.csv"
    exact_success.main([str(run), "--out", str(out)])
    exact = float(pd.read_csv(out).p_success.iloc[0])
    se = np.sqrt(exact * (1 - exact) / n)
    assert 0.1 < sampled < 0.9 and 0.1 < exact < 0.9
    assert abs(sampled - exact) < 4 * se, (sampled, exact, se)
