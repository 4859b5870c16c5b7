"""The batched scorer agrees with one-forward-per-action scoring, for several architectures and tokenizers."""

from __future__ import annotations

import pytest
import torch
from helpers import CANDIDATES, MODES, PROMPTS, scorer_for

from twosome.lm.loading import load_lm
from twosome.scoring import ActionScorer, normalize, reference_logprobs


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["llama-metaspace", "gpt2-bytelevel", "qwen2-bytelevel", "t5-metaspace"])
def test_batched_scores_match_reference(model_zoo, name, mode):
    model, tokenizer = model_zoo[name]
    scorer = scorer_for(model, tokenizer, mode)
    batch = scorer.encode(PROMPTS, CANDIDATES)
    with torch.no_grad():
        scores = scorer.score(model, batch)
    expected = torch.tensor(
        [reference_logprobs(model, batch.prompt_ids[o], c) for o, c in zip(batch.owner.tolist(), batch.candidate_ids)]
    )
    torch.testing.assert_close(scores.logprob_sum, expected, atol=1e-5, rtol=0)
    assert scores.counts == [5, 2, 1]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["llama-metaspace", "gpt2-bytelevel", "t5-metaspace"])
def test_scores_independent_of_batch_composition(model_zoo, name, mode):
    """Padding to the longest sequence in the batch must not change any candidate's score."""
    model, tokenizer = model_zoo[name]
    scorer = scorer_for(model, tokenizer, mode)
    with torch.no_grad():
        together = scorer.score(model, scorer.encode(PROMPTS, CANDIDATES)).logprob_sum
        alone = torch.cat(
            [scorer.score(model, scorer.encode([p], [c])).logprob_sum for p, c in zip(PROMPTS, CANDIDATES)]
        )
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=0)


def test_separator_reproduces_joint_tokenization(model_zoo):
    """Action ids tokenized alone equal the tail of prompt + ' ' + action tokenized jointly (common case)."""
    for name in ("llama-metaspace", "gpt2-bytelevel"):
        _, tokenizer = model_zoo[name]
        scorer = ActionScorer(tokenizer)
        joint = tokenizer("you should first pick up the tomato", add_special_tokens=False)["input_ids"]
        alone = scorer.action_ids("pick up the tomato")
        assert joint[-len(alone) :] == alone, name


def test_default_model_scores_match_reference(tiny_model_dir):
    model, tokenizer = load_lm(str(tiny_model_dir))
    scorer = ActionScorer(tokenizer)
    batch = scorer.encode(PROMPTS[:2], CANDIDATES[:2])
    with torch.no_grad():
        got = scorer.score(model, batch).logprob_sum
    want = torch.tensor(
        [reference_logprobs(model, batch.prompt_ids[o], c) for o, c in zip(batch.owner.tolist(), batch.candidate_ids)]
    )
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


def test_prompt_features_read_last_real_token(model_zoo):
    model, tokenizer = model_zoo["llama-metaspace"]
    scorer = ActionScorer(tokenizer)
    ids = [scorer.prompt_ids(p) for p in PROMPTS]
    with torch.no_grad():
        feats = scorer.prompt_features(model, ids)
        for i, row in enumerate(ids):
            alone = model(input_ids=torch.tensor([row]), output_hidden_states=True).hidden_states[-1][0, -1]
            torch.testing.assert_close(feats[i], alone, atol=1e-5, rtol=0)


def test_normalizations_and_padding(model_zoo):
    model, tokenizer = model_zoo["gpt2-bytelevel"]
    scorer = ActionScorer(tokenizer)
    batch = scorer.encode(PROMPTS, CANDIDATES)
    with torch.no_grad():
        scores = scorer.score(model, batch)
    n_words = torch.tensor([len(a.split()) for c in CANDIDATES for a in c])
    torch.testing.assert_close(scores.normalized("word"), scores.logprob_sum / n_words)
    torch.testing.assert_close(scores.normalized("token"), scores.logprob_sum / batch.n_tokens)
    torch.testing.assert_close(scores.normalized("none"), scores.logprob_sum)
    assert scores.token_logprobs.shape == (len(scores.n_tokens), int(scores.n_tokens.max()))
    assert (scores.token_logprobs[~scores.token_mask] == 0).all() and (
        scores.token_logprobs[scores.token_mask] < 0
    ).all()


def test_gradients_flow_and_match_reference_direction(model_zoo):
    """Gradient of the batched score equals the sum of per-sequence gradients."""
    model, tokenizer = model_zoo["llama-metaspace"]
    scorer = ActionScorer(tokenizer)
    batch = scorer.encode(PROMPTS[:2], CANDIDATES[:2])
    weight = model.model.layers[0].self_attn.q_proj.weight
    weight.requires_grad_(True)
    try:
        scorer.score(model, batch).logprob_sum.sum().backward()
        batched = weight.grad.clone()
        weight.grad = None
        for o, c in zip(batch.owner.tolist(), batch.candidate_ids):
            ids = torch.tensor([batch.prompt_ids[o] + c])
            logp = torch.log_softmax(model(input_ids=ids).logits[0], -1)
            n = len(batch.prompt_ids[o])
            sum(logp[n + k - 1, t] for k, t in enumerate(c)).backward()
        torch.testing.assert_close(batched, weight.grad, atol=1e-5, rtol=1e-4)
    finally:
        weight.requires_grad_(False)
        weight.grad = None


