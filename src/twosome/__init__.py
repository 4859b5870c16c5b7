"""TWOSOME / GLAM reproduction suite: LLM policies that act by scoring valid actions, trained with PPO."""

__version__ = "0.1.0"
