"""Settings that check themselves: the error every config check raises, and the dataclass base whose construction
runs its checks. Torch-free and free of the other packages, so that both the config checks (twosome.config) and the
algorithms' settings (twosome.rl.settings) build on it."""

from __future__ import annotations

import math
import types
import typing
from dataclasses import fields, is_dataclass
from functools import cache
from typing import ClassVar, TypeVar

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


FINITE = "a finite number"
INT64 = "an integer of 64 bits at most (below 2**63)"


@cache
def typed_fields(kind: type, number: type) -> tuple[str, ...]:
    """The fields of the dataclass ``kind`` annotated ``number`` (or ``number | None``)."""
    hints = typing.get_type_hints(kind)
    out = []
    for f in fields(kind):
        hint = hints.get(f.name)
        union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        if number in (typing.get_args(hint) if union else (hint,)):
            out.append(f.name)
    return tuple(out)


def float_fields(kind: type) -> tuple[str, ...]:
    return typed_fields(kind, float)


def non_finite(kind: type, values, prefix: str = "") -> list[str]:
    """A problem for each float field of ``kind`` whose value in ``values`` is nan or infinite, and each int field
    beyond 64 bits. Said once here for every field: nan fails every comparison (so ``x < 0``-style checks let it
    through) and inf passes every lower bound, so a run failed after its first rollout or trained with a stop
    turned off; an integer beyond 64 bits passes every bound and overflows in torch or in ``len()``, after the run
    directory is written."""
    exempt = getattr(kind, "infinite_allowed", ())
    out = []
    for name in float_fields(kind):
        value = getattr(values, name, None)
        if name not in exempt and isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value):
                out.append(problem(f"{prefix}{name}", value, FINITE))
    for name in typed_fields(kind, int):
        value = getattr(values, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            out.append(problem(f"{prefix}{name}", value, INT64))
    return out


class Checked:
    """Runs ``problems()`` on construction; each problem is one ``key=value is not valid; valid: ...`` clause. Every
    float field must be finite unless the class names it in ``infinite_allowed``, and every int field fit in 64 bits
    (``non_finite``: checked first, for every subclass)."""

    infinite_allowed: ClassVar[tuple[str, ...]] = ()  # float fields where infinity means something

    def __post_init__(self) -> None:
        problems = non_finite(type(self), self) or self.problems()
        if problems:
            raise ConfigError("; ".join(problems))

    def problems(self) -> list[str]:
        raise NotImplementedError


class _Present:
    """A config node's set values as attributes (a missing one reads None), for ``non_finite``."""

    def __init__(self, node: DictConfig) -> None:
        self.node = node

    def __getattr__(self, name: str):
        return None if OmegaConf.is_missing(self.node, name) else self.node[name]


def settings(cfg: DictConfig, key: str, kind: type[T]) -> T:
    """``cfg[key]`` as its dataclass, with the checks of ``kind``; also for a run's plain config.yaml, which Hydra
    did not compose (its types are checked here)."""
    node = OmegaConf.to_container(cfg[key], resolve=True)
    try:
        merged = OmegaConf.merge(OmegaConf.structured(kind), node)
        problems = non_finite(kind, _Present(merged), f"{key}.") if is_dataclass(kind) else []
        if problems:  # named with the group's key (a class's own checks do not know it)
            raise ConfigError("; ".join(problems))
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:  # a key added with +key=..., or a plain config's wrong type
        where = f"{key}.{err.full_key}" if err.full_key else key
        unknown = isinstance(err, ConfigKeyError | ConfigAttributeError)
        hint = f"; valid keys: {sorted(f.name for f in fields(kind))}" if unknown else ""
        raise ConfigError(f"{where}: {str(err.msg).splitlines()[0]}{hint}") from err
