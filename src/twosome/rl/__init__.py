"""Algorithm pieces with no model or environment inside: GAE with macro-action discounts and truncation
bootstrapping (``gae``), and PPO's losses and diagnostics (``ppo``). Rollout storage lives with the training loop
(``twosome.training.rollout``)."""
