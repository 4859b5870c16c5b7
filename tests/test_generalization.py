"""Unseen-task evaluation: trained agents reload from their run directories; vector-only agents are marked n/a."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf
from toy_env import register, register_text, register_unseen

from twosome.evaluation.generalization import generalization, load_run
from twosome.training.train import train
from twosome.training.vector_env import make_vector_env, to_obs_batch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "analysis"))
import generalization_table  # noqa: E402
from helpers import compose_cfg, count_evaluations, fake_run, toy_config


def test_generalization_rows_reload_agents_and_mark_what_cannot_transfer(tmp_path, tiny_model_dir):
    seen, unseen = register(), register_unseen()
    short = ["rollout.total_env_steps=128", "rollout.num_steps=32", "eval.every_updates=0", "eval.episodes=4"]
    mb = ["ppo.value_minibatch_size=32", "ppo.policy_minibatch_size=32", "ppo.policy_chunk_size=32"]
    train(toy_config(tmp_path, "agent=ppo", *short, *mb), run_dir=tmp_path / "ppo", enable_progress_bar=False)
    lm = [f"model.path={tiny_model_dir}", "model.build=null", "ppo.policy_lr=1e-2"]
    train(toy_config(tmp_path, *lm, *short), run_dir=tmp_path / "twosome", enable_progress_bar=False)

    # The trained TWOSOME agent reloads with its adapter; its untrained twin does not have it.
    envs = make_vector_env(unseen, 2)
    batch = to_obs_batch(*envs.reset(seed=0))
    with torch.no_grad():
        trained = load_run(tmp_path / "twosome")[1].distribution(batch).probs
        untrained = load_run(tmp_path / "twosome", untrained=True)[1].distribution(batch).probs
    assert not torch.allclose(trained, untrained)

    table = generalization([tmp_path / "ppo", tmp_path / "twosome"], [seen, unseen], episodes=6)
    got = {(r.agent, r.task): r for r in table.itertuples()}
    assert set(got) == {(a, t) for a in ("ppo", "twosome", "zeroshot") for t in (seen, unseen)}
    assert not got[("ppo", unseen)].applicable and "symbolic vector" in got[("ppo", unseen)].note
    for key, row in got.items():
        if key != ("ppo", unseen):
            assert row.applicable and row.episodes == 6 and 0.0 <= row.success_rate <= 1.0

    csv = tmp_path / "generalization.csv"
    table.to_csv(csv, index=False)
    generalization_table.main([str(csv), "--out", str(tmp_path / "table")])
    summary = pd.read_csv(tmp_path / "table.csv")
    assert len(summary) == 6
    md = (tmp_path / "table.md").read_text()
    assert "n/a (reads only the symbolic vector" in md
    assert (tmp_path / "table.png").stat().st_size > 0


def test_an_environment_built_by_the_recipe_without_a_vector_trains_and_generalizes(tmp_path, tiny_model_dir):
    """docs/EXTENDING.md's environment recipe for the case it recommends, a text-only environment: TWOSOME trains
    on it, and the generalization evaluation reloads the run (and its untrained twin) on an unseen text-only task."""
    seen, unseen = register_text(), register_text(("red", "green", "blue"))
    short = ["rollout.total_env_steps=128", "rollout.num_steps=32", "eval.every_updates=0", "eval.episodes=4"]
    lm = [f"model.path={tiny_model_dir}", "model.build=null", f"env.id={seen}"]
    train(toy_config(tmp_path, *lm, *short), run_dir=tmp_path / "twosome", enable_progress_bar=False)
    table = generalization([tmp_path / "twosome"], [seen, unseen], episodes=4)
    assert set(zip(table.agent, table.task)) == {(a, t) for a in ("twosome", "zeroshot") for t in (seen, unseen)}
    assert table.applicable.all() and (table.episodes == 4).all()
    from twosome.config import ConfigError, validate
    from twosome.evaluation.generalization import not_applicable_reason

    with pytest.raises(ConfigError, match=f"agent=ppo reads the symbolic observation vector, and {seen} provides none"):
        validate(toy_config(tmp_path, f"env.id={seen}", "agent=ppo"))
    saycan = OmegaConf.create({"uses_vectors": True, "uses_lm": True})
    reason = not_applicable_reason(saycan, register(), unseen, {"obs_dim": 2, "n_actions": 2})
    assert reason == "affordance reads the symbolic vector; this task has none (text only)"


def test_every_suite_lists_registered_tasks_including_its_training_task():
    import gymnasium as gym
    from omegaconf import OmegaConf

    from twosome.evaluation.generalization import SUITES, suites

    assert {"virtualhome_food", "virtualhome_entertainment", "glam_babyai"} <= set(suites())
    for name in suites():
        suite = OmegaConf.load(SUITES / f"{name}.yaml")
        if all(t.startswith("@") for t in suite.tasks):
            continue  # each run's own task (prompt_robustness): no training task of its own
        assert suite.trained_on in suite.tasks
        assert all(t in gym.registry for t in suite.tasks), name


def test_cli_needs_one_of_tasks_or_suite_run_directories_and_known_tasks_before_writing(tmp_path, capsys):
    import pytest

    from twosome.evaluation.generalization import main

    for argv in ([str(tmp_path)], [str(tmp_path), "--suite", "glam_babyai", "--tasks", "x"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "either --tasks or --suite" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--suite", "nope"])
    assert "unknown suite 'nope'; valid: " in capsys.readouterr().err
    # A path that is not a run and a task that is not registered: refused before --out is made
    out = tmp_path / "out"
    for argv, message in (
        ([str(tmp_path), "--suite", "glam_babyai"], "has no config.yaml: is it a run directory"),
        ([str(tmp_path), "--tasks", "nope/Env-v0"], "unknown task ids ['nope/Env-v0']; valid: "),
    ):
        with pytest.raises(SystemExit):
            main([*argv, "--out", str(out)])
        assert message in capsys.readouterr().err and not out.exists()


def test_a_run_with_damaged_weights_is_refused_before_out_or_its_lock_is_made(tmp_path, capsys):
    """The damaged weights were found after ``--out`` and its lock were made: the refusal left ``--out/.lock``."""
    import json

    from twosome.evaluation.generalization import main

    run = tmp_path / "run"
    run.mkdir()
    cfg = compose_cfg("agent=drrn", f"paths.root_dir={tmp_path}")
    (run / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    (run / "weights.pt").write_bytes(b"half")
    saved = {"weights.pt": {"bytes": 8, "sha256": "0" * 64}}
    (run / "summary.json").write_text(
        json.dumps({"run_name": cfg.run_name, "saved": ["weights.pt"], "saved_files": saved})
    )
    out = tmp_path / "out"
    with pytest.raises(SystemExit):
        main([str(run), "--tasks", "twosome/Overcooked-TomatoSalad-v0", "--episodes", "1", "--out", str(out)])
    assert "weights.pt (4 bytes, 8 written)" in capsys.readouterr().err
    assert not out.exists()


def test_table_tells_models_apart_and_gives_success_relative_to_the_training_task(tmp_path):
    import pytest

    def row(model, task, success):
        return dict(
            run=model,
            agent="glam",
            norm="none",
            model=model,
            seed=0,
            train_task="twosome/A-v0",
            task=task,
            applicable=True,
            note="",
            success_rate=success,
            success_se=0.1,
            return_mean=1.0,
            episodes=10,
        )

    rows = pd.DataFrame(
        [
            row("lm", "twosome/A-v0", 0.8),
            row("lm", "twosome/B-v0", 0.2),
            row("lm-random", "twosome/A-v0", 0.5),
            row("lm-random", "twosome/B-v0", 0.5),
        ]
    )
    summary = generalization_table.summarize(rows).set_index(["agent", "task"])
    assert summary.loc[("glam [lm]", "B"), "relative"] == -0.75  # 0.2 / 0.8 - 1
    assert summary.loc[("glam [lm-random]", "B"), "relative"] == 0.0
    assert "0.20 [0.06, 0.51] (1 seed, 10 episodes, Wilson) (-75%)" in generalization_table.markdown(
        summary.reset_index()
    )

    # Evaluations written by separate commands (a trained agent, a random baseline) join into one table.
    rows.iloc[:2].to_csv(tmp_path / "a.csv", index=False)
    rows.iloc[2:].to_csv(tmp_path / "b.csv", index=False)
    generalization_table.main([str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--out", str(tmp_path / "t")])
    joined = pd.read_csv(tmp_path / "t.csv").set_index(["agent", "task"])
    single = generalization_table.summarize(rows).drop(columns="note")
    pd.testing.assert_frame_equal(joined.reset_index().drop(columns="note"), single, check_dtype=False, check_like=True)
    with pytest.raises(SystemExit, match="more than once"):
        generalization_table.main([str(tmp_path / "a.csv"), str(tmp_path / "a.csv"), "--out", str(tmp_path / "t")])
    # Joined tables go where they are told; one input's table goes beside it, not into a shared default folder.
    with pytest.raises(SystemExit, match="say where the joined table goes with --out"):
        generalization_table.main([str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    (tmp_path / "alone").mkdir()
    rows.to_csv(tmp_path / "alone" / "generalization.csv", index=False)
    generalization_table.main([str(tmp_path / "alone" / "generalization.csv")])
    assert (tmp_path / "alone" / "table.csv").is_file() and (tmp_path / "alone" / "table.png").is_file()


def test_table_keeps_agents_of_different_algorithms_apart():
    """The same agent trained by PPO and by GiGPO is two agents, not one pooled row; untrained twins carry no
    algorithm and files from before the column still read."""

    def row(run, algorithm, success):
        return dict(
            run=run,
            agent="twosome (word)",
            norm="word",
            model="m",
            algorithm=algorithm,
            seed=0,
            train_task="twosome/A-v0",
            task="twosome/A-v0",
            applicable=True,
            note="",
            success_rate=success,
            success_se=0.0,
            return_mean=1.0,
            episodes=10,
        )

    rows = pd.DataFrame([row("p", "PPO", 1.0), row("g", "GiGPO", 0.0), row("u", "", 0.5)])
    summary = generalization_table.summarize(rows).set_index("agent")["success_rate"]
    assert summary.to_dict() == {"twosome (word) [PPO]": 1.0, "twosome (word) [GiGPO]": 0.0, "twosome (word)": 0.5}
    older = generalization_table.summarize(rows.drop(columns="algorithm").iloc[:1])
    assert older["agent"].tolist() == ["twosome (word)"]


def test_the_uniform_random_agent_is_evaluated_on_every_task(tmp_path):
    """The random baseline has no trained weights to load: its run directory still evaluates (a chance row per
    task, e.g. beside GLAM's robustness settings)."""
    seen, unseen = register(), register_unseen()
    train(
        toy_config(tmp_path, "agent=random", "eval.episodes=2"), run_dir=tmp_path / "random", enable_progress_bar=False
    )
    table = generalization([tmp_path / "random"], [seen, unseen], episodes=4)
    assert list(table.agent) == ["random", "random"] and table.applicable.all() and (table.episodes == 4).all()
    assert (table.model == "").all()  # it reads no text


def test_an_evaluation_only_run_of_an_lm_agent_is_evaluated_as_built(tmp_path, tiny_model_dir):
    """A zero-shot run saved no adapter (it trained nothing): evaluating its directory used to fail looking for one."""
    seen = register()
    cfg = toy_config(tmp_path, "agent=zeroshot", f"model.path={tiny_model_dir}", "model.build=null", "eval.episodes=2")
    train(cfg, run_dir=tmp_path / "zeroshot", enable_progress_bar=False)
    assert not (tmp_path / "zeroshot" / "adapter").exists()
    table = generalization([tmp_path / "zeroshot"], [seen], episodes=2)
    assert list(table.agent) == ["zeroshot"] and table.applicable.all() and (table.episodes == 2).all()


# --- Faults (docs/RELIABILITY.md) ----------------------------------------------------------------------------------
def test_saycan_is_not_applicable_where_the_action_count_differs():
    """SayCan's affordance head outputs one value per action of its training task: BabyAI-Text's 3- and 9-action
    settings keep the vector's size, and used to crash with a tensor-size mismatch on every rerun."""
    from omegaconf import OmegaConf

    from twosome.config import AgentConfig, EnvConfig
    from twosome.evaluation.generalization import not_applicable_reason, spaces_of
    from twosome.training.build import env_spaces

    saycan = OmegaConf.to_object(
        OmegaConf.merge(
            OmegaConf.structured(AgentConfig),
            {"name": "saycan", "run_label": "x", "uses_lm": True, "uses_vectors": True},
        )
    )
    train_env = "twosome/BabyAI-GoTo-v0"
    trained = env_spaces(EnvConfig(id=train_env))
    assert trained == spaces_of(train_env) and trained["n_actions"] == 6
    for task, n in [("twosome/BabyAI-GoTo-Navigation3-v0", 3), ("twosome/BabyAI-GoTo-Useless9-v0", 9)]:
        assert spaces_of(task)["obs_dim"] == trained["obs_dim"]  # what the old check compared
        assert (
            not_applicable_reason(saycan, train_env, task, trained) == f"affordance scores 6 actions; this task has {n}"
        )
    assert not_applicable_reason(saycan, train_env, "twosome/BabyAI-GoTo-Distractors4-v0", trained) is None


def test_prompt_robustness_evaluates_each_run_on_its_own_task_in_every_wording(tmp_path, monkeypatch):
    """``@*`` (prompt sensitivity): the run's training task in each wording of its family, each a row of its own."""
    from twosome.envs.wording import names
    from twosome.evaluation.generalization import generalization

    env_id = "twosome/Overcooked-TomatoSalad-v0"
    run = fake_run(tmp_path, monkeypatch, {"name": "twosome"}, env_id)
    calls = count_evaluations(monkeypatch)
    table = generalization([run], ["@*", "@plain"], episodes=2, with_untrained=False)
    wordings = [w for w in names(env_id) if w != "random"]
    assert calls == [f"{env_id}@{w}" for w in [*wordings, "plain"]]
    assert list(table.wording) == [*wordings, "plain"] and table.applicable.all()
    assert set(table.train_wording) == {"canonical"}  # the wording the run trained on (a run from before: canonical)
    with pytest.raises(ValueError, match="unknown wording in 'twosome/Overcooked-TomatoSalad-v0@nope'"):
        generalization([run], [f"{env_id}@nope"], episodes=2)


def test_an_evaluation_in_a_wording_shows_the_agent_that_wording():
    import torch

    from twosome.agents.random_agent import UniformRandomAgent
    from twosome.evaluation.generalization import evaluate_on

    class Reading(UniformRandomAgent):
        prompts: list[str] = []

        def distribution(self, obs):
            self.prompts += obs.prompts
            return super().distribution(obs)

    for wording, phrase in (("canonical", "You notice"), ("plain", "You see")):
        agent = Reading()
        agent.prompts = []
        with torch.no_grad():
            evaluate_on(agent, f"twosome/Overcooked-TomatoSalad-v0@{wording}", 2, 0.99, 0, 2, greedy=False)
        assert phrase in agent.prompts[0]


def test_a_shuffled_order_is_not_applicable_to_an_agent_that_scores_action_indices():
    from omegaconf import OmegaConf

    from twosome.config import AgentConfig
    from twosome.evaluation.generalization import not_applicable_reason

    def agent(vectors: bool):
        meta = {"name": "a", "run_label": "x", "uses_lm": True, "uses_vectors": vectors}
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(AgentConfig), meta))

    env_id = "twosome/Overcooked-TomatoSalad-v0"
    spaces = {"obs_dim": 0, "n_actions": 0}
    assert "shuffled order" in not_applicable_reason(agent(True), env_id, f"{env_id}@shuffled", spaces)
    assert not_applicable_reason(agent(False), env_id, f"{env_id}@shuffled", spaces) is None
    assert not_applicable_reason(agent(True), env_id, f"{env_id}@plain", spaces) is None  # text only


def test_the_untrained_twin_is_a_config_capability(tmp_path):
    """``agent.untrained_twin`` decides which runs get a twin (not the agent's name)."""

    from twosome.evaluation.generalization import planned_agents

    twins = {a: bool(compose_cfg(f"agent={a}").agent.untrained_twin) for a in ("twosome", "glam", "zeroshot", "saycan")}
    assert twins == {"twosome": True, "glam": True, "zeroshot": False, "saycan": False}
    for name, expected in (("glam", True), ("saycan", False)):
        run = tmp_path / name
        run.mkdir()
        cfg = OmegaConf.to_container(compose_cfg(f"agent={name}"), resolve=False)
        OmegaConf.save(OmegaConf.create(cfg), run / "config.yaml")
        labels = [label for *_, label, _ in planned_agents([run], with_untrained=True)]
        assert labels == ([name, "zeroshot"] if expected else [name])
