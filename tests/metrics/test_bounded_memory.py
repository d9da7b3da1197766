"""Issue 13 item 3: the metrics of large point sets in bounded memory.

- Shepard rho over all pairs in passes (:mod:`supviz.metrics.allpairs`) equals the direct
  computation bit for bit on small inputs cut into small blocks, buckets and passes, ties included;
- ``all_pairs=False`` skips the all-pairs metrics with a reason and changes nothing else;
- ``neighbors="approximate"`` is close to the exact scores (the error at 20,000 points is measured
  in ``benchmarks/metrics.py``).
"""

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.metrics import allpairs, layout_metrics, shepard_correlation
from supviz.metrics.distances import DistanceSource


@pytest.fixture
def tiny_buckets(monkeypatch):
    monkeypatch.setattr(allpairs, "BUCKET_PAIRS", 64)


def _both(X, Y, *, precomputed=False, **kw):
    xs, ys = DistanceSource("X", X, precomputed=precomputed), DistanceSource("Y", Y)
    return allpairs.shepard_rho_direct(xs, ys), allpairs.shepard_rho_blocked(xs, ys, **kw)


def _cases():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 7))
    yield "continuous", X, X[:, :2] + 0.4 * rng.normal(size=(150, 2))
    # 40 points at the origin (the dropped features) and integer grids: heavy ties on both sides
    X2 = np.vstack([np.zeros((40, 5)), rng.integers(0, 3, size=(90, 5)).astype(float)])
    yield "ties", X2, np.round(X2[:, :2] + 0.5 * rng.normal(size=(130, 2)))
    yield "anti", X[:60], -X[:60, :2] * np.array([1.0, 0.0]) + 1e-3 * rng.normal(size=(60, 2))


@pytest.mark.parametrize("case", list(_cases()), ids=lambda c: c[0])
@pytest.mark.parametrize("pass_pairs,entries", [(300, 200), (2_000, 64), (10**9, 10**6)])
def test_blocked_shepard_equals_the_direct_computation_bit_for_bit(case, pass_pairs, entries, tiny_buckets):
    _, X, Y = case
    direct, blocked = _both(X, Y, pass_pairs=pass_pairs, entries=entries)
    assert blocked[1] is None and direct[1] is None
    assert blocked[0] == direct[0]  # no tolerance: exact integer sums, one rounding at the end


def test_frequent_values_get_buckets_of_their_own(tiny_buckets):
    rng = np.random.default_rng(9)
    X = np.vstack([np.zeros((40, 5)), rng.normal(size=(90, 5))])  # the dropped features at the origin
    src = DistanceSource("X", X)
    bk = allpairs._buckets(src, allpairs.n_pairs(src.n))
    allpairs._count(src, bk, 500)
    single_values = bk.bounds[np.flatnonzero(bk.single) - 1]
    assert list(single_values) == [0.0] and bk.counts[bk.single].sum() == 40 * 39 // 2
    assert bk.counts.sum() == allpairs.n_pairs(130)
    plans = bk.passes(300)  # 7,605 other pairs: passes of at most 300 (one bucket may exceed it)
    assert plans[0][0] == 0 and plans[-1][1] == len(bk.counts) and len(plans) > 20
    assert all(a[1] == b[0] for a, b in zip(plans, plans[1:]))
    # an integer grid: its few distance values are nearly all frequent, sorted by nobody
    G = rng.integers(0, 3, size=(90, 5)).astype(float)
    gb = allpairs._buckets(DistanceSource("G", G), allpairs.n_pairs(90))
    allpairs._count(DistanceSource("G", G), gb, 500)
    assert gb.counts[gb.single].sum() > 0.9 * allpairs.n_pairs(90) and len(gb.passes(300)) == 1


def test_blocked_shepard_on_dissimilarities_and_the_tie_rule(tiny_buckets):
    rng = np.random.default_rng(0)
    P = rng.normal(size=(50, 3))
    D = np.sqrt(((P[:, None] - P[None]) ** 2).sum(-1)).round(1)  # rounded: many tied dissimilarities
    direct, blocked = _both(D, P[:, :2], precomputed=True, pass_pairs=150, entries=100)
    assert blocked == direct
    # diag(N): all distances tie, the same reason from both
    direct, blocked = _both(np.eye(30), rng.normal(size=(30, 2)), pass_pairs=50, entries=40)
    assert np.isnan(blocked[0]) and blocked[1] == direct[1] and "tie" in blocked[1]


def test_pair_blocks_are_the_condensed_vector():
    X = np.random.default_rng(1).normal(size=(37, 4))
    src = DistanceSource("X", X)
    parts = list(allpairs.pair_blocks(src, entries=100))
    assert [off for off, _ in parts] == sorted(off for off, _ in parts)
    assert np.array_equal(np.concatenate([v for _, v in parts]), src.condensed())


