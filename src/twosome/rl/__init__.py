"""Algorithm pieces with no model or environment inside: GAE, PPO losses, rollout storage."""
