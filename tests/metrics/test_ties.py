"""Ties give no credit: every neighbourhood measure is the expectation over random tie orders.

The reference here is the slow, obvious one: break the ties of each space by an independent
uniformly random order of the points, compute the classic tie-free measures (Venna and Kaski's
trustworthiness and continuity, k-NN recall, the false-neighbour rate), and average over many
draws. Each exact value must lie within 5 standard errors of that average (the standard error is
measured from the draws; where no tie straddles the k-th place every draw is the same number and
the tolerance is 1e-12).
"""

import numpy as np
import pytest

from supviz.datapoints.distortion import false_neighbours
from supviz.metrics import continuity, knn_recall, layout_metrics, pairwise_distances, trustworthiness
from supviz.metrics.ranks import worst_penalty

TOL = 1e-12
DRAWS = 3000


def _tie_broken_ranks(D, rng):
    """Ranks ``[N, N]`` (0 for the point itself) with ties broken by a random order of the points."""
    n = len(D)
    D = D.copy()
    np.fill_diagonal(D, -1.0)
    key = np.broadcast_to(rng.permutation(n), D.shape)
    order = np.lexsort((key, D), axis=1)  # by distance, then by the random order
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(n)[None, :].repeat(n, axis=0), axis=1)
    return ranks


def _sampled_measures(X, Y, k, *, active=None, draws=DRAWS, seed=0):
    """Mean and standard error over ``draws`` independent tie orders of X and of Y of
    (trustworthiness, continuity, recall, false-neighbour rate)."""
    DX, DY = pairwise_distances(X), pairwise_distances(Y)
    n = len(X)
    g = worst_penalty(n, k)
    shares = None if active is None else (active.astype(int) @ active.T.astype(int)) > 0
    rng = np.random.default_rng(seed)
    values = np.empty((draws, 4))
    for d in range(draws):
        rx, ry = _tie_broken_ranks(DX, rng), _tie_broken_ranks(DY, rng)
        nx, ny = (rx >= 1) & (rx <= k), (ry >= 1) & (ry <= k)
        t = 1.0 - (np.maximum(rx - k, 0) * ny).sum() / (n * g)
        c = 1.0 - (np.maximum(ry - k, 0) * nx).sum() / (n * g)
        r = (nx & ny).sum() / (n * k)
        f = np.nan if shares is None else (ny & ~shares).sum() / (n * k)
        values[d] = t, c, r, f
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(draws)


def _assert_expectation(exact, mean, se, what):
    assert abs(exact - mean) <= 5 * se + TOL, f"{what}: {exact} vs sampled {mean} +- {se}"


