"""Settings that check themselves: the error every config check raises, and the dataclass base whose construction
runs its checks. Torch-free and free of the other packages, so that both the config checks (twosome.config) and the
algorithms' settings (twosome.rl.settings) build on it."""

from __future__ import annotations

from dataclasses import fields
from typing import TypeVar

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

T = TypeVar("T")


class ConfigError(ValueError):
    """A config value that is wrong; the message names the key, the value and what is valid."""


def problem(key: str, value, valid) -> str:
    return f"{key}={value!r} is not valid; valid: {valid}"


def check(ok: bool, key: str, value, valid) -> None:
    if not ok:
        raise ConfigError(problem(key, value, valid))


class Checked:
    """Runs ``problems()`` on construction; each problem is one ``key=value is not valid; valid: ...`` clause."""

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError("; ".join(problems))

    def problems(self) -> list[str]:
        raise NotImplementedError


def settings(cfg: DictConfig, key: str, kind: type[T]) -> T:
    """``cfg[key]`` as its dataclass, with the checks of ``kind``; also for a run's plain config.yaml, which Hydra
    did not compose (its types are checked here)."""
    node = OmegaConf.to_container(cfg[key], resolve=True)
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(kind), node))
    except OmegaConfBaseException as err:  # a key added with +key=..., or a plain config's wrong type
        where = f"{key}.{err.full_key}" if err.full_key else key
        unknown = isinstance(err, ConfigKeyError | ConfigAttributeError)
        hint = f"; valid keys: {sorted(f.name for f in fields(kind))}" if unknown else ""
        raise ConfigError(f"{where}: {str(err.msg).splitlines()[0]}{hint}") from err
