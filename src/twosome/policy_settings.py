"""``agent.policy``'s keys checked against the constructor they are passed to, before anything is built.

``agent.policy`` is instantiated (``_target_``) with the model, so it is an open mapping in the config: a typo added
with ``+`` would pass, and a value of the wrong type would fail after the model has loaded, naming no key. The
constructor's own signature is the schema: its parameter names are the valid keys, its annotations their types.
It is read from the source (``ast``), not imported, so that the config checks stay free of torch.
"""

from __future__ import annotations

import ast
import math
import sys
from functools import cache
from importlib.machinery import PathFinder
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

# Arguments the agent builder passes itself (training/build.py), never taken from the config.
BUILDER_ARGUMENTS = ("self", "lm", "tokenizer", "obs_dim", "n_actions", "adapter_name")

# Arguments that size a network, whatever the agent (a width, each width of a list, an embedding's rows, a rank, the
# words read): 0 or less failed in torch, after the run directory was written.
SIZES = ("vocab_buckets", "embedding_dim", "hidden", "max_words", "critic_hidden", "lora_r")

# A from-scratch agent's weights at most: 4 GB in float32, 16 GB with the gradients and Adam's two moments.
# (``agent.policy.hidden=100000000`` for DRRN asked for 76.8 GB in its first layer.)
MAX_WEIGHTS = 10**9


def drrn_weights(s: dict) -> int:
    """DRRNAgent's weight count (agents/drrn.py): two embeddings, three GRU encoders, the pair scorer, the critic."""
    buckets, dim, hidden = s.get("vocab_buckets", 8192), s.get("embedding_dim", 64), s.get("hidden", 128)
    gru = 3 * (dim * hidden + hidden * hidden + 2 * hidden)
    return 2 * buckets * dim + 3 * gru + (2 * hidden * hidden + 2 * hidden + 1) + (hidden * hidden + 2 * hidden + 1)


WEIGHTS = {"twosome.agents.drrn.DRRNAgent": drrn_weights}  # the agents whose every weight the config sizes


def module_file(module: str) -> Path | None:
    """The source file of a dotted module name, found without importing it (nor its packages)."""
    parts, path = module.split("."), None
    for i in range(len(parts)):
        name = ".".join(parts[: i + 1])
        loaded = sys.modules.get(name)
        if loaded is not None and i < len(parts) - 1 and hasattr(loaded, "__path__"):
            path = list(loaded.__path__)
            continue
        spec = PathFinder.find_spec(name, path)
        if spec is None:
            return None
        if i == len(parts) - 1:
            return Path(spec.origin) if spec.origin and spec.origin.endswith(".py") else None
        path = list(spec.submodule_search_locations or [])
    return None


@cache
def constructor_parameters(target: str) -> dict[str, str] | None:
    """``{name: annotation}`` of the class's ``__init__`` (its first class in the file defining one), or None when
    it cannot be read without importing (a class elsewhere, ``**kwargs``, an inherited constructor)."""
    module, _, name = target.rpartition(".")
    source = module_file(module) if module else None
    if source is None:
        return None
    tree = ast.parse(source.read_text())
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    if name not in classes:
        return None
    init = next((n for n in classes[name].body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if init is None or init.args.kwarg is not None:
        return None
    arguments = [*init.args.posonlyargs, *init.args.args, *init.args.kwonlyargs]
    return {a.arg: ast.unparse(a.annotation) if a.annotation else "" for a in arguments}


def matches(value, annotation: str) -> bool:
    """Whether ``value`` (from the config) fits an annotation of the simple kinds the agents use; anything else
    is not checked here (the constructor checks it)."""
    annotation = annotation.replace(" ", "")
    if not annotation:
        return True
    options = annotation.split("|") if "[" not in annotation else [annotation]
    if len(options) > 1:
        return any(matches(value, option) for option in options)
    if annotation == "None":
        return value is None
    if annotation == "bool":
        return isinstance(value, bool)
    if annotation == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if annotation == "str":
        return isinstance(value, str)
    for kind in ("tuple", "list", "Sequence"):
        if annotation.startswith(f"{kind}["):
            inner = annotation[len(kind) + 1 : -1].removesuffix(",...")
            items = inner if "," not in inner else ""
            return isinstance(value, (list, tuple)) and all(matches(v, items) for v in value)
    return True


def check_policy_settings(cfg: DictConfig, error: type[Exception] = ValueError) -> None:
    """Refuse a key of ``agent.policy`` its constructor does not take, or a value of another type, naming both."""
    policy = OmegaConf.select(cfg, "agent.policy")
    if policy is None or "_target_" not in policy:
        return
    parameters = constructor_parameters(str(policy._target_))
    if parameters is None:
        return
    settable = {k: v for k, v in parameters.items() if k not in BUILDER_ARGUMENTS}
    values = OmegaConf.to_container(policy, resolve=True)
    cls = str(policy._target_).rpartition(".")[2]
    for key, value in values.items():
        if key == "_target_":
            continue
        if key not in settable:
            raise error(f"agent.policy.{key} is not a setting of {cls}; valid: {sorted(settable)}")
        if not matches(value, settable[key]):
            valid = settable[key]
            if isinstance(value, float) and not math.isfinite(value) and "float" in valid:
                valid = "a finite number"  # nan and inf are floats: "valid: float" would read as a contradiction
            raise error(f"agent.policy.{key}={value!r} is not valid; valid: {valid}")
        sizes = value if isinstance(value, list | tuple) else [value]
        if key in SIZES and not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in sizes):
            raise error(
                f"agent.policy.{key}={value!r} is not valid; valid: {'sizes' if sizes is value else 'a size'} >= 1"
            )
    count = WEIGHTS[str(policy._target_)](values) if str(policy._target_) in WEIGHTS else 0
    if count > MAX_WEIGHTS:
        given = ", ".join(f"{k}={values[k]}" for k in SIZES if k in values)
        raise error(
            f"agent.policy ({cls}: {given}) makes {count:.2g} weights; valid: at most {MAX_WEIGHTS:.0e} (4 GB in "
            "float32, 16 GB with the gradients and Adam's moments)"
        )
