"""SMACOF: known answers, properties, agreement with a slow reference and scikit-learn, errors.

Layouts are compared by invariants only (stress, radii, angles, Procrustes disparity), since a
configuration is defined up to rotation, reflection and translation.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from scipy.optimize import isotonic_regression
from scipy.spatial import procrustes
from scipy.spatial.distance import cdist

from supviz.dr.classical import classical_mds
from supviz.dr.smacof import ShepardData, SmacofResult, layout_stress, smacof, smacof_points
from supviz.errors import SupvizError

TOL = 1e-9  # float64 agreement between two computations of the same thing


def dist(points: np.ndarray) -> np.ndarray:
    return cdist(points, points)


def equal_dissimilarities(n: int) -> np.ndarray:
    """The distance matrix of diag(n): every pair at sqrt(2)."""
    return np.sqrt(2.0) * (np.ones((n, n)) - np.eye(n))


def random_delta(seed: int, n: int = 25, dim: int = 6) -> np.ndarray:
    return dist(np.random.default_rng(seed).normal(size=(n, dim)))


# ----------------------------------------------------------------------------------------------
# The slow, obvious reference: R smacof's mds() loop written pair by pair.


def reference_smacof(delta, x0, *, metric_type="ratio", weights=None, max_iter=1000, eps=1e-6):
    n = delta.shape[0]
    w = np.ones((n, n)) - np.eye(n) if weights is None else weights * (1 - np.eye(n))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if w[i, j] > 0]
    n_pairs = n * (n - 1) / 2

    def normalise(dh):
        total = sum(w[i, j] * dh[i, j] ** 2 for i, j in pairs)
        return dh * np.sqrt(n_pairs / total)

    def stress(dh, d):
        return sum(w[i, j] * (dh[i, j] - d[i, j]) ** 2 for i, j in pairs) / n_pairs

    def transform(d):
        dh = np.zeros((n, n))
        dv = np.array([delta[i, j] for i, j in pairs])
        ev = np.array([d[i, j] for i, j in pairs])
        wv = np.array([w[i, j] for i, j in pairs])
        if metric_type == "ratio":
            fit = dv
        elif metric_type == "interval":
            # R smacof: unconstrained weighted least squares on the basis [1, delta - min delta].
            basis = np.column_stack([np.ones_like(dv), dv - dv.min()])
            coef, *_ = np.linalg.lstsq(basis * np.sqrt(wv)[:, None], ev * np.sqrt(wv), rcond=None)
            fit = basis @ coef
        else:
            order = np.lexsort((ev, dv))
            fit = np.empty_like(ev)
            fit[order] = isotonic_regression(ev[order], weights=wv[order]).x
        for (i, j), value in zip(pairs, fit):
            dh[i, j] = dh[j, i] = value
        return normalise(dh)

    v = np.diag(w.sum(axis=1)) - w
    v_plus = np.linalg.pinv(v)
    dhat = normalise(delta.copy())
    x = x0.copy()
    d = dist(x)
    lb = sum(w[i, j] * d[i, j] * dhat[i, j] for i, j in pairs) / sum(w[i, j] * d[i, j] ** 2 for i, j in pairs)
    x, d = lb * x, lb * d
    s_old = stress(dhat, d)
    history = [s_old]
    for it in range(1, max_iter + 1):
        b = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                if i != j and d[i, j] > 0:
                    b[i, j] = -w[i, j] * dhat[i, j] / d[i, j]
            b[i, i] = -b[i].sum()
        y = v_plus @ b @ x
        e = dist(y)
        if metric_type != "ratio":
            dhat = transform(e)
        s_new = stress(dhat, e)
        history.append(s_new)
        if s_old - s_new < eps:
            break
        x, d, s_old = y, e, s_new
    return y, np.sqrt(s_new), it, np.sqrt(history)


# ----------------------------------------------------------------------------------------------
# Tier 1: known answers


@pytest.mark.parametrize("metric_type", ["ratio", "interval", "ordinal"])
def test_three_equidistant_points_give_an_equilateral_triangle(metric_type):
    res = smacof(np.ones((3, 3)) - np.eye(3), metric_type=metric_type)
    assert isinstance(res, SmacofResult)
    assert res.embedding.shape == (3, 2) and res.embedding.dtype == np.float64
    assert res.stress < 1e-8
    sides = dist(res.embedding)[np.triu_indices(3, 1)]
    np.testing.assert_allclose(sides, sides.mean(), rtol=1e-8)
    # Disparities are normalised to n(n-1)/2 = 3 over three equal pairs: each is 1, and so are the sides.
    np.testing.assert_allclose(sides, 1.0, rtol=1e-8)


@pytest.mark.parametrize("metric_type", ["ratio", "interval", "ordinal"])
def test_exactly_two_dimensional_configuration_is_recovered(metric_type):
    points = np.random.default_rng(3).normal(size=(15, 2))
    res = smacof(dist(points), metric_type=metric_type)
    assert res.stress < 1e-6
    _, _, disparity = procrustes(points, res.embedding)
    assert disparity < 1e-8
    assert res.converged


def test_ratio_stress_of_equal_dissimilarities_grows_with_n_and_large_n_is_a_disc():
    # The Torgerson start is arbitrary here (one eigenvalue of multiplicity n - 1) and can stop in
    # a local minimum (n = 4: 0.259 against the square's 0.169), so take the best of 5 starts.
    stresses = {}
    for n in (3, 4, 8, 20, 40, 60):
        res = smacof(equal_dissimilarities(n), n_init=5, random_state=0)
        stresses[n] = float(res.stress)
        y = res.embedding - res.embedding.mean(axis=0)
        radii = np.linalg.norm(y, axis=1)
        angles = np.sort(np.arctan2(y[:, 1], y[:, 0]))
        gaps = np.diff(np.concatenate([angles, [angles[0] + 2 * np.pi]]))
        if n <= 4:  # small n: every point on one circle (radii equal to 1%)
            assert radii.std() / radii.mean() < 0.01
        if n >= 40:  # large n: a filled disc with a dense rim, covering every direction
            assert gaps.max() < 0.4
            assert (radii > 0.8 * radii.max()).mean() > 0.5
            assert radii.min() < 0.5 * radii.max()
    values = [stresses[n] for n in sorted(stresses)]
    assert values[0] < 1e-8
    assert all(b > a for a, b in zip(values, values[1:]))
    assert 0.35 < stresses[60] < 0.45  # quality floor and ceiling at this size (this implementation)


def test_two_points_are_exact():
    res = smacof(np.array([[0.0, 3.0], [3.0, 0.0]]), metric_type="interval")
    assert res.stress < 1e-12
    assert np.isclose(np.linalg.norm(res.embedding[0] - res.embedding[1]), 1.0)


# ----------------------------------------------------------------------------------------------
# Tier 2: properties


# Every (type, engine) pair that exists: numba does ratio and interval, torch does all three.
TYPE_ENGINE = [
    ("ratio", "numba"),
    ("interval", "numba"),
    ("ratio", "torch"),
    ("interval", "torch"),
    ("ordinal", "torch"),
]


@pytest.mark.parametrize(("metric_type", "engine"), TYPE_ENGINE)
def test_matches_the_slow_reference(metric_type, engine):
    delta = random_delta(11, n=12, dim=4)
    x0 = classical_mds(delta)
    res = smacof(delta, metric_type=metric_type, engine=engine)
    assert res.params["engine"] == engine
    y, stress, n_iter, history = reference_smacof(delta, x0, metric_type=metric_type)
    assert abs(res.stress - stress) < 1e-8
    assert abs(int(res.n_iter) - n_iter) <= 1
    assert procrustes(y, res.embedding)[2] < 1e-6
    k = min(len(history), len(res.stress_history[0]))
    np.testing.assert_allclose(res.stress_history[0][:k], history[:k], atol=1e-8)


@pytest.mark.parametrize(
    ("metric_type", "engine"), [("interval", "numba"), ("interval", "torch"), ("ordinal", "torch")]
)
def test_weighted_matches_the_slow_reference(metric_type, engine):
    rng = np.random.default_rng(5)
    delta = random_delta(5, n=10, dim=3)
    w = rng.uniform(0.2, 2.0, size=(10, 10))
    w = np.triu(w, 1) + np.triu(w, 1).T
    w[0, 1] = w[1, 0] = 0.0
    start = classical_mds(delta)
    res = smacof(delta, metric_type=metric_type, weights=w, init=start, engine=engine)
    y, stress, n_iter, _ = reference_smacof(delta, start, metric_type=metric_type, weights=w)
    assert abs(res.stress - stress) < 1e-8
    assert procrustes(y, res.embedding)[2] < 1e-6


@pytest.mark.parametrize(("metric_type", "engine"), TYPE_ENGINE)
def test_stress_never_increases(metric_type, engine):
    for seed in range(3):
        res = smacof(random_delta(seed), metric_type=metric_type, init="random", random_state=seed, engine=engine)
        hist = res.stress_history[0]
        assert len(hist) == res.n_iter + 1
        assert np.all(np.diff(hist) <= 1e-12)
        assert abs(hist[-1] - res.stress) < 1e-12


@pytest.mark.parametrize(("metric_type", "engine"), TYPE_ENGINE)
def test_batched_equals_one_at_a_time(metric_type, engine):
    deltas = np.stack([random_delta(s, n=20) for s in range(4)] + [equal_dissimilarities(20)])
    batch = smacof(deltas, metric_type=metric_type, n_init=2, random_state=7, engine=engine)
    assert batch.embedding.shape == (5, 20, 2) and batch.stress.shape == (5,)
    assert len(batch.stress_history) == 5
    for b in range(5):
        # An unbatched call is item 0; its random restarts use child(seed, 0, r). The Torgerson
        # restart (r = 0) does not depend on the seed, so compare it with n_init=1.
        one = smacof(deltas[b], metric_type=metric_type, engine=engine)
        assert batch.restart_stress[b, 0] == pytest.approx(float(one.stress), abs=1e-12)
        assert batch.stress[b] <= one.stress + 1e-12
    single = smacof(deltas, metric_type=metric_type, engine=engine)
    for b in range(5):
        one = smacof(deltas[b], metric_type=metric_type, engine=engine)
        assert abs(single.stress[b] - one.stress) < 1e-12
        assert single.n_iter[b] == one.n_iter
        assert procrustes(single.embedding[b], one.embedding)[2] < 1e-12
        np.testing.assert_allclose(single.stress_history[b], one.stress_history[0], atol=1e-12)


def test_converged_items_stop_changing_while_others_run():
    deltas = np.stack([dist(np.random.default_rng(0).normal(size=(20, 2))), random_delta(1, n=20)])
    res = smacof(deltas, metric_type="interval", engine="torch")
    assert res.n_iter[0] < res.n_iter[1]
    assert res.converged.all()
    assert len(res.stress_history[0]) == res.n_iter[0] + 1 < len(res.stress_history[1])


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("metric_type", ["ratio", "interval"])
def test_engines_agree(metric_type, weighted):
    rng = np.random.default_rng(12)
    deltas = np.stack([dist(rng.normal(size=(40, m))) for m in (2, 3, 5, 10, 20)])
    w = None
    if weighted:
        w = rng.uniform(0.0, 2.0, size=deltas.shape)
        w = w + np.swapaxes(w, 1, 2)
        w[w < 0.4] = 0.0  # some pairs missing
    a = smacof(deltas, metric_type=metric_type, weights=w, engine="numba", n_init=2, random_state=1)
    b = smacof(deltas, metric_type=metric_type, weights=w, engine="torch", n_init=2, random_state=1)
    np.testing.assert_allclose(a.restart_stress, b.restart_stress, atol=1e-10)
    np.testing.assert_array_equal(a.n_iter, b.n_iter)
    np.testing.assert_allclose(a.disparities, b.disparities, atol=1e-8)
    for i in range(5):
        assert procrustes(a.embedding[i], b.embedding[i])[2] < 1e-10


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    deltas = np.stack([random_delta(s, n=30) for s in range(3)])
    for metric_type in ("ratio", "interval", "ordinal"):
        gpu = smacof(deltas, metric_type=metric_type, device="cuda")
        cpu = smacof(deltas, metric_type=metric_type, engine="torch")
        np.testing.assert_allclose(gpu.stress, cpu.stress, atol=1e-9)
        assert gpu.params["engine"] == "torch"


def test_invariance_to_rotation_translation_and_scale():
    points = np.random.default_rng(2).normal(size=(30, 5))
    q, _ = np.linalg.qr(np.random.default_rng(4).normal(size=(5, 5)))
    base = smacof_points(points, metric_type="interval")
    moved = smacof_points(3.7 * points @ q + 11.0, metric_type="interval")
    assert abs(base.stress - moved.stress) < 1e-9
    assert procrustes(base.embedding, moved.embedding)[2] < 1e-9
    for metric_type in ("ratio", "interval"):
        y = smacof_points(points, metric_type=metric_type).embedding
        s1 = layout_stress(dist(points), y, metric_type=metric_type)
        s2 = layout_stress(dist(points), 5.0 * y @ np.array([[0.0, -1.0], [1.0, 0.0]]) - 2.0, metric_type=metric_type)
        assert abs(s1 - s2) < 1e-12


@pytest.mark.parametrize("metric_type", ["ratio", "interval", "ordinal"])
def test_returned_stress_equals_recomputation_from_layout(metric_type):
    delta = random_delta(8)
    res = smacof(delta, metric_type=metric_type)
    assert abs(layout_stress(delta, res.embedding, metric_type=metric_type) - res.stress) < 1e-4
    assert layout_stress(delta, res.embedding, metric_type=metric_type) <= res.stress + 1e-12


def test_interval_stress_at_most_ratio_stress():
    for seed in range(4):
        delta = random_delta(seed, n=30, dim=8)
        ratio = smacof(delta, metric_type="ratio")
        interval = smacof(delta, metric_type="interval")
        assert interval.stress <= ratio.stress + 1e-9
        # Always true for any layout: the interval family contains the ratio one.
        assert layout_stress(delta, ratio.embedding, metric_type="interval") <= ratio.stress + 1e-12


def test_disparities_are_normalised_and_have_their_type():
    delta = random_delta(4, n=20)
    iu = np.triu_indices(20, 1)
    for metric_type in ("ratio", "interval", "ordinal"):
        res = smacof(delta, metric_type=metric_type)
        dhat = res.disparities
        assert np.allclose(dhat, dhat.T) and np.allclose(np.diag(dhat), 0)
        assert abs((dhat[iu] ** 2).sum() - 20 * 19 / 2) < 1e-8
        order = np.argsort(delta[iu])
        if metric_type != "interval":  # R's interval fit has no sign constraint
            assert np.all(np.diff(dhat[iu][order]) >= -1e-12)  # non-decreasing in delta
        if metric_type == "ratio":
            np.testing.assert_allclose(dhat[iu] / delta[iu], (dhat[iu] / delta[iu]).mean(), rtol=1e-10)
        if metric_type == "interval":
            slope, intercept = np.polyfit(delta[iu], dhat[iu], 1)
            np.testing.assert_allclose(dhat[iu], intercept + slope * delta[iu], atol=1e-10)


def test_interval_coefficients_are_the_weighted_least_squares_line():
    import torch

    from supviz.dr._smacof_numba import _interval_coefficients as _interval_coefficients_numba
    from supviz.dr._transforms import interval_coefficients

    rng = np.random.default_rng(0)
    cases = [
        (rng.uniform(0, 1, 50), lambda x: 0.3 + 2.0 * x),  # increasing
        (rng.uniform(0, 1, 50), lambda x: 2.0 - 1.5 * x),  # decreasing: negative slope, as in R
        (rng.uniform(0, 1, 50), lambda x: np.clip(3.0 * x - 0.5, 0, None)),  # negative intercept
    ]
    for x, f in cases:
        y = f(x) + rng.uniform(0, 0.05, x.size)
        w = rng.uniform(0.5, 2.0, x.size)
        basis = np.column_stack([np.ones_like(x), x]) * np.sqrt(w)[:, None]
        (a, b), *_ = np.linalg.lstsq(basis, y * np.sqrt(w), rcond=None)
        t = lambda v: torch.tensor([v], dtype=torch.float64)  # noqa: E731
        alpha, beta = interval_coefficients(
            t(w.sum()), t((w * x).sum()), t((w * x * x).sum()), t((w * y).sum()), t((w * x * y).sum()), n_pairs=1.0
        )
        # The sums are read as full-matrix sums (each pair twice), and the coefficients come back
        # normalised to sum_{i<j} w dhat^2 = n_pairs, i.e. half the full sum equals 1 here.
        scale = np.sqrt(1.0 / (0.5 * (w * (a + b * x) ** 2).sum()))
        np.testing.assert_allclose([alpha.item(), beta.item()], [a * scale, b * scale], atol=1e-10)
        # The compiled engine's copy of the same solver.
        sums = (w.sum(), (w * x).sum(), (w * x * x).sum(), (w * y).sum(), (w * x * y).sum())
        np.testing.assert_allclose(_interval_coefficients_numba(*sums, 1.0), [a * scale, b * scale], atol=1e-10)


def test_ordinal_primary_ties_hand_worked():
    import torch

    from supviz.dr._transforms import ordinal_fit

    # Three points, pairs (0,1), (0,2), (1,2) with dissimilarities 1, 1, 2 and distances 3, 1, 2.
    # Primary ties: the tied block {(0,1), (0,2)} is ordered by distance (1, 3), then (1,2) with 2;
    # PAVA on (1, 3, 2) gives (1, 2.5, 2.5). So (0,1) -> 2.5, (0,2) -> 1, (1,2) -> 2.5.
    delta = torch.tensor([[[0.0, 1, 1], [1, 0, 2], [1, 2, 0]]], dtype=torch.float64)
    dist = torch.tensor([[[0.0, 3, 1], [3, 0, 2], [1, 2, 0]]], dtype=torch.float64)
    dhat = ordinal_fit(delta, dist, None, n_pairs=3.0)[0].numpy()
    raw = np.array([2.5, 1.0, 2.5])
    expected = raw * np.sqrt(3.0 / (raw**2).sum())
    np.testing.assert_allclose([dhat[0, 1], dhat[0, 2], dhat[1, 2]], expected, atol=1e-12)


def test_shepard_data():
    delta = random_delta(6, n=12)
    res = smacof(delta, metric_type="ordinal")
    sh = res.shepard()
    assert isinstance(sh, ShepardData)
    iu = np.triu_indices(12, 1)
    assert sh.dissimilarity.shape == sh.disparity.shape == sh.distance.shape == (66,)
    np.testing.assert_allclose(sh.distance, dist(res.embedding)[iu], atol=1e-12)
    np.testing.assert_allclose(sh.disparity, res.disparities[iu])
    batch = smacof(np.stack([delta, delta]))
    assert batch.shepard(1).distance.shape == (66,)
    with pytest.raises(SupvizError, match="`index` must be given"):
        batch.shepard()


def test_missing_pairs_are_ignored():
    points = np.random.default_rng(9).normal(size=(12, 2))
    delta = dist(points)
    w = np.ones_like(delta)
    for i, j in [(0, 5), (2, 7), (3, 4)]:
        delta[i, j] = delta[j, i] = 50.0  # corrupted, but marked missing
        w[i, j] = w[j, i] = 0.0
    res = smacof(delta, weights=w, metric_type="interval", eps=1e-14, max_iter=20000)
    assert res.stress < 1e-6
    assert procrustes(points, res.embedding)[2] < 1e-8
    assert res.shepard().distance.shape == (66 - 3,)


def test_seeds_restarts_and_init():
    delta = random_delta(1)
    a = smacof(delta, init="random", n_init=3, random_state=42)
    b = smacof(delta, init="random", n_init=3, random_state=42)
    c = smacof(delta, init="random", n_init=3, random_state=43)
    np.testing.assert_array_equal(a.embedding, b.embedding)
    assert not np.allclose(a.restart_stress, c.restart_stress)
    assert a.stress == a.restart_stress.min()
    assert len(set(np.round(a.restart_stress, 10))) > 1  # the restarts really differ
    start = classical_mds(delta)
    given = smacof(delta, init=start)
    default = smacof(delta)
    assert abs(given.stress - default.stress) < 1e-12
    assert given.params["init"] == "array"


# ----------------------------------------------------------------------------------------------
# Degenerate inputs


def test_all_zero_dissimilarities(caplog):
    with caplog.at_level(logging.WARNING, logger="supviz.dr.smacof"):
        res = smacof(np.zeros((5, 5)), metric_type="interval")
    # Nothing to fit: stress-1 is 0 / 0, never a "perfect" 0 for a collapsed solution (issue 8).
    assert np.isnan(res.stress) and np.all(res.embedding == 0) and res.n_iter == 0
    assert np.isnan(res.stress_history[0]).all()
    assert "all dissimilarities are 0" in res.notes[0] and "all dissimilarities are 0" in caplog.text


@pytest.mark.parametrize("metric_type", ["interval", "ordinal"])
def test_all_equal_dissimilarities_fall_back_to_ratio(metric_type, caplog):
    delta = equal_dissimilarities(20)
    with caplog.at_level(logging.WARNING, logger="supviz.dr.smacof"):
        res = smacof(delta, metric_type=metric_type)
    ratio = smacof(delta, metric_type="ratio")
    assert abs(res.stress - ratio.stress) < 1e-10
    assert any("fitted as ratio" in note for note in res.notes)
    assert "fitted as ratio" in caplog.text


def test_duplicate_and_zero_norm_points():
    # The study's dropped features: many rows exactly at the origin, next to real directions.
    rng = np.random.default_rng(0)
    points = np.zeros((30, 5))
    points[:12] = rng.normal(size=(12, 5))
    points[12:15] = points[0]  # exact duplicates of a real point
    for metric_type in ("ratio", "interval", "ordinal"):
        res = smacof_points(points, metric_type=metric_type)
        assert np.isfinite(res.embedding).all() and np.isfinite(res.stress) and res.converged
        d = dist(res.embedding)
        assert res.stress < 0.3
        if metric_type == "interval":
            # R's unconstrained interval fit gives every zero dissimilarity the same disparity, the
            # intercept, which need not be 0: then rounding noise lets duplicates drift apart, into
            # a small cluster (R behaves the same way).
            zero_pairs = res.disparities[15:, 15:][np.triu_indices(15, 1)]
            np.testing.assert_allclose(zero_pairs, zero_pairs[0], atol=1e-12)
            assert d[15:, 15:].max() < 0.1 * d.max()
            continue
        assert d[15:, 15:].max() < 1e-9  # the zero-norm rows stay one point
        assert d[0, 12:15].max() < 1e-9  # duplicates stay together


def test_batch_with_a_degenerate_item_keeps_the_others_exact():
    good = random_delta(2, n=10)
    batch = smacof(np.stack([good, np.zeros((10, 10)), equal_dissimilarities(10)]), metric_type="interval")
    alone = smacof(good, metric_type="interval")
    assert abs(batch.stress[0] - alone.stress) < 1e-12
    assert np.isnan(batch.stress[1]) and batch.notes[0].startswith("item 1:")
    assert batch.notes[1].startswith("item 2:")


# ----------------------------------------------------------------------------------------------
# Tier 3: agreement with scikit-learn and quality floors


def test_agrees_with_scikit_learn_metric_mds():
    from sklearn.manifold import MDS

    for seed in range(3):
        delta = random_delta(seed, n=30, dim=6)
        ours = smacof(delta, metric_type="ratio")
        sk = MDS(
            n_components=2,
            metric_mds=True,
            metric="precomputed",
            init="classical_mds",
            n_init=1,
            max_iter=1000,
            eps=1e-6,
            random_state=seed,
        ).fit_transform(delta)
        # Compare on one definition: stress-1 of each layout after optimal scaling.
        s_ours = layout_stress(delta, ours.embedding)
        s_sk = layout_stress(delta, sk)
        assert abs(s_ours - s_sk) < 0.01
        assert s_ours <= s_sk + 1e-3


def test_quality_floor_on_random_points():
    res = smacof_points(
        np.random.default_rng(0).normal(size=(50, 10)), metric_type="interval", n_init=3, random_state=0
    )
    assert res.stress < 0.3 and res.converged


# ----------------------------------------------------------------------------------------------
# Errors: every path is a one-line SupvizError


@pytest.mark.parametrize(
    ("delta", "match"),
    [
        (np.array([[0.0, np.nan], [np.nan, 0.0]]), "only finite values"),
        (np.array([[0.0, np.inf], [np.inf, 0.0]]), "only finite values"),
        (np.zeros((3, 4)), "must be square"),
        (np.array([[0.0, 1.0], [2.0, 0.0]]), "must be symmetric"),
        (np.array([[0.0, -1.0], [-1.0, 0.0]]), "must be non-negative"),
        (np.array([[1.0, 1.0], [1.0, 0.0]]), "zero diagonal"),
        (np.zeros((1, 1)), "at least 2 points"),
        (np.zeros(4), "rank 2 or 3"),
        (np.zeros((0, 3, 3)), "at least one matrix"),
        ([["a"]], "numeric array"),
    ],
)
def test_bad_dissimilarities(delta, match):
    with pytest.raises(SupvizError, match=match) as info:
        smacof(delta)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_components": 0}, "`n_components` must be an int >= 1"),
        ({"metric_type": "spline"}, "`metric_type` must be one of"),
        ({"init": "pca"}, "`init` must be one of"),
        ({"init": np.zeros((4, 3))}, "`init` must be"),
        ({"init": np.zeros((4, 2))}, "one location"),
        ({"n_init": 0}, "`n_init` must be an int >= 1"),
        ({"max_iter": 0}, "`max_iter` must be an int >= 1"),
        ({"eps": -1.0}, "`eps` must be a finite number"),
        ({"device": "nope"}, "`device` must be"),
        ({"engine": "jax"}, "`engine` must be one of"),
        ({"engine": "numba", "metric_type": "ordinal"}, "`engine` must be 'torch' or 'auto'"),
        ({"random_state": -1}, "`random_state` must be"),
        ({"weights": -np.ones((4, 4))}, "`weights` must be non-negative"),
        ({"weights": np.ones((3, 3))}, "`weights` must have the shape"),
        ({"weights": np.zeros((4, 4))}, "positive entry"),
        ({"weights": np.kron(np.eye(2), np.ones((2, 2)))}, "connect all points"),
        ({"weights": np.kron(np.eye(2), np.ones((2, 2))), "engine": "torch"}, "connect all points"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(SupvizError, match=match) as info:
        smacof(random_delta(0, n=4), **kwargs)
    assert "\n" not in str(info.value)


def test_bad_points_and_layouts():
    with pytest.raises(SupvizError, match="at least 2 points"):
        smacof_points(np.zeros((1, 3)))
    with pytest.raises(SupvizError, match="`embedding` must have shape"):
        layout_stress(random_delta(0, n=5), np.zeros((4, 2)))
