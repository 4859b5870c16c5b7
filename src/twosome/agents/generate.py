"""An LM that writes its action instead of scoring a list (``agent=generate``): the measure of the
misalignment TWOSOME starts from. After the same prompt TWOSOME scores, the LM (with a trained run's adapter, or
without) generates up to the end of the line or ``max_new_tokens``, greedily or sampled (``decoding``); the text
becomes the valid action it names after normalization (``match_action``), or the extra "invalid" index that the
environment's ``InvalidAsNoOp`` wrapper turns into a decision that does nothing. Evaluation only: the policy is the
generation itself, a distribution with all its mass on the chosen index.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.distributions import Categorical

from twosome.agents.base import ActorCritic, EvaluationOnly, mlp
from twosome.agents.capabilities import TokenOutputs, Written
from twosome.agents.lora_files import load_adapter_and_head, save_adapter_and_head
from twosome.agents.observation import ObsBatch
from twosome.run_dir import ADAPTER_CONFIG

DECODINGS = ("greedy", "sample")  # sample: each token drawn from the LM's distribution at ``temperature``
ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_action_text(text: str) -> str:
    """Case, spaces, articles and surrounding punctuation do not distinguish actions: "Pick up  the Tomato." and
    "pick up tomato" are one action."""
    text = ARTICLES.sub(" ", text.lower())
    return " ".join(text.strip().strip(".,;:!?\"'").split())


def match_action(text: str, actions: Sequence[str], mask: Sequence[bool] | None = None) -> int | None:
    """The index of the valid action whose normalized text equals ``text``'s (the first, if several), else None."""
    wanted = normalize_action_text(text)
    for i, action in enumerate(actions):
        if (mask is None or mask[i]) and normalize_action_text(action) == wanted:
            return i
    return None


# Words that name no object or act of their own: a lenient match ignores them.
FUNCTION_WORDS = frozenset(
    "a an the to of in on into onto at from with and or it its up down out off for by this that your you".split()
)


def content_words(text: str) -> set[str]:
    """The words of an action text that carry its meaning, lower-cased, without punctuation or function words."""
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in FUNCTION_WORDS}


def lenient_match(text: str, actions: Sequence[str], mask: Sequence[bool] | None = None) -> int | None:
    """A lenient reading of a written text: the valid action that shares the most content words with it, its object
    (its last content word) counting twice, if that best is unique and shares at least one word ("pick up the bowl."
    -> "take the bowl" rather than "pick up the tomato"). It over-credits (a shared object is enough), so the share
    of texts it cannot read is a lower bound of misalignment, as the exact match's (``match_action``) is an upper."""
    exact = match_action(text, actions, mask)
    if exact is not None:
        return exact
    words = content_words(text)
    scores = []
    for i, action in enumerate(actions):
        ordered = [w for w in re.findall(r"[a-z0-9]+", action.lower()) if w not in FUNCTION_WORDS]
        valid = mask is None or mask[i]
        scores.append(len(words & set(ordered)) + (ordered[-1] in words if ordered else 0) if valid else 0)
    best = max(scores, default=0)
    if best == 0 or scores.count(best) > 1:
        return None
    return scores.index(best)


@dataclass
class Generation:
    """What an LM wrote after a batch of prompts."""

    texts: list[str]  # each row's action text: after leading spaces, up to the end of its line
    tokens: torch.Tensor  # (N, K) the tokens that wrote it, through the one that ends the line (or EOS); -1 pads
    logprobs: torch.Tensor  # (N,) their log-probability under the distribution they were drawn from


