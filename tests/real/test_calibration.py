"""The calibration bridge: rank correlations and read-through on known tables, and calibrate on a tiny toy grid."""

import math

import numpy as np
import pandas as pd
import pytest

from supviz.errors import SupvizError
from supviz.real.calibration import (
    AGREE_WITHIN,
    NEAR_FRACTION,
    calibrate,
    matching_m,
    place_layer,
    rank_correlations,
    read_layers,
    read_through,
    read_through_interval,
)
from supviz.real.layer import QUALITY_KEYS, SAESettings


def test_rank_correlations_of_a_known_table():
    t = pd.DataFrame(
        {
            "mmcs": [0.2, 0.4, 0.6, 0.8, 0.9],
            "fvu": [0.9, 0.5, 0.4, 0.2, 0.1],
            "l0": [1, 1, 1, 1, 1],
            "stability_seeds": [0.1, 0.3, np.nan, 0.5, 0.7],
            "dead_fraction": [0.0, np.nan, np.nan, np.nan, 0.1],
        }
    )
    c = rank_correlations(
        t, measures=("fvu", "l0", "stability_seeds", "dead_fraction", "effective_features")
    ).set_index("measure")
    assert c.loc["fvu", "rho"] == pytest.approx(-1.0) and c.loc["fvu", "n_cells"] == 5
    assert (
        c.loc["stability_seeds", "rho"] == pytest.approx(1.0) and c.loc["stability_seeds", "n_cells"] == 4
    )  # NaN row left out
    assert math.isnan(c.loc["l0", "rho"]) and "constant" in c.loc["l0", "reason"]
    assert math.isnan(c.loc["dead_fraction", "rho"]) and "needs 3" in c.loc["dead_fraction", "reason"]
    assert math.isnan(c.loc["effective_features", "rho"]) and "no column" in c.loc["effective_features", "reason"]
    assert "rho_within" not in c.columns  # the within-m statistic has one home: section F's stratified ranking


def test_rank_correlation_is_pooled_over_m():
    """Across the two widths the measure tracks the target perfectly (both rise with m); inside each width it
    runs against it: rho = 1 - 6 * 16 / (6 * 35) = 0.543 pooled (rank differences 2, 0, -2, 2, 0, -2). The engine
    reports the pooled value only; the ranking within m is section F's (tests/study/real/test_findings.py)."""
    t = pd.DataFrame(
        {
            "m": [5, 5, 5, 10, 10, 10],
            "mmcs": [0.1, 0.2, 0.3, 0.7, 0.8, 0.9],
            "stability_seeds": [0.3, 0.2, 0.1, 0.9, 0.8, 0.7],
        }
    )
    c = rank_correlations(t, measures=("stability_seeds",)).iloc[0]
    assert c["rho"] == pytest.approx(1 - 96 / 210)


def test_matching_m_is_the_nearest_hidden_size_within_a_factor_two():
    assert matching_m(8, [5, 10, 20]) == (10.0, "")
    assert matching_m(16, [5, 10, 20]) == (20.0, "")
    assert matching_m(4, [5, 10, 20]) == (5.0, "")
    assert matching_m(32, [5, 10, 20]) == (20.0, "")  # 1.6 times: within one octave
    m, why = matching_m(64, [5, 10, 20])
    assert math.isnan(m) and "within a factor 2 of w = 64" in why and "[5, 10, 20]" in why


def test_read_through_within_m_reads_the_cells_of_that_width_only():
    """Pooled over m the measure rises with MMCS (both grow with m): the increasing fit pools each m's cells into
    one step and reads 0.45 as MMCS 0.8; inside m = 10 the measure falls with MMCS, so the same value reads as 0.85
    (between that m's 0.4 -> 0.9 and 0.5 -> 0.8), and inside m = 5 it lies outside the cells' range."""
    t = pd.DataFrame(
        {
            "m": [5, 5, 5, 10, 10, 10],
            "mmcs": [0.1, 0.2, 0.3, 0.7, 0.8, 0.9],
            "stability_seeds": [0.3, 0.2, 0.1, 0.6, 0.5, 0.4],
        }
    )
    pooled, _ = read_through(t, "stability_seeds", [0.45])
    within, why = read_through(t, "stability_seeds", [0.45, 0.45, 0.2, 0.45], m=[10, np.nan, 10, 5])
    assert pooled[0] == pytest.approx(0.8)
    assert within[0] == pytest.approx(0.85) and why[0] == ""
    assert math.isnan(within[1]) and "matching hidden size" in why[1]
    assert math.isnan(within[2]) and "outside the toy cells' range (m = 10)" in why[2]
    assert math.isnan(within[3]) and "(m = 5) [0.1, 0.3]" in why[3]
    # read_layers reads by place_layer's rule: at 0.5 a cell lies near (0.8); at 0.45 none lies within a tenth of the
    # range (0.02), so the cells do not place the layer, though the monotone fit reads 0.85 there
    q = pd.DataFrame(
        {
            "architecture": "relu_l1",
            "kind": ["classifier", "classifier", "autoencoder"],
            "width": [8, 64, 8],
            "stability_seeds": [0.5, 0.45, 0.45],
        }
    )
    rd = read_layers(t.assign(architecture="relu_l1"), q, measures=("stability_seeds",))
    assert rd["m_used"].iloc[0] == 10 and rd["estimated_mmcs"].iloc[0] == pytest.approx(0.8) and rd["placed"].iloc[0]
    assert math.isnan(rd["estimated_mmcs"].iloc[1]) and "within a factor 2" in rd["reason"].iloc[1]
    assert math.isnan(rd["estimated_mmcs"].iloc[2]) and not rd["placed"].iloc[2]
    assert "lies within 0.02 of the layer's stability_seeds" in rd["reason"].iloc[2]


