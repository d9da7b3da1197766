"""The structured synthetic benchmark: its generator keeps the structure it promises, and absorption
sees a parent latent that stops firing when a child fires."""

import dataclasses

import numpy as np
import pytest
from scipy.stats import spearmanr

from supviz.errors import SupvizError
from supviz.sae import SAE
from supviz.sae.synth import PRESETS, SynthConfig, absorption, benchmark_scores, make_benchmark, summary


@pytest.fixture(scope="module")
def bench():
    return make_benchmark("test", seed=0)


def test_equal_seeds_give_equal_benchmarks_and_samples(bench):
    again = make_benchmark("test", seed=0)
    np.testing.assert_array_equal(again.features, bench.features)
    np.testing.assert_array_equal(again.children, bench.children)
    np.testing.assert_array_equal(bench.sample(50, seed=3)[1], again.sample(50, seed=3)[1])
    assert not np.array_equal(bench.sample(50, seed=3)[1], bench.sample(50, seed=4)[1])
    assert not np.array_equal(make_benchmark("test", seed=1).features, bench.features)


def test_zipfian_probabilities_run_from_max_to_min_as_saelens_computes_them(bench):
    cfg = bench.config
    p = bench.probabilities
    assert p[0] == pytest.approx(cfg.max_prob) and p[-1] == pytest.approx(cfg.min_prob)
    assert (np.diff(p) < 0).all()
    r = 1.0 / np.arange(1, cfg.n_features + 1)  # SAELens: min + (max - min) (r - r.min) / (r.max - r.min), a = 1
    np.testing.assert_allclose(p, cfg.min_prob + (cfg.max_prob - cfg.min_prob) * (r - r.min()) / (r.max() - r.min()))


def test_children_fire_only_with_their_parent_and_one_at_a_time(bench):
    s = summary(bench, 20_000, seed=5)
    assert s["children_without_parent"] == 0 and s["max_children_together"] == 1
    assert (s["children_given_parent"] > 0.05).all()  # the hierarchy is exercised


def test_features_outside_the_hierarchy_fire_at_their_probability(bench):
    n = 40_000
    _X, A = bench.sample(n, seed=6)
    free = np.setdiff1d(np.arange(bench.config.n_features), bench.edges.reshape(-1))
    rate = (A[:, free] > 0).mean(0)
    p = bench.probabilities[free]
    # magnitudes max(0, mu + 0.1 N) with mu >= 0.5 are 0 with probability < 1e-6: the firing rate is p
    assert np.all(np.abs(rate - p) < 5 * np.sqrt(p * (1 - p) / n))


def test_low_rank_correlation_makes_features_co_fire_as_the_factor_says():
    cfg = SynthConfig(n_features=40, d=8, n_parents=0, children_per_parent=0, correlation_rank=2, correlation_scale=0.6)
    b = make_benchmark(cfg, seed=2)
    _X, A = b.sample(30_000, seed=1)
    on = (A > 0).astype(float)
    implied = b.factor @ b.factor.T
    iu = np.triu_indices(40, 1)
    measured = np.corrcoef(on.T)[iu]
    # the copula's latent correlation F F^T reaches the firing indicators monotonically, not linearly
    assert spearmanr(implied[iu], measured).statistic > 0.9  # measured: 0.961
    big = np.abs(implied[iu]) > 0.2
    assert big.sum() > 100 and (np.sign(measured[big]) == np.sign(implied[iu][big])).all()
    indep = make_benchmark(dataclasses.replace(cfg, correlation_rank=0), seed=2).sample(30_000, seed=1)[1] > 0
    assert np.abs(np.corrcoef(indep.T.astype(float))[iu]).max() < 0.05


def _orthonormal_bench():
    cfg = SynthConfig(n_features=12, d=12, n_parents=2, children_per_parent=3, correlation_rank=0)
    b = make_benchmark(cfg, seed=4)
    Q = np.linalg.qr(np.random.default_rng(0).standard_normal((12, 12)))[0].astype(np.float32)
    return dataclasses.replace(b, features=Q)