def test_exact_dot_is_exact_beyond_float64_and_int64():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 2**32, size=5000, dtype=np.uint64)
    b = rng.integers(0, 2**32, size=5000, dtype=np.uint64)
    assert allpairs.exact_dot(a, b) == sum(int(x) * int(y) for x, y in zip(a, b))
    assert allpairs.exact_dot(np.zeros(0, np.uint64), np.zeros(0, np.uint64)) == 0


def test_shepard_correlation_uses_the_bounded_path_and_matches_scipy():
    from scipy.spatial.distance import pdist
    from scipy.stats import spearmanr

    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 5))
    Y = X[:, :2] + rng.normal(size=(120, 2))
    assert shepard_correlation(X, Y) == pytest.approx(spearmanr(pdist(X), pdist(Y)).statistic, abs=1e-12)


def test_all_pairs_false_skips_with_a_reason_and_changes_nothing_else():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 6))
    Y = X[:, :2] + 0.3 * rng.normal(size=(60, 2))
    base = rng.normal(size=(60, 2))
    full = layout_metrics(X, Y, k=5, baseline=base)
    cheap = layout_metrics(X, Y, k=5, baseline=base, all_pairs=False)
    for name in ("stress1_ratio", "shepard_rho", "procrustes_baseline"):
        assert np.isfinite(full[name]) and np.isnan(cheap[name])
        assert cheap.reasons[name].startswith("skipped: all_pairs=False")
    for name in ("trustworthiness", "continuity", "knn_recall"):
        assert cheap[name] == full[name]
    with pytest.raises(SupvizError, match="`all_pairs` must be true or false"):
        layout_metrics(X, Y, all_pairs="no")
    with pytest.raises(SupvizError, match="`neighbors` must be one of"):
        layout_metrics(X, Y, neighbors="fast")


def test_approximate_neighbours_in_the_plane_are_close_to_exact():
    """X in 3-D and Y in 2-D: KD-tree lists (exact), ranks beyond 3k estimated from a sample."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(800, 3))
    Y = X[:, :2] + 0.3 * rng.normal(size=(800, 2))
    exact = layout_metrics(X, Y, k=10, X_true=X[:, :1] + X[:, 1:2])
    approx = layout_metrics(X, Y, k=10, X_true=X[:, :1] + X[:, 1:2], neighbors="approximate", random_state=1)
    # exact lists: recall is exact (no ties in continuous data)
    assert approx["knn_recall"] == exact["knn_recall"]
    assert approx["knn_recall_true"] == exact["knn_recall_true"]
    for name in ("trustworthiness", "continuity"):
        assert abs(approx[name] - exact[name]) < 0.003, name
    assert approx["stress1_ratio"] == exact["stress1_ratio"]  # all pairs still exact unless skipped
    again = layout_metrics(X, Y, k=10, neighbors="approximate", random_state=1)
    assert again["trustworthiness"] == approx["trustworthiness"]  # seeded: same numbers


def test_approximate_keeps_the_undefined_rules():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 2))
    out = layout_metrics(X, np.zeros((40, 2)), k=5, neighbors="approximate")
    assert np.isnan(out["trustworthiness"]) and "collapsed" in out.reasons["trustworthiness"]
    out = layout_metrics(X[:6], X[:6], k=5, neighbors="approximate")
    assert "needs at least" in out.reasons["continuity"]
    out = layout_metrics(
        np.eye(30)[:, :3] * 0 + np.eye(30)[:, :3], rng.normal(size=(30, 2)), k=3, neighbors="approximate"
    )
    assert np.isfinite(out["continuity"])  # three distinct distances: not all tied


@pytest.mark.slow
def test_approximate_neighbours_in_high_dimensions_use_pynndescent(monkeypatch):
    """20-D X: NN-descent lists (pynndescent; ~10-25 s of numba compilation once per process, and
    2-4 minutes on a loaded 2-core VM). Up to ``BRUTE_FORCE_MAX_N`` points the lists are exact by
    brute force instead; lowered here so that 600 points take the NN-descent branch."""
    from supviz.metrics import approximate

    monkeypatch.setattr(approximate, "BRUTE_FORCE_MAX_N", 100)
    rng = np.random.default_rng(8)
    X = rng.normal(size=(600, 20))
    Y = X[:, :2] + 0.3 * rng.normal(size=(600, 2))
    lists = approximate._neighbour_lists(DistanceSource("X", X), 30, 0)
    assert not lists.exact and lists.idx.shape == (600, 30)
    assert not (lists.idx == np.arange(600)[:, None]).any()
    assert np.all(np.diff(lists.dist, axis=1) >= 0)  # float64 distances, nearest first
    exact = layout_metrics(X, Y, k=10, all_pairs=False)
    approx = layout_metrics(X, Y, k=10, all_pairs=False, neighbors="approximate")
    for name in ("trustworthiness", "continuity", "knn_recall"):
        assert abs(approx[name] - exact[name]) < 0.005, name