@torch.no_grad()
def generate_actions(lm, tokenizer, prompts: list[str], max_new_tokens: int, sample: bool, temperature: float):
    """Continue every prompt (its trailing spaces dropped: the action's first token carries its space) until the
    line ends, up to ``max_new_tokens``. The action is the text after leading whitespace up to the next newline; its
    tokens are those up to the one that writes that newline (or the end-of-sequence token, or the limit): a policy
    that stops there, so what a trained writer learns is exactly what it wrote (the tokens after are never read)."""
    tok = tokenizer
    side, tok.padding_side = tok.padding_side, "left"  # generation continues every row from its last token
    try:
        batch = tok([p.rstrip(" ") for p in prompts], return_tensors="pt", padding=True)
    finally:
        tok.padding_side = side
    device = next(lm.parameters()).device
    out = lm.generate(
        **batch.to(device),
        max_new_tokens=max_new_tokens,
        do_sample=sample,
        temperature=temperature if sample else None,
        top_k=None,
        top_p=None,
        pad_token_id=tok.pad_token_id,
        output_scores=True,
        return_dict_in_generate=True,
    )
    new = out.sequences[:, batch["input_ids"].shape[1] :].cpu()
    scores = torch.stack(out.scores, 1).float().cpu()  # the distributions the tokens were drawn from
    token_logprobs = scores.log_softmax(-1).gather(-1, new[..., None]).squeeze(-1)
    tokens, texts = torch.full_like(new, -1), []
    for i, row in enumerate(new.tolist()):
        end = len(row)
        for j in range(len(row)):
            if row[j] == tok.eos_token_id or "\n" in tok.decode(row[: j + 1], skip_special_tokens=True).lstrip():
                end = j + 1
                break
        tokens[i, :end] = new[i, :end]
        texts.append(tok.decode(row[:end], skip_special_tokens=True).lstrip().split("\n")[0])
    logprobs = (token_logprobs * (tokens >= 0)).sum(1)
    return Generation(texts, tokens, logprobs)


class TextActions:
    """Texts to action indices, with the accounting of those that name none (for the run's summary)."""

    def __init__(self, top_invalid: int = 10):
        self.top_invalid = top_invalid
        self.decisions, self.invalid_texts, self.unreadable = 0, Counter(), 0

    def choose(self, texts: list[str], obs: ObsBatch) -> torch.Tensor:
        """The action index each text names, or the row's invalid index (``InvalidAsNoOp``: one past its actions)."""
        chosen = []
        for i, text in enumerate(texts):
            n = len(obs.actions[i])
            index = match_action(text, obs.actions[i], obs.action_mask[i, :n].tolist())
            if index is None:
                self.invalid_texts[text] += 1
                self.unreadable += lenient_match(text, obs.actions[i], obs.action_mask[i, :n].tolist()) is None
                index = n
            chosen.append(index)
        self.decisions += len(obs)
        return torch.tensor(chosen, dtype=torch.long)

    def tallies(self) -> dict:
        return {
            "decisions": self.decisions,
            "invalid_texts": Counter(self.invalid_texts),
            "unreadable": self.unreadable,
        }

    def load_tallies(self, state: dict) -> None:
        self.decisions, self.unreadable = state["decisions"], state["unreadable"]
        self.invalid_texts = Counter(state["invalid_texts"])

    def report(self) -> dict:
        """The decisions written, the share that named no valid action, and the most frequent invalid texts with
        their counts (every evaluation of the run together)."""
        invalid = sum(self.invalid_texts.values())
        return {
            "generate/decisions": self.decisions,
            "generate/invalid_rate": invalid / self.decisions if self.decisions else float("nan"),
            # the lenient reading's lower bound (``lenient_match``); the environment still acts on the exact one
            "generate/lenient_invalid_rate": self.unreadable / self.decisions if self.decisions else float("nan"),
            "generate/top_invalid_texts": [[t, c] for t, c in self.invalid_texts.most_common(self.top_invalid)],
        }


def point_mass(chosen: torch.Tensor, obs: ObsBatch) -> Categorical:
    """All mass on each row's chosen index, among its actions and the invalid index past them."""
    probs = torch.zeros(len(obs), obs.action_mask.shape[1] + 1)
    probs[torch.arange(len(obs)), chosen] = 1.0
    return Categorical(probs=probs)


