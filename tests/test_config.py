"""Every config group composes, and bad choices or values fail early with a message that lists what is valid."""

from __future__ import annotations

import math
import os
import re
import shlex

import hydra
import pytest
from helpers import CONF, compose_cfg
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import OmegaConf

from twosome.config import AgentConfig, ConfigError, check_run_dir, load_run_config, run_settings, validate

GROUPS = [d.name for d in CONF.iterdir() if d.is_dir() and d.name not in ("hydra", "experiment")]


@pytest.mark.parametrize(
    "group,choice",
    [(g, f.stem) for g in GROUPS for f in sorted((CONF / g).glob("*.yaml"))],
)
def test_every_group_choice_composes_and_validates(group, choice):
    overrides = [f"{group}={choice}"]
    if (group, choice) == ("model", "hf"):
        overrides.append("model.path=/some/local/model")
    if (group, choice) == ("agent", "generate_rl"):  # trained only by a token-level algorithm (refused otherwise)
        overrides.append("algo=poad")
    cfg = compose_cfg(*overrides)
    if group == "logger" and choice in ("wandb", "mlflow"):
        from importlib.util import find_spec

        if find_spec(choice) is None:  # a tracker not installed is refused, by name (the trackers test)
            with pytest.raises(ConfigError, match=f"needs the package {choice}, which is not installed"):
                validate(cfg)
            return
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
        ("norm.mode=sum", "norm.mode='sum' is not valid; valid: \\['none', 'token', 'word', 'trie'\\]"),
        ("model.dtype=fp8", "model.dtype='fp8' is not valid"),
        ("seed=4294967296", "seed=4294967296 is not valid; valid: an integer from 0"),
        ("rollout.gamma=1.5", "rollout.gamma=1.5 is not valid; valid: 0 < gamma <= 1"),
        (
            "ppo.policy_minibatch_size=1000",
            "ppo.policy_minibatch_size=1000 is not valid; valid: from 1 to the batch size, rollout.num_envs x "
            "rollout.num_steps = 128",
        ),
        ("ppo.policy_chunk_size=0", "ppo.policy_chunk_size=0 is not valid; valid: from 1 to policy_minibatch_size"),
        (
            "+ppo.learning_rate=0.1",
            "ppo.learning_rate: Key 'learning_rate' not in 'PPOConfig'; valid keys: .*policy_lr",
        ),
        ("+agent.uses_llm=true", "agent.uses_llm: Key 'uses_llm' not in 'AgentConfig'; valid keys: .*uses_lm"),
        ("eval.episodes=0", "eval.episodes=0 is not valid; valid: an integer >= 1"),
        ("eval.final_sampled_episodes=-1", "eval.final_sampled_episodes=-1 is not valid; valid: an integer >= 0"),
        (
            "checkpoint.requeue_signals=[SIGFOO]",
            "checkpoint.requeue_signals=\\['SIGFOO'\\] is not valid; valid: signal",
        ),
    ],
)
def test_bad_values_fail_with_clear_messages(override, message):
    cfg = compose_cfg(override)
    with pytest.raises(ConfigError, match=message):
        validate(cfg)


@pytest.mark.parametrize(
    "override,message",
    [
        ("ppo.polcy_lr=1", "Key 'polcy_lr' not in 'PPOConfig'"),
        ("rollout.num_envs=abc", "Value 'abc' of type 'str' could not be converted to Integer"),
        ("rollout.num_envs=2.5", "could not be converted to Integer"),
        ("ppo.anneal_lr=maybe", "Value 'maybe' is not a valid bool"),
        ("eval.episodes=x", "could not be converted to Integer"),
        ("checkpoint.every_updates=a", "could not be converted to Integer"),
        ("agent.uses_llm=true", "Key 'uses_llm' not in 'AgentConfig'"),
        ("seed=abc", "could not be converted to Integer"),
    ],
)
def test_hydra_rejects_wrong_types_and_unknown_keys_at_compose_time(override, message):
    """The schema (twosome.config.schema.TrainConfig) types the settings: Hydra names the key before anything runs."""
    key = override.split("=")[0]
    with pytest.raises(ConfigCompositionException) as err:
        compose_cfg(override)
    text = f"{err.value}\n{err.value.__cause__}"
    assert message in text and key in text, text


