"""``src/run.py``'s config composed for a tool that runs the suite's agents outside a training run (the parser judge,
the walkthrough prior): the same config groups and validation as a run. No torch here."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import DictConfig

from twosome.checked import ConfigError
from twosome.config.checks import validate
from twosome.config.resolvers import register_resolvers


def compose_run_config(overrides: list[str], fixed: tuple[str, ...] = (), purpose: str = "") -> DictConfig:
    """``src/run.py``'s config with ``fixed`` and then ``overrides``, validated: for a tool that runs the suite's
    agents outside a training run. An override of a config group that ``fixed`` sets (``env=...``) to another value is
    refused before anything is written, with ``purpose`` (what the tool is for) in the message."""
    groups = {item.split("=", 1)[0] for item in fixed}
    for override in overrides:
        if override.split("=", 1)[0].lstrip("+~") in groups and override not in fixed:
            raise ConfigError(f"{override!r}: {purpose}")
    register_resolvers()
    conf = Path(__file__).resolve().parents[3] / "conf"
    try:
        with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
            cfg = compose("train", overrides=[*fixed, *overrides])
    except HydraException as err:  # an option or key that does not exist: Hydra's message names it and what does
        raise ConfigError(str(err)) from None
    validate(cfg)
    return cfg


def run_tool(main: Callable[[], object]) -> None:
    """A tool's command line: a config it refuses ends the command with the message (``Error: ...``, exit status 2),
    not a traceback. Called from Python, the tool's ``main`` raises ConfigError instead."""
    try:
        main()
    except ConfigError as err:
        print(f"Error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