def test_read_through_is_a_monotone_fit_inside_the_cells_range():
    t = pd.DataFrame({"stability_seeds": [0.2, 0.4, 0.6, 0.8], "mmcs": [0.5, 0.6, 0.8, 0.9]})
    est, why = read_through(t, "stability_seeds", [0.4, 0.8, 0.1, 0.95, np.nan])
    assert est[0] == pytest.approx(0.6) and est[1] == pytest.approx(0.9)
    assert all(math.isnan(v) for v in est[2:])
    assert "outside the toy cells' range" in why[2] and "outside" in why[3] and "undefined" in why[4]
    assert why[0] == why[1] == ""
    # decreasing relation: the fit turns round
    t2 = t.assign(fvu=[0.9, 0.7, 0.3, 0.1])
    est, _ = read_through(t2, "fvu", [0.9, 0.1])
    assert est[0] == pytest.approx(0.5) and est[1] == pytest.approx(0.9)
    est, why = read_through(t.iloc[:2], "stability_seeds", [0.3])
    assert math.isnan(est[0]) and "too few" in why[0]


@pytest.fixture(scope="module")
def grid():
    from supviz.toy import TrainConfig, train_grid

    return train_grid(
        TrainConfig(
            n_features=8,
            hidden=(2, 3),
            probabilities=(0.5, 0.1),
            importances=("uniform",),
            steps=100,
            batch_size=64,
            seed=0,
        ),
        progress=False,
    )


def test_calibrate_a_tiny_grid(grid):
    settings = SAESettings(steps=60, batch_size=32)
    cal = calibrate(grid, settings=settings, n_train=200, n_eval=80, seed=1)
    t = cal.table
    assert len(t) == 4 and {"m", "p", "importance", "n_represented", "mmcs", *QUALITY_KEYS} <= set(t.columns)
    assert ((t["mmcs"] > -1) & (t["mmcs"] <= 1)).all()
    assert (t["n_represented"] >= 1).all()
    # each cell's chance level: random unit decoders of its SAEs' size (the recipe's 2 x m latents) at its m
    from supviz.sae.metrics import random_mmcs_expectation

    want = [random_mmcs_expectation(int(m), 2 * int(m)) for m in t["m"]]
    np.testing.assert_allclose(t["chance_mmcs"], want, rtol=1e-12)
    # the dictionary each cell's SAEs had, and whether its represented features exceed it
    assert t["d_sae"].tolist() == [2 * int(m) for m in t["m"]]
    assert t["over_capacity"].tolist() == [bool(n > 2 * m) for n, m in zip(t["n_represented"], t["m"])]
    assert list(cal.correlations["measure"])[:3] == ["fvu", "l0", "dead_fraction"]
    again = calibrate(grid, [1, 2], settings=settings, n_train=200, n_eval=80, seed=1)
    # a cell's numbers do not depend on which other cells are calibrated beside it
    pd.testing.assert_frame_equal(
        again.table.drop(columns=[]).reset_index(drop=True), t.iloc[[1, 2]].reset_index(drop=True)
    )
    assert cal.info["n_train"] == 200 and cal.info["settings"]["steps"] == 60


def test_calibrate_bad_input(grid):
    with pytest.raises(SupvizError, match="at least one cell"):
        calibrate(grid, [])
    with pytest.raises(SupvizError, match=r"`indices\[\]` must be an int in \[0, 3\]"):
        calibrate(grid, [9])
    # a repeated cell was taken (computed twice, counted twice in the rank correlations): one rule
    # for every cell selection now (core.validation.check_indices), as sae.train_cell_saes had
    with pytest.raises(SupvizError, match=r"`indices` must name each cell once; got 1 more than once"):
        calibrate(grid, [1, 2, 1])


