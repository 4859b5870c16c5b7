"""TWOSOME: the policy is a softmax over the LM's normalized log-likelihoods of the valid actions' texts.

Actor and critic share one frozen LM. The actor sees it through LoRA adapters; the critic is an MLP on the final
hidden state of the prompt's last real token (the first decoder position for an encoder-decoder), computed with the
adapters disabled and no gradient into the LM. GLAM is the same class configured differently (conf/agent/glam.yaml):
no normalization, and a value head that reads the adapted LM (the value loss trains the head, the policy loss the
adapters); its features come from the scoring pass when the weights have not changed since.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from torch import nn
from torch.distributions import Categorical

from twosome.agents.base import ActorCritic, masked_categorical, mlp
from twosome.agents.capabilities import TokenOutputs
from twosome.agents.lora_files import load_adapter_and_head, save_adapter_and_head
from twosome.agents.memo import Memo, candidate_keys, prompts_and_actions
from twosome.agents.observation import ObsBatch
from twosome.parallel.fsdp import transformer_blocks, transformer_units
from twosome.scoring import NORMALIZATIONS, ActionScorer
from twosome.scoring.calibration import CALIBRATIONS, ContentFreeOffsets
from twosome.scoring.trunk_cache import TrunkCache

BASE = "__base__"  # peft's name for "no adapter" in a mixed batch: the frozen LM's own output

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def top_layers(lm: nn.Module, count: int | None) -> list[int] | None:
    """The indices of the LM's last ``count`` transformer blocks (None: every block).

    Adapting only the top blocks is a cost lever, not the papers' setting: no gradient flows below the lowest
    adapted block, so the policy phase's backward pass shrinks with it (docs/BABYAI_TEXT.md measures it)."""
    if count is None:
        return None
    total = lm.config.num_hidden_layers
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= total:
        raise ValueError(f"lora_layers={count!r} is not valid; valid: null (every block) or an integer in [1, {total}]")
    return list(range(total - count, total))


def lora_config(r, alpha, dropout, target_modules, layers: list[int] | None, encoder_decoder: bool) -> LoraConfig:
    """The adapter every LM agent trains: rank ``r`` on ``target_modules`` of ``layers`` (None: every block)."""
    return LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=list(target_modules),
        layers_to_transform=layers,
        bias="none",
        task_type="SEQ_2_SEQ_LM" if encoder_decoder else "CAUSAL_LM",
    )


