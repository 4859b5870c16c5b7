"""Language models: the small embedded default, its tokenizer, and loading of any local or hub HF model."""

from twosome.lm.loading import load_lm

__all__ = ["load_lm"]
