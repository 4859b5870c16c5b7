"""Exploration: its measures on the agent's own decisions against hand computations, and the mechanisms that keep a
prior exploring (rl/exploration.py, scoring/calibration.py), each against what it must do and what it must not."""

from __future__ import annotations

import math
import signal

import pandas as pd
import pytest
import torch
from helpers import (
    ROOT,
    compose_cfg,
    learning_config,
    register,
    run_cli,
    same_results,
    small_run,
    start,
    wait_for_checkpoint,
)

from twosome.agents.base import masked_categorical
from twosome.config import ConfigError, validate
from twosome.rl.exploration import Exploration, entropy_fraction, mix_with_uniform
from twosome.rl.settings import ExplorationConfig
from twosome.training.exploration_log import ExplorationLog, optimal_prob_and_rank
from twosome.training.train import train

MASK = torch.tensor([[True, True, True, False], [True, True, False, False]])
PROBS = torch.tensor([[0.5, 0.3, 0.2, 0.0], [0.9, 0.1, 0.0, 0.0]])


def policy(probs=PROBS, mask=MASK):
    return masked_categorical(torch.log(probs.clamp(min=1e-30)), mask)


def test_the_mixture_with_the_uniform_policy_by_hand_and_epsilon_zero_is_the_policy_itself():
    pi = policy()
    assert mix_with_uniform(pi, MASK, 0.0) is pi
    mixed = mix_with_uniform(pi, MASK, 0.4)
    expected = torch.tensor([[0.6 * 0.5 + 0.4 / 3, 0.6 * 0.3 + 0.4 / 3, 0.6 * 0.2 + 0.4 / 3, 0.0], [0.74, 0.26, 0, 0]])
    torch.testing.assert_close(mixed.probs, expected, atol=1e-6, rtol=0)
    action = torch.tensor([2, 1])
    torch.testing.assert_close(mixed.log_prob(action), torch.log(expected[[0, 1], [2, 1]]))


def test_epsilon_anneals_linearly_to_zero_at_its_fraction_of_the_run():
    explore = Exploration(ExplorationConfig(uniform_mix=0.4, uniform_mix_until=0.5), ent_coef=0.01)
    seen = []
    for update in range(6):
        explore.begin_update(update, 10)
        seen.append(round(explore.epsilon, 10))
    assert seen == [0.4, 0.32, 0.24, 0.16, 0.08, 0.0]


def test_the_entropy_floor_raises_the_coefficient_below_it_lowers_it_above_and_keeps_it_bounded():
    explore = Exploration(ExplorationConfig(entropy_floor=0.5, entropy_coef_lr=1.0), ent_coef=0.01)
    explore.adapt(0.1)
    assert explore.ent_coef == pytest.approx(0.01 * math.exp(0.4))
    explore.adapt(0.9)
    assert explore.ent_coef == pytest.approx(0.01)
    explore.adapt(0.9)  # above the floor: never under ppo.ent_coef (plain PPO's bonus is kept)
    assert explore.ent_coef == 0.01
    for _ in range(100):
        explore.adapt(0.0)
    assert explore.ent_coef == 10.0
    restored = Exploration(ExplorationConfig(entropy_floor=0.5), ent_coef=0.01)
    restored.load_state_dict(explore.state_dict())
    assert restored.ent_coef == 10.0
    off = Exploration(None, ent_coef=0.01)  # no floor: the coefficient is ppo.ent_coef exactly, whatever happens
    off.adapt(0.0)
    assert off.ent_coef == 0.01 and off.metrics() == {}


