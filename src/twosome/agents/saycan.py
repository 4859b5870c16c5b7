"""SayCan (Ahn et al., 2022) as TWOSOME's baseline: "say" from a frozen LM, "can" from a learned affordance.

    pi(a | s)  proportional to  p_LM(a | s) * sigma(f_theta(s)_a)

``p_LM(a | s)`` is the LM's normalized action likelihood (the same scores as TWOSOME's, softmax over the valid
actions, never updated); ``sigma(f_theta(s)_a)`` is a per-action affordance in (0, 1) from an MLP on the symbolic
observation, the analogue of SayCan's per-skill value functions. PPO trains the affordance through the product
(the log-policy is ``log p_LM + log sigma(f)``, renormalized) and an MLP critic on the same vector. Evaluation
takes the argmax of the product, as SayCan does. The LM never changes, so each state's LM scores are computed
once for the whole run.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.distributions import Categorical

from twosome.agents.base import ActorCritic, masked_categorical
from twosome.agents.mlp_agent import cleanrl_mlp
from twosome.agents.observation import ObsBatch
from twosome.scoring import NORMALIZATIONS, ActionScorer


class SayCanAgent(ActorCritic):
    features_are_fixed = True

    def __init__(
        self,
        lm: nn.Module,
        tokenizer,
        obs_dim: int,
        n_actions: int,
        norm: str = "word",
        hidden: tuple[int, ...] = (64, 64),
        scorer_mode: str = "shared",
        cache_size: int = 100_000,
    ):
        super().__init__()
        if norm not in NORMALIZATIONS:
            raise ValueError(f"norm={norm!r} is not valid; valid: {list(NORMALIZATIONS)}")
        self.norm = norm
        self.scorer = ActionScorer(tokenizer, mode=scorer_mode)
        self.lm = lm.requires_grad_(False).eval()
        self.obs_dim, self.n_actions = int(obs_dim), int(n_actions)
        # Affordance logits start near 0 (sigma = 0.5 for every action): the first policy is the LM's.
        self.affordance = cleanrl_mlp(self.obs_dim, list(hidden), self.n_actions, out_std=0.01)
        self.critic = cleanrl_mlp(self.obs_dim, list(hidden), 1, out_std=1.0)
        self._lm_scores: dict[tuple[str, tuple[str, ...]], torch.Tensor] = {}
        self._cache_size = cache_size

    def shard(self, mesh) -> int:
        """The LM is frozen and never trained: each rank keeps a full copy (and its memo); the heads are sharded."""
        from twosome.training.fsdp import shard_modules

        return shard_modules([self.affordance, self.critic], mesh)

    def cache_state(self) -> dict:
        return {"lm_scores": dict(self._lm_scores)}

    def load_cache_state(self, state: dict) -> None:
        self._lm_scores = dict(state.get("lm_scores", {}))

    def lm_log_probs(self, obs: ObsBatch) -> torch.Tensor:
        """log p_LM(a | s) over the valid actions (N, A), -inf elsewhere; memoized per (prompt, valid actions)."""
        keys = [
            (prompt, tuple(a for a, ok in zip(acts, mask.tolist()) if ok))
            for prompt, acts, mask in zip(obs.prompts, obs.actions, obs.action_mask)
        ]
        todo = list(dict.fromkeys(k for k in keys if k not in self._lm_scores))
        if todo:
            if len(self._lm_scores) + len(todo) > self._cache_size:
                self._lm_scores.clear()
            with torch.no_grad():
                batch = self.scorer.encode([k[0] for k in todo], [list(k[1]) for k in todo])
                values = self.scorer.score(self.lm, batch).normalized(self.norm).float()
            for k, v in zip(todo, values.split([len(k[1]) for k in todo])):
                self._lm_scores[k] = torch.log_softmax(v, dim=0).cpu()
        out = torch.full(obs.action_mask.shape, float("-inf"))
        return out.masked_scatter(obs.action_mask, torch.cat([self._lm_scores[k] for k in keys]))

    def _vectors(self, obs: ObsBatch) -> torch.Tensor:
        x = obs.vectors.float()
        if x.shape[-1] != self.obs_dim:
            raise ValueError(f"SayCan's affordance reads {self.obs_dim}-dim observations, got {x.shape[-1]}-dim")
        return x.to(next(self.affordance.parameters()).device)

    def distribution(self, obs: ObsBatch) -> Categorical:
        say = self.lm_log_probs(obs).to(next(self.affordance.parameters()).device)
        can = nn.functional.logsigmoid(self.affordance(self._vectors(obs)))
        return masked_categorical(say + can, obs.action_mask)

    def value_features(self, obs: ObsBatch) -> torch.Tensor:
        return self._vectors(obs)

    def value(self, features: torch.Tensor) -> torch.Tensor:
        return self.critic(features).squeeze(-1)

    def policy_parameters(self) -> list[nn.Parameter]:
        return list(self.affordance.parameters())

    def value_parameters(self) -> list[nn.Parameter]:
        return list(self.critic.parameters())

    def save(self, directory: str | Path, state_dict: dict | None = None) -> None:
        state = {"affordance": self.part("affordance", state_dict), "critic": self.part("critic", state_dict)}
        torch.save(state, Path(directory) / "saycan_heads.pt")

    def load(self, directory: str | Path) -> None:
        state = torch.load(Path(directory) / "saycan_heads.pt", weights_only=True)
        self.affordance.load_state_dict(state["affordance"])
        self.critic.load_state_dict(state["critic"])