class GenerateAgent(EvaluationOnly):
    def __init__(
        self,
        lm,
        tokenizer,
        max_new_tokens: int = 16,
        decoding: str = "greedy",
        temperature: float = 1.0,
        adapter: str | None = None,
        top_invalid: int = 10,
    ):
        super().__init__()
        if max_new_tokens < 1:
            raise ValueError(f"agent.policy.max_new_tokens={max_new_tokens} is not valid; valid: an integer >= 1")
        if decoding not in DECODINGS:
            raise ValueError(f"agent.policy.decoding={decoding!r} is not valid; valid: {list(DECODINGS)}")
        if temperature <= 0:
            raise ValueError(f"agent.policy.temperature={temperature} is not valid; valid: > 0")
        if adapter is not None:
            from peft import PeftModel

            if not (Path(adapter) / ADAPTER_CONFIG).is_file():
                raise ValueError(
                    f"agent.policy.adapter={adapter!r} holds no adapter_config.json: give a run's adapter/"
                )
            lm = PeftModel.from_pretrained(lm, adapter)
        self.lm, self.tokenizer = lm.eval(), tokenizer
        self.max_new_tokens, self.sample, self.temperature = max_new_tokens, decoding == "sample", temperature
        self.texts = TextActions(top_invalid)
        self.greedy_texts: dict[str, str] = {}  # greedy decoding of a frozen LM writes one text per prompt

    def generate(self, prompts: list[str]) -> list[str]:
        """Each prompt's action text (``generate_actions``). Greedy texts are memoized by prompt: a task that starts
        every episode in one state asks the same prompt hundreds of times, and each is one generation alone (a
        prompt is never batched with others, so its padding, and so its text, cannot depend on its neighbours)."""
        if self.sample:
            return self._generate(prompts)
        for prompt in dict.fromkeys(p for p in prompts if p not in self.greedy_texts):
            self.greedy_texts[prompt] = self._generate([prompt])[0]
        return [self.greedy_texts[p] for p in prompts]

    def _generate(self, prompts: list[str]) -> list[str]:
        return generate_actions(
            self.lm, self.tokenizer, prompts, self.max_new_tokens, self.sample, self.temperature
        ).texts

    def distribution(self, obs: ObsBatch) -> Categorical:
        """All mass on the action each text names, or on the environment's extra invalid index where it names none."""
        return point_mass(self.texts.choose(self.generate(obs.prompts), obs), obs)

    def report(self) -> dict:
        return self.texts.report()

    def tallies(self) -> dict:
        return self.texts.tallies()

    def load_tallies(self, state: dict) -> None:
        self.texts.load_tallies(state)