def test_the_exploration_log_against_hand_computed_measures():
    log = ExplorationLog()
    log.add(policy(), MASK, [(1,), (0, 1)])
    log.add(policy(), MASK, [(), (1,)])  # no oracle answer in the first environment: left out
    out = log.pop()
    h0 = -(0.5 * math.log(0.5) + 0.3 * math.log(0.3) + 0.2 * math.log(0.2)) / math.log(3)
    h1 = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1)) / math.log(2)
    assert out["explore/entropy_fraction"] == pytest.approx((h0 + h1) / 2, abs=1e-6)
    assert out["explore/top_mass"] == pytest.approx((0.5 + 0.9) / 2, abs=1e-6)
    # the optimal actions' probability: 0.3, 1.0 (both actions optimal), 0.1; their best ranks: 2, 1, 2
    assert out["explore/optimal_prob_mean"] == pytest.approx((0.3 + 1.0 + 0.1) / 3, abs=1e-6)
    assert out["explore/optimal_prob_median"] == pytest.approx(0.3, abs=1e-6)
    assert out["explore/optimal_rank_mean"] == pytest.approx(5 / 3)
    assert out["explore/optimal_top1_rate"] == pytest.approx(1 / 3)
    assert out["explore/oracle_decisions"] == pytest.approx(3 / 4)
    assert log.pop() == {}  # popped: the next rollout starts afresh
    assert optimal_prob_and_rank(torch.tensor([0.2, 0.2, 0.6]), (1,)) == pytest.approx((0.2, 2))  # a tie: rank 2
    single = entropy_fraction(policy(torch.tensor([[1.0, 0, 0, 0]]), torch.tensor([[True, False, False, False]])),
                              torch.tensor([[True, False, False, False]]))  # fmt: skip
    assert math.isnan(single.item())  # one valid action: no choice, no fraction


def ppo_on_the_toy_task(tiny_model_dir, **explore):
    """A TWOSOME agent on the toy task, a PPO whose one minibatch is the whole rollout, and a collector that acts
    with PPO's exploration."""
    from twosome.agents.twosome import TwosomeAgent
    from twosome.lm.loading import load_lm
    from twosome.rl.ppo import PPO
    from twosome.rl.settings import PPOConfig
    from twosome.training.rollout import RolloutCollector
    from twosome.training.vector_env import make_vector_env

    lm, tok = load_lm(str(tiny_model_dir))
    agent = TwosomeAgent(lm, tok)
    ppo = PPO(agent, PPOConfig(policy_minibatch_size=8, value_minibatch_size=8, policy_chunk_size=8, policy_lr=1e-2),
              explore=ExplorationConfig(**explore))  # fmt: skip
    collector = RolloutCollector(make_vector_env(register(), 2, {"horizon": 3}), agent, num_steps=4, gamma=0.9, seed=0)
    collector.behaviour = ppo.exploration.behaviour
    return agent, ppo, collector


def test_the_rollout_keeps_the_probability_the_action_was_sampled_with_and_the_ratio_starts_at_one(tiny_model_dir):
    from twosome.rl.algorithm import UpdateContext

    torch.manual_seed(0)
    agent, ppo, collector = ppo_on_the_toy_task(tiny_model_dir, uniform_mix=0.5)
    rollout = collector.collect()
    obs, actions = rollout.flat_obs(), rollout.actions.reshape(-1)
    with torch.no_grad():
        pi = agent.distribution(obs)
    n = obs.action_mask.sum(-1)
    by_hand = torch.log(0.5 * pi.probs.gather(1, actions[:, None]).squeeze(1) + 0.5 / n)
    torch.testing.assert_close(rollout.logprobs.reshape(-1), by_hand, atol=1e-6, rtol=0)
    assert (rollout.logprobs.reshape(-1) - pi.log_prob(actions)).abs().max() > 1e-2  # pi alone would differ
    optimizers, schedulers = ppo.configure_optimizers(1)
    ctx = UpdateContext(optimizers, schedulers, lambda loss: loss.backward(), torch.device("cpu"))
    metrics = ppo.update(rollout, ctx)
    # one minibatch: its KL before the step compares the new and the sampling policy at the same weights
    assert abs(metrics["losses/old_approx_kl"]) < 1e-6 and metrics["charts/uniform_mix"] == 0.5


