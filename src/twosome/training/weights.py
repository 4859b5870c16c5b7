"""A trained agent's weights: which they are (a seed group member's named as a run alone names them), their digest
(the number that shows two runs trained the same weights), and writing them so that a crash never leaves half."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from twosome.fileio import apply_umask
from twosome.parallel import collectives as dist
from twosome.run_dir import RunDir


def trained_weights(agent) -> dict:
    """The agent's trained weights by name. A seed group member shares its LM with the other members' adapters: its
    own are named as a run alone names them (adapter ``default``), so its files and digest are a lone run's."""
    adapter = getattr(agent, "adapter_name", None)
    if adapter is None:
        return {n: p.detach() for n, p in agent.named_parameters() if p.requires_grad}
    own = {id(p) for p in [*agent.policy_parameters(), *agent.value_parameters()]}
    return {n.replace(f".{adapter}.", ".default."): p.detach() for n, p in agent.named_parameters() if id(p) in own}


def weights_digest(state_dict: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        digest.update(name.encode())
        digest.update(state_dict[name].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def save_agent(agent, run_dir: Path) -> tuple[str, list[str]]:
    """The trained weights in their own formats (peft adapter, heads), written to a temporary directory that
    replaces the old files only when complete; returns their digest and the names written. With FSDP every rank
    gathers the full trained weights, the ranks check that they agree, and rank 0 writes them."""
    if dist.is_distributed():
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        options = StateDictOptions(full_state_dict=True, ignore_frozen_params=True)
        state_dict = {k: v.detach().cpu() for k, v in get_model_state_dict(agent, options=options).items()}
        digests = dist.gather([weights_digest(state_dict)])
        if len(set(digests)) != 1:
            raise RuntimeError(f"the ranks disagree on the trained weights (digests {digests}): not saving them")
    else:
        state_dict = trained_weights(agent)
    digest = weights_digest(state_dict)
    if dist.rank() != 0:
        return digest, []
    staging = RunDir(run_dir).staging
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    agent.save(staging, state_dict=state_dict if dist.is_distributed() else None)
    apply_umask(staging)  # safetensors writes its files 0600, whatever the umask
    saved = sorted(item.name for item in staging.iterdir())
    for item in staging.iterdir():
        target = run_dir / item.name
        if target.is_dir():
            shutil.rmtree(target)
        item.replace(target)
    staging.rmdir()
    return digest, saved