class GenerateRLAgent(ActorCritic):
    """The writer trained by reward (``agent=generate_rl``, trained with ``algo=poad``): the same LM with a
    LoRA adapter writes its action, sampled token by token (``act``), and a token-level algorithm trains those tokens
    (``token_outputs``: their log-probabilities under the full vocabulary, not a candidate list) with a token critic
    on the adapted LM's hidden states, as POAD's. An action that names no valid one is an invalid decision (penalized
    by ``agent.invalid_action_reward``): nothing but reward teaches it the environment's actions."""

    def __init__(
        self,
        lm,
        tokenizer,
        max_new_tokens: int = 16,
        temperature: float = 1.0,
        top_invalid: int = 10,
        lora_r: int = 8,
        lora_alpha: int = 16,
        lora_dropout: float = 0.0,
        lora_target_modules: tuple[str, ...] = ("q_proj", "v_proj"),
        lora_layers: int | None = None,
        critic_hidden: tuple[int, ...] = (1024, 512),
        critic_activation: str = "relu",
        critic_bias: bool = False,
        critic_uses_adapter: bool = True,
    ):
        super().__init__()
        from peft import get_peft_model

        from twosome.agents.twosome import ACTIVATIONS, lora_config, top_layers

        if lm.config.is_encoder_decoder:
            raise ValueError(
                "agent=generate_rl trains a causal LM's written tokens; this model is an encoder-decoder (T5): "
                "use a causal model (model=tiny, smollm2)"
            )
        if critic_activation not in ACTIVATIONS:
            raise ValueError(f"critic_activation={critic_activation!r} is not valid; valid: {sorted(ACTIVATIONS)}")
        if not critic_uses_adapter:
            raise ValueError(
                "agent.policy.critic_uses_adapter=false is not valid for agent=generate_rl: its token critic reads "
                "the adapted LM's hidden states (valid: true)"
            )
        lm.requires_grad_(False)
        config = lora_config(lora_r, lora_alpha, lora_dropout, lora_target_modules, top_layers(lm, lora_layers), False)
        self.actor = get_peft_model(lm, config)
        for p in self.policy_parameters():  # adapters in fp32: tiny learning rates must not round away
            p.data = p.data.float()
        self.critic_head = mlp(
            [lm.config.hidden_size, *critic_hidden, 1], activation=ACTIVATIONS[critic_activation], bias=critic_bias
        )
        if max_new_tokens < 1:
            raise ValueError(f"agent.policy.max_new_tokens={max_new_tokens} is not valid; valid: an integer >= 1")
        if temperature <= 0:
            raise ValueError(f"agent.policy.temperature={temperature} is not valid; valid: > 0")
        self.tokenizer, self.max_new_tokens, self.temperature = tokenizer, max_new_tokens, temperature
        self.texts = TextActions(top_invalid)

    # --- acting ------------------------------------------------------------------------------------------
    def act(self, obs: ObsBatch, greedy: bool = False) -> Written:
        """Write each row's action (sampled at ``temperature``, or greedy) and name the action it chooses."""
        gen = generate_actions(
            self.actor, self.tokenizer, obs.prompts, self.max_new_tokens, not greedy, self.temperature
        )
        return Written(self.texts.choose(gen.texts, obs), gen.tokens, gen.logprobs)

    def distribution(self, obs: ObsBatch) -> Categorical:
        """A sampled text's action, all mass on it: the policy over indices seen from outside (``act`` is the
        policy itself)."""
        return point_mass(self.act(obs).actions, obs)

    def report(self) -> dict:
        return self.texts.report()

    def tallies(self) -> dict:
        return self.texts.tallies()

    def load_tallies(self, state: dict) -> None:
        self.texts.load_tallies(state)

    # --- token level -------------------------------------------------------------------------------------
    def _forward(self, prompts: list[str], tokens: torch.Tensor):
        """The adapted LM on each prompt (as generation reads it) followed by its written tokens (-1: none):
        the logits and last hidden states at the positions that predict each written token, (N, K, .)."""
        ids = [self.tokenizer(p.rstrip(" "))["input_ids"] for p in prompts]
        written = [row[row >= 0].tolist() for row in tokens.cpu()]
        lengths = [len(a) + len(b) for a, b in zip(ids, written)]
        pad = self.tokenizer.pad_token_id
        batch = torch.full((len(ids), max(lengths)), pad, dtype=torch.long)
        attention = torch.zeros_like(batch)
        for i, (a, b) in enumerate(zip(ids, written)):  # right-padded: every real token keeps its position
            batch[i, : lengths[i]] = torch.tensor(a + b)
            attention[i, : lengths[i]] = 1
        device = next(self.actor.parameters()).device
        out = self.actor(input_ids=batch.to(device), attention_mask=attention.to(device), output_hidden_states=True)
        K = tokens.shape[1]
        # written token k of row i sits at len(prompt_i) + k and is predicted at the position before it
        positions = torch.tensor([len(a) - 1 for a in ids])[:, None] + torch.arange(K)[None, :]
        positions = positions.clamp(max=batch.shape[1] - 1).to(device)
        logits = out.logits.gather(1, positions[..., None].expand(-1, -1, out.logits.shape[-1]))
        hidden = out.hidden_states[-1]
        hidden = hidden.gather(1, positions[..., None].expand(-1, -1, hidden.shape[-1]))
        return logits, hidden

    def token_outputs(self, obs: ObsBatch, tokens: torch.Tensor) -> TokenOutputs:
        """Each written token's log-probability under the distribution it was sampled from (the full vocabulary at
        ``temperature``), and the token critic's features (the adapted LM's hidden state before it, detached)."""
        logits, hidden = self._forward(obs.prompts, tokens)
        mask = (tokens >= 0).to(logits.device)
        logprobs = (logits.float() / self.temperature).log_softmax(-1)
        logprobs = logprobs.gather(-1, tokens.clamp(min=0).to(logits.device)[..., None]).squeeze(-1) * mask
        return TokenOutputs(logprobs=logprobs, mask=mask, features=hidden.detach().float())

    def token_values(self, features: torch.Tensor) -> torch.Tensor:
        return self.critic_head(features).squeeze(-1)

    @torch.no_grad()
    def value(self, obs: ObsBatch) -> torch.Tensor:
        """V(s): the token critic before the first written token (the prompt's last position)."""
        _, hidden = self._forward(obs.prompts, torch.full((len(obs), 1), -1))
        return self.token_values(hidden[:, 0].float())

    # --- training plumbing -------------------------------------------------------------------------------
    def policy_parameters(self) -> list[nn.Parameter]:
        return [p for n, p in self.actor.named_parameters() if "lora_" in n]

    def value_parameters(self) -> list[nn.Parameter]:
        return list(self.critic_head.parameters())

    def save(self, directory: str | Path, state_dict: dict | None = None) -> None:
        """``adapter/`` (``agent=generate agent.policy.adapter=<run>/adapter`` reads it back) and the critic head."""
        save_adapter_and_head(self, directory, state_dict, "default")

    def load(self, directory: str | Path) -> None:
        load_adapter_and_head(self, directory, "default")
