"""Sharkey et al.'s toy experiment at a tiny size: the grid, the band, the heatmaps on disk."""

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.sae import toy_experiment


@pytest.fixture(scope="module")
def small():
    return toy_experiment(
        n_features=12,
        d=6,
        ratios=(0.5, 2.0),
        l1_coefficients=(0.03, 0.3, 3.0),
        steps=600,
        batch_size=128,
        n_eval=1024,
        seed=0,
    )


def test_grid_and_scores(small):
    r = small
    assert r.mmcs.shape == r.dead_fraction.shape == (2, 3)
    np.testing.assert_array_equal(r.d_sae, [6, 24])
    assert np.isfinite(r.mmcs).all() and ((r.dead_fraction >= 0) & (r.dead_fraction <= 1)).all()
    assert r.true_l0 == pytest.approx(5.0, rel=0.1)  # 5 features active on average
    # a dictionary half the size of the feature set cannot recover every feature ...
    assert r.mmcs[0].max() < r.mmcs[1].max()
    # ... and a heavy L1 penalty kills latents
    assert r.dead_fraction[1, 2] >= r.dead_fraction[1, 0]
    df = r.to_frame()
    assert len(df) == 6 and set(df.columns) >= {"ratio", "d_sae", "l1_coefficient", "mmcs", "dead_fraction"}
    band = r.band(min_mmcs=0.0)
    assert list(band) == [0.5, 2.0] and band[2.0] == [0.03, 0.3, 3.0]


def test_heatmaps_written_as_png_and_svg(small, tmp_path):
    paths = small.heatmaps(tmp_path / "toy")
    assert [p.name for p in paths] == ["toy.png", "toy.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = paths[1].read_text()
    assert (
        "12 features in 6 dims" in svg
        or "12&#160;features" in svg
        or "features in 6 dims" in svg.replace("&#160;", " ")
    )


def test_bad_settings():
    with pytest.raises(SupvizError, match="`architecture` must be 'relu_l1' or 'relu_l1_decnorm'"):
        toy_experiment(architecture="topk")
    with pytest.raises(SupvizError, match=r"`ratios\[0\]` must be a finite number"):
        toy_experiment(ratios=(0,))
