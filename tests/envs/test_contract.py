"""The environment contract: the info helpers, their reader, and idempotent registration."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest

import twosome.envs  # noqa: F401  (registers the ids)
from twosome.envs.babyai_text.tasks import ENTRY_POINT as BABYAI_ENTRY_POINT
from twosome.envs.babyai_text.tasks import TASKS as BABYAI_TASKS
from twosome.envs.contract import (
    DECISION_KEYS,
    STEP_FIELDS,
    StepFields,
    decision_info,
    read_decision,
    read_step,
    read_vector,
    step_info,
    text_space,
)
from twosome.envs.registration import register_envs


def test_a_decision_info_reads_back_as_written():
    actions = ["go left", "go right", "wait"]
    info = decision_info("You see a door. You should", actions, np.array([True, False, True]), mission="open it")
    assert list(info) == [*DECISION_KEYS, "mission"]
    actions.append("later edits do not leak into the info")
    decision = read_decision(info)
    assert decision.prompt == "You see a door. You should"
    assert decision.actions == ["go left", "go right", "wait"]
    assert decision.action_mask.dtype == bool and decision.action_mask.tolist() == [True, False, True]
    assert read_step(info) == StepFields(primitive_steps=1, success=False)  # the defaults, before any step


def test_without_a_mask_every_action_is_valid_and_step_fields_are_added():
    info = step_info(decision_info("p", ["a", "b"]), 6, True, elapsed_steps=9)
    assert info["action_mask"].tolist() == [True, True]
    assert list(info)[3:] == [*STEP_FIELDS, "elapsed_steps"]
    assert read_step(info) == StepFields(primitive_steps=6, success=True) and info["elapsed_steps"] == 9


def test_a_mask_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match=r"action_mask has shape \(3,\); expected \(2,\)"):
        decision_info("p", ["a", "b"], np.ones(3, bool))
    with pytest.raises(ValueError, match="action_mask has 1 entries but there are 2 actions"):
        read_decision({"prompt": "p", "actions": ["a", "b"], "action_mask": [True]})


def test_a_missing_key_is_named_with_the_valid_keys():
    with pytest.raises(ValueError, match="has no 'action_mask'") as err:
        read_decision({"prompt": "p", "actions": ["a"]})
    message = str(err.value)
    assert "['prompt', 'actions', 'action_mask']" in message and "it has ['actions', 'prompt']" in message


def test_a_batched_info_is_read_row_by_row_and_a_row_without_the_key_is_named():
    info = {
        "prompt": np.array(["p0", None], dtype=object),
        "_prompt": np.array([True, False]),
        "actions": np.array([["a", "b"], ["a", "b"]], dtype=object),
        "action_mask": np.array([[True, False], [True, True]]),
    }
    decision = read_decision(info, 0)
    assert (decision.prompt, decision.actions, decision.action_mask.tolist()) == ("p0", ["a", "b"], [True, False])
    with pytest.raises(ValueError, match="the info of env 1 has no 'prompt'"):
        read_decision(info, 1)


def test_numeric_observations_are_vectors_and_text_is_none():
    assert read_vector(np.array([0, 1], np.int64)).dtype == np.float32
    assert read_vector("You see a red apple.") is None
    assert text_space().contains("You see a red apple. You should: take it!")


def test_registration_is_idempotent():
    before = {k: gym.registry[k] for k in BABYAI_TASKS}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # gymnasium warns when it overrides an id
        ids = register_envs(BABYAI_ENTRY_POINT, BABYAI_TASKS)
        register_envs("not.a.module:Env", BABYAI_TASKS)
    assert ids == list(BABYAI_TASKS)
    assert all(gym.registry[k] is before[k] for k in BABYAI_TASKS)


def test_registration_passes_each_id_its_own_kwargs():
    ids = register_envs("twosome.envs.overcooked.env:OvercookedEnv", {"twosome/test-OvercookedTiny-v0": {"task": "x"}})
    try:
        assert gym.spec(ids[0]).kwargs == {"task": "x"}
    finally:
        del gym.registry[ids[0]]
