"""Score candidate action texts by their log-likelihood under a language model, given an observation prompt."""

from twosome.scoring.batch import CandidateBatch
from twosome.scoring.normalization import NORMALIZATIONS, normalize
from twosome.scoring.reference import reference_logprobs
from twosome.scoring.scorer import ActionScorer, CandidateScores

__all__ = [
    "NORMALIZATIONS",
    "ActionScorer",
    "CandidateBatch",
    "CandidateScores",
    "normalize",
    "reference_logprobs",
]