# Every PPO preset's values, recorded from the presets as they were when they inherited from ppo=laptop; gamma is
# the environment's (0.99 Overcooked and BabyAI-Text, 0.95 VirtualHome) for every preset.
SHARED = dict(adam_eps=1e-05, anneal_lr=True, clip_coef=0.2, clip_vloss=True, ent_coef=0.01, max_grad_norm=0.5)
SHARED.update(norm_adv=True, vf_coef=0.5)
COLUMNS = "total_env_steps num_envs num_steps gae_lambda update_epochs value_minibatch_size policy_minibatch_size"
COLUMNS += " policy_chunk_size policy_lr value_lr target_kl"
RECORDED = {
    "laptop": (16384, 4, 32, 0.95, 1, 32, 32, 32, 1e-3, 1e-3, 0.02),
    "twosome_overcooked": (500000, 4, 32, 0.95, 1, 32, 32, 4, 5e-7, 1e-5, 0.02),
    "twosome_virtualhome": (50000, 4, 32, 0.95, 1, 32, 32, 4, 1e-6, 5e-5, 0.02),
    "scratch": (100000, 4, 128, 0.95, 4, 128, 128, 128, 2.5e-4, 2.5e-4, None),
    "glam": (1500000, 32, 40, 0.99, 4, 64, 64, 16, 1e-6, 1e-6, None),
}
PRESETS = {name: dict(SHARED, **dict(zip(COLUMNS.split(), row, strict=True))) for name, row in RECORDED.items()}


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("env,gamma", [("overcooked", 0.99), ("virtualhome", 0.95), ("babyai_text", 0.99)])
def test_ppo_presets_keep_their_values(preset, env, gamma):
    """The paper presets now inherit from the schema's defaults, not from ppo=laptop: same values as before."""
    cfg = compose_cfg(f"ppo={preset}", f"env={env}")
    composed = {**OmegaConf.to_container(cfg.rollout, resolve=True), **OmegaConf.to_container(cfg.ppo, resolve=True)}
    assert composed == {**PRESETS[preset], "gamma": gamma}
    assert run_settings(cfg).rollout.gamma == gamma


def test_eval_and_checkpoint_defaults_are_the_schemas():
    cfg = compose_cfg()
    assert OmegaConf.to_container(cfg.eval) == dict(
        every_updates=16, episodes=8, num_envs=4, deterministic=True, seed_offset=10000, final_sampled_episodes=0
    )
    assert OmegaConf.to_container(cfg.checkpoint) == dict(
        every_updates=8, evaluation_every_s=60.0, resume=True, requeue_signals=["SIGUSR1", "SIGUSR2"]
    )


@pytest.mark.parametrize(
    "overrides,norm",
    [([], "none"), (["norm=word"], "word"), (["norm=token"], "token"), (["experiment=glam_paper_babyai"], "none")],
)
def test_glam_normalization_has_one_source(overrides, norm):
    """GLAM selects norm=none; a norm= override really changes the policy, and the run name says which."""
    cfg = compose_cfg("agent=glam", *overrides)
    assert cfg.norm.mode == cfg.agent.policy.norm == norm
    assert cfg.run_name.endswith(f"-{norm}-s0")


def test_the_text_agents_a_refusal_names_are_the_composed_agents_that_read_no_vector():
    """The refusal of a vector agent on a text-only environment names the agents to use instead: read from
    conf/agent/, so that a new text agent (DRRN, the trained writer) is named without editing the message."""
    from twosome.config.checks import text_agents

    agents = sorted(f.stem for f in (CONF / "agent").glob("*.yaml"))
    composed = [a for a in agents if not compose_cfg(f"agent={a}").agent.uses_vectors]
    assert text_agents() == composed and {"drrn", "generate_rl", "twosome"} <= set(composed)
    assert "ppo" not in composed and "saycan" not in composed


@pytest.mark.parametrize("agent", sorted(f.stem for f in (CONF / "agent").glob("*.yaml")))
def test_every_agent_declares_its_meta_keys(agent):
    cfg = compose_cfg(f"agent={agent}")
    meta = OmegaConf.to_object(cfg.agent)
    assert isinstance(meta, AgentConfig) and meta.name == agent and meta.run_label
    assert (meta.uses_lm, meta.uses_vectors) == {
        "twosome": (True, False),
        "zeroshot": (True, False),
        "glam": (True, False),
        "saycan": (True, True),
        "ppo": (False, True),
        "drrn": (False, False),
        "random": (False, False),
        "generate": (True, False),
        "generate_rl": (True, False),
    }[agent]


