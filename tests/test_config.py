"""Every config group composes, and bad choices or values fail early with a message that lists what is valid."""

from __future__ import annotations

import os
from pathlib import Path

import hydra
import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import MissingConfigException

from twosome.training.build import ConfigError, ppo_config, validate

CONF = Path(__file__).resolve().parent.parent / "conf"
GROUPS = [
    d.name for d in CONF.iterdir() if d.is_dir() and d.name not in ("hydra", "experiment", "compare", "generalization")
]


def compose_cfg(*overrides):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("train", overrides=list(overrides))


@pytest.mark.parametrize(
    "group,choice",
    [(g, f.stem) for g in GROUPS for f in sorted((CONF / g).glob("*.yaml"))],
)
def test_every_group_choice_composes_and_validates(group, choice):
    overrides = [f"{group}={choice}"]
    if (group, choice) == ("model", "hf"):
        overrides.append("model.path=/some/local/model")
    cfg = compose_cfg(*overrides)
    validate(cfg)
    assert cfg.run_name


# The original scripts' settings: (model, policy learning rate).
PAPER = {
    "twosome_paper_tomato_salad": ("llama-7b", 5e-7),
    "twosome_paper_tomato_lettuce_salad": ("llama-7b", 5e-7),
    "twosome_paper_food_preparation": ("llama-7b", 1e-6),
    "twosome_paper_entertainment": ("llama-7b", 1e-6),
    "glam_paper_babyai": ("flan-t5", 1e-6),
}


@pytest.mark.parametrize("experiment", sorted(f.stem for f in (CONF / "experiment").glob("*.yaml")))
def test_experiment_presets_compose(experiment):
    cfg = compose_cfg(f"experiment={experiment}")
    validate(cfg)
    assert (cfg.model.name, cfg.ppo.policy_lr) == pytest.approx(PAPER[experiment])


def test_default_is_the_main_job():
    cfg = compose_cfg()
    assert (cfg.agent.name, cfg.norm.mode, cfg.env.id, cfg.model.name) == (
        "twosome",
        "word",
        "twosome/Overcooked-TomatoSalad-v0",
        "tiny-household",
    )
    assert compose_cfg("env.task=tomato_lettuce_salad").env.id == "twosome/Overcooked-TomatoLettuceSalad-v0"


def test_unknown_group_choice_lists_the_options():
    with pytest.raises(MissingConfigException, match="Available options") as err:
        compose_cfg("norm=words")
    assert "word" in str(err.value) and "token" in str(err.value)


@pytest.mark.parametrize(
    "override,message",
    [
        ("env.task=pasta", "env.task='pasta' is not valid; valid: \\['tomato_lettuce_salad', 'tomato_salad'\\]"),
        ("env.id=twosome/Nope-v0", "env.id='twosome/Nope-v0' is not valid; valid: \\[.*Overcooked-TomatoSalad-v0"),
        ("norm.mode=sum", "norm.mode='sum' is not valid; valid: \\['none', 'token', 'word'\\]"),
        ("model.dtype=fp8", "model.dtype='fp8' is not valid"),
        ("seed=abc", "seed='abc' is not valid; valid: an integer"),
        ("ppo.gamma=1.5", "invalid PPO settings \\['gamma'\\]"),
        ("ppo.policy_minibatch_size=1000", "invalid PPO settings \\['policy_minibatch_size'\\]"),
        ("+ppo.learning_rate=0.1", "unexpected keyword argument 'learning_rate'.*valid keys"),
        ("eval.episodes=0", "eval.episodes=0 is not valid"),
    ],
)
def test_bad_values_fail_with_clear_messages(override, message):
    cfg = compose_cfg(override)
    with pytest.raises(ConfigError, match=message):
        validate(cfg)


def test_missing_model_directory_is_a_clear_error(tmp_path):
    from twosome.lm.loading import load_lm

    with pytest.raises(FileNotFoundError, match="not a Hugging Face model directory"):
        load_lm(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="model.build='gpt5' is not a known recipe"):
        load_lm(str(tmp_path / "x"), build="gpt5")


def test_ppo_batch_arithmetic():
    cfg = compose_cfg("ppo=twosome_overcooked")
    ppo = ppo_config(cfg)
    assert ppo.batch_size == 128
    assert ppo.policy_minibatch_size // ppo.policy_chunk_size == 8  # TWOSOME's gradient accumulation
    assert ppo.num_updates == 500_000 // 128
    assert os.environ.get("TWOSOME_ROOT")


@pytest.mark.parametrize("agent", ["twosome", "zeroshot", "glam", "saycan"])
def test_the_config_records_every_setting_that_shapes_the_saved_weights(agent):
    """Issue 15.14: the critic's activation and bias came from code defaults, so a saved head would reload wrongly
    once they changed. Every constructor argument but the model, the tokenizer and cache sizes is in config.yaml."""
    import inspect

    cfg = compose_cfg(f"agent={agent}")
    cls = hydra.utils.get_class(cfg.agent.policy._target_)
    not_settings = {"self", "lm", "tokenizer", "obs_dim", "n_actions", "feature_cache_size", "cache_size"}
    arguments = set(inspect.signature(cls.__init__).parameters) - not_settings
    assert arguments <= set(cfg.agent.policy), sorted(arguments - set(cfg.agent.policy))


def test_the_readme_config_table_lists_every_choice():
    """Issue 15.12: the README's table missed babyai_text, glam and the T5 models."""
    readme = (CONF.parent / "README.md").read_text()
    rows = {}
    for line in readme.splitlines():
        cells = line.split(" | ")
        if line.startswith("| `") and len(cells) >= 2:
            rows[cells[0].strip("| `")] = cells[1]
    for group in ("env", "norm", "agent", "model", "ppo", "trainer", "experiment"):
        missing = [f.stem for f in (CONF / group).glob("*.yaml") if f"`{f.stem}`" not in rows[group]]
        assert not missing, (group, missing)


def test_the_light_config_module_agrees_with_the_modules_it_stands_in_for():
    """twosome.config validates without importing torch (fast --help and config errors): its names must stay those
    the heavy modules accept."""
    import twosome.config as light
    from twosome.lm.loading import DTYPES
    from twosome.scoring import NORMALIZATIONS

    assert light.NORMALIZATIONS == NORMALIZATIONS
    assert set(light.DTYPES) == set(DTYPES)