def test_rank_correlation_gives_ties_their_expectation_over_random_orders():
    """A measure stuck at one value for four of five cells tracks the truth only as well as a random order of those
    four: rho 0.5 (scipy's midranks would say 0.707); the p-value of independence is scipy's, unchanged."""
    from scipy.stats import spearmanr

    t = pd.DataFrame({"mmcs": [0.2, 0.4, 0.6, 0.8, 0.9], "fvu": [1.0, 1.0, 1.0, 1.0, 2.0]})
    c = rank_correlations(t, measures=("fvu",)).iloc[0]
    assert c["rho"] == pytest.approx(0.5)
    assert c["p_value"] == pytest.approx(spearmanr(t["fvu"], t["mmcs"]).pvalue)


#: Two importance variants of 6 cells at m = 20, FVU over [0.06, 0.12] together (a near window of 0.1 x 0.06 =
#: 0.006). ``apart``: the review's pattern, the 0.9^i cells recover far more than the uniform ones at the same FVU;
#: ``together``: both lie on one falling line MMCS = 0.9 - 3 FVU, the uniform cells a little above it.
_FVU_A = [0.06, 0.07, 0.08, 0.09, 0.10, 0.11]
_FVU_B = [0.085, 0.09, 0.095, 0.10, 0.11, 0.12]


def _variant_cells(mmcs_a, mmcs_b, *, m=20):
    rows = [{"m": m, "importance": "geometric:0.9", "fvu": f, "mmcs": y} for f, y in zip(_FVU_A, mmcs_a)]
    rows += [{"m": m, "importance": "uniform", "fvu": f, "mmcs": y} for f, y in zip(_FVU_B, mmcs_b)]
    rows.append({"m": 10, "importance": "uniform", "fvu": 0.5, "mmcs": 0.1})  # another m: never read
    return pd.DataFrame(rows)


def test_place_layer_refuses_where_the_variants_recover_apart():
    """The review's case: near the layer's FVU, the 0.9^i cells recover 0.60-0.72 and the uniform ones 0.48-0.52; a
    monotone fit over both would read a number between them, but the cells cannot place the layer."""
    cal = _variant_cells([0.72, 0.70, 0.66, 0.63, 0.60, 0.59], [0.52, 0.51, 0.50, 0.50, 0.49, 0.48])
    pl = place_layer(cal, "fvu", 0.10, m=20)
    assert not pl.placed and pl.failed == "apart" and "lie 0.1 apart (> 0.05)" in pl.reason
    assert math.isnan(pl.estimate) and math.isnan(pl.interval[0])
    assert pl.window == pytest.approx(NEAR_FRACTION * 0.06) and (pl.low, pl.high) == (0.06, 0.12)
    a, b = pl.variants["geometric:0.9"], pl.variants["uniform"]
    # near: within 0.006 of 0.10: 0.9^i's cell at 0.10; uniform's at 0.095 and 0.10
    assert (a.n_near, a.mmcs_low, a.mmcs_high) == (1, 0.60, 0.60)
    assert (b.n_near, b.mmcs_low, b.mmcs_high) == (2, 0.50, 0.50)
    assert (a.n_cells, a.low, a.high, b.n_cells) == (6, 0.06, 0.11, 6)
    assert (pl.mmcs_low, pl.mmcs_high) == (0.50, 0.60)
    # 0.10 apart: agreement within 0.10 places it
    assert place_layer(cal, "fvu", 0.10, m=20, agree_within=0.1).placed
    assert not place_layer(cal, "fvu", 0.10, m=20, agree_within=0.099).placed
    # the monotone fit alone would have read a value here: that is what the rule withholds
    assert np.isfinite(read_through(cal, "fvu", [0.10], m=20)[0][0])


