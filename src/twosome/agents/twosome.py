"""TWOSOME: the policy is a softmax over the LM's normalized log-likelihoods of the valid actions' texts.

Actor and critic share one frozen LM. The actor sees it through LoRA adapters; the critic is an MLP on the final
hidden state of the prompt's last real token (the first decoder position for an encoder-decoder), computed with the
adapters disabled and no gradient into the LM. GLAM is the same class configured differently (conf/agent/glam.yaml):
no normalization, and a value head that reads the adapted LM.
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from torch import nn
from torch.distributions import Categorical

from twosome.agents.base import ActorCritic, masked_categorical, mlp
from twosome.agents.observation import ObsBatch
from twosome.scoring import NORMALIZATIONS, ActionScorer

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


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
        critic_hidden: tuple[int, ...] = (1024, 512),
        critic_activation: str = "relu",
        critic_bias: bool = False,
        critic_uses_adapter: bool = False,
        feature_cache_size: int = 50_000,
        scorer_mode: str = "shared",
        memoize: bool = True,
    ):
        super().__init__()
        if norm not in NORMALIZATIONS:
            raise ValueError(f"norm={norm!r} is not valid; valid: {list(NORMALIZATIONS)}")
        self.norm = norm
        self.scorer = ActionScorer.for_model(lm, tokenizer, mode=scorer_mode)
        lm.requires_grad_(False)
        config = LoraConfig(
            r=lora_r,
            lora_alpha=lora_alpha,
            lora_dropout=lora_dropout,
            target_modules=list(lora_target_modules),
            bias="none",
            task_type="SEQ_2_SEQ_LM" if self.scorer.encoder_decoder else "CAUSAL_LM",
        )
        self.actor: PeftModel = get_peft_model(lm, config)
        for p in self.actor.parameters():  # adapters in fp32: tiny learning rates must not round away
            if p.requires_grad:
                p.data = p.data.float()
        if critic_activation not in ACTIVATIONS:
            raise ValueError(f"critic_activation={critic_activation!r} is not valid; valid: {sorted(ACTIVATIONS)}")
        hidden = lm.config.hidden_size  # T5 configs map it to d_model
        self.critic_head = mlp([hidden, *critic_hidden, 1], activation=ACTIVATIONS[critic_activation], bias=critic_bias)
        self.critic_uses_adapter = critic_uses_adapter
        self.features_are_fixed = not critic_uses_adapter
        self._feature_cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._feature_cache_size = feature_cache_size
        self._score_memo: dict | None = None
        self.memoize = memoize

    # --- actor -------------------------------------------------------------------------------------------
    def action_scores(self, obs: ObsBatch) -> torch.Tensor:
        """Normalized log-likelihood of every valid action, (N, A); invalid actions are not scored (-inf).

        Each distinct (prompt, valid actions) pair in the batch is scored once and shared by its duplicates (the
        gradient is the same). Without gradients, scores are also memoized while the adapter weights are
        unchanged (inside ``frozen_policy()``), so a rollout scores each distinct state once.
        """
        keys = [
            (prompt, tuple(a for a, ok in zip(acts, mask.tolist()) if ok))
            for prompt, acts, mask in zip(obs.prompts, obs.actions, obs.action_mask)
        ]
        if not self.memoize or self.lockstep:  # score every row as it is (the original's behaviour; FSDP)
            batch = self.scorer.encode(obs.prompts, [list(k[1]) for k in keys])
            values = self.scorer.score(self.actor, batch).normalized(self.norm)
            out = torch.full(obs.action_mask.shape, float("-inf"), device=values.device, dtype=values.dtype)
            return out.masked_scatter(obs.action_mask.to(out.device), values)
        unique = list(dict.fromkeys(keys))
        memo = None if torch.is_grad_enabled() else self._score_memo
        todo = [k for k in unique if memo is None or k not in memo]
        computed: dict = {}
        if todo:
            batch = self.scorer.encode([k[0] for k in todo], [list(k[1]) for k in todo])
            values = self.scorer.score(self.actor, batch).normalized(self.norm)
            for k, v in zip(todo, values.split([len(k[1]) for k in todo])):
                computed[k] = v
            if memo is not None:
                if len(memo) + len(computed) > self._feature_cache_size:
                    memo.clear()
                memo.update(computed)
        rows = [computed[k] if k in computed else memo[k] for k in keys]
        out = torch.full(obs.action_mask.shape, float("-inf"), device=rows[0].device, dtype=rows[0].dtype)
        return out.masked_scatter(obs.action_mask.to(out.device), torch.cat(rows))

    @contextmanager
    def frozen_policy(self):
        """While the weights stay fixed (a rollout, an evaluation), memoize each distinct state's scores."""
        self._score_memo = {}
        try:
            yield
        finally:
            self._score_memo = None

    def distribution(self, obs: ObsBatch) -> Categorical:
        return masked_categorical(self.action_scores(obs), obs.action_mask)

    # --- critic ------------------------------------------------------------------------------------------
    def _features(self, prompts: list[str]) -> torch.Tensor:
        ids = [self.scorer.prompt_ids(p) for p in prompts]
        if self.critic_uses_adapter:
            return self.scorer.prompt_features(self.actor, ids)
        with torch.no_grad(), self.actor.disable_adapter():
            return self.scorer.prompt_features(self.actor, ids)

    def value_features(self, obs: ObsBatch) -> torch.Tensor:
        if not self.features_are_fixed or self.lockstep:
            return self._features(obs.prompts)
        # The base LM is frozen, so a prompt's feature never changes: compute each distinct prompt once.
        missing = list(dict.fromkeys(p for p in obs.prompts if p not in self._feature_cache))
        if missing:
            for p, f in zip(missing, self._features(missing)):
                self._feature_cache[p] = f.detach()
            while len(self._feature_cache) > self._feature_cache_size:
                self._feature_cache.popitem(last=False)
        return torch.stack([self._feature_cache[p] for p in obs.prompts])

    def cache_state(self) -> dict:
        return {"features": dict(self._feature_cache)}

    def load_cache_state(self, state: dict) -> None:
        self._feature_cache = OrderedDict(state.get("features", {}))

    def value(self, features: torch.Tensor) -> torch.Tensor:
        return self.critic_head(features).squeeze(-1)

    # --- training plumbing -------------------------------------------------------------------------------
    def policy_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.actor.parameters() if p.requires_grad]

    def value_parameters(self) -> list[nn.Parameter]:
        return list(self.critic_head.parameters())

    def shard(self, mesh) -> int:
        """FSDP: the LM block by block, the critic head as its own unit. Scoring switches to one forward per
        (prompt, action) batch: FSDP2 frees a unit's gathered weights after its backward, and the shared modes run
        the same blocks twice in one graph (prompt, then actions on its cache), whose second backward needs them."""
        from twosome.training.fsdp import shard_modules, shard_transformer

        self.scorer.mode = "naive"
        return shard_transformer(self.actor, mesh) + shard_modules([self.critic_head], mesh)

    def save(self, directory: str | Path, state_dict: dict | None = None) -> None:
        directory = Path(directory)
        actor_sd = None if state_dict is None else self.part("actor", state_dict)
        self.actor.save_pretrained(directory / "adapter", state_dict=actor_sd)
        torch.save(self.part("critic_head", state_dict), directory / "critic_head.pt")

    def load(self, directory: str | Path) -> None:
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        directory = Path(directory)
        set_peft_model_state_dict(self.actor, load_file(directory / "adapter" / "adapter_model.safetensors"))
        self.critic_head.load_state_dict(torch.load(directory / "critic_head.pt", weights_only=True))
