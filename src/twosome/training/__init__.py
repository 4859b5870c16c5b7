"""Composition: environments + agent + PPO inside a LightningModule, and the run entry point's helpers."""
