"""How an LM agent's trained weights go to disk: the adapter as peft writes it (so that peft, lm-eval and
``agent.policy.adapter=<run>/adapter`` read it back) and the critic head as a tensor file, under the names of
``twosome.run_dir``, for every LM agent alike."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from twosome.agents.capabilities import child_state_dict
from twosome.run_dir import ADAPTER, ADAPTER_WEIGHTS, CRITIC_HEAD, DamagedWeights


def save_adapter_and_head(agent: nn.Module, directory: str | Path, state_dict: dict | None, adapter: str) -> None:
    """``agent.actor``'s adapter ``adapter`` and ``agent.critic_head`` (if it has one); ``state_dict``: the full
    trained weights (FSDP gathers them) instead of the modules' own. A named adapter (a seed group's member) is
    written where a run alone writes ``default``'s, so that every run directory reads the same."""
    directory = Path(directory)
    actor_sd = None if state_dict is None else child_state_dict(agent, "actor", state_dict)
    agent.actor.save_pretrained(directory / ADAPTER, state_dict=actor_sd, selected_adapters=[adapter])
    if adapter != "default":  # peft puts a named adapter in a subdirectory
        for item in (directory / ADAPTER / adapter).iterdir():
            item.replace(directory / ADAPTER / item.name)
        (directory / ADAPTER / adapter).rmdir()
    if agent.critic_head is not None:  # an agent built without a critic (algo=gigpo) saves none
        torch.save(child_state_dict(agent, "critic_head", state_dict), directory / CRITIC_HEAD)


def load_adapter_and_head(agent: nn.Module, directory: str | Path, adapter: str) -> None:
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    directory = Path(directory)
    state = readable(directory / ADAPTER / ADAPTER_WEIGHTS, load_file)
    set_peft_model_state_dict(agent.actor, state, adapter_name=adapter)
    if agent.critic_head is not None:
        head = readable(directory / CRITIC_HEAD, lambda path: torch.load(path, weights_only=True))
        agent.critic_head.load_state_dict(head)


def readable(path: Path, read):
    """``read(path)``, or an error naming the file and the way out (safetensors' and torch's name neither)."""
    try:
        return read(path)
    except Exception as err:
        first = str(err).splitlines()[0] if str(err) else ""
        raise DamagedWeights(
            f"{path} cannot be read ({type(err).__name__}: {first}): the run's saved weights are missing or damaged; "
            "rerunning its training command writes them again from its checkpoint"
        ) from None
