"""The SAELens half of ``benchmarks/sae_vs_saelens.py``; runs in a Python that has SAELens (not supviz).

``python _saelens_side.py DATA.npz OUT_DIR SPEC_JSON``: trains one SAELens training SAE per
architecture in SPEC on ``X_train`` of DATA with SAELens' own trainer (``SAETrainer``, set up as
``sae_lens.synthetic.training.train_toy_sae`` sets it up: constant lr, Adam (0.9, 0.999), dead-feature
window 1,000), batches cycling through ``X_train`` in a fresh permutation per epoch; saves each
inference form to ``OUT_DIR/<arch>/`` and prints one JSON line: ``{arch: seconds}`` and the version.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import sae_lens
import torch
from sae_lens.config import LoggingConfig, SAETrainerConfig
from sae_lens.saes.batchtopk_sae import BatchTopKTrainingSAE, BatchTopKTrainingSAEConfig
from sae_lens.saes.jumprelu_sae import JumpReLUTrainingSAE, JumpReLUTrainingSAEConfig
from sae_lens.saes.matryoshka_batchtopk_sae import MatryoshkaBatchTopKTrainingSAE, MatryoshkaBatchTopKTrainingSAEConfig
from sae_lens.saes.topk_sae import TopKTrainingSAE, TopKTrainingSAEConfig
from sae_lens.training.sae_trainer import SAETrainer


class Batches:
    """Minibatches of ``X`` in a fresh permutation per epoch (its own seed)."""

    def __init__(self, X: np.ndarray, batch: int, seed: int) -> None:
        self.X, self.batch, self.rng = torch.from_numpy(X), batch, np.random.default_rng(seed)
        self.order, self.pos = self.rng.permutation(len(X)), 0

    def __iter__(self):
        return self

    def __next__(self) -> torch.Tensor:
        if self.pos + self.batch > len(self.order):
            self.order, self.pos = self.rng.permutation(len(self.X)), 0
        idx = self.order[self.pos : self.pos + self.batch]
        self.pos += self.batch
        return self.X[idx]


def make_sae(arch: str, d_in: int, d_sae: int, k: int, widths: list[int], options: dict):
    """SAELens' training SAE of ``arch``; ``options`` override fields of its config where it has them."""
    import dataclasses

    def cfg(cls, **kw):
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(d_in=d_in, d_sae=d_sae, **kw, **{f: v for f, v in options.items() if f in names})

    if arch == "topk":
        return TopKTrainingSAE(cfg(TopKTrainingSAEConfig, k=k))
    if arch == "batchtopk":
        return BatchTopKTrainingSAE(cfg(BatchTopKTrainingSAEConfig, k=k))
    if arch == "jumprelu":
        return JumpReLUTrainingSAE(cfg(JumpReLUTrainingSAEConfig))
    if arch == "matryoshka_batchtopk":
        return MatryoshkaBatchTopKTrainingSAE(
            cfg(MatryoshkaBatchTopKTrainingSAEConfig, k=k, matryoshka_widths=list(widths))
        )
    raise SystemExit(f"unknown architecture {arch!r}")


def main() -> None:
    data, out, spec = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
    X = np.load(data)["X_train"].astype(np.float32)
    torch.set_num_threads(spec["threads"])
    times = {}
    for i, arch in enumerate(spec["architectures"]):
        torch.manual_seed(spec["seed"] + i)
        sae = make_sae(arch, X.shape[1], spec["d_sae"], spec["k"], spec["widths"], spec["options"])
        cfg = SAETrainerConfig(
            n_checkpoints=0,
            checkpoint_path=None,
            save_final_checkpoint=False,
            total_training_samples=spec["steps"] * spec["batch_size"],
            device="cpu",
            autocast=False,
            lr=spec["lr"],
            lr_end=spec["lr"],
            lr_scheduler_name="constant",
            lr_warm_up_steps=0,
            adam_beta1=0.9,
            adam_beta2=0.999,
            lr_decay_steps=0,
            n_restart_cycles=1,
            train_batch_size_samples=spec["batch_size"],
            dead_feature_window=1000,
            feature_sampling_window=2000,
            logger=LoggingConfig(log_to_wandb=False, eval_every_n_wandb_logs=2**31 - 1),
            n_batches_for_norm_estimate=1000,
        )
        t0 = time.perf_counter()
        SAETrainer(cfg=cfg, sae=sae, data_provider=Batches(X, spec["batch_size"], spec["seed"] + i)).fit()
        times[arch] = time.perf_counter() - t0
        sae.save_inference_model(out / arch)
    print(json.dumps({"seconds": times, "saelens": sae_lens.__version__, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
