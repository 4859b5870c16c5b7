"""TWOSOME / GLAM reproduction suite: LLM policies that act by scoring valid actions, trained online by RL (PPO, POAD,
GiGPO)."""

__version__ = "0.1.0"

from twosome import config as _config  # noqa: E402,F401  (registers the OmegaConf resolvers conf/ uses)
