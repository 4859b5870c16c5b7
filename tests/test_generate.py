"""agent=generate: generated text is matched to a valid action after normalization, an invalid decision
does nothing in the environment and is counted, bad limits are refused before anything is written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from helpers import NO_SAMPLED_EPISODES

from twosome.agents.generate import GenerateAgent, lenient_match, match_action, normalize_action_text
from twosome.envs.invalid import INVALID_ACTION, InvalidAsNoOp
from twosome.training.evaluation import evaluate
from twosome.training.vector_env import make_vector_env

ROOT = Path(__file__).resolve().parent.parent
ACTIONS = ["pick up the tomato", "take the bowl", "walk to the cutting board", "serve nothing", "chop nothing"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("pick up the tomato", 0),
        ("Pick up  the Tomato.", 0),  # case, spaces, final punctuation
        ("pick up tomato", 0),  # articles
        ("  take a bowl!", 1),
        ("walk to the cutting board and chop", None),  # more than the action
        ("pick up the cucumber", None),  # an object that is not there
        ("cut the tomato into 2 pieces.", None),  # what SmolLM2 writes on Tomato Salad
        ("", None),
    ],
)
def test_a_text_names_the_valid_action_it_equals_after_normalization(text, expected):
    assert match_action(text, ACTIONS) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("pick up the bowl.", 0),  # a paraphrase: the strict match refuses it; the object outweighs "pick up"
        ("Take the bowl", 0),  # what the strict match takes, the lenient one takes too
        ("cut the tomato into 2 pieces.", 1),
        ("put the tomato in the bowl", None),  # shares a word with two actions equally: unreadable
        ("Thanks!", None),
        ("open the microwave.", None),  # names no offered action's object
        ("walk to the table", None),  # its one action is masked here
    ],
)
def test_the_lenient_reading_maps_a_text_to_the_one_valid_action_it_shares_most_words_with(text, expected):
    actions, mask = ["take the bowl", "take the tomato", "walk to the table", "pick up the onion"], [1, 1, 0, 1]
    assert lenient_match(text, actions, mask) == expected
    if match_action(text, actions, mask) is not None:
        assert lenient_match(text, actions, mask) == match_action(text, actions, mask)


def test_a_masked_action_is_not_matched_and_normalization_keeps_words():
    assert match_action("take the bowl", ACTIONS, [True, False, True, True, True]) is None
    assert normalize_action_text("The theatre, an answer.") == "theatre, answer"  # whole words; inner commas kept


def test_an_invalid_decision_does_nothing_and_a_run_of_them_ends_the_episode():
    """Random play with invalid decisions interleaved gives the unwrapped environment's trajectory exactly."""
    env_id = "twosome/Overcooked-TomatoSalad-v0"
    plain, wrapped = gym.make(env_id), InvalidAsNoOp(gym.make(env_id), reward=-0.5, max_in_a_row=2)
    assert wrapped.action_space.n == plain.action_space.n + 1
    _, info = plain.reset(seed=3)
    _, winfo = wrapped.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(20):
        obs, reward, terminated, truncated, info2 = wrapped.step(wrapped.n)  # invalid: nothing happens
        assert (reward, terminated, truncated, info2[INVALID_ACTION]) == (-0.5, False, False, True)
        assert info2["prompt"] == winfo["prompt"] and info2["primitive_steps"] == 1 and not info2["success"]
        a = int(rng.choice(np.flatnonzero(info["action_mask"])))
        step, wstep = plain.step(a), wrapped.step(a)
        np.testing.assert_array_equal(step[0], wstep[0])
        assert step[1:4] == wstep[1:4] and step[4]["prompt"] == wstep[4]["prompt"] and not wstep[4][INVALID_ACTION]
        info, winfo = step[4], wstep[4]
        if step[2] or step[3]:
            _, info = plain.reset(seed=4)
            _, winfo = wrapped.reset(seed=4)
    wrapped.step(wrapped.n)
    assert wrapped.step(wrapped.n)[3]  # the second invalid decision in a row truncates
    with pytest.raises(ValueError, match="max_in_a_row=0 is not valid"):
        InvalidAsNoOp(gym.make(env_id), max_in_a_row=0)


class Scripted(GenerateAgent):
    """The agent's accounting with the LM's texts given: even decisions name a valid action, odd ones do not."""

    calls = 0

    def generate(self, prompts):
        self.calls += 1
        return ["Walk to the cutting board." if self.calls % 2 else "dance" for _ in prompts]


def test_invalid_decisions_are_counted_in_the_episodes_and_the_report(tiny_model_dir):
    from twosome.lm.loading import load_lm

    lm, tok = load_lm(str(tiny_model_dir), None, "float32", None)
    agent = Scripted(lm, tok)
    envs = make_vector_env("twosome/Overcooked-TomatoSalad-v0", 1, invalid_action={"max_in_a_row": 3})
    records = evaluate(agent, envs, episodes=2, gamma=0.99, seed=0, deterministic=True)
    assert all("invalid_actions" in r for r in records)
    decisions = sum(r["episodic_length"] for r in records)
    invalid = sum(r["invalid_actions"] for r in records)
    assert agent.report()["generate/top_invalid_texts"] == [["dance", invalid]]
    assert agent.report()["generate/lenient_invalid_rate"] == agent.report()["generate/invalid_rate"]  # no shared word
    assert 0 < invalid < decisions and agent.texts.decisions >= decisions


