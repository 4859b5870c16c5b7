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

from contextlib import nullcontext
from pathlib import Path

import torch
from torch import nn
from torch.distributions import Categorical

from twosome.agents.base import ActorCritic, masked_categorical, require_vectors
from twosome.agents.capabilities import child_state_dict
from twosome.agents.memo import Memo, candidate_keys, prompts_and_actions
from twosome.agents.mlp_agent import cleanrl_mlp
from twosome.agents.observation import ObsBatch
from twosome.scoring import NORMALIZATIONS, ActionScorer


class SayCanAgent(ActorCritic):
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
        adapter_name: str | None = None,
    ):
        """``adapter_name``: accepted for seed groups, where members share ``lm`` as it is (it has no adapter)."""
        super().__init__()
        if norm not in NORMALIZATIONS:
            raise ValueError(f"norm={norm!r} is not valid; valid: {list(NORMALIZATIONS)}")
        self.norm = norm
        self.scorer = ActionScorer.for_model(lm, tokenizer, mode=scorer_mode)
        self.lm = lm.requires_grad_(False).eval()
        self.obs_dim, self.n_actions = int(obs_dim), int(n_actions)
        # Affordance logits start near 0 (sigma = 0.5 for every action): the first policy is the LM's.
        self.affordance = cleanrl_mlp(self.obs_dim, list(hidden), self.n_actions, out_std=0.01)
        self.critic = cleanrl_mlp(self.obs_dim, list(hidden), 1, out_std=1.0)
        self._lm_scores = Memo(cache_size)
        self.memoize = True

    def fsdp_units(self) -> list[nn.Module]:
        """The LM is frozen and never trained: each rank keeps a full copy; the heads are sharded."""
        return [self.affordance, self.critic]

    def frozen_policy(self):
        return nullcontext()  # the LM never changes: its scores are memoized for the whole run

    def set_memoization(self, enabled: bool) -> None:
        self.memoize = enabled  # the LM is not sharded: memoizing its scores is safe under FSDP too

    def cache_state(self) -> dict:
        return {"lm_scores": dict(self._lm_scores.values)}

    def load_cache_state(self, state: dict) -> None:
        self._lm_scores.values = dict(state.get("lm_scores", {}))

    def group_base(self) -> nn.Module:
        """A seed group's members share the frozen LM itself."""
        return self.lm

    @staticmethod
    def prefetch(agents: list[SayCanAgent], batches: list[ObsBatch]) -> None:
        """The LM scores every member is missing, in one forward (they are the same for every member)."""
        keys = list(dict.fromkeys(k for a, obs in zip(agents, batches) for k in candidate_keys(obs)))
        keys = [k for k in keys if any(k not in a._lm_scores.values for a in agents)]
        if not keys:
            return
        values = dict(zip(keys, agents[0]._say(keys)))
        for agent, obs in zip(agents, batches):
            missing = [k for k in dict.fromkeys(candidate_keys(obs)) if k not in agent._lm_scores.values]
            agent._lm_scores.put_many(missing, [values[k] for k in missing])

    def lm_log_probs(self, obs: ObsBatch) -> torch.Tensor:
        """log p_LM(a | s) over the valid actions (N, A), -inf elsewhere; memoized per (prompt, valid actions)."""
        scores = self._lm_scores.get_many(candidate_keys(obs), self._say)
        out = torch.full(obs.action_mask.shape, float("-inf"))
        return out.masked_scatter(obs.action_mask, torch.cat(scores))

    @torch.no_grad()
    def _say(self, keys: list[tuple[str, tuple[str, ...]]]) -> list[torch.Tensor]:
        batch = self.scorer.encode(*prompts_and_actions(keys))
        values = self.scorer.score(self.lm, batch).normalized(self.norm).float()
        return [torch.log_softmax(v, dim=0).cpu() for v in values.split(batch.counts)]

    def _vectors(self, obs: ObsBatch) -> torch.Tensor:
        return require_vectors(obs, "SayCan's affordance", self.obs_dim).to(next(self.affordance.parameters()).device)

    def distribution(self, obs: ObsBatch) -> Categorical:
        say = self.lm_log_probs(obs).to(next(self.affordance.parameters()).device)
        can = nn.functional.logsigmoid(self.affordance(self._vectors(obs)))
        return masked_categorical(say + can, obs.action_mask)

    def value(self, obs: ObsBatch) -> torch.Tensor:
        return self.critic(self._vectors(obs)).squeeze(-1)

    def policy_parameters(self) -> list[nn.Parameter]:
        return list(self.affordance.parameters())

    def value_parameters(self) -> list[nn.Parameter]:
        return list(self.critic.parameters())

    def save(self, directory: str | Path, state_dict: dict | None = None) -> None:
        state = {name: child_state_dict(self, name, state_dict) for name in ("affordance", "critic")}
        torch.save(state, Path(directory) / "saycan_heads.pt")

    def load(self, directory: str | Path) -> None:
        state = torch.load(Path(directory) / "saycan_heads.pt", weights_only=True)
        self.affordance.load_state_dict(state["affordance"])
        self.critic.load_state_dict(state["critic"])