def test_a_run_written_before_env_wording_resumes_in_the_canonical_wording(tmp_path):
    cfg = OmegaConf.to_container(compose_cfg("agent=random"), resolve=True)
    del cfg["env"]["wording"]  # as an environment's YAML without the key (EXTENDING's recipe lists none) writes it
    (tmp_path / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    (tmp_path / "summary.json").write_text("{}")
    assert load_run_config(tmp_path / "config.yaml").env.wording == "canonical"
    check_run_dir(compose_cfg("agent=random"), tmp_path)  # resumes: no "different config" refusal
    with pytest.raises(ConfigError, match="env.wording: 'canonical' -> 'plain'"):
        check_run_dir(compose_cfg("agent=random", "env.wording=plain"), tmp_path)


def test_missing_model_directory_is_a_clear_error(tmp_path):
    from twosome.lm.loading import load_lm

    with pytest.raises(FileNotFoundError, match="not a Hugging Face model directory"):
        load_lm(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="model.build='gpt5' is not a known recipe"):
        load_lm(str(tmp_path / "x"), build="gpt5")


def test_ppo_batch_arithmetic():
    run = run_settings(compose_cfg("ppo=twosome_overcooked"))
    assert run.rollout.batch_size == 128
    assert run.ppo.policy_minibatch_size // run.ppo.policy_chunk_size == 8  # TWOSOME's gradient accumulation
    assert run.rollout.num_updates == 500_000 // 128
    assert os.environ.get("TWOSOME_ROOT")


@pytest.mark.parametrize("agent", ["twosome", "zeroshot", "glam", "saycan"])
def test_the_config_records_every_setting_that_shapes_the_saved_weights(agent):
    """The critic's activation and bias once came from code defaults, so a saved head would reload wrongly
    once they changed. Every constructor argument but the model, the tokenizer, cache sizes and the seed group's
    adapter name (a seed group sets it) is in config.yaml."""
    import inspect

    cfg = compose_cfg(f"agent={agent}")
    cls = hydra.utils.get_class(cfg.agent.policy._target_)
    not_settings = {"self", "lm", "tokenizer", "obs_dim", "n_actions", "feature_cache_size", "cache_size"}
    not_settings.add("adapter_name")
    arguments = set(inspect.signature(cls.__init__).parameters) - not_settings
    assert arguments <= set(cfg.agent.policy), sorted(arguments - set(cfg.agent.policy))


def test_the_readme_config_table_lists_every_choice():
    """The README's table once missed babyai_text, glam and the T5 models."""
    readme = (CONF.parent / "README.md").read_text()
    rows = {}
    for line in readme.splitlines():
        cells = line.split(" | ")
        if line.startswith("| `") and len(cells) >= 2:
            rows[cells[0].strip("| `")] = cells[1]
    for group in ("env", "norm", "agent", "model", "ppo", "algo", "trainer", "logger", "callbacks", "experiment"):
        missing = [f.stem for f in (CONF / group).glob("*.yaml") if f"`{f.stem}`" not in rows[group]]
        assert not missing, (group, missing)


def test_the_light_config_module_agrees_with_the_modules_it_stands_in_for():
    """twosome.config validates without importing torch (fast --help and config errors): its names must stay those
    the heavy modules accept."""
    import twosome.config as light
    from twosome.lm.loading import DTYPES
    from twosome.scoring import NORMALIZATIONS
    from twosome.scoring.scorer import SCORING_MODES

    assert light.NORMALIZATIONS == NORMALIZATIONS
    assert set(light.DTYPES) == {*DTYPES, "auto"}
    assert light.SCORER_MODES == SCORING_MODES


# docs/BABYAI_TEXT.md once spelt `env.kwargs.num_distractors=16`, which Hydra refuses (the key is not in
# conf/env/babyai_text.yaml: adding one takes `+`). Every override and command the docs spell must compose.
DOCS = [
    CONF.parent / "README.md",
    *sorted((CONF.parent / "docs").glob("*.md")),
    *sorted((CONF.parent / "studies").glob("*/README.md")),
]
BABYAI_GOTO = ["env=babyai_text", "env.task=goto"]
DOC_ENV = {"BABYAI_TEXT.md": BABYAI_GOTO, "RELIABILITY.md": BABYAI_GOTO, "VIRTUALHOME.md": ["env=virtualhome"]}
REFUSED_BY_THE_ENV = {"RELIABILITY.md"}  # its table spells values the environment refuses, on purpose


def documented_env_options() -> list[tuple[str, str]]:
    """(doc, override) for every `env.kwargs.<key>=<value>` the docs spell in running text."""
    found = []
    for doc in DOCS:
        for override in re.findall(r"`(\+?env\.kwargs\.\w+=[^`\s|]+)`", doc.read_text()):
            found.append((doc.name, override))
    return found


@pytest.mark.parametrize("doc,override", documented_env_options(), ids=lambda x: x)
def test_every_documented_env_option_composes_and_reaches_the_env(doc, override):
    """Composed with the doc's environment (the default, Overcooked, where the doc is about no other one)."""
    import gymnasium as gym

    import twosome.envs  # noqa: F401  (registers the ids)

    cfg = compose_cfg(*DOC_ENV.get(doc, []), override)
    key, value = override.lstrip("+").removeprefix("env.kwargs.").split("=", 1)
    assert str(cfg.env.kwargs[key]) == value
    if doc not in REFUSED_BY_THE_ENV:
        gym.make(cfg.env.id, **OmegaConf.to_container(cfg.env.kwargs, resolve=True)).close()


def documented_run_commands() -> list[tuple[str, list[str]]]:
    """(doc:line, overrides) for every `src/run.py` command in the docs' code blocks and running text, a sweep's
    comma lists reduced to their first value; commands with placeholders (`<name>`, `...`, `/path/to/`) are left out:
    whether such a path is checked depends on what the checkout holds (a converted model reads no wheel)."""
    found = []
    for doc in DOCS:
        text = doc.read_text()
        commands = []
        for match in re.finditer(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M):
            lines = match.group(1).replace("\\\n", " ").splitlines()
            runs = [line for line in lines if re.match(r"\s*(exec )?\S*python \S*src/run\.py", line)]
            commands += [line.split(" #")[0] for line in runs]
        prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
        commands += re.findall(r"`(python[^`]* src/run\.py[^`]*)`", prose)
        for command in commands:
            if "<" in command or "..." in command or "/path/to/" in command:
                continue
            args = shlex.split(command)
            args = args[next(i for i, a in enumerate(args) if a.endswith("src/run.py")) + 1 :]
            overrides, previous = [], ""
            for arg in args:  # flags (-m, --help) and the values of --cfg and --package are not overrides
                if not arg.startswith("-") and previous not in ("--cfg", "-c", "--package", "-p"):
                    overrides.append(arg)
                previous = arg
            found.append((f"{doc.name}: {' '.join(command.split())[:80]}", overrides))
    return found


@pytest.mark.parametrize("command,overrides", documented_run_commands(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_documented_run_command_composes_and_validates(command, overrides):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    single = []
    for override in OverridesParser.create().parse_overrides(overrides):
        if override.is_sweep_override():
            single.append(f"{override.get_key_element()}={next(override.sweep_string_iterator())}")
        else:
            single.append(override.input_line)
    validate(compose_cfg(*single))


def test_smollm2_adapts_its_top_15_blocks_by_default_and_the_paper_presets_every_block():
    """The CPU default chosen by the learning check (studies/lora_word_token/README.md, 3e) comes from the model config;
    the agent's key
    overrides it, and the paper presets keep the paper's every block whatever the model."""
    assert compose_cfg().agent.policy.lora_layers is None
    for agent in ("twosome", "glam", "zeroshot"):
        assert compose_cfg(f"agent={agent}", "model=smollm2").agent.policy.lora_layers == 15
    assert compose_cfg("model=smollm2", "agent.policy.lora_layers=8").agent.policy.lora_layers == 8
    for preset in sorted(f.stem for f in (CONF / "experiment").glob("*.yaml")):
        assert compose_cfg(f"experiment={preset}", "model=smollm2").agent.policy.lora_layers is None, preset


def test_a_smollm2_run_written_before_the_model_default_resumes_only_with_its_own_blocks(tmp_path):
    cfg = OmegaConf.to_container(compose_cfg("model=smollm2", "agent.policy.lora_layers=8"), resolve=True)
    del cfg["model"]["lora_layers"]
    (tmp_path / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    (tmp_path / "summary.json").write_text("{}")
    check_run_dir(compose_cfg("model=smollm2", "agent.policy.lora_layers=8"), tmp_path)  # resumes
    with pytest.raises(ConfigError, match="agent.policy.lora_layers: 8 -> 15"):
        check_run_dir(compose_cfg("model=smollm2"), tmp_path)


# Counts the config's parsing (validate calls run_settings once) in a command-line run, whatever checks it.
COUNTING_RUN = """
import atexit, runpy, sys
import twosome.config.checks as checks
calls = []
real = checks.run_settings
checks.run_settings = lambda cfg: calls.append(1) or real(cfg)
atexit.register(lambda: print("validated", len(calls), "time(s)"))
sys.argv = ["run.py", *sys.argv[1:]]
runpy.run_path(RUN, run_name="__main__")
"""


def test_a_command_line_run_validates_its_config_once(tmp_path):
    """The check before Hydra writes anything parses the settings; the run reuses them (it parsed them twice)."""
    import subprocess
    import sys

    from helpers import ROOT, without_sampled_episodes

    code = f"RUN = {str(ROOT / 'src' / 'run.py')!r}\n{COUNTING_RUN}"
    args = ["agent=random", "eval.episodes=1", f"hydra.run.dir={tmp_path / 'run'}", f"paths.root_dir={tmp_path}"]
    env = {k: v for k, v in os.environ.items() if k != "TWOSOME_ROOT"}
    result = subprocess.run(
        [sys.executable, "-c", code, *without_sampled_episodes(args)],
        env={**env, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "validated 1 time(s)" in result.stdout, result.stdout[-2000:]
    assert (tmp_path / "run" / "summary.json").is_file()


def test_callbacks_are_a_config_group_added_to_the_suites_own(tmp_path):
    """conf/callbacks: Lightning callbacks by _target_ beside the checkpoints resume depends on; a dropped one is not
    built; a value that is no callback config, or whose package is missing, is refused by validate."""
    from twosome.training.build import build_trainer

    def names(cfg):
        return [type(c).__name__ for c in build_trainer(run_settings(cfg), tmp_path, loggers=[]).callbacks]

    suite = names(compose_cfg())
    assert "PeriodicCheckpoint" in suite and "DeviceStatsMonitor" not in suite
    added = lambda *overrides: sorted(set(names(compose_cfg(*overrides))) - set(suite))  # noqa: E731
    assert added("callbacks=device_stats") == ["DeviceStatsMonitor"]
    timer = ("+callbacks.timer._target_=pytorch_lightning.callbacks.Timer", "+callbacks.timer.duration=null")
    validate(compose_cfg(*timer))
    assert added(*timer) == ["Timer"]
    assert added("callbacks=device_stats", "callbacks.device_stats=null") == []
    with pytest.raises(ConfigError, match=r"callbacks.x=3 is not valid; valid: a callback config with _target_"):
        validate(compose_cfg("+callbacks.x=3"))
    with pytest.raises(ConfigError, match=r"needs the package no_such_package, which is not installed: pip install"):
        validate(compose_cfg("+callbacks.x._target_=no_such_package.Callback"))


def test_trackers_are_a_config_group_and_a_missing_package_is_refused_before_anything_is_written(tmp_path):
    """conf/logger: Lightning loggers by _target_; metrics.csv is always written; a dropped one is not built."""
    from importlib.util import find_spec

    from twosome.training.build import build_loggers

    names = lambda cfg: [type(x).__name__ for x in build_loggers(run_settings(cfg).trainer, tmp_path)]  # noqa: E731
    assert names(compose_cfg()) == ["ContinuingCSVLogger", "TensorBoardLogger"]
    assert names(compose_cfg("logger.tensorboard=null")) == names(compose_cfg("logger=none")) == ["ContinuingCSVLogger"]
    assert names(compose_cfg("logger.tensorboard=false")) == ["ContinuingCSVLogger"]  # the older spelling
    with pytest.raises(ConfigError, match=r"logger.tensorboard=3 is not valid; valid: a logger config with _target_"):
        validate(compose_cfg("logger.tensorboard=3"))
    for preset, package in (("wandb", "wandb"), ("mlflow", "mlflow")):
        if find_spec(package) is None:
            with pytest.raises(ConfigError, match=f"needs the package {package}, which is not installed: pip install"):
                validate(compose_cfg(f"logger={preset}"))


@pytest.mark.parametrize(
    "override,message",
    [
        ("model=nonexistent", "Could not find 'model/nonexistent'"),  # Hydra lists the options that exist
        ("foo.bar=1", "Could not override 'foo.bar'"),
        ("env.task=nope", "env.task='nope' is not valid; valid: ['cooking'"),
    ],
)
def test_a_tools_bad_override_is_one_error_line_not_a_traceback_and_nothing_is_written(tmp_path, override, message):
    """The tools that compose a run's config (the walkthrough prior, the parser judge) refuse a bad override with
    ConfigError from Python and, on the command line, with ``Error: ...`` and exit status 2, before any file."""
    import subprocess
    import sys

    from helpers import ROOT

    from twosome.config import compose_run_config

    with pytest.raises(ConfigError, match=re.escape(message)):
        compose_run_config([override], ("env=textworld",), "a test")
    env = {k: v for k, v in os.environ.items() if k != "TWOSOME_ROOT"}
    out = tmp_path / "prior.csv"
    result = subprocess.run(
        [sys.executable, "-m", "twosome.evaluation.walkthrough_prior", override, "--games", "1", "--out", str(out)],
        env={**env, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.startswith("Error: ") and message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def number_settings() -> list[tuple[str, type, str, object, str]]:
    """Every float and int field of the typed groups (``SCHEMAS``) and of the registered algorithms' settings, each
    with the values it must refuse: a field added later is in this list by itself."""
    from twosome.checked import FINITE, INT64, typed_fields
    from twosome.config.schema import SCHEMAS
    from twosome.rl.settings import ALGORITHMS

    kinds = [*SCHEMAS.items(), *(("algo", spec.settings) for spec in ALGORITHMS.values())]
    bad = {float: ([math.nan, math.inf, -math.inf], FINITE), int: ([10**22, -(10**22)], INT64)}
    found = [
        (group, kind, name, value, valid)
        for group, kind in kinds
        for number, (values, valid) in bad.items()
        for name in typed_fields(kind, number)
        for value in values
    ]
    names = {name for _, kind, name, *_ in found if kind.__name__ in ("PPOConfig", "RolloutConfig")}
    assert names >= {"ent_coef", "target_kl", "adam_eps", "total_env_steps"}
    return found


@pytest.mark.parametrize(
    "group,kind,name,value,valid", number_settings(), ids=lambda x: getattr(x, "__name__", str(x))[:12]
)
def test_every_number_setting_refuses_non_finite_or_overflowing_values_naming_the_key(group, kind, name, value, valid):
    """nan passed every ``x < 0``-style check and inf every lower bound: a run failed after a rollout, or trained with
    the KL stop off (``ppo.target_kl=nan``); ``rollout.total_env_steps`` of 23 digits overflowed after the run
    directory was written."""
    from twosome.checked import settings

    with pytest.raises(ConfigError, match=re.escape(f"{group}.{name}={value!r} is not valid; valid: {valid}")):
        settings(OmegaConf.create({group: {name: value}}), group, kind)


@pytest.mark.parametrize(
    "override",
    [
        "algo=gigpo algo.step_weight=inf",
        "ppo.value_lr=inf",
        "ppo.ent_coef=nan",
        "ppo.vf_coef=inf",
        "ppo.max_grad_norm=nan",
        "ppo.adam_eps=nan",
        "ppo.target_kl=nan",
        "agent.policy.lora_dropout=inf",
    ],
)
def test_non_finite_settings_are_refused_before_anything_is_written(override):
    key, value = override.split()[-1].split("=")
    with pytest.raises(ConfigError, match=f"{key}={value} is not valid; valid: a finite number"):
        validate(compose_cfg(*override.split()))
