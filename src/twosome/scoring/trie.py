"""The LM's token distribution restricted to a candidate list: at every node of a prompt's candidate trie (the
tokens chosen so far), the next-token probabilities renormalized over the tokens that continue some candidate.

This is how a token-level method (POAD) acts on a candidate list: an action is a sequence of token decisions, each
a proper distribution, and the product of an action's restricted token probabilities is a distribution over the
candidates (they sum to 1 for every prompt). It needs no end-of-action token, so no candidate may be a token prefix
of another.
"""

from __future__ import annotations

import torch


def trie_logprobs(
    token_logprobs: torch.Tensor, token_mask: torch.Tensor, token_ids: torch.Tensor, owner: torch.Tensor
) -> torch.Tensor:
    """(C, L) log-probabilities of each candidate token restricted to the candidates' trie, 0 at padding."""
    ids, lengths, owners = token_ids.tolist(), token_mask.sum(-1).tolist(), owner.tolist()
    nodes: dict[tuple, int] = {}
    children: dict[tuple[int, int], int] = {}
    child_node, rep_j, rep_k = [], [], []
    node_idx = torch.zeros(token_ids.shape, dtype=torch.long)
    ends: dict[tuple, int] = {}
    for j, (o, n) in enumerate(zip(owners, lengths)):
        for k in range(n):
            node = nodes.setdefault((o, tuple(ids[j][:k])), len(nodes))
            if (node, ids[j][k]) not in children:
                children[(node, ids[j][k])] = len(children)
                child_node.append(node)
                rep_j.append(j)
                rep_k.append(k)
            node_idx[j, k] = node
        whole = (o, tuple(ids[j][:n]))
        if whole in ends:
            raise ValueError(f"candidates {ends[whole]} and {j} of prompt {o} have the same tokens")
        ends[whole] = j
    for (o, prefix), j in ends.items():
        if (o, prefix) in nodes:
            raise ValueError(
                f"candidate {j} of prompt {o} is a token prefix of another candidate: the restricted (trie) policy "
                "has no end-of-action token to tell them apart"
            )
    device = token_logprobs.device
    child_node_t = torch.tensor(child_node, device=device)
    child_logp = token_logprobs[torch.tensor(rep_j, device=device), torch.tensor(rep_k, device=device)]
    top = torch.full((len(nodes),), float("-inf"), device=device, dtype=child_logp.dtype)
    top = top.scatter_reduce(0, child_node_t, child_logp.detach(), reduce="amax")
    total = torch.zeros_like(top).index_add(0, child_node_t, (child_logp - top[child_node_t]).exp())
    log_normalizer = total.log() + top
    return (token_logprobs - log_normalizer[node_idx.to(device)]) * token_mask
