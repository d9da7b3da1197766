"""Make the SAELens fixtures of ``tests/sae/fixtures/saelens/`` (run once, with SAELens installed).

Run it in a separate environment that has SAELens (it is no dependency of supviz)::

    python3 -m venv /work/saelens-venv
    /work/saelens-venv/bin/pip install torch==2.13.0 sae-lens
    /work/saelens-venv/bin/python scripts/make_saelens_fixtures.py tests/sae/fixtures/saelens [NAME ...]

(NAMEs: write only those fixtures; ``matryoshka_batchtopk`` was written so, alone, after the others.)

For each of SAELens' standard, TopK, BatchTopK, JumpReLU and Matryoshka BatchTopK SAEs (small: ``d_in`` 8, ``d_sae`` 16)
it trains a SAELens training SAE a few steps on SAELens' synthetic data, multiplies the decoder
rows by norms in [0.1, 0.95] (the drift the issue measured after full training runs; a few steps
move them too little to matter), and writes two folders:

* ``<arch>_training/``: ``save_model`` (what SAELens' trainer checkpoints: the training config,
  ``rescale_acts_by_decoder_norm`` and BatchTopK's ``topk_threshold`` included);
* ``<arch>_inference/``: ``save_inference_model`` (what SAELens publishes).

Beside each folder's weights, ``expected.safetensors`` holds ``inputs [64, 8]`` and ``codes [64, 16]``:
the codes SAELens computes for those inputs with the inference form of that SAE
(``SAE.load_from_disk`` of the inference folder, ``encode``). For the TopK, standard and JumpReLU
training folders these equal the training SAE's own ``encode`` (checked here); a BatchTopK training
SAE's own codes depend on the whole batch, so its inference form is what a folder can be read as.
``expected.json`` records the SAELens version and the largest difference between the two forms.

``metrics/`` holds a TopK SAE with fewer latents (24) than true features (32), its inputs, the true
feature directions and activations, and the numbers SAELens' synthetic evaluation computes on them
(``mean_correlation_coefficient``, ``feature_uniqueness``, ``compute_classification_metrics`` and the
calculators of ``eval_sae_on_synthetic_data``) in ``expected.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import sae_lens
import torch
from sae_lens import SAE
from sae_lens.saes.batchtopk_sae import BatchTopKTrainingSAE, BatchTopKTrainingSAEConfig
from sae_lens.saes.jumprelu_sae import JumpReLUTrainingSAE, JumpReLUTrainingSAEConfig
from sae_lens.saes.matryoshka_batchtopk_sae import (
    MatryoshkaBatchTopKTrainingSAE,
    MatryoshkaBatchTopKTrainingSAEConfig,
)
from sae_lens.saes.sae import TrainStepInput
from sae_lens.saes.standard_sae import StandardTrainingSAE, StandardTrainingSAEConfig
from sae_lens.saes.topk_sae import TopKTrainingSAE, TopKTrainingSAEConfig
from sae_lens.synthetic import ActivationGenerator, FeatureDictionary
from sae_lens.synthetic.evals import (
    DeadLatentsCalculator,
    ExplainedVarianceCalculator,
    L0Calculator,
    ShrinkageCalculator,
    compute_classification_metrics,
    feature_uniqueness,
    mean_correlation_coefficient,
)
from safetensors.torch import save_file

D_IN, D_SAE, N_FEATURES, N_INPUTS, STEPS = 8, 16, 12, 64, 30


def _train(sae, generator, feature_dict, steps, batch=128):
    opt = torch.optim.Adam(sae.parameters(), lr=1e-2)
    coefs = {k: (v.value if hasattr(v, "value") else float(v)) for k, v in sae.get_coefficients().items()}
    dead = torch.zeros(sae.cfg.d_sae, dtype=torch.bool)
    for step in range(steps):
        x = feature_dict(generator.sample(batch))
        out = sae.training_forward_pass(
            TrainStepInput(
                sae_in=x, coefficients=coefs, dead_neuron_mask=dead, n_training_steps=step, is_logging_step=False
            )
        )
        opt.zero_grad()
        out.loss.backward()
        opt.step()


def _drift(sae, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        norms = sae.W_dec.norm(dim=1, keepdim=True)
        target = 0.1 + 0.85 * torch.rand(sae.cfg.d_sae, 1, generator=g)
        sae.W_dec.mul_(target / norms)


def _dense(t):
    return t.to_dense() if t.is_sparse else t


def make_pair(out: Path, name: str, sae, generator, feature_dict, seed: int) -> None:
    _train(sae, generator, feature_dict, STEPS)
    _drift(sae, seed)
    train_dir, inf_dir = out / f"{name}_training", out / f"{name}_inference"
    sae.save_model(train_dir)
    sae.save_inference_model(inf_dir)
    torch.manual_seed(seed + 1)
    x = feature_dict(generator.sample(N_INPUTS)).contiguous()
    inference = SAE.load_from_disk(str(inf_dir))
    with torch.no_grad():
        codes = inference.encode(x).contiguous()
        own = None if isinstance(sae, BatchTopKTrainingSAE) else _dense(sae.encode(x))
    info = {"saelens": sae_lens.__version__, "torch": torch.__version__, "architecture": name}
    if own is not None:
        info["max_abs_training_minus_inference_codes"] = float((own - codes).abs().max())
        assert info["max_abs_training_minus_inference_codes"] < 1e-5, info
    norms = sae.W_dec.detach().norm(dim=1)
    info["decoder_norms"] = [float(norms.min()), float(norms.max())]
    for d in (train_dir, inf_dir):
        save_file({"inputs": x, "codes": codes}, str(d / "expected.safetensors"))
        (d / "expected.json").write_text(json.dumps(info, indent=1) + "\n")


def make_metrics(out: Path) -> None:
    n, d, s, N = 32, 16, 24, 512
    torch.manual_seed(7)
    fd = FeatureDictionary(n, d, seed=7)
    probs = torch.linspace(0.3, 0.02, n)
    gen = ActivationGenerator(n, probs, std_firing_magnitudes=0.1)
    sae = TopKTrainingSAE(TopKTrainingSAEConfig(d_in=d, d_sae=s, k=4))
    _train(sae, gen, fd, 200, batch=256)
    _drift(sae, 11)
    folder = out / "metrics"
    sae.save_inference_model(folder)
    inf = SAE.load_from_disk(str(folder))
    torch.manual_seed(8)
    acts = gen.sample(N)
    x = fd(acts).contiguous()
    with torch.no_grad():
        latents = inf.encode(x)
        recon = inf.decode(latents)
        W_dec, T = inf.W_dec, fd.feature_vectors
        cm = compute_classification_metrics(latents, acts, W_dec, T)
        calcs = [
            L0Calculator(),
            L0Calculator(),
            DeadLatentsCalculator(s),
            ShrinkageCalculator(),
            ExplainedVarianceCalculator(),
        ]
        calcs[0].add_batch(acts)
        calcs[1].add_batch(latents)
        calcs[2].add_batch(latents)
        calcs[3].add_batch(recon, x)
        calcs[4].add_batch(recon, x)
        expected = {
            "saelens": sae_lens.__version__,
            "true_l0": calcs[0].compute(),
            "sae_l0": calcs[1].compute(),
            "dead_latents": calcs[2].compute(),
            "shrinkage": calcs[3].compute(),
            "explained_variance": calcs[4].compute(),
            "mcc": mean_correlation_coefficient(W_dec, T),
            "uniqueness": feature_uniqueness(W_dec, T),
            "precision": cm.precision,
            "recall": cm.recall,
            "f1_score": cm.f1_score,
            "accuracy": cm.accuracy,
        }
    save_file(
        {"inputs": x, "feature_acts": acts.contiguous(), "features": T.contiguous()},
        str(folder / "expected.safetensors"),
    )
    (folder / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


def main(out: Path, only: set[str] | None = None) -> None:
    """Write every fixture, or only the architectures named in ``only`` (and ``metrics`` if named)."""
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    fd = FeatureDictionary(N_FEATURES, D_IN, seed=0)
    gen = ActivationGenerator(N_FEATURES, torch.linspace(0.4, 0.05, N_FEATURES), std_firing_magnitudes=0.2)
    cases = [
        ("standard", StandardTrainingSAE(StandardTrainingSAEConfig(d_in=D_IN, d_sae=D_SAE, l1_coefficient=0.1))),
        ("topk", TopKTrainingSAE(TopKTrainingSAEConfig(d_in=D_IN, d_sae=D_SAE, k=3))),
        ("batchtopk", BatchTopKTrainingSAE(BatchTopKTrainingSAEConfig(d_in=D_IN, d_sae=D_SAE, k=3))),
        ("jumprelu", JumpReLUTrainingSAE(JumpReLUTrainingSAEConfig(d_in=D_IN, d_sae=D_SAE, l0_coefficient=0.1))),
        (
            "matryoshka_batchtopk",
            MatryoshkaBatchTopKTrainingSAE(
                MatryoshkaBatchTopKTrainingSAEConfig(d_in=D_IN, d_sae=D_SAE, k=3, matryoshka_widths=[4, 8, D_SAE])
            ),
        ),
    ]
    for i, (name, sae) in enumerate(cases):
        if only is None or name in only:
            make_pair(out, name, sae, gen, fd, seed=100 + i)
    if only is None or "metrics" in only:
        make_metrics(out)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/sae/fixtures/saelens"), set(sys.argv[2:]) or None)