def test_place_layer_reads_the_value_with_its_interval_where_the_variants_agree():
    line = lambda fs, up: [0.9 - 3 * f + up for f in fs]  # noqa: E731
    cal = _variant_cells(line(_FVU_A, 0.0), line(_FVU_B, 0.004))
    pl = place_layer(cal, "fvu", 0.10, m=20)
    assert pl.placed and pl.failed == "" and pl.reason == ""
    est, _ = read_through(cal, "fvu", [0.10], m=20)
    assert pl.estimate == est[0]
    lo, hi, why = read_through_interval(cal, "fvu", 0.10, m=20)
    assert pl.interval == (lo, hi) and pl.interval_reason == why == "" and lo <= pl.estimate <= hi
    assert pl.variants["geometric:0.9"].n_near == 1 and pl.variants["uniform"].n_near == 2
    # 0.60 against 0.604-0.619: 0.004 apart, within AGREE_WITHIN; with no tolerance they would not agree
    assert 0.004 < AGREE_WITHIN < 0.1
    assert not place_layer(cal, "fvu", 0.10, m=20, agree_within=0.0).placed
    # one variant agrees with itself
    assert place_layer(cal[cal["importance"] == "uniform"], "fvu", 0.10, m=20).placed


def test_place_layer_refuses_off_a_variant_s_range_or_without_a_near_cell():
    line = lambda fs, up: [0.9 - 3 * f + up for f in fs]  # noqa: E731
    cal = _variant_cells(line(_FVU_A, 0.0), line(_FVU_B, 0.004))
    # 0.115: inside the cells' range [0.06, 0.12], beyond the 0.9^i cells' own (to 0.11), yet within 0.006 of it
    pl = place_layer(cal, "fvu", 0.115, m=20)
    assert not pl.placed and pl.failed == "edge" and pl.which == ("geometric:0.9",) and np.isnan(pl.estimate)
    # 0.065: no uniform cell within 0.006 (the nearest is 0.085)
    pl = place_layer(cal, "fvu", 0.065, m=20)
    assert not pl.placed and pl.failed == "far" and pl.which == ("uniform",)
    assert pl.variants["uniform"].n_near == 0 and math.isnan(pl.variants["uniform"].mmcs_low)
    # a wider window reaches it
    assert place_layer(cal, "fvu", 0.065, m=20, near_fraction=0.5).failed == "edge"  # 0.065 < uniform's 0.085
    pl = place_layer(cal, "fvu", float("nan"), m=20)
    assert not pl.placed and pl.failed == "undefined"
    with pytest.raises(SupvizError, match=r"`near_fraction` must be in \(0, 1\]; got 0"):
        place_layer(cal, "fvu", 0.1, m=20, near_fraction=0)
    with pytest.raises(SupvizError, match=r"`agree_within` must be >= 0; got -0.1"):
        place_layer(cal, "fvu", 0.1, m=20, agree_within=-0.1)


def test_mark_capacity_flags_cells_with_more_represented_features_than_latents():
    """Review 7 item 1: 2m latents against more represented features cap a cell's MMCS; the table's own d_sae is
    kept, a missing one is the recipe's (expansion x m), and a table with neither d_sae nor architecture is refused."""
    from supviz.real.calibration import mark_capacity

    t = pd.DataFrame(
        {
            "architecture": "relu_l1",
            "m": [20, 20, 20, 10],
            "n_represented": [60, 40, np.nan, 21],
            "d_sae": [40, 40, 40, np.nan],
        }
    )
    out = mark_capacity(t, expansion=2.0)
    assert out["d_sae"].tolist() == [40, 40, 40, 20]
    assert out["over_capacity"].tolist() == [True, False, False, True]
    assert "over_capacity" not in t  # a copy
    with pytest.raises(SupvizError, match="need `d_sae` or `architecture`"):
        mark_capacity(t.drop(columns=["architecture"]), expansion=2.0)


def test_monotone_read_is_scikit_learn_s_isotonic_fit_read_at_a_value():
    """The bootstrap of read_through_interval reads each resample's monotone fit with monotone_read (13x faster than
    scikit-learn's estimator, whose input checks took most of section F's render): the same number within 1e-12 on
    resamples with tied x, both directions, and NaN outside the cells' range as out_of_bounds="nan" gives."""
    import numpy as np
    from sklearn.isotonic import IsotonicRegression

    from supviz.real.calibration import monotone_read

    rng = np.random.default_rng(0)
    outside = 0
    for t in range(400):
        n = int(rng.integers(3, 15))
        base = rng.random(n)
        x = base[rng.integers(0, n, n)]  # a bootstrap resample: ties
        y = rng.random(n) + (x if t % 2 else -x)
        if np.unique(x).size < 2:
            continue
        value = float(rng.uniform(x.min() - 0.05, x.max() + 0.05))
        for increasing in (True, False):
            got = monotone_read(x, y, value, increasing=increasing)
            fit = IsotonicRegression(increasing=increasing, out_of_bounds="nan").fit(x, y)
            want = float(fit.predict([value])[0])
            if np.isnan(want):
                assert np.isnan(got)
                outside += 1
            else:
                assert abs(got - want) <= 1e-12
    assert outside > 0
