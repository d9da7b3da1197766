"""Real SAELens SAE objects (not the duck-typed stand-in): the object SAELens builds from each fixture folder, converted
by ``as_sae`` in SAELens' own Python (``scripts/saelens_objects.py``), is the SAE ``load`` reads from the folder, bit
for bit, so its pictures are the folder's pictures; and its codes are SAELens' ``encode``.

Skipped, saying so, unless ``SUPVIZ_SAELENS_PYTHON`` names a Python with SAELens (SAELens is no dependency of
supviz; ``benchmarks/sae_vs_saelens.py`` takes the same variable).
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from helpers.saelens import FIXTURES
from supviz.sae import SAE, load, picture_codes, picture_decoder

ROOT = Path(__file__).resolve().parents[2]
PYTHON = os.environ.get("SUPVIZ_SAELENS_PYTHON")
#: float32 codes of one affine map and a gate, products ordered differently (tests/sae/test_saelens_fixtures.py).
CODE_TOL = 1e-5

#: SAELens' architectures of the fixtures (each a training and an inference folder).
ARCHITECTURES = ("standard", "topk", "batchtopk", "jumprelu", "matryoshka_batchtopk")

pytestmark = pytest.mark.skipif(not PYTHON, reason="SUPVIZ_SAELENS_PYTHON is not set: no SAELens to compare with")


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("saelens_objects")
    folders = [FIXTURES / f"{a}_{form}" for a in ARCHITECTURES for form in ("training", "inference")]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run(
        [PYTHON, str(ROOT / "scripts" / "saelens_objects.py"), str(out), *map(str, folders)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    meta = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(meta) == len(folders) == 10
    return out, meta


def test_a_real_saelens_object_is_its_folder_bit_for_bit_and_so_is_its_picture(converted):
    out, meta = converted
    for name, info in meta.items():
        got = dict(np.load(out / f"{name}.npz"))
        saelens_codes = got.pop("saelens_codes", None)
        folder = load(FIXTURES / name)
        sae = SAE(**got, **{k: info[k] for k in ("activation", "k", "apply_b_dec_to_input", "architecture")})
        for field in ("W_enc", "b_enc", "W_dec", "b_dec", "threshold"):
            a, b = getattr(sae, field), getattr(folder, field)
            assert (a is None) == (b is None), (name, field)
            if a is not None:
                np.testing.assert_array_equal(a, b, err_msg=f"{name} {field} ({info['class']})")
        assert (sae.activation, sae.k) == (folder.activation, folder.k), name
        X = load_file(str(FIXTURES / name / "expected.safetensors"))["inputs"]
        a, b = (
            picture_codes(sae, X, reference=X, random_state=0),
            picture_codes(FIXTURES / name, X, reference=X, random_state=0),
        )
        np.testing.assert_array_equal(a.layout.embedding, b.layout.embedding)
        np.testing.assert_array_equal(
            picture_decoder(sae, random_state=0).layout.embedding,
            picture_decoder(folder, random_state=0).layout.embedding,
        )
        if saelens_codes is not None:  # SAELens' own encode of the object: the codes pictured
            np.testing.assert_allclose(a.points, saelens_codes, atol=CODE_TOL, rtol=0, err_msg=name)