def test_greedy_texts_are_written_once_per_prompt_and_equal_a_generation_alone(tiny_model_dir):
    """A task that starts every episode in one state asks one prompt hundreds of times: greedy decoding writes it
    once, alone, and the memo returns what a generation of that prompt alone writes; sampling is never memoized."""
    from twosome.agents.generate import generate_actions
    from twosome.lm.loading import load_lm

    lm, tok = load_lm(str(tiny_model_dir), None, "float32", None)
    agent, written = GenerateAgent(lm, tok, max_new_tokens=6), []
    generate = agent._generate
    agent._generate = lambda prompts: written.append(list(prompts)) or generate(prompts)
    prompts = ["You are in the kitchen. Your next step is to", "You hold a bowl. Your next step is to"]
    texts = agent.generate([prompts[0], prompts[1], prompts[0]]) + agent.generate([prompts[1]])
    assert written == [[prompts[0]], [prompts[1]]]
    alone = [generate_actions(lm, tok, [p], 6, False, 1.0).texts[0] for p in prompts]
    assert texts == [alone[0], alone[1], alone[0], alone[1]]
    sampler, calls = GenerateAgent(lm, tok, max_new_tokens=6, decoding="sample"), []
    sample = sampler._generate
    sampler._generate = lambda prompts: calls.append(len(prompts)) or sample(prompts)
    sampler.generate([prompts[0], prompts[0]])
    sampler.generate([prompts[0]])
    assert calls == [2, 1]


def test_an_adapter_is_loaded_and_a_directory_without_one_is_refused(tiny_model_dir, tmp_path):
    from peft import LoraConfig, PeftModel, get_peft_model

    from twosome.lm.loading import load_lm

    lm, tok = load_lm(str(tiny_model_dir), None, "float32", None)
    get_peft_model(lm, LoraConfig(r=2, target_modules=["q_proj", "v_proj"])).save_pretrained(tmp_path / "adapter")
    lm, tok = load_lm(str(tiny_model_dir), None, "float32", None)
    assert isinstance(GenerateAgent(lm, tok, adapter=str(tmp_path / "adapter")).lm, PeftModel)
    with pytest.raises(ValueError, match="holds no adapter_config.json"):
        GenerateAgent(lm, tok, adapter=str(tmp_path))


def run(*overrides: str, cwd: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(ROOT / "src" / "run.py"), NO_SAMPLED_EPISODES, "agent=generate", "env=overcooked"]
    cmd += overrides
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_a_zero_shot_generation_run_writes_its_misalignment(tiny_model_dir, tmp_path):
    result = run(f"model.path={tiny_model_dir}", "model.build=null", "eval.episodes=2",
                 "eval.final_sampled_episodes=2", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    for prefix in ("eval", "sampled"):
        assert 0 <= summary[f"{prefix}/invalid_action_rate"] <= 1
    assert summary["generate/decisions"] >= summary["eval/episodes"]
    assert 0 <= summary["generate/lenient_invalid_rate"] <= summary["generate/invalid_rate"]
    counted = sum(c for _, c in summary["generate/top_invalid_texts"])
    assert counted <= round(summary["generate/invalid_rate"] * summary["generate/decisions"])


@pytest.mark.parametrize(
    "override, message",
    [
        ("agent.policy.max_new_tokens=0", "agent.policy.max_new_tokens=0 is not valid; valid: an integer >= 1"),
        ("agent.max_invalid_in_a_row=0", "agent.max_invalid_in_a_row=0 is not valid; valid: an integer >= 1"),
        ("agent.policy.temperature=0", "agent.policy.temperature=0 is not valid; valid: > 0"),
        ("agent.policy.decoding=beam", "agent.policy.decoding='beam' is not valid; valid: ['greedy', 'sample']"),
    ],
)
def test_bad_generation_limits_are_refused_before_anything_is_written(tiny_model_dir, tmp_path, override, message):
    result = run(override, f"model.path={tiny_model_dir}", "model.build=null", f"hydra.run.dir={tmp_path / 'run'}",
                 cwd=tmp_path)  # fmt: skip
    assert result.returncode != 0 and message in result.stderr + result.stdout
    assert not (tmp_path / "run" / "summary.json").exists() and not (tmp_path / "run" / "status.json").exists()


def test_sampled_generation_follows_the_seed(tiny_model_dir):
    from twosome.lm.loading import load_lm

    lm, tok = load_lm(str(tiny_model_dir), None, "float32", None)
    agent = GenerateAgent(lm, tok, decoding="sample", max_new_tokens=6)
    texts = []
    for _ in range(2):
        torch.manual_seed(0)
        texts.append(agent.generate(["You notice a tomato on the table. You should first"] * 3))
    assert texts[0] == texts[1]


def test_a_tracker_from_a_checkpoint_written_before_invalid_decisions_were_counted_resumes():
    import pickle

    from twosome.training.rollout import EpisodeTracker

    old = EpisodeTracker(gamma=0.9, num_envs=2)
    del old.invalid  # as pickled by a run written before
    tracker = pickle.loads(pickle.dumps(old))
    tracker.add(np.ones(2), np.ones(2), np.array([True, False]), np.array([True, False]))
    assert tracker.pop()[0]["episodic_length"] == 1
