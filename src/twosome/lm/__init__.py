"""Language models: loading of any local or hub HF model (``loading``, ``packaged``), and the small embedded default
(``tiny``, ``pretrain``) with the generator of its pretraining corpus (``corpus``).

``load_lm`` is imported on first use, not here: the config check (twosome.config) reads ``packaged`` and
``model_dir``, which need no torch, and must not pull in torch through this package."""

__all__ = ["load_lm"]


def __getattr__(name: str):
    if name == "load_lm":
        from twosome.lm.loading import load_lm

        return load_lm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
