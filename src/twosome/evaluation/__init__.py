"""Evaluating trained agents outside their training run (unseen tasks)."""
