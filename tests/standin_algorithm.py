"""An algorithm the registry (rl/settings.py) does not know: what a researcher's own learner looks like before it is
registered. PPO with one option of its own, recorded where a test can read it."""

from __future__ import annotations

from twosome.rl.ppo import PPO

BUILT: list[dict] = []


class OptionPPO(PPO):
    def __init__(self, agent, ppo, clip_scale: float = 1.0):
        super().__init__(agent, ppo)
        BUILT.append({"clip_scale": clip_scale, "clip_coef": ppo.clip_coef})