def test_a_floor_keeps_the_entropy_that_plain_ppo_lets_fall_on_the_toy_task(tmp_path, tiny_model_dir):
    fractions, coefs = {}, {}
    for name, extra in {"plain": [], "floor": ["explore.entropy_floor=0.8", "explore.entropy_coef_lr=2.0"]}.items():
        cfg = learning_config(tmp_path, tiny_model_dir, "ppo.update_epochs=4", *extra)
        torch.manual_seed(0)
        train(cfg, run_dir=tmp_path / name, enable_progress_bar=False)
        metrics = pd.read_csv(tmp_path / name / "metrics.csv")
        fractions[name] = metrics["explore/entropy_fraction"].to_numpy()
        coefs[name] = metrics.get("losses/ent_coef")
    first, last = (lambda x: x[:3].mean()), (lambda x: x[-3:].mean())
    assert last(fractions["plain"]) < first(fractions["plain"]) - 0.05, fractions  # PPO learns: its entropy falls
    assert last(fractions["floor"]) > last(fractions["plain"]) + 0.1, fractions
    assert coefs["plain"] is None and coefs["floor"].iloc[-1] > coefs["floor"].iloc[0]


def test_a_run_with_every_mechanism_stopped_by_sigkill_resumes_exactly(tmp_path, tiny_model_dir):
    """The adapted entropy coefficient is in the checkpoint, epsilon follows the update's index. The floor sits just
    under the uniform policy's entropy, so the coefficient moves on any machine (at 0.9 a near-uniform policy on one
    CPU stayed above it and the coefficient never moved)."""
    mechanisms = ("explore.uniform_mix=0.3", "explore.entropy_floor=0.9999", "explore.prior_kl_coef=0.05",
                  "agent.policy.calibration=premise")  # fmt: skip
    whole = run_cli(*small_run(tiny_model_dir, tmp_path / "whole", *mechanisms), cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr[-3000:]
    args = small_run(tiny_model_dir, tmp_path / "run", *mechanisms)
    proc = start(args, tmp_path)
    wait_for_checkpoint(tmp_path / "run", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    resumed = run_cli(*args, cwd=tmp_path)
    assert resumed.returncode == 0 and "Resuming" in resumed.stdout, resumed.stderr[-3000:]
    same_results(tmp_path / "whole", tmp_path / "run")
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    assert metrics["losses/ent_coef"].nunique() > 1 and metrics["charts/uniform_mix"].is_monotonic_decreasing


def test_calibration_offsets_against_plain_transformers(tiny_model_dir):
    """The offset of an action is its word-normalized log-likelihood after the prompt's closing phrase alone, as
    plain transformers computes it; the calibrated policy's logits are the plain ones minus the offsets."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from twosome.agents.observation import ObsBatch
    from twosome.agents.twosome import TwosomeAgent
    from twosome.lm.loading import load_lm
    from twosome.scoring.calibration import closing_phrase

    prompt = "You see a red apple. It is on the table. You should"
    actions = ["take the red apple", "take the green apple", "wait"]
    assert closing_phrase(prompt) == "You should" and closing_phrase("Goal: go\n Action 0: ") == "Action 0: "
    model = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))

    def direct(phrase: str, action: str) -> float:
        before = tokenizer(phrase)["input_ids"]
        whole = tokenizer(phrase + " " + action)["input_ids"]
        assert whole[: len(before)] == before
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([whole])).logits[0].float(), -1)
        return sum(logp[i - 1, whole[i]].item() for i in range(len(before), len(whole))) / len(action.split())

    lm, tok = load_lm(str(tiny_model_dir))
    calibrated, plain = TwosomeAgent(lm, tok, calibration="premise"), TwosomeAgent(*load_lm(str(tiny_model_dir)))
    obs = ObsBatch([prompt], [list(actions)], torch.ones(1, 3, dtype=torch.bool))
    with torch.no_grad():
        got, raw = calibrated.distribution(obs).logits, plain.distribution(obs).logits
        reference = calibrated.reference_distribution(obs).logits
    offsets = torch.tensor([direct("You should", a) for a in actions])
    torch.testing.assert_close(torch.tensor(list(calibrated.calibration.known.values())), offsets, atol=1e-4, rtol=0)
    shift = lambda x: x - x.logsumexp(-1, keepdim=True)  # noqa: E731  (logits up to a constant)
    torch.testing.assert_close(shift(got), shift(raw - offsets), atol=1e-4, rtol=0)
    torch.testing.assert_close(shift(reference), shift(got), atol=1e-5, rtol=0)  # untrained: the same policy


def test_the_calibrations_the_config_check_knows_are_the_scorers():
    from twosome.config.schema import CALIBRATIONS
    from twosome.scoring.calibration import CALIBRATIONS as SCORER_CALIBRATIONS

    assert CALIBRATIONS == SCORER_CALIBRATIONS


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["explore.uniform_mix=1.0"], "explore.uniform_mix=1.0 is not valid"),
        (["explore.entropy_floor=nan"], "explore.entropy_floor"),
        (["explore.prior_kl_coef=-1"], "explore.prior_kl_coef=-1.0 is not valid"),
        (
            ["agent.policy.calibration=pmi"],
            "agent.policy.calibration='pmi' is not valid; valid: \\['none', 'premise'\\]",
        ),
        (["algo=poad", "explore.uniform_mix=0.1"], "trains the tokens of the chosen action"),
        (["agent=ppo", "explore.prior_kl_coef=0.1"], "needs an agent with an untrained reference policy"),
        (["algo=gigpo", "algo.kl_coef=0.1", "explore.prior_kl_coef=0.1"], "the same KL term"),
        (["explore.entropy_floor=0.5", "ppo.ent_coef=0"], "valid: ppo.ent_coef > 0 with an entropy floor"),
        (["agent=random", "explore.uniform_mix=0.1"], "does not train"),
    ],
)
def test_exploration_settings_are_refused_where_they_do_not_apply_before_anything_is_written(overrides, message):
    with pytest.raises(ConfigError, match=message):
        validate(compose_cfg(*overrides))


def test_the_mechanisms_compose_with_ppo_and_gigpo():
    validate(compose_cfg("explore.uniform_mix=0.2", "explore.entropy_floor=0.5", "explore.prior_kl_coef=0.1"))
    validate(compose_cfg("algo=gigpo", "explore.uniform_mix=0.2", "agent.policy.calibration=premise"))


def test_a_run_written_before_the_exploration_settings_resumes_with_them_off(tmp_path):
    """A run's config.yaml from before ``explore`` and ``agent.policy.calibration`` existed is the same run as a
    new command's with them at their defaults (so campaigns resume across the change), and not one with them on."""
    from omegaconf import OmegaConf

    from twosome.config.run_config import config_changes, with_omitted_defaults

    new = OmegaConf.to_container(compose_cfg(), resolve=True)
    old = {k: v for k, v in new.items() if k != "explore"}
    old["agent"] = {**old["agent"], "policy": {k: v for k, v in old["agent"]["policy"].items() if k != "calibration"}}
    old = OmegaConf.to_container(with_omitted_defaults(OmegaConf.create(old)))
    assert config_changes(old, new) == []
    on = OmegaConf.to_container(compose_cfg("explore.uniform_mix=0.1"), resolve=True)
    assert config_changes(old, on) == ["explore.uniform_mix: 0.0 -> 0.1"]


def test_the_exploration_figure_draws_each_arm_and_leaves_superseded_runs_out(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "analysis"))
    from exploration_figure import arms, draw

    for arm in ("baseline", "uniform_mix_0.1", "superseded/old"):
        for seed in (0, 1):
            run = tmp_path / arm / f"run-s{seed}"
            run.mkdir(parents=True)
            (run / "summary.json").write_text("{}")
            steps = [128, 256, 384]
            columns = {"explore/entropy_fraction": [0.9, 0.8, 0.7 - 0.1 * seed], "explore/optimal_prob_mean": [0.2] * 3}
            pd.DataFrame({"global_step": steps, **columns}).to_csv(run / "metrics.csv", index=False)
    (tmp_path / "baseline" / "unfinished").mkdir()
    pd.DataFrame({"global_step": [128]}).to_csv(tmp_path / "baseline" / "unfinished" / "metrics.csv", index=False)
    found = arms(tmp_path)
    assert sorted(found) == ["baseline", "uniform_mix_0.1"] and [len(r) for r in found.values()] == [2, 2]
    draw(tmp_path, tmp_path / "figure.png")
    assert (tmp_path / "figure.png").stat().st_size > 10_000
    draw(tmp_path, tmp_path / "rows.png", by_row=True)  # one row of panels per arm: twice the height
    from PIL import Image

    assert Image.open(tmp_path / "rows.png").size[1] > 1.8 * Image.open(tmp_path / "figure.png").size[1]
