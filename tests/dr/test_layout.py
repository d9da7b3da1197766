"""The shared layout interface: Layout, embed, mds_layout, mds_layouts, pca_init."""

import logging

import numpy as np
import pytest

from supviz.dr import Layout, embed, mds_layout, mds_layouts
from supviz.dr.base import pca_init
from supviz.errors import SupvizError
from supviz.metrics import pairwise_distances, procrustes_distance


def test_equidistant_triangle_is_equilateral():
    layout = mds_layout(np.eye(3), metric_type="ratio")
    assert isinstance(layout, Layout)
    assert layout.method == "mds" and layout.embedding.shape == (3, 2)
    assert layout.info["smacof_stress"] == pytest.approx(0.0, abs=1e-6)
    d = pairwise_distances(layout.embedding)[np.triu_indices(3, 1)]
    assert np.ptp(d) / d.mean() < 1e-6


def test_mds_layout_wraps_smacof():
    from supviz.dr import smacof

    X = np.random.default_rng(0).normal(size=(20, 6))
    layout = mds_layout(X, metric_type="interval")
    direct = smacof(pairwise_distances(X), metric_type="interval")
    assert layout.info["smacof_stress"] == pytest.approx(float(direct.stress), abs=1e-10)
    assert procrustes_distance(layout.embedding, direct.embedding) < 1e-8
    assert layout.params["metric_type"] == "interval"
    shep = layout.info["result"].shepard()
    assert len(shep.distance) == 20 * 19 // 2
    # precomputed dissimilarities give the same picture
    pre = mds_layout(pairwise_distances(X), precomputed=True)
    assert pre.info["smacof_stress"] == pytest.approx(layout.info["smacof_stress"], abs=1e-10)


def test_exact_2d_configuration_recovered():
    Y = np.random.default_rng(1).normal(size=(15, 2))
    X = np.hstack([Y, np.zeros((15, 3))]) @ np.linalg.qr(np.random.default_rng(2).normal(size=(5, 5)))[0]
    layout = embed(X, "mds", metric_type="ratio")
    assert layout.info["smacof_stress"] < 1e-3
    assert procrustes_distance(layout.embedding, Y) < 1e-3


def test_batched_equals_one_at_a_time():
    rng = np.random.default_rng(3)
    sets = [rng.normal(size=(12, 4)), rng.normal(size=(9, 3)), rng.normal(size=(12, 5)), np.eye(9)]
    batched = mds_layouts(sets, metric_type="interval")
    assert [b.info["batch_index"] for b in batched] == [0, 0, 1, 1]
    for X, b in zip(sets, batched, strict=True):
        single = mds_layout(X, metric_type="interval")
        assert b.info["smacof_stress"] == pytest.approx(single.info["smacof_stress"], abs=1e-8)
        assert procrustes_distance(b.embedding, single.embedding) < 1e-6


def test_embed_dispatch_and_errors():
    with pytest.raises(SupvizError, match="`method` must be one of 'mds', 'umap', 'tsne'; got 'pca'"):
        embed(np.eye(4), "pca")
    with pytest.raises(SupvizError, match="finite"):
        mds_layout(np.array([[0.0, np.nan], [1.0, 1.0], [2.0, 0.0]]))
    with pytest.raises(SupvizError, match="at least 2 points"):
        mds_layout(np.ones((1, 3)))
    with pytest.raises(SupvizError, match="symmetric"):
        mds_layout(np.array([[0.0, 1.0], [2.0, 0.0]]), precomputed=True)
    with pytest.raises(SupvizError, match="sequence of point sets"):
        mds_layouts(np.eye(4))
    with pytest.raises(SupvizError, match="at least one point set"):
        mds_layouts([])


def test_pca_init_is_deterministic_and_never_constant():
    X = np.random.default_rng(4).normal(size=(30, 5))
    a = pca_init(X, 2, rng=np.random.default_rng(0), max_abs=10.0)
    b = pca_init(X[:, ::-1], 2, rng=np.random.default_rng(9), max_abs=10.0)
    assert np.abs(a).max() == pytest.approx(10.0)
    assert np.allclose(a, b)  # same principal components, sign fixed, no noise needed
    # rank 1 (collinear points, one feature): the missing column is seeded noise, not constant
    for Z in (np.arange(4.0)[:, None], np.outer(np.arange(3.0), [1.0, 2.0])):
        c = pca_init(Z, 2, rng=np.random.default_rng(0), max_abs=1.0)
        assert np.all(np.ptp(c, axis=0) > 0)
        assert np.array_equal(c, pca_init(Z, 2, rng=np.random.default_rng(0), max_abs=1.0))


def test_notes_are_logged(caplog):
    from supviz.dr.base import add_note

    notes: list[str] = []
    with caplog.at_level(logging.INFO, logger="supviz.dr.layout"):
        add_note(notes, "clamped %d to %d", 15, 2)
    assert notes == ["clamped 15 to 2"] and "clamped 15 to 2" in caplog.text