def spread(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The valid actions' scores, in row order, into an (N, A) table; invalid actions -inf."""
    out = torch.full(mask.shape, float("-inf"), device=values.device, dtype=values.dtype)
    return out.masked_scatter(mask.to(out.device), values)


class TwosomeAgent(ActorCritic):
    def __init__(
        self,
        lm: nn.Module,
        tokenizer,
        norm: str = "word",
        lora_r: int = 8,
        lora_alpha: int = 16,
        lora_dropout: float = 0.0,
        lora_target_modules: tuple[str, ...] = ("q_proj", "v_proj"),
        lora_layers: int | None = None,
        trunk_cache_mb: float = 256.0,
        critic: bool = True,
        critic_hidden: tuple[int, ...] = (1024, 512),
        critic_activation: str = "relu",
        critic_bias: bool = False,
        critic_uses_adapter: bool = False,
        feature_cache_size: int = 50_000,
        scorer_mode: str = "shared",
        memoize: bool = True,
        adapter_name: str | None = None,
        calibration: str = "none",
    ):
        """``adapter_name``: join a seed group (``training/seed_group.py``): ``lm`` is then the group's PeftModel
        (or, for the first member, the bare LM) and this agent trains its own adapter of that name on it, every
        row it scores going through that adapter (``row_adapters``). None: the agent owns its LM, as alone.
        ``critic=False``: no critic head at all, for an algorithm that reads no values (``algo=gigpo``).
        ``calibration="premise"``: each action's score minus its score after the prompt's closing phrase alone
        (scoring/calibration.py), in the policy and in its untrained reference alike."""
        super().__init__()
        if norm not in NORMALIZATIONS:
            raise ValueError(f"norm={norm!r} is not valid; valid: {list(NORMALIZATIONS)}")
        if calibration not in CALIBRATIONS:
            raise ValueError(f"calibration={calibration!r} is not valid; valid: {list(CALIBRATIONS)}")
        if calibration != "none" and norm == "trie":
            raise ValueError(
                "calibration='premise' shifts whole actions' scores; norm=trie scores tokens (POAD): use "
                "calibration='none' with norm=trie"
            )
        self.norm = norm
        self.calibration = ContentFreeOffsets(self._score_alone) if calibration == "premise" else None
        self.scorer = ActionScorer.for_model(lm, tokenizer, mode=scorer_mode)
        adapted = top_layers(lm, lora_layers)
        if adapted and adapted[0] > 0 and trunk_cache_mb > 0 and not self.scorer.encoder_decoder:
            # Below the lowest adapted block nothing trains: its output is computed once per row (trunk_cache.py).
            self.scorer.trunk = TrunkCache(adapted[0], trunk_cache_mb, transformer_blocks(lm))
        self.adapter_name = adapter_name
        joining = isinstance(lm, PeftModel)
        if not joining:
            lm.requires_grad_(False)
        config = lora_config(
            lora_r, lora_alpha, lora_dropout, lora_target_modules, adapted, self.scorer.encoder_decoder
        )
        if joining:  # the same modules, traversed in the same order: the same draws as get_peft_model's
            lm.add_adapter(adapter_name, config)
            self.actor: PeftModel = lm
        else:
            self.actor = get_peft_model(lm, config, adapter_name=adapter_name or "default")
        for p in self.policy_parameters():  # adapters in fp32: tiny learning rates must not round away
            p.requires_grad_(True)  # peft leaves only the active adapter trainable; each member trains its own
            p.data = p.data.float()
        if critic_activation not in ACTIVATIONS:
            raise ValueError(f"critic_activation={critic_activation!r} is not valid; valid: {sorted(ACTIVATIONS)}")
        hidden = lm.config.hidden_size  # T5 configs map it to d_model
        head = mlp([hidden, *critic_hidden, 1], activation=ACTIVATIONS[critic_activation], bias=critic_bias)
        self.critic_head = head if critic else None
        self.critic_uses_adapter = critic_uses_adapter
        self.memoize = memoize
        self._scores = Memo(feature_cache_size)  # per (prompt, valid actions), inside frozen_policy() only
        self._features = Memo(feature_cache_size)  # per prompt, from the frozen base LM: valid for the whole run
        self._adapted = Memo(feature_cache_size)  # per prompt, from the adapted LM (GLAM): valid while weights stay
        self._adapted_version: tuple | None = None
        self._in_frozen_policy = False

    # --- actor -------------------------------------------------------------------------------------------
    def action_scores(self, obs: ObsBatch) -> torch.Tensor:
        """Normalized log-likelihood of every valid action, (N, A); invalid actions are not scored (-inf).

        Each distinct (prompt, valid actions) pair in the batch is scored once and shared by its duplicates (the
        gradient is the same). Without gradients, scores are also memoized while the adapter weights are
        unchanged (inside ``frozen_policy()``), so a rollout scores each distinct state once. With ``memoize``
        off, every row is scored as it is (the original's behaviour; data-parallel training).
        """
        keys = candidate_keys(obs)
        if self.memoize:
            remember = self._in_frozen_policy and not torch.is_grad_enabled()
            values = torch.cat(self._scores.get_many(keys, partial(self._score, remember=remember), remember=remember))
        else:
            values = torch.cat(self._score(keys, remember=False))
        return spread(values, obs.action_mask)

    def _score(self, keys: list[tuple[str, tuple[str, ...]]], remember: bool) -> list[torch.Tensor]:
        """With an adapted critic (GLAM), a memoizing pass also keeps the prompts' hidden states it computed: they
        are the critic's features at these weights, so the value costs no forward of its own."""
        batch = self.scorer.encode(*prompts_and_actions(keys), self._rows(len(keys)))
        share = remember and self.critic_uses_adapter
        scores = self.scorer.score(self.actor, batch, hidden=share)
        if share:
            self._adapted_memo().put_many([k[0] for k in keys], list(scores.prompt_hidden.float()))
        return self._calibrated(keys, list(scores.normalized(self.norm).split(batch.counts)))

    def _calibrated(self, keys, values: list[torch.Tensor]) -> list[torch.Tensor]:
        """The scores of each key's actions minus their content-free offsets (without calibration: as they are)."""
        if self.calibration is None:
            return values
        return [v - o.to(v.device, v.dtype) for v, o in zip(values, self.calibration(keys))]

    @torch.no_grad()
    def _score_alone(self, phrase: str, action: str) -> float:
        """The frozen LM's normalized score of ``action`` after ``phrase`` alone (a calibration offset)."""
        batch = self.scorer.encode([phrase], [(action,)], self._rows(1, base=True))
        with nullcontext() if self.adapter_name is not None else self.actor.disable_adapter():
            return self.scorer.score(self.actor, batch).normalized(self.norm)[0].item()

    @contextmanager
    def frozen_policy(self):
        """While the weights stay fixed (a rollout, an evaluation), memoize each distinct state's scores."""
        self._in_frozen_policy = True
        self._adapted.values.clear()  # a rollout computes afresh what it reuses (a resumed run does the same)
        try:
            yield
        finally:
            self._in_frozen_policy = False
            self._scores.values.clear()

    def set_memoization(self, enabled: bool) -> None:
        self.memoize = enabled

    # --- seed groups (training/seed_group.py) ----------------------------------------------------------------
    def group_base(self) -> nn.Module:
        """What the next member of a seed group is built on: this agent's PeftModel, which gains its adapter."""
        return self.actor

    @staticmethod
    @torch.no_grad()
    def prefetch(agents: list[TwosomeAgent], batches: list[ObsBatch]) -> None:
        """Score every member's rollout batch in one forward through the shared LM, each row through its member's
        adapter, and the frozen critic's missing features in a second (``__base__`` rows, each distinct prompt
        once: the frozen LM's feature is the same for every member). What each member computes alone in its next
        ``distribution`` and ``value`` calls is then memoized, so they make no forward of their own."""
        first = agents[0]
        pending = []  # (agent, keys not yet scored)
        for agent, obs in zip(agents, batches):
            if agent.memoize and agent._in_frozen_policy:
                known = agent._scores.values
                pending.append((agent, [k for k in dict.fromkeys(candidate_keys(obs)) if k not in known]))
        keys = [k for _, todo in pending for k in todo]
        if keys:
            names = [agent.adapter_name for agent, todo in pending for _ in todo]
            batch = first.scorer.encode(*prompts_and_actions(keys), names)
            share = any(agent.critic_uses_adapter for agent, _ in pending)
            scores = first.scorer.score(first.actor, batch, hidden=share)
            # members differ only in their seeds: one normalization, one calibration
            values = first._calibrated(keys, list(scores.normalized(first.norm).split(batch.counts)))
            start = 0
            for agent, todo in pending:
                rows = slice(start, start + len(todo))
                agent._scores.put_many(todo, list(values[rows]))
                if agent.critic_uses_adapter:
                    agent._adapted_memo().put_many([k[0] for k in todo], list(scores.prompt_hidden[rows].float()))
                start = rows.stop
        frozen = [(a, obs) for a, obs in zip(agents, batches) if not a.critic_uses_adapter and a.memoize]
        prompts = list(dict.fromkeys(p for a, obs in frozen for p in obs.prompts if p not in a._features.values))
        if prompts:
            ids = [first.scorer.prompt_ids(p) for p in prompts]
            features = dict(zip(prompts, first.scorer.prompt_features(first.actor, ids, [BASE] * len(ids))))
            for agent, obs in frozen:
                missing = [p for p in dict.fromkeys(obs.prompts) if p not in agent._features.values]
                agent._features.put_many(missing, [features[p] for p in missing])

    def distribution(self, obs: ObsBatch) -> Categorical:
        return masked_categorical(self.action_scores(obs), obs.action_mask)

    @torch.no_grad()
    def reference_distribution(self, obs: ObsBatch) -> Categorical:
        """The untrained policy: the LM without the adapter (in a seed group, the ``__base__`` rows). It bypasses the
        score memo, which holds the adapted policy's scores; the trunk cache holds frozen blocks only and serves both.
        """
        keys = list(dict.fromkeys(candidate_keys(obs)))
        batch = self.scorer.encode(*prompts_and_actions(keys), self._rows(len(keys), base=True))
        with nullcontext() if self.adapter_name is not None else self.actor.disable_adapter():
            scores = self.scorer.score(self.actor, batch).normalized(self.norm).split(batch.counts)
        known = dict(zip(keys, self._calibrated(keys, list(scores))))
        values = torch.cat([known[k] for k in candidate_keys(obs)])
        return masked_categorical(spread(values, obs.action_mask), obs.action_mask)

    def _rows(self, n: int, base: bool = False) -> list[str] | None:
        """The adapter of each of ``n`` rows in a seed group (``__base__``: the frozen LM); None alone."""
        if self.adapter_name is None:
            return None
        return [BASE if base else self.adapter_name] * n

    # --- critic ------------------------------------------------------------------------------------------
    def _prompt_features(self, prompts: list[str]) -> list[torch.Tensor]:
        ids = [self.scorer.prompt_ids(p) for p in prompts]
        if self.critic_uses_adapter:  # no gradient: the value optimizer steps the head only
            with torch.no_grad():
                return list(self.scorer.prompt_features(self.actor, ids, self._rows(len(ids))))
        if self.adapter_name is not None:
            with torch.no_grad():
                return list(self.scorer.prompt_features(self.actor, ids, self._rows(len(ids), base=True)))
        with torch.no_grad(), self.actor.disable_adapter():
            return list(self.scorer.prompt_features(self.actor, ids))

    def _adapted_memo(self) -> Memo:
        """The adapted features stay valid while the adapter weights are unchanged: an optimizer step modifies
        them in place, which increments their tensors' version counters."""
        version = tuple(p._version for p in self.policy_parameters())
        if version != self._adapted_version:
            self._adapted.values.clear()
            self._adapted_version = version
        return self._adapted

    def value(self, obs: ObsBatch) -> torch.Tensor:
        if self.critic_head is None:
            return super().value(obs)
        if self.critic_uses_adapter:  # read from the adapted LM; the value loss trains the head only
            features = self._adapted_memo().get_many(obs.prompts, self._prompt_features, remember=self.memoize)
        else:  # from the frozen base LM: a prompt's feature never changes, so each is computed once in a run
            features = self._features.get_many(obs.prompts, self._prompt_features, remember=self.memoize)
        return self.critic_head(torch.stack(features)).squeeze(-1)

    def cache_state(self) -> dict:
        """Inside ``frozen_policy`` (a saved evaluation) the scores memoized so far too."""
        trunk = self.scorer.trunk
        state = {"features": dict(self._features.values), "trunk": None if trunk is None else dict(trunk.rows)}
        return {**state, "scores": dict(self._scores.values)} if self._in_frozen_policy else state

    def load_cache_state(self, state: dict) -> None:
        self._features.values = dict(state.get("features", {}))
        if "scores" in state:
            self._scores.values = dict(state["scores"])
        if self.scorer.trunk is not None:
            self.scorer.trunk.clear()
            for key, row in (state.get("trunk") or {}).items():
                self.scorer.trunk.put(key, row)

    # --- token level (POAD) ------------------------------------------------------------------------------
    def token_outputs(self, obs: ObsBatch, actions: torch.Tensor) -> TokenOutputs:
        """The chosen actions' tokens under the policy restricted to the candidate list (``norm=trie``), and the
        adapted LM's hidden state at each position that predicts one of them (the token critic's input)."""
        keys = candidate_keys(obs)
        batch = self.scorer.encode(*prompts_and_actions(keys), self._rows(len(keys)))
        scores = self.scorer.score(self.actor, batch, hidden=True)
        valid_index = obs.action_mask.long().cumsum(1) - 1  # action index -> its place among the valid actions
        offsets = torch.tensor([0, *batch.counts[:-1]]).cumsum(0)
        rows = offsets + valid_index.gather(1, actions.cpu().long()[:, None]).squeeze(1)
        rows = rows.to(scores.token_logprobs.device)
        return TokenOutputs(
            logprobs=scores.restricted_token_logprobs()[rows],
            mask=scores.token_mask[rows],
            features=scores.token_hidden[rows].detach().float(),
        )

    def token_values(self, features: torch.Tensor) -> torch.Tensor:
        return self.critic_head(features).squeeze(-1)

    # --- training plumbing -------------------------------------------------------------------------------
    def policy_parameters(self) -> list[nn.Parameter]:
        """This agent's adapter (in a seed group the LM carries the other members' adapters too)."""
        name = self.adapter_name or "default"
        return [p for n, p in self.actor.named_parameters() if f".{name}." in n and "lora_" in n]

    def value_parameters(self) -> list[nn.Parameter]:
        return [] if self.critic_head is None else list(self.critic_head.parameters())

    def fsdp_units(self) -> list[nn.Module]:
        """The LM block by block, then the critic head."""
        return [*transformer_units(self.actor), *([self.critic_head] if self.critic_head is not None else [])]

    def save(self, directory: str | Path, state_dict: dict | None = None) -> None:
        save_adapter_and_head(self, directory, state_dict, self.adapter_name or "default")

    def load(self, directory: str | Path) -> None:
        load_adapter_and_head(self, directory, self.adapter_name or "default")
