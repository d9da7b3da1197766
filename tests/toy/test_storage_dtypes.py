"""Weight files as users have them: bfloat16 safetensors accepted, complex arrays refused (issue 8, cases 9-10)."""

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.toy import load_grid


def test_bfloat16_safetensors_are_upcast(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    W = torch.randn(2, 10, 3, generator=torch.Generator().manual_seed(0))
    path = tmp_path / "w.safetensors"
    save_file({"w": W.to(torch.bfloat16), "b": W[0].clone()}, str(path))
    grid = load_grid(path)
    assert len(grid) == 3
    got = {label: w for label, w in zip(grid.labels, grid.weights)}
    np.testing.assert_array_equal(got["w[1]"], W[1].to(torch.bfloat16).float().numpy())
    np.testing.assert_array_equal(got["b"], W[0].numpy())


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_complex_arrays_are_refused(tmp_path, suffix):
    W = np.random.default_rng(0).normal(size=(10, 3)) + 1j
    path = tmp_path / f"w{suffix}"
    (np.save if suffix == ".npy" else lambda p, a: np.savez(p, w=a))(path, W)
    with pytest.raises(SupvizError, match=r"must be real; got complex values \(dtype complex128\)"):
        load_grid(path)
