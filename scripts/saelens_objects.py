"""What supviz makes of real SAELens SAE objects: run in a Python that has SAELens, with supviz's ``src`` on the path.

For each fixture folder of ``tests/sae/fixtures/saelens/`` it loads the SAELens object SAELens itself builds from it
(``SAE.load_from_disk`` for the inference folders and the standard, TopK and JumpReLU training folders;
``TrainingSAE.load_from_disk`` for BatchTopK and Matryoshka BatchTopK training folders, which the inference loader
does not take), converts it with :func:`supviz.sae.model.as_sae` (duck-typed: ``cfg.to_dict()``, ``state_dict()``),
and writes ``<out>/<name>.npz``: the converted SAE's fields, and the codes SAELens' own ``encode`` gives for the
folder's inputs (the training BatchTopK forms: none; their codes depend on the batch). Used by
``tests/sae/test_pictures_saelens.py`` (skipped unless ``SUPVIZ_SAELENS_PYTHON`` names such a Python)::

    PYTHONPATH=src /path/to/saelens/python scripts/saelens_objects.py OUT tests/sae/fixtures/saelens/topk_training ...

supviz's own dependencies beyond numpy, torch and safetensors are not needed here: only the conversion runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
from sae_lens import SAE, TrainingSAE
from safetensors.numpy import load_file

from supviz.sae.model import as_sae

#: Training folders SAELens' inference loader does not take (its registry has only their inference form).
TRAINING_ONLY = ("batchtopk_training", "matryoshka_batchtopk_training")


def main(out: str, folders: list[str]) -> None:
    dest = Path(out)
    dest.mkdir(parents=True, exist_ok=True)
    done = {}
    for folder in map(Path, folders):
        loader = TrainingSAE if folder.name in TRAINING_ONLY else SAE
        obj = loader.load_from_disk(str(folder))
        sae = as_sae(obj)
        fields = {"W_enc": sae.W_enc, "b_enc": sae.b_enc, "W_dec": sae.W_dec, "b_dec": sae.b_dec}
        if sae.threshold is not None:
            fields["threshold"] = sae.threshold
        if folder.name not in TRAINING_ONLY:
            x = torch.from_numpy(load_file(str(folder / "expected.safetensors"))["inputs"])
            with torch.no_grad():
                codes = obj.encode(x)
            fields["saelens_codes"] = (codes.to_dense() if codes.is_sparse else codes).numpy()
        np.savez(dest / f"{folder.name}.npz", **fields)
        done[folder.name] = {
            "class": type(obj).__name__,
            "activation": sae.activation,
            "k": sae.k,
            "apply_b_dec_to_input": sae.apply_b_dec_to_input,
            "architecture": sae.architecture,
        }
    print(json.dumps(done))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