def test_bad_input_errors(model_zoo):
    _, tokenizer = model_zoo["gpt2-bytelevel"]
    scorer = ActionScorer(tokenizer)
    with pytest.raises(ValueError, match="empty candidate list"):
        scorer.encode(["a prompt"], [[]])
    with pytest.raises(ValueError, match="2 prompts but 1 candidate"):
        scorer.encode(["a", "b"], [["x"]])
    with pytest.raises(ValueError, match="valid: \\['none', 'token', 'word', 'trie'\\]"):
        normalize(torch.zeros(1), torch.ones(1), torch.ones(1), "words")


@pytest.mark.parametrize("name", ["llama-metaspace", "gpt2-bytelevel", "qwen2-bytelevel", "t5-metaspace"])
def test_shared_prefix_lora_gradients_equal_naive(model_zoo, name):
    """Through LoRA adapters, the shared-prefix graph gives the naive computation's gradients."""
    import copy

    from peft import LoraConfig, get_peft_model

    base, tokenizer = model_zoo[name]
    targets = {"gpt2": ["c_attn"], "t5": ["q", "v"]}.get(name.split("-")[0], ["q_proj", "v_proj"])
    torch.manual_seed(1)
    model = get_peft_model(copy.deepcopy(base), LoraConfig(r=4, lora_alpha=8, target_modules=targets))
    for n, prm in model.named_parameters():  # non-zero B so gradients reach A and the prompt's keys and values
        if "lora_B" in n:
            torch.nn.init.normal_(prm, std=0.1)
    batch = ActionScorer.for_model(base, tokenizer).encode(PROMPTS, CANDIDATES)
    weights = torch.randn(len(batch.candidate_ids))
    grads = {}
    for mode in MODES:
        model.zero_grad()
        scores = scorer_for(base, tokenizer, mode).score(model, batch)
        (scores.normalized("word") * weights).sum().backward()
        grads[mode] = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    assert grads["naive"]
    for n, g in grads["naive"].items():
        for mode in ("shared", "one_pass"):
            torch.testing.assert_close(grads[mode][n], g, atol=1e-4, rtol=1e-4, msg=f"{mode} {n}")
    assert any(g.abs().sum() > 0 for n, g in grads["shared"].items() if "lora_A" in n)


def test_unknown_scorer_mode_is_rejected(model_zoo):
    _, tokenizer = model_zoo["gpt2-bytelevel"]
    with pytest.raises(ValueError, match="shared_kernel='fast' is not valid"):
        ActionScorer(tokenizer, shared_kernel="fast")
    with pytest.raises(ValueError, match="valid: \\['shared', 'naive'\\]"):
        ActionScorer(tokenizer, mode="fast")


def test_seq2seq_prompt_features_are_the_first_decoder_position(model_zoo):
    """GLAM's value head input: the decoder's final hidden state at the start token, per prompt (padding-free)."""
    model, tokenizer = model_zoo["t5-metaspace"]
    scorer = ActionScorer.for_model(model, tokenizer)
    ids = [scorer.prompt_ids(p) for p in PROMPTS]
    with torch.no_grad():
        batched = scorer.prompt_features(model, ids)
        for i, row in enumerate(ids):
            start = torch.tensor([[model.config.decoder_start_token_id]])
            out = model(input_ids=torch.tensor([row]), decoder_input_ids=start, output_hidden_states=True)
            torch.testing.assert_close(batched[i], out.decoder_hidden_states[-1][0, 0], atol=1e-5, rtol=0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["llama-metaspace", "gpt2-bytelevel", "qwen2-bytelevel", "t5-metaspace"])
def test_token_logprobs_match_one_forward_per_token(model_zoo, name, mode):
    """Each candidate token's log-probability, not only their sum: what token-level methods read."""
    model, tokenizer = model_zoo[name]
    scorer = scorer_for(model, tokenizer, mode)
    batch = scorer.encode(PROMPTS, CANDIDATES)
    with torch.no_grad():
        scores = scorer.score(model, batch)
        for j, (o, cand) in enumerate(zip(batch.owner.tolist(), batch.candidate_ids)):
            expected = [reference_logprobs(model, batch.prompt_ids[o], cand[: k + 1]) for k in range(len(cand))]
            per_token = torch.tensor(expected).diff(prepend=torch.zeros(1))
            torch.testing.assert_close(scores.token_logprobs[j, : len(cand)], per_token, atol=1e-5, rtol=1e-5)
            assert scores.token_mask[j].sum() == len(cand)


