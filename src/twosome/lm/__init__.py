"""Language models: loading of any local or hub HF model (``loading``, ``packaged``), and the small embedded default
(``tiny``, ``pretrain``) with the generator of its pretraining corpus (``corpus``)."""

from twosome.lm.loading import load_lm

__all__ = ["load_lm"]