def _half_glued(n=20, seed=0):
    """Points in general position; a picture that sends half of them to one spot."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    Y = X[:, :2] + 0.2 * rng.normal(size=(n, 2))
    Y[: n // 2] = Y[0]
    active = rng.random((n, 8)) < 0.3
    active[~active.any(axis=1), 0] = True
    return X, Y, active


@pytest.mark.parametrize("k", [1, 3, 9, 14])
def test_half_glued_picture_scores_the_random_tie_order_expectation(k):
    X, Y, active = _half_glued()
    mean, se = _sampled_measures(X, Y, k, active=active, seed=k)
    assert se[2] > 0  # ties do straddle the k-th place
    _assert_expectation(trustworthiness(X, Y, k=k), mean[0], se[0], "trustworthiness")
    _assert_expectation(continuity(X, Y, k=k), mean[1], se[1], "continuity")
    _assert_expectation(knn_recall(X, Y, k=k), mean[2], se[2], "recall")
    _assert_expectation(false_neighbours(Y, active, k=k).rate, mean[3], se[3], "false-neighbour rate")
    # and the same with the glued space as the data (ties in the space that defines the
    # neighbourhoods of continuity and recall, and judges trustworthiness)
    back, se_back = _sampled_measures(Y, X, k, seed=100 + k)
    _assert_expectation(trustworthiness(Y, X, k=k), back[0], se_back[0], "trustworthiness, glued data")
    _assert_expectation(knn_recall(Y, X, k=k), back[2], se_back[2], "recall, glued data")
    # the approximate path gives the same numbers (exact lists at this size, ties resolved exactly)
    for ref, lay in ((X, Y), (Y, X)):
        exact = layout_metrics(ref, lay, k=k, all_pairs=False)
        approx = layout_metrics(ref, lay, k=k, all_pairs=False, neighbors="approximate")
        for name in ("trustworthiness", "continuity", "knn_recall"):
            if 3 * k >= len(X) - 1 or name == "knn_recall":  # lists hold every point / recall never estimates
                assert approx[name] == pytest.approx(exact[name], abs=TOL), name


def test_tie_free_data_equal_one_draw():
    # No ties: every draw is the same number, so the exact values must match it to 1e-12.
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(18, 4)), rng.normal(size=(18, 2))
    mean, se = _sampled_measures(X, Y, 4, draws=3)
    assert np.all(se[:3] == 0)
    for f, m in zip((trustworthiness, continuity, knn_recall), mean[:3], strict=True):
        assert f(X, Y, k=4) == pytest.approx(m, abs=TOL)


def test_inputs_restricted_to_represented_features():
    # The case: 60 features at p = 0.05, x restricted to 9 of them (the others dropped), so
    # about 60% of the inputs sit at the origin of x_rep. Tie credit scored recall(x -> x_rep) 0.90;
    # the expectation over tie orders is about 0.15 (checked against sampled tie orders).
    from supviz.datapoints.sampling import sample_inputs

    x = sample_inputs(60, probability=0.05, n_points=200, random_state=0).x
    x_rep = x[:, :9]
    at_origin = float((~x_rep.any(axis=1)).mean())
    assert 0.5 < at_origin < 0.65
    recall = knn_recall(x, x_rep, k=10)
    mean, se = _sampled_measures(x, x_rep, 10, draws=300, seed=1)
    _assert_expectation(recall, mean[2], se[2], "recall of x_rep")
    _assert_expectation(continuity(x, x_rep, k=10), mean[1], se[1], "continuity of x_rep")
    _assert_expectation(trustworthiness(x, x_rep, k=10), mean[0], se[0], "trustworthiness of x_rep")
    assert 0.1 < recall < 0.2
    # the origin points keep about what a random choice among the origin points keeps
    approx = layout_metrics(x, x_rep, k=10, all_pairs=False, neighbors="approximate")
    assert approx["knn_recall"] == pytest.approx(recall, abs=TOL)


# --- the approximate path agrees with the exact one, and is NaN where it is ---------------------


def test_approximate_is_nan_where_exact_is_nan():
    # diag(40): all distances tie; the approximate path returned trustworthiness 0.656 (float32
    # distances of pynndescent broke the ties).
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(40, 2))
    for k in (3, 10, 38):
        exact = layout_metrics(np.eye(40), Y, k=k, all_pairs=False)
        approx = layout_metrics(np.eye(40), Y, k=k, all_pairs=False, neighbors="approximate")
        for name in ("trustworthiness", "continuity", "knn_recall"):
            assert np.isnan(exact[name]) and np.isnan(approx[name])
            assert approx.reasons[name] == exact.reasons[name]
    # X identical up to rounding (ranks of rounding noise), and a collapsed picture
    X_same = np.tile(rng.normal(size=(1, 5)), (40, 1)) * (1.0 + 1e-15 * rng.normal(size=(40, 5)))
    for ref, lay in ((X_same, Y), (Y, np.zeros((40, 2)))):
        exact = layout_metrics(ref, lay, k=5, all_pairs=False)
        approx = layout_metrics(ref, lay, k=5, all_pairs=False, neighbors="approximate")
        for name in ("trustworthiness", "continuity", "knn_recall"):
            assert np.isnan(approx[name]) and approx.reasons[name] == exact.reasons[name]


@pytest.mark.parametrize("k", [2, 13, 20, 38])
def test_approximate_equals_exact_at_small_n(k):
    # At k = 38, N = 40 the approximate trustworthiness was -0.825 (ranks estimated past N - 1).
    rng = np.random.default_rng(k)
    X = rng.normal(size=(40, 6))
    Y = X[:, :2] + 0.5 * rng.normal(size=(40, 2))
    dropped = np.vstack([np.eye(40)[:30], np.zeros((10, 40))])
    for ref, lay in ((X, Y), (dropped, Y), (X, np.vstack([Y[:20], np.zeros((20, 2))]))):
        exact = layout_metrics(ref, lay, k=k, X_true=ref[:, :3], all_pairs=False)
        approx = layout_metrics(ref, lay, k=k, X_true=ref[:, :3], all_pairs=False, neighbors="approximate")
        for name in ("trustworthiness", "continuity", "knn_recall", "knn_recall_true"):
            assert 0.0 <= approx[name] <= 1.0
            if 3 * k >= 39 or name.startswith("knn_recall"):
                assert approx[name] == pytest.approx(exact[name], abs=TOL), name
            else:  # ranks beyond the 3k-lists are estimated from a sample
                assert approx[name] == pytest.approx(exact[name], abs=0.02), name


@pytest.mark.parametrize("k", [7, 10, 20])  # 3 k >= N - 1: the lists hold every point
def test_approximate_equals_scikit_learn_without_ties(k):
    # 6-D data (exact brute-force lists) and 2-D pictures (KD-tree), lists holding every point.
    from sklearn.manifold import trustworthiness as sk_trustworthiness

    rng = np.random.default_rng(k)
    X = rng.normal(size=(22, 6))
    Y = X[:, :2] + 0.4 * rng.normal(size=(22, 2))
    out = layout_metrics(X, Y, k=k, all_pairs=False, neighbors="approximate")
    if 2 * k < 22:  # scikit-learn refuses k >= N / 2
        assert out["trustworthiness"] == pytest.approx(sk_trustworthiness(X, Y, n_neighbors=k), abs=TOL)
        assert out["continuity"] == pytest.approx(sk_trustworthiness(Y, X, n_neighbors=k), abs=TOL)
    assert out["trustworthiness"] == pytest.approx(trustworthiness(X, Y, k=k), abs=TOL)


def test_normaliser_for_large_k_is_lee_verleysen():
    # For k >= N / 2 Venna and Kaski's k (2N - 3k - 1) / 2 is no longer the worst penalty (at N = 6,
    # k = 4 it is -2); Lee and Verleysen (2009) use (N - k)(N - k - 1) / 2. Over all 720 orders of six
    # points on a line, trustworthiness stays in [0, 1] and reaches 0 at k = 4: the normaliser is tight.
    import itertools

    X = np.array([0, 1, 3, 6, 10, 15.0])[:, None]
    bend = 0.01 * np.arange(6.0) ** 2  # no tied layout distances
    for k in (3, 4):
        values = [
            trustworthiness(X, (np.array(p, float) + bend)[:, None], k=k) for p in itertools.permutations(range(6))
        ]
        assert min(values) >= 0.0 and max(values) <= 1.0
        if k == 4:
            assert min(values) == pytest.approx(0.0, abs=TOL)
    assert worst_penalty(40, 38) == (40 - 38) * (40 - 38 - 1) / 2
    assert worst_penalty(40, 19) == 19 * (80 - 57 - 1) / 2


def test_approximate_scores_only_the_tied_rows_exactly(monkeypatch):
    # Past the lists' reach ranks are estimated; only rows whose ties the lists cannot resolve are
    # scored exactly (O(N) each). Tie-free data: none (a sampled copy of the pair's own point is not
    # a tie). Half the picture glued at one spot: those rows, and recall still equals the exact one.
    from supviz.metrics import approximate

    calls = []
    real = approximate.row_sums

    def spy(defining, judging, idx, k):
        calls.append(np.asarray(idx).copy())
        return real(defining, judging, idx, k)

    monkeypatch.setattr(approximate, "row_sums", spy)
    rng = np.random.default_rng(11)
    X = rng.normal(size=(300, 5))
    Y = X[:, :2] + 0.3 * rng.normal(size=(300, 2))
    approx = layout_metrics(X, Y, k=5, all_pairs=False, neighbors="approximate")
    assert calls == []
    exact = layout_metrics(X, Y, k=5, all_pairs=False)
    assert approx["knn_recall"] == pytest.approx(exact["knn_recall"], abs=TOL)
    Y[:150] = 0.0
    approx = layout_metrics(X, Y, k=5, all_pairs=False, neighbors="approximate")
    exact = layout_metrics(X, Y, k=5, all_pairs=False)
    scored = set(np.unique(np.concatenate(calls)).tolist())
    # the glued rows; and the others whose k-neighbourhood reaches the glued spot in Y (the tied
    # block straddles the k-th place) or who have a neighbour in X among the glued points (judged
    # against a tied block of 150)
    DX, DY = pairwise_distances(X), pairwise_distances(Y)
    np.fill_diagonal(DX, np.inf)
    np.fill_diagonal(DY, np.inf)
    kth_y = np.sort(DY, axis=1)[:, 4]
    near_x = np.argsort(DX, axis=1)[:, :5]
    want = set(range(150)) | {i for i in range(150, 300) if DY[i, 0] <= kth_y[i] or (near_x[i] < 150).any()}
    assert scored == want and len(want) < 300
    assert approx["knn_recall"] == pytest.approx(exact["knn_recall"], abs=TOL)
    for name in ("trustworthiness", "continuity"):
        assert approx[name] == pytest.approx(exact[name], abs=0.01), name
