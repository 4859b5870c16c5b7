"""Learning algorithms and their pieces, with no environment, checkpoint or Lightning inside: the contract
(``algorithm``), what a rollout holds (``rollout``), GAE with macro-action discounts and truncation bootstrapping
(``gae``), PPO's losses and diagnostics (``losses``) and PPO itself (``ppo``). Collecting rollouts from
environments is the training loop's (``twosome.training.rollout``)."""
