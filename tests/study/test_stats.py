"""The verdicts' statistics on hand-made numbers: intervals, strata, and verdicts that flip."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from supviz.errors import SupvizError
from supviz.study.stats import (
    AXIS_REDUCTIONS,
    NOT_ENOUGH,
    abs_below_verdict,
    bootstrap_interval,
    interval_verdict,
    rho_bound,
    stratified_bootstrap_interval,
    stratified_spearman,
    two_sample_bootstrap_interval,
    wilson_interval,
)


def test_bootstrap_interval_covers_the_median_and_is_reproducible() -> None:
    v = np.random.default_rng(0).normal(1.0, 0.1, 50)
    lo, hi = bootstrap_interval(v)
    assert lo < np.median(v) < hi
    assert hi - lo < 0.1
    assert bootstrap_interval(v) == (lo, hi)
    assert np.isnan(bootstrap_interval([1.0, np.nan])[0])  # one finite value: no interval
    # fewer than MIN_N values: no interval either (a bootstrap of 2 values returned their range; review 5 item 6)
    assert all(np.isnan(bootstrap_interval([-0.0243, 0.0301], np.mean)))
    assert all(np.isnan(bootstrap_interval([2.0, 2.0])))
    assert bootstrap_interval([2.0] * 5) == (2.0, 2.0)


def test_stratified_rule_gives_the_right_sign_where_pooling_does_not() -> None:
    # Simpson's paradox: within each m, y falls with x; the strata's offsets make the pooled rho positive
    rng = np.random.default_rng(1)
    xs, ys, ms = [], [], []
    for j, m in enumerate([3, 5, 10, 20]):
        x = np.linspace(0, 1, 6) + j
        xs.append(x)
        ys.append(-x + 3 * j + rng.normal(0, 0.01, 6))
        ms.append(np.full(6, m))
    x, y, m = map(np.concatenate, (xs, ys, ms))
    pooled = stats.spearmanr(x, y).statistic
    s = stratified_spearman(x, y, m)
    assert pooled > 0.4  # the pooled rule sees a positive trend
    assert s.rho < -0.9 and s.interval[1] < 0  # within every m it is negative, and the interval says so
    assert all(r == pytest.approx(-1.0) for r, _ in s.per_stratum.values())
    assert s.n == 24


def test_one_perfect_stratum_neither_outweighs_the_others_nor_shrinks_the_interval_to_a_point() -> None:
    # rho_bound: halfway between 1 and the next |rho| n ranks can give, 1 - 12 / (n (n^2 - 1))
    assert rho_bound(6) == pytest.approx(1 - 6 / 210)
    next_rho = stats.spearmanr(np.arange(6), [0, 1, 2, 3, 5, 4]).statistic
    assert next_rho < rho_bound(6) < 1
    # three strata of 6: rho -0.83, -1, -0.83 (UMAP's B2 sweep); atanh(-1 + 1e-12) = -14 would make it -1 [-1, -1]
    x = np.tile(np.arange(6.0), 3)
    y = np.concatenate([[6, 1, 3, 2, 0, -1], [6, 5, 4, 3, 2, 1], [6, 1, 3, 2, 0, -1]]).astype(float)
    s = stratified_spearman(x, y, np.repeat([0, 1, 2], 6))
    assert [round(r, 2) for r, _ in s.per_stratum.values()] == [-0.83, -1.0, -0.83]
    assert -0.97 < s.rho < -0.83 and -1 < s.interval[0] < s.rho < s.interval[1] < -0.5
    # one stratum: its own rho, and an interval of some width that reaches it (1 entered z at the bound)
    one = stratified_spearman(np.arange(6.0), np.arange(6.0), np.zeros(6))
    assert one.rho == 1.0 and 0.5 < one.interval[0] < one.interval[1] == 1.0


def test_stratified_spearman_leaves_out_strata_too_small_or_flat() -> None:
    s = stratified_spearman([1, 2, 3, 1, 2, 3, 4], [1, 2, 3, 5, 5, 5, 5], [0, 0, 0, 1, 1, 1, 1])
    assert np.isnan(s.rho) and s.n == 0
    assert s.per_stratum[0][1] == 3 and np.isnan(s.per_stratum[1][0])


@pytest.mark.parametrize(
    ("interval", "expected"),
    [((0.92, 0.97), "supported"), ((0.85, 0.95), NOT_ENOUGH), ((0.7, 0.89), "not supported")],
)
def test_interval_verdict_flips_when_its_interval_crosses_the_threshold(interval, expected) -> None:
    est = sum(interval) / 2
    assert interval_verdict(est, interval, 0.9, claimed="above", n=20) == expected


def test_interval_verdict_needs_its_minimum_n_and_a_finite_estimate() -> None:
    assert interval_verdict(0.95, (0.93, 0.97), 0.9, claimed="above", n=2) == NOT_ENOUGH
    assert interval_verdict(0.95, None, 0.9, claimed="above", n=20) == NOT_ENOUGH
    assert interval_verdict(float("nan"), (0.9, 1.0), 0.9, claimed="above", n=20) == "n/a"
    assert interval_verdict(0.1, (0.05, 0.2), 0.3, claimed="below", n=20) == "supported"
    with pytest.raises(ValueError, match="claimed"):
        interval_verdict(0.1, (0.0, 0.2), 0.3, claimed="up", n=20)


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        ((-0.2, 0.3), "supported"),
        ((0.3, 0.6), NOT_ENOUGH),
        ((0.45, 0.9), "not supported"),
        ((-0.9, -0.5), "not supported"),
    ],
)
def test_abs_below_verdict_flips_at_its_bound(interval, expected) -> None:
    assert abs_below_verdict(sum(interval) / 2, interval, 0.4, n=30) == expected


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        ((0.02, 0.08), "supported"),
        ((0.12, 0.25), "partly"),
        ((0.35, 0.6), "not supported"),
        ((0.05, 0.2), NOT_ENOUGH),
        ((0.25, 0.4), NOT_ENOUGH),
    ],
)
def test_banded_verdict_flips_across_both_thresholds(interval, expected):
    from supviz.study.stats import banded_verdict

    assert banded_verdict(sum(interval) / 2, interval, 0.1, 0.3, n=20) == expected
    assert banded_verdict(sum(interval) / 2, interval, 0.1, 0.3, n=3) == NOT_ENOUGH


def test_wilson_interval_of_13_of_16_straddles_075_so_the_verdict_is_not_enough() -> None:
    # the reviewer's case: 13 of 16 failing cells dense, against the rule's 0.75
    lo, hi = wilson_interval(13, 16)
    assert lo == pytest.approx(0.5699, abs=1e-4) and hi == pytest.approx(0.9341, abs=1e-4)
    assert interval_verdict(13 / 16, (lo, hi), 0.75, claimed="above", n=16) == NOT_ENOUGH
    # 40 of 40 is clear of 0.75: supported; the closed form (Wilson 1927) at k = n is n / (n + z^2)
    z2 = stats.norm.ppf(0.975) ** 2
    assert wilson_interval(40, 40)[0] == pytest.approx(40 / (40 + z2), rel=1e-9)
    assert interval_verdict(1.0, wilson_interval(40, 40), 0.75, claimed="above", n=40) == "supported"
    assert all(np.isnan(wilson_interval(0, 0)))


def test_wilson_interval_refuses_counts_outside_0_n() -> None:
    with pytest.raises(SupvizError, match=r"`successes` must be an int in \[0, n\]; got 5 of n = 4"):
        wilson_interval(5, 4)


def test_stratified_bootstrap_keeps_each_stratum_s_share():
    # two strata of very different levels: a plain bootstrap of the median can draw mostly one of them, the
    # stratified one keeps 5 of each in every resample, so its interval is narrower and stays between the levels
    values = np.r_[np.linspace(0.0, 0.1, 5), np.linspace(1.0, 1.1, 5)]
    strata = np.r_[[3] * 5, [40] * 5]
    lo, hi = stratified_bootstrap_interval(values, strata)
    plo, phi = bootstrap_interval(values)
    assert 0.0 < lo <= np.median(values) <= hi < 1.1 and hi - lo < phi - plo
    assert stratified_bootstrap_interval(values, strata) == (lo, hi)  # equal seeds, equal output
    assert all(np.isnan(stratified_bootstrap_interval([1.0], [3])))
    # strata below MIN_N entries (here one each) would give no spread at all: the plain bootstrap instead
    single = np.arange(10.0)
    assert stratified_bootstrap_interval(single, np.arange(10)) == bootstrap_interval(single)


def test_cluster_jackknife_interval_of_a_mean_is_students_t_interval():
    # for the mean, the delete-one jackknife's standard error is exactly s / sqrt(G): the interval is the classical
    # t-interval, which a 5-cluster percentile bootstrap (126 distinct resamples) is far narrower than
    from supviz.study.stats import cluster_jackknife_interval

    v = np.array([0.12, -0.05, 0.30, 0.08, -0.20])
    lo, hi = cluster_jackknife_interval(len(v), lambda idx: float(v[idx].mean()))
    ref = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
    assert (lo, hi) == pytest.approx(ref, rel=1e-12)
    b_lo, b_hi = bootstrap_interval(v, np.mean)
    assert hi - lo > 1.5 * (b_hi - b_lo)
    # too few clusters, or an undefined statistic: no interval
    assert all(np.isnan(cluster_jackknife_interval(2, lambda idx: float(v[idx].mean()))))
    assert all(np.isnan(cluster_jackknife_interval(5, lambda idx: float("nan"))))


def test_stratified_spearman_gives_ties_their_expectation_not_the_midranks_credit() -> None:
    # within each stratum y ties in a block of 4 (a count that sticks at one value): midranks give rho 0.707 per
    # stratum, the expectation over the tie orders 0.5 (sum (mx - c)(my - c) = 5 over n (n^2 - 1) / 12 = 10)
    x = np.tile(np.arange(5.0), 2)
    y = np.tile([1.0, 1.0, 1.0, 1.0, 2.0], 2)
    s = stratified_spearman(x, y, np.repeat([0, 1], 5))
    assert [r for r, _ in s.per_stratum.values()] == [pytest.approx(0.5)] * 2
    assert s.rho == pytest.approx(0.5) and stats.spearmanr(x[:5], y[:5]).statistic == pytest.approx(0.5**0.5)
    # the study's own helper reads ties the same way
    from supviz.study.common import spearman

    assert spearman(x[:5], y[:5]) == pytest.approx(0.5)


def _diff_of_minima(a, b, axis):
    return np.min(a, axis=axis) - np.min(b, axis=axis)


def test_two_sample_bootstrap_interval_resamples_each_sample_on_its_own() -> None:
    # min(a) of a resample is one of a's values, likewise b: the interval lies between the extreme differences
    a, b = [0.0295, 0.0295, 0.0294], [0.0034, 0.0032]
    lo, hi = two_sample_bootstrap_interval(a, b, _diff_of_minima)
    assert 0.0294 - 0.0034 <= lo <= 0.0294 - 0.0032 <= hi <= 0.0295 - 0.0032 + 1e-15
    # one value in a sample: it is held fixed (4 others against 1: the spread is the four's)
    lo, hi = two_sample_bootstrap_interval([0.0829, 0.0832, 0.0831, 0.0832], [0.0837], _diff_of_minima)
    assert lo == pytest.approx(0.0829 - 0.0837) and hi == pytest.approx(0.0832 - 0.0837)
    lo, hi = two_sample_bootstrap_interval([0.0837], [0.0829, 0.0832, 0.0831, 0.0832], _diff_of_minima)
    assert lo == pytest.approx(0.0837 - 0.0832) and hi == pytest.approx(0.0837 - 0.0829)
    # degenerate: no spread anywhere gives the point, an empty sample (NaN dropped) nothing
    assert two_sample_bootstrap_interval([2.0, 2.0], [0.5], _diff_of_minima) == (1.5, 1.5)
    assert np.isnan(two_sample_bootstrap_interval([1.0, 2.0], [np.nan], _diff_of_minima)).all()
    # equal seeds give equal intervals
    assert two_sample_bootstrap_interval(a, b, _diff_of_minima) == two_sample_bootstrap_interval(a, b, _diff_of_minima)


def test_stratified_spearman_keeps_a_perfect_rho_inside_its_interval():
    """Every stratum perfect (C4's six rho = -1 within p): the combined rho is -1, not tanh of the bounded z mean
    (-0.971), and the interval reaches it; one perfect stratum (B1's rho 1) reads 1 [lo, 1], not 1 [0.741, 0.997]."""
    from supviz.study.stats import stratified_spearman

    m = np.repeat([1, 2, 3, 4, 5, 6], 6)
    x = np.tile(np.arange(6.0), 6)
    s = stratified_spearman(x, -x, m)
    assert s.rho == -1.0 and s.interval[0] == -1.0 and s.interval[1] < -0.9
    one = stratified_spearman(np.arange(8.0), np.arange(8.0) ** 2, np.zeros(8))
    assert one.rho == 1.0 and one.interval[1] == 1.0 and 0 < one.interval[0] < 1
    # strata not all perfect: the combined estimate stays inside its interval
    y = -x + np.where(m == 1, np.tile([0.0, 0, 3, 0, 0, 0], 6), 0)
    mixed = stratified_spearman(x, y, m)
    assert mixed.interval[0] <= mixed.rho <= mixed.interval[1] and mixed.rho > -1.0


# --- break test 5, F6: input errors are SupvizErrors that name the problem ------------------------------------


@pytest.mark.parametrize(
    "x, y, strata, match",
    [
        (np.arange(10.0), np.arange(12.0), np.repeat([0, 1], 6), r"one length; got shapes \(10,\), \(12,\), \(12,\)"),
        (np.arange(12.0), np.arange(12.0), np.repeat([0, 1], 5), r"one length; got shapes \(12,\), \(12,\), \(10,\)"),
        (np.arange(12.0), np.arange(12.0), np.array([None] * 6 + [1] * 6, dtype=object), "got 6 missing of 12"),
        (np.arange(12.0), np.arange(12.0), np.array(["a"] * 6 + [1] * 6, dtype=object), "of one kind.*int, str"),
        (["a"] * 6, np.arange(6.0), np.zeros(6), "`x` must be numbers"),
    ],
)
def test_stratified_spearman_refuses_bad_input_in_one_line(x, y, strata, match):
    with pytest.raises(SupvizError, match=match):
        stratified_spearman(x, y, strata)


def test_nan_strata_are_refused_not_kept_as_junk_keys():
    # was: six (nan, 0) keys beside the two real strata
    s = np.repeat([0.0, 1.0, 2.0], 6)
    s[:6] = np.nan
    with pytest.raises(SupvizError, match=r"`strata` must name a stratum for every pair \(no None or NaN\); got 6"):
        stratified_spearman(np.tile(np.arange(6.0), 3), np.tile(np.arange(6.0), 3), s)


def _bootstrap_interval_one_call_per_resample(values, statistic):
    """The interval as bootstrap_interval computed it before the reductions were vectorised: the reference."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    res = stats.bootstrap(
        (v,),
        lambda a, axis: np.apply_along_axis(statistic, axis, a),
        n_resamples=2000,
        confidence_level=0.95,
        method="percentile",
        random_state=np.random.default_rng(0),
        vectorized=True,
    )
    return (float(res.confidence_interval.low), float(res.confidence_interval.high))


_rng = np.random.default_rng(7)
_INPUTS = {
    "odd n": _rng.normal(size=7),
    "even n": _rng.normal(size=6),
    "ties": np.array([0.1, 0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.3, 0.3, 0.5]),
    "NaN dropped": np.array([np.nan, 0.4, -0.2, np.inf, 0.4, 0.9, np.nan, 0.1, -0.7, 0.3]),
    "pairwise-sum blocks": _rng.lognormal(size=301),  # n > 128: numpy's pairwise sum splits each resample
    "small n": np.array([0.0301, -0.0243, 0.0111, 0.0301, -0.0024]),
}


@pytest.mark.parametrize("statistic", sorted(AXIS_REDUCTIONS, key=lambda f: f.__name__), ids=lambda f: f.__name__)
@pytest.mark.parametrize("name", list(_INPUTS))
def test_bootstrap_interval_of_a_numpy_reduction_equals_the_loop_bit_for_bit(name, statistic, monkeypatch) -> None:
    values = _INPUTS[name]
    want = _bootstrap_interval_one_call_per_resample(values, statistic)

    def no_loop(*args, **kwargs):
        raise AssertionError("a NumPy reduction must be called once on all resamples, not once per resample")

    monkeypatch.setattr(np, "apply_along_axis", no_loop)
    assert bootstrap_interval(values, statistic) == want


def test_bootstrap_interval_of_any_other_statistic_is_still_called_per_resample() -> None:
    calls = []

    def trimmed_mean(a):
        calls.append(a.shape)
        return float(stats.trim_mean(a, 0.1))

    v = _INPUTS["ties"]
    assert bootstrap_interval(v, trimmed_mean) == _bootstrap_interval_one_call_per_resample(v, trimmed_mean)
    assert calls and all(shape == (v.size,) for shape in calls)


def test_cluster_jackknife_exposes_the_delete_one_values_its_interval_is_made_of():
    """Review 7 item 2: which p value a share rests on is read off the jackknife's own delete-one values (one home),
    not recomputed: entry g is the statistic without cluster g, and the interval is cluster_jackknife_interval's."""
    import numpy as np

    from supviz.study.stats import cluster_jackknife, cluster_jackknife_interval

    v = np.array([1.0, 2.0, 4.0, 8.0, 30.0])
    j = cluster_jackknife(len(v), lambda idx: float(v[idx].mean()))
    np.testing.assert_allclose(j.leave_one_out, [(v.sum() - x) / 4 for x in v], rtol=1e-12)
    assert j.full == v.mean() and int(np.argmax(np.abs(j.leave_one_out - j.full))) == 4
    assert j.interval == cluster_jackknife_interval(len(v), lambda idx: float(v[idx].mean()))
    # too few clusters: no interval, but the delete-one values are still there
    short = cluster_jackknife(2, lambda idx: float(v[idx].mean()))
    assert all(np.isnan(short.interval)) and short.leave_one_out.tolist() == [2.0, 1.0]