@pytest.mark.parametrize("name", ["llama-metaspace", "gpt2-bytelevel", "qwen2-bytelevel", "t5-metaspace"])
def test_hidden_states_from_the_scoring_pass(model_zoo, name):
    """The prompt's hidden state the scoring pass returns is the critic's feature (prompt_features), and the
    token hidden states agree between modes: a critic can read them instead of running a forward of its own."""
    model, tokenizer = model_zoo[name]
    batch = ActionScorer.for_model(model, tokenizer).encode(PROMPTS, CANDIDATES)
    with torch.no_grad():
        results = {mode: scorer_for(model, tokenizer, mode).score(model, batch, hidden=True) for mode in MODES}
        features = scorer_for(model, tokenizer, "naive").prompt_features(model, batch.prompt_ids)
    mask = results["naive"].token_mask
    for scores in results.values():
        torch.testing.assert_close(scores.prompt_hidden.float(), features, atol=1e-5, rtol=1e-5)
        assert scores.token_hidden.shape[:2] == scores.token_logprobs.shape
        torch.testing.assert_close(scores.token_hidden[mask], results["naive"].token_hidden[mask], atol=1e-5, rtol=1e-5)


def test_empty_prompt_is_rejected(model_zoo):
    _, tokenizer = model_zoo["gpt2-bytelevel"]
    with pytest.raises(ValueError, match="tokenizes to nothing"):
        ActionScorer(tokenizer).encode([""], [["x"]])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["llama-metaspace", "gpt2-bytelevel", "t5-metaspace"])
def test_trie_policy_is_a_distribution_over_the_candidates(model_zoo, name, mode):
    model, tokenizer = model_zoo[name]
    scorer = scorer_for(model, tokenizer, mode)
    prompts = ["You see a red apple. You should", "Go to the"]
    candidates = [["take the red apple", "take the green pear", "eat it"], ["kitchen", "bedroom", "bathroom now"]]
    with torch.no_grad():
        scores = scorer.score(model, scorer.encode(prompts, candidates))
    probs = scores.normalized("trie").exp()
    torch.testing.assert_close(torch.stack([p.sum() for p in probs.split(scores.counts)]), torch.ones(2))


def test_trie_renormalizes_at_each_node_by_hand():
    """Candidates a = [5, 7], b = [5, 8], c = [6] of one prompt: at the root the tokens 5 and 6 compete, after 5 the
    tokens 7 and 8 (the LM's other tokens do not count)."""
    from twosome.scoring.trie import trie_logprobs

    logp = torch.tensor([[-1.0, -2.0], [-1.0, -3.0], [-2.5, 0.0]])
    mask = torch.tensor([[True, True], [True, True], [True, False]])
    ids = torch.tensor([[5, 7], [5, 8], [6, 0]])
    got = trie_logprobs(logp, mask, ids, torch.zeros(3, dtype=torch.long))
    root = torch.logsumexp(torch.tensor([-1.0, -2.5]), 0)
    after_5 = torch.logsumexp(torch.tensor([-2.0, -3.0]), 0)
    expected = torch.tensor([[-1.0 - root, -2.0 - after_5], [-1.0 - root, -3.0 - after_5], [-2.5 - root, 0.0]])
    torch.testing.assert_close(got, expected)


def test_trie_rejects_a_candidate_that_prefixes_another():
    from twosome.scoring.trie import trie_logprobs

    ids = torch.tensor([[5, 0], [5, 7]])
    mask = torch.tensor([[True, False], [True, True]])
    with pytest.raises(ValueError, match="candidate 0 of prompt 0 is a token prefix"):
        trie_logprobs(torch.zeros(2, 2), mask, ids, torch.zeros(2, dtype=torch.long))


def test_tree_layout_by_hand():
    """Two prompts, three candidates: the packed rows, what each position belongs to, its position id, and where
    each candidate token is predicted, as written out by hand for both shared kernels."""
    from twosome.scoring import CandidateBatch
    from twosome.scoring.kernels import tree_layout

    batch = CandidateBatch(
        prompt_ids=[[1, 2, 3], [4, 5]],
        candidate_ids=[[10, 11], [12], [13, 14, 15]],
        owner=torch.tensor([0, 0, 1]),
        n_words=torch.tensor([1, 1, 1]),
        counts=[2, 1],
    )
    one_pass = tree_layout(batch, with_prompt=True)
    assert one_pass.rows == [[1, 2, 3, 10], [4, 5, 13, 14]]
    assert one_pass.segments == [[-1, -1, -1, 0], [-1, -1, 2, 2]]
    assert one_pass.positions == [[0, 1, 2, 3], [0, 1, 2, 3]]
    assert one_pass.predicting == [[2, 3], [2], [1, 2, 3]]  # token 0 at the prompt's last position
    prefix = tree_layout(batch, with_prompt=False)  # the prompt but its last token is in the KV cache
    assert prefix.rows == [[3, 10, 3], [5, 13, 14]]
    assert prefix.segments == [[0, 0, 1], [2, 2, 2]]
    assert prefix.positions == [[2, 3, 2], [1, 2, 3]]
    assert prefix.predicting == [[0, 1], [2], [0, 1, 2]]