def _sae(W_enc, W_dec):
    z = np.zeros(W_enc.shape[1], np.float32)
    return SAE(W_enc=W_enc, b_enc=z, W_dec=W_dec, b_dec=np.zeros(W_enc.shape[0], np.float32), activation="relu")


def test_absorption_sees_a_parent_latent_that_stops_firing_when_its_child_fires():
    b = _orthonormal_bench()
    Q = b.features
    faithful = _sae(Q.T.copy(), Q.copy())  # codes are the true activations
    W_enc = Q.T.copy()
    p0 = b.parents[0]
    W_enc[:, p0] -= 100.0 * Q[b.children[0]].sum(0)  # latent p0 is silenced by any child of parent 0
    absorbing = _sae(W_enc, Q.copy())
    table, (fa, ab) = benchmark_scores([faithful, absorbing], b, n_eval=20_000, seed=3)
    assert table.mcc[0] == pytest.approx(1.0) and table.explained_variance[0] == pytest.approx(1.0)
    assert (fa.parent_latent == fa.parent).all() and np.isfinite(fa.absorption).all()
    np.testing.assert_array_equal(fa.absorption, 0.0)
    first = ab.parent == p0
    np.testing.assert_array_equal(ab.recall_with_child[first], 0.0)
    np.testing.assert_array_equal(ab.recall_without_child[first], 1.0)
    np.testing.assert_array_equal(ab.absorption[first], 1.0)
    np.testing.assert_array_equal(ab.absorption[~first], 0.0)  # the other parent is untouched
    assert ab.mean == pytest.approx(first.mean()) and fa.mean == 0.0
    assert table.mcc[1] == pytest.approx(1.0)  # the decoder is perfect: MCC cannot see absorption
    # silenced by one child only: that edge is absorbed, its siblings are not (with a sibling active the
    # absorbed child is not, by mutual exclusivity, so the parent latent fires)
    W_enc = Q.T.copy()
    c0 = b.children[0][0]
    W_enc[:, p0] -= 100.0 * Q[c0]
    one = benchmark_scores(_sae(W_enc, Q.copy()), b, n_eval=20_000, seed=3)[1][0]
    np.testing.assert_array_equal(one.absorption, (one.child == c0).astype(float))


def test_absorption_is_nan_with_a_reason_where_no_edge_has_both_kinds_of_sample():
    b = _orthonormal_bench()
    _X, A = b.sample(5, seed=0)
    A[:] = 0.0
    out = absorption(A[:, :12], b.features, A, b.features, b.edges)
    assert np.isnan(out.absorption).all() and np.isnan(out.mean) and "no edge" in out.reason


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"min_prob": 0.5, "max_prob": 0.3}, "`min_prob` must be < `max_prob`"),
        ({"n_features": 10, "n_parents": 3, "children_per_parent": 3}, r"n_parents \* \(1 \+ children_per_parent\)"),
        ({"children_per_parent": 1}, "`children_per_parent` must be an int >= 2"),
        ({"magnitude_low": 2.0, "magnitude_high": 1.0}, "`magnitude_low` must be <= `magnitude_high`"),
    ],
)
def test_bad_structures_are_refused_by_name(kw, match):
    with pytest.raises(SupvizError, match=match):
        SynthConfig(**kw)


def test_presets_and_bad_names():
    assert (PRESETS["synthsaebench-16k"].n_features, PRESETS["synthsaebench-16k"].d) == (16_384, 768)
    with pytest.raises(SupvizError, match="one of"):
        make_benchmark("synthsaebench-1m")
    with pytest.raises(SupvizError, match="shapes|must share N"):
        absorption(np.zeros((3, 2)), np.zeros((2, 4)), np.zeros((4, 5)), np.zeros((5, 4)), [[0, 1]])
