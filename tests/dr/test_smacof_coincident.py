"""Issue 18: coincident points stay on one spot in every SMACOF engine and type, whatever the
products round.

On an AMD CPU the torch engine's ordinal fit put four coincident points on two spots, (0.0846,
-0.0654) and (0.0633, -0.0579): its BLAS rounded two equal rows of ``B(X) X`` differently, and the
ordinal fit amplified the difference. Exact arithmetic keeps coincident points together; so does
supviz now, by construction: they start at one spot and every Guttman transform gives each group
its first member's coordinates. The tests here perturb the products' rounding on purpose (one unit
in the last place, at random, per element) and ask for one spot, bit for bit; a control shows the
perturbation is enough to split the points when the groups are not merged.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from supviz.dr import classical_mds, smacof
from supviz.errors import SupvizError
from supviz.runtime import products


def _coincident_delta():
    # the study's dropped features: 4 points at the origin beside 12 real directions
    X = np.vstack([np.random.default_rng(0).normal(size=(12, 5)), np.zeros((4, 5))])
    return cdist(X, X)


def _weights(n):
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=(n, n))
    w = w + w.T
    w[12:, :12] = w[12, :12]  # the four coincident points weigh alike against the others
    w[:12, 12:] = w[:12, 12 : 12 + 1]
    return w


def _last_bit_noise(a, b):
    """``a @ b`` with every element moved by up to one unit in the last place, at random."""
    out = torch.bmm(a, b)
    gen = torch.Generator().manual_seed(out.numel() + int(1e6 * float(out.abs().sum())) % 1000)
    flip = torch.randint(-1, 2, out.shape, generator=gen).to(out.dtype)
    return out + flip * out.abs() * torch.finfo(out.dtype).eps


def _perturbed_inverse(monkeypatch):
    """LAPACK's V^+ (the numba engine's weighted transform) with its rows perturbed at the last bit."""
    inv = np.linalg.inv

    def noisy(a):
        out = inv(a)
        rng = np.random.default_rng(7)
        return out * (1.0 + np.finfo(out.dtype).eps * rng.integers(-1, 2, size=out.shape))

    monkeypatch.setattr(np.linalg, "inv", noisy)


CASES = [("torch", t) for t in ("ratio", "interval", "ordinal")] + [("numba", t) for t in ("ratio", "interval")]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("engine", "metric_type"), CASES)
def test_coincident_points_stay_one_spot_whatever_the_products_round(engine, metric_type, weighted, monkeypatch):
    delta = _coincident_delta()
    w = _weights(16) if weighted else None
    if engine == "numba" and weighted:
        _perturbed_inverse(monkeypatch)
    with products.forced(_last_bit_noise):  # the torch engine's products; the numba engine has none
        res = smacof(delta, metric_type=metric_type, weights=w, engine=engine, max_iter=300)
    Y = res.embedding
    assert np.isfinite(Y).all() and np.abs(Y[:12]).max() > 0.1  # a picture, not a collapse
    assert np.array_equal(Y[12:], np.repeat(Y[12:13], 4, axis=0)), Y[12:]


@pytest.mark.parametrize("metric_type", ["ratio", "interval", "ordinal"])
def test_control_without_the_merge_the_perturbed_products_split_the_points(metric_type, monkeypatch):
    # the same perturbation, from a start with the four points on one spot (classical MDS merges
    # them), but with no group known to the engine: the products alone split them
    import importlib

    module = importlib.import_module("supviz.dr.smacof")
    monkeypatch.setattr(module, "coincident_representatives", lambda delta, weights=None: np.arange(len(delta)))
    delta = _coincident_delta()
    start = classical_mds(delta)
    assert np.array_equal(start[12:], np.repeat(start[12:13], 4, axis=0))
    with products.forced(_last_bit_noise):
        res = smacof(delta, metric_type=metric_type, engine="torch", max_iter=300, init=start)
    assert not np.array_equal(res.embedding[12:], np.repeat(res.embedding[12:13], 4, axis=0))


def test_groups_are_equal_rows_of_delta_and_of_the_weights_outside_the_group():
    from supviz.dr.classical import coincident_representatives

    delta = _coincident_delta()
    np.testing.assert_array_equal(coincident_representatives(delta), [*range(12), 12, 12, 12, 12])
    w = _weights(16)
    w[12:14, 12:14] = 5.0  # weights inside the group do not matter
    np.testing.assert_array_equal(coincident_representatives(delta, w), [*range(12), 12, 12, 12, 12])
    w[15, 3] = w[3, 15] = 9.0  # point 15 weighs otherwise against point 3: a group of its own
    np.testing.assert_array_equal(coincident_representatives(delta, w), [*range(12), 12, 12, 12, 15])


@pytest.mark.parametrize("impl", products.IMPLEMENTATIONS)
@pytest.mark.parametrize("metric_type", ["ratio", "interval", "ordinal"])
def test_torch_engine_item_alone_equals_batched_with_every_product_implementation(impl, metric_type):
    # items leave the working set as they converge, so the batch a product sees shrinks; each item's
    # products are its own calls, so an item's bits do not depend on the others
    rng = np.random.default_rng(0)
    deltas = np.stack([cdist(x, x) for x in rng.normal(size=(4, 20, 3))])
    with products.forced(impl):
        batch = smacof(deltas, metric_type=metric_type, engine="torch")
        for i in (1, 3):
            alone = smacof(deltas[i], metric_type=metric_type, engine="torch")
            assert np.array_equal(alone.embedding, batch.embedding[i])
            assert alone.n_iter == batch.n_iter[i]


@pytest.mark.parametrize("entry", ["smacof", "smacof_points"])
@pytest.mark.parametrize("engine, metric_type", CASES)
def test_points_coincident_up_to_rounding_land_on_one_spot(entry, engine, metric_type):
    # A point 1e-13 (relative) from another is the same point by the rule every layout entry point
    # applies (supviz.core.geometry, 1e-12). The low-level smacof / smacof_points merged only exactly
    # equal rows of delta: interval SMACOF put such a pair ~1% of the layout apart (break test).
    from supviz.dr.smacof import smacof_points

    b = np.random.default_rng(0).normal(size=(10, 3))
    X = np.vstack([b, b[[2]] + 1e-13, np.zeros((2, 3)) + 1e-14])
    if entry == "smacof":
        res = smacof(cdist(X, X), metric_type=metric_type, engine=engine, max_iter=300)
    else:
        res = smacof_points(X, metric_type=metric_type, engine=engine, max_iter=300)
    E = res.embedding
    np.testing.assert_array_equal(E[10], E[2])
    np.testing.assert_array_equal(E[11], E[12])
    assert any("up to rounding" in note for note in res.notes)


def test_snapping_leaves_inputs_without_near_coincidences_alone():
    # exact duplicates and well-separated points: the same bits as before the snap existed
    delta = _coincident_delta()
    a = smacof(delta, metric_type="interval", engine="numba", max_iter=50)
    assert not any("up to rounding" in note for note in a.notes)


def _unobserved_pair():
    """Points 0 and 1 far apart, their pair unobserved (weight 0) and its entry set to 0."""
    X = np.random.default_rng(4).normal(size=(8, 3))
    X[1] = X[0] + 3.0
    delta = cdist(X, X)
    w = np.ones_like(delta)
    np.fill_diagonal(w, 0.0)
    w[0, 1] = w[1, 0] = 0.0
    delta[0, 1] = delta[1, 0] = 0.0
    return delta, w


@pytest.mark.parametrize("engine, metric_type", [("numba", "ratio"), ("numba", "interval"), ("torch", "ordinal")])
def test_an_unobserved_pair_is_never_taken_for_a_coincident_one(engine, metric_type):
    # Missing dissimilarities are weight 0, whatever number stands in the matrix (often 0): such a
    # pair must not be snapped into one point.
    delta, w = _unobserved_pair()
    res = smacof(delta, weights=w, metric_type=metric_type, engine=engine, max_iter=200)
    assert not any("up to rounding" in note for note in res.notes)
    assert np.linalg.norm(res.embedding[0] - res.embedding[1]) > 0.5


def test_mds_layout_never_snaps_an_unobserved_pair():
    # the same kind through mds_layout's own snapping of precomputed input (dr.base.check_layout_input)
    from supviz.dr import mds_layout

    delta, w = _unobserved_pair()
    lay = mds_layout(delta, precomputed=True, weights=w, metric_type="interval", random_state=0)
    assert not any("up to rounding" in note for note in lay.notes)
    assert np.linalg.norm(lay.embedding[0] - lay.embedding[1]) > 0.5
    with pytest.raises(SupvizError, match="weights"):  # bad weights: still one clear line, from smacof
        mds_layout(delta, precomputed=True, weights="heavy")
