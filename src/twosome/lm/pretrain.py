"""Pretrain the embedded default model on the generated household corpus, with Lightning.

    python -m twosome.lm.pretrain --out models/tiny-household --force      # about 5-7 minutes on 2 cores

The result ships in the repository (models/tiny-household, 4 MB) so runs need no pretraining; this recipe rebuilds
it (a DVC stage).

The recipe is deterministic in its seed. It trains the tokenizer on the corpus, initialises a small Llama, trains
it as a causal LM on packed blocks of the train split, and reports held-out perplexity on the held-out split.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from twosome.console import quiet_lightning_notes
from twosome.lm import corpus
from twosome.lm.tiny import TinyLlamaSpec, init_model, save_atomically, train_tokenizer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PretrainSpec:
    arch: TinyLlamaSpec = field(
        default_factory=lambda: TinyLlamaSpec(
            vocab_size=2048,
            hidden_size=128,
            intermediate_size=344,
            num_hidden_layers=4,
            num_attention_heads=4,
            num_key_value_heads=4,
        )
    )
    train_words: int = 2_500_000
    heldout_words: int = 60_000
    tokenizer_words: int = 400_000
    seq_len: int = 128
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 0.1
    warmup_steps: int = 50
    max_steps: int = 700
    seed: int = 0


def token_blocks(tokenizer, docs, seq_len: int) -> torch.Tensor:
    """Pack documents, each as <s> text </s>, into a (blocks, seq_len) tensor; the tail is dropped."""
    ids: list[int] = []
    batch: list[str] = []

    def flush():
        for row in tokenizer(batch, add_special_tokens=False)["input_ids"]:
            ids.extend([tokenizer.bos_token_id, *row, tokenizer.eos_token_id])
        batch.clear()

    for doc in docs:
        batch.append(doc)
        if len(batch) == 512:
            flush()
    flush()
    n = len(ids) // seq_len
    return torch.tensor(ids[: n * seq_len]).view(n, seq_len)


class CausalLMPretraining(pl.LightningModule):
    """Next-token prediction with AdamW, linear warm-up and cosine decay."""

    def __init__(self, model, spec: PretrainSpec):
        super().__init__()
        self.model, self.spec = model, spec

    def training_step(self, batch, batch_idx):
        (ids,) = batch
        loss = self.model(input_ids=ids, labels=ids).loss
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        (ids,) = batch
        self.log("val/loss", self.model(input_ids=ids, labels=ids).loss, prog_bar=True)

    def configure_optimizers(self):
        s = self.spec
        decay = [p for n, p in self.model.named_parameters() if p.ndim >= 2]
        no_decay = [p for n, p in self.model.named_parameters() if p.ndim < 2]
        opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": s.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=s.lr,
            betas=(0.9, 0.95),
        )

        def schedule(step: int) -> float:
            if step < s.warmup_steps:
                return (step + 1) / s.warmup_steps
            progress = (step - s.warmup_steps) / max(1, s.max_steps - s.warmup_steps)
            return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


@torch.no_grad()
def perplexity(model, blocks: torch.Tensor, batch_size: int = 64) -> float:
    model.eval()
    total, count = 0.0, 0
    for chunk in blocks.split(batch_size):
        total += model(input_ids=chunk, labels=chunk).loss.item() * chunk.numel()
        count += chunk.numel()
    return math.exp(total / count)


def build_household_llama(out_dir: str | os.PathLike, spec: PretrainSpec | None = None, progress: bool = True) -> Path:
    """Tokenizer + small Llama pretrained on the generated corpus; saved atomically as an HF directory."""
    spec = spec or PretrainSpec()
    start = time.time()
    pl.seed_everything(spec.seed, verbose=False)
    log.info("Pretraining the default household model into %s (a few minutes, once)", out_dir)
    tokenizer = train_tokenizer(spec.arch, corpus.documents(spec.tokenizer_words, seed=spec.seed + 1))
    train = token_blocks(tokenizer, corpus.documents(spec.train_words, seed=spec.seed), spec.seq_len)
    heldout = token_blocks(
        tokenizer, corpus.documents(spec.heldout_words, seed=spec.seed, split="heldout"), spec.seq_len
    )
    model = init_model(tokenizer, spec.arch)
    generator = torch.Generator().manual_seed(spec.seed)
    loader = DataLoader(
        TensorDataset(train), batch_size=spec.batch_size, shuffle=True, generator=generator, drop_last=True
    )
    quiet_lightning_notes()
    trainer = pl.Trainer(
        max_steps=spec.max_steps,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        gradient_clip_val=1.0,
        limit_val_batches=0,
        enable_progress_bar=progress,
        max_epochs=-1,
    )
    trainer.fit(CausalLMPretraining(model, spec), train_dataloaders=loader)
    model.eval()
    meta = {
        "recipe": "household_llama",
        "spec": asdict(spec),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_tokens_seen": spec.max_steps * spec.batch_size * spec.seq_len,
        "train_blocks": len(train),
        "heldout_perplexity": perplexity(model, heldout),
        "seconds": round(time.time() - start, 1),
        "final_train_loss": float(trainer.callback_metrics.get("train/loss", float("nan"))),
    }
    log.info("Pretrained in %.0fs: held-out perplexity %.2f", meta["seconds"], meta["heldout_perplexity"])
    return save_atomically(model, tokenizer, out_dir, meta)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="models/tiny-household")
    ap.add_argument("--force", action="store_true", help="replace an existing model at --out")
    ap.add_argument("--max-steps", type=int, default=PretrainSpec.max_steps)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    if Path(args.out).exists():
        if not args.force:
            raise SystemExit(f"{args.out} exists; pass --force to rebuild it")
        import shutil

        shutil.rmtree(args.out)
    out = build_household_llama(args.out, PretrainSpec(max_steps=args.max_steps, seed=args.seed))
    print(f"Saved {out}")


if __name__ == "__main__":
    main()
