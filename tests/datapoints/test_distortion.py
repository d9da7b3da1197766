"""Distortion measures: against scikit-learn / supviz.metrics, known answers, properties."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr

from supviz.datapoints import false_neighbours, latent_codes, measure_distortion, sample_inputs
from supviz.datapoints.distortion import knn_indices
from supviz.errors import SupvizError


def _reference_knn(X, k):
    D = np.linalg.norm(X[:, None] - X[None], axis=-1)
    np.fill_diagonal(D, np.inf)
    return np.argsort(D, axis=1, kind="stable")[:, :k]


def _reference_recall(X, Y, k):
    a, b = _reference_knn(X, k), _reference_knn(Y, k)
    return np.mean([len(set(a[i]) & set(b[i])) / k for i in range(len(X))])


@pytest.fixture(scope="module")
def sparse_pair():
    s = sample_inputs(20, probability=0.2, n_points=300, random_state=0)
    W = np.random.default_rng(1).normal(size=(20, 3))
    return s.x, latent_codes(s.x, W)


@pytest.mark.parametrize("chunk", [7, 256, 1000])
def test_matches_reference_implementations(sparse_pair, chunk):
    from sklearn.manifold import trustworthiness

    X, H = sparse_pair
    Y = H[:, :2]
    r = measure_distortion(X, Y, k=7, chunk_size=chunk)
    assert r.trustworthiness == pytest.approx(trustworthiness(X, Y, n_neighbors=7), abs=1e-12)
    assert r.continuity == pytest.approx(trustworthiness(Y, X, n_neighbors=7), abs=1e-12)
    assert r.knn_recall == pytest.approx(_reference_recall(X, Y, 7), abs=1e-12)
    rho = spearmanr(pdist(X), pdist(Y)).statistic
    assert r.shepard_rho == pytest.approx(rho, abs=1e-12)
    assert r.n_pairs == 300 * 299 // 2


def test_matches_supviz_metrics_where_available(sparse_pair):
    from supviz import metrics

    X, H = sparse_pair
    Y = H[:, :2]
    r = measure_distortion(X, Y, k=10)
    assert r.trustworthiness == pytest.approx(float(metrics.trustworthiness(X, Y, k=10)), abs=1e-9)
    assert r.stress1_ratio == pytest.approx(float(metrics.stress1_ratio(X, Y)), abs=1e-12)
    assert r.shepard_rho == pytest.approx(float(metrics.shepard_correlation(X, Y)), abs=1e-9)
    assert r.continuity == pytest.approx(float(metrics.continuity(X, Y, k=10)), abs=1e-9)
    assert r.knn_recall == pytest.approx(float(metrics.knn_recall(X, Y, k=10)), abs=1e-9)


def test_orthogonal_embedding_is_exact():
    # m >= n and W = identity columns: h keeps every distance, so every exact measure is 1.
    s = sample_inputs(12, probability=0.3, n_points=400, random_state=4)
    for m in (12, 15):
        W = np.eye(12, m)
        r = measure_distortion(s.x, latent_codes(s.x, W), active=s.active, k=10)
        assert r.knn_recall == 1.0
        assert r.trustworthiness == 1.0 and r.continuity == 1.0
        assert r.shepard_rho == pytest.approx(1.0, abs=1e-12)
        assert r.stress1_ratio == pytest.approx(0.0, abs=1e-6)
        # An orthogonal rotation keeps them too.
        Q, _ = np.linalg.qr(np.random.default_rng(m).normal(size=(m, m)))
        r2 = measure_distortion(s.x, latent_codes(s.x, W @ Q), k=10)
        assert r2.knn_recall == pytest.approx(1.0) and r2.trustworthiness == pytest.approx(1.0)


def test_merged_features_make_false_neighbours_between_exactly_their_users():
    # Features 0 and 1 share one direction; the others are orthonormal. Inputs: one active feature,
    # values 0.5..1.0 in steps of 0.1, six per feature. In x the 5 nearest neighbours of a point are
    # the other points of its feature (distance <= 0.5 < sqrt(0.5)); in h the users of feature 0 and
    # 1 coincide pairwise, so they become each other's neighbours: false, no shared feature.
    n, vals = 6, np.linspace(0.5, 1.0, 6)
    x = np.zeros((n * vals.size, n))
    feature = np.repeat(np.arange(n), vals.size)
    x[np.arange(x.shape[0]), feature] = np.tile(vals, n)
    W = np.zeros((n, n - 1))
    W[0, 0] = W[1, 0] = 1.0
    W[2:, 1:] = np.eye(n - 2)
    h = latent_codes(x, W)
    active = x > 0

    fx = false_neighbours(x, active, k=5)
    assert fx.count == 0 and fx.rate == 0.0
    fh = false_neighbours(h, active, k=5)
    users = {0, 1}
    assert fh.count > 0
    for i, j in fh.pairs:
        assert {feature[i], feature[j]} == users  # one user of each merged feature
    # Exactly: every same-value pair across features 0 and 1 is a false pair.
    same_value = {(a, b) for a in range(6) for b in range(6, 12) if np.isclose(x[a, 0], x[b, 1])}
    assert same_value <= {tuple(p) for p in fh.pairs}
    # The same through measure_distortion, and the recall drops only for those users.
    r = measure_distortion(x, h, active=active, k=5)
    np.testing.assert_array_equal(r.false.pairs, fh.pairs)
    assert r.knn_recall < 1.0
    keep = feature >= 2
    r_rest = measure_distortion(x[keep], h[keep], k=5)
    assert r_rest.knn_recall == 1.0


def test_metrics_in_unit_interval_and_ordered():
    s = sample_inputs(30, probability=0.1, n_points=500, random_state=5)
    rng = np.random.default_rng(5)
    good = latent_codes(s.x, np.eye(30, 25))  # drops 5 features
    bad = latent_codes(s.x, rng.normal(size=(30, 2)))  # 30 features in 2 dims
    rg = measure_distortion(s.x, good, active=s.active, k=10)
    rb = measure_distortion(s.x, bad, active=s.active, k=10)
    for r in (rg, rb):
        for name, v in r.metrics().items():
            if name != "false_neighbour_pairs":
                assert 0.0 <= v <= 1.0, name
    assert rg.knn_recall > rb.knn_recall
    assert rg.trustworthiness > rb.trustworthiness
    assert rb.false.rate > rg.false.rate


def test_shepard_subsample_is_seeded_and_close():
    s = sample_inputs(10, probability=0.3, n_points=400, random_state=6)
    Y = s.x[:, :3]
    full = measure_distortion(s.x, Y, k=5)
    a = measure_distortion(s.x, Y, k=5, max_pairs=20_000, random_state=1)
    b = measure_distortion(s.x, Y, k=5, max_pairs=20_000, random_state=1)
    assert a.n_pairs == 20_000 and a.shepard_rho == b.shepard_rho
    assert a.shepard_rho == pytest.approx(full.shepard_rho, abs=0.02)


def test_knn_indices_against_reference():
    X = np.random.default_rng(2).normal(size=(120, 4))
    np.testing.assert_array_equal(knn_indices(X, k=6, chunk_size=13), _reference_knn(X, 6))


def test_errors():
    X = np.zeros((10, 3))
    with pytest.raises(SupvizError, match="same number of points"):
        measure_distortion(X, np.zeros((9, 2)))
    with pytest.raises(SupvizError, match="`k` must be an int in"):
        measure_distortion(X, np.zeros((10, 2)), k=9)
    with pytest.raises(SupvizError, match="`active` must be a bool array with 10 rows"):
        false_neighbours(np.zeros((10, 2)), np.zeros((9, 3), bool))


# --- issue 8 follow-up, finding 10: false neighbours under ties, with reasons ---------------------------


def test_false_neighbours_of_a_collapsed_picture_are_undefined_with_a_reason():
    # Was: 54 false edges (rate 0.54-0.58) chosen among ties by index, and no reason anywhere.
    rng = np.random.default_rng(0)
    active = rng.random((20, 8)) < 0.3
    for Y, why in (
        (np.zeros((20, 2)), "layout collapsed"),
        (1.0 + 1e-15 * rng.normal(size=(20, 2)), "layout collapsed"),
        (np.eye(20), "all pairwise distances of Y tie"),
    ):
        fn = false_neighbours(Y, active, k=5)
        assert np.isnan(fn.rate) and why in fn.reason and np.isnan(fn.count) and len(fn.pairs) == 0
    res = measure_distortion(rng.normal(size=(20, 5)), np.zeros((20, 2)), active=active, k=5)
    values = res.metrics()
    assert all(np.isnan(v) for v in values.values())
    assert set(res.reasons) == set(values) and all("layout collapsed" in r for r in res.reasons.values())
    assert "false_neighbour_rate: layout collapsed" in res.reason_text()


def test_false_neighbours_do_not_depend_on_the_order_of_tied_points():
    # The kind: a group of points at one spot (inputs whose active features were all dropped sit at
    # h = 0) has more members than k; which of them are "the" neighbours was decided by index.
    rng = np.random.default_rng(1)
    Y = np.vstack([np.zeros((12, 2)), rng.normal(size=(18, 2))])
    active = rng.random((30, 6)) < 0.3
    ref = false_neighbours(Y, active, k=4)
    assert np.isfinite(ref.rate) and ref.reason is None
    for seed in range(4):
        perm = np.random.default_rng(seed).permutation(30)
        got = false_neighbours(Y[perm], active[perm], k=4)
        assert got.rate == pytest.approx(ref.rate, abs=1e-12)
    # without ties it is the plain count of false edges among the exact k nearest
    Z = rng.normal(size=(30, 2))
    nbrs = knn_indices(Z, k=4)
    plain = sum(not (active[i] & active[j]).any() for i in range(30) for j in nbrs[i])
    assert false_neighbours(Z, active, k=4).n_false_edges == plain


def test_distortion_reasons_for_ties_and_coinciding_inputs():
    rng = np.random.default_rng(2)
    x = np.eye(12)  # every distance of X ties
    res = measure_distortion(x, rng.normal(size=(12, 2)), k=3)
    assert np.isnan(res.knn_recall) and "all pairwise distances of X tie" in res.reasons["knn_recall"]
    assert np.isnan(res.shepard_rho) and "X tie" in res.reasons["shepard_rho"]
    assert np.isfinite(res.stress1_ratio) and "stress1_ratio" not in res.reasons
    ones = np.ones((12, 3)) * (1.0 + 1e-15 * rng.normal(size=(12, 3)))
    res = measure_distortion(ones, rng.normal(size=(12, 2)), k=3)
    assert all(np.isnan(getattr(res, m)) for m in ("knn_recall", "trustworthiness", "stress1_ratio", "shepard_rho"))
    assert res.reasons["stress1_ratio"] == "all points of X coincide: no distances to compare"
