"""Section F's verdicts on hand-made tables: the prose says only what its verdict carries."""

import math

import numpy as np
import pandas as pd
import pytest

from supviz.study.real.findings import MIN_SWEEPS, narrower_finding, sae_finding
from supviz.study.stats import NOT_ENOUGH

WIDTHS = (4, 8, 16, 32)


def _sweeps(methods, *, own_step=-0.0015, pix_step=0.02):
    """Per kind and method, pictures of h over WIDTHS: trustworthiness against h falls a little with width, against
    the pixels it rises (the default run's pattern); the layers themselves beside them."""
    pics, spaces = [], []
    for kind in ("classifier", "autoencoder"):
        for i, w in enumerate(WIDTHS):
            spaces.append(
                {
                    "kind": kind,
                    "space": "hidden",
                    "method": "exact",
                    "width": w,
                    "trustworthiness_pixels": 0.93 + 0.02 * i,
                }
            )
            for method in methods:
                pics.append(
                    {
                        "kind": kind,
                        "space": "hidden",
                        "method": method,
                        "width": w,
                        "architecture": "",
                        "trustworthiness": 0.99 + own_step * i,
                        "trustworthiness_pixels": 0.9 + pix_step * i,
                    }
                )
    return pd.DataFrame(pics), pd.DataFrame(spaces)


def test_two_sweeps_are_not_enough_and_the_prose_states_no_finding():
    pics, spaces = _sweeps(["umap"])
    text, f = narrower_finding(pics, spaces, ["umap"])
    assert f.n_used == 2 < MIN_SWEEPS and f.verdict == NOT_ENOUGH
    # the estimate is what the prose says first: 2 of 2 sweeps rise against the pixels (Wilson [0.34, 1])
    assert f.estimate == 1.0 and f.interval == pytest.approx((0.3424, 1.0), abs=1e-4) and f.threshold == 0.5
    assert "rises with width (ρ >= 0.5) in 2 of 2" in f.measured
    assert "the lie is in the layer" not in text and "the lie is in the layer" not in f.measured
    assert "does not say whether the picture lies more" in text and "a change of -0.004" in text


def test_four_sweeps_of_the_same_pattern_carry_the_reading():
    pics, spaces = _sweeps(["umap", "tsne"])
    text, f = narrower_finding(pics, spaces, ["umap", "tsne"])
    # 4 of 4 sweeps rise against the pixels: Wilson [0.51, 1] clears 0.5; against the layer none rises
    assert f.n_used == 4 and f.verdict == "supported" and f.estimate == 1.0 and f.interval[0] > 0.5
    assert "the lie is in the layer, not in the picture" in text
    # both readings rise: the lie is in the picture too
    up, _ = _sweeps(["umap", "tsne"], own_step=0.002)
    text, f = narrower_finding(up, spaces, ["umap", "tsne"])
    assert f.verdict == "supported" and "the lie is in the picture too" in text
    # against the pixels trustworthiness falls with width: 0 of 4, Wilson [0, 0.49] below 0.5
    down, _ = _sweeps(["umap", "tsne"], pix_step=-0.02)
    text, f = narrower_finding(down, spaces, ["umap", "tsne"])
    assert f.verdict == "not supported" and f.estimate == 0.0 and f.interval[1] < 0.5


def _pairs(diffs):
    """Pictures of h and of the codes for 9 layers x 2 methods; codes - h = diffs[layer]."""
    rows = []
    layers = [("classifier", w) for w in (4, 8, 16, 32, 64)] + [("autoencoder", w) for w in WIDTHS]
    for (kind, w), d in zip(layers, diffs):
        for method in ("umap", "tsne"):
            base = {"kind": kind, "width": w, "method": method, "continuity_pixels": 0.9, "knn_accuracy": 0.9}
            rows.append(base | {"space": "hidden", "architecture": "", "trustworthiness_pixels": 0.9})
            rows.append(base | {"space": "codes", "architecture": "relu_l1", "trustworthiness_pixels": 0.9 + d})
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("diffs", "expected"),
    [
        ([-0.01, -0.012, -0.008, -0.011, -0.009, -0.013, -0.01, -0.007, -0.012], "not supported"),
        ([0.01, -0.012, 0.008, -0.011, 0.009, -0.013, 0.01, -0.007, 0.012], NOT_ENOUGH),
        ([0.01, 0.012, 0.008, 0.011, 0.009, 0.013, 0.01, 0.007, 0.012], "supported"),
    ],
)
def test_sae_verdict_flips_with_its_interval_over_layers(diffs, expected):
    text, fs = sae_finding(_pairs(diffs), "relu_l1")
    assert [f.method for f in fs] == ["UMAP", "t-SNE"]  # one verdict per method
    for f in fs:
        assert f.verdict == expected and f.n_used == 9 and f.unit == "layers (kind, width)"
        assert f.estimate == pytest.approx(np.mean(diffs)) and f.threshold == 0.0 and f.null == 0.0
    if expected == NOT_ENOUGH:
        assert "does not settle it: the interval reaches both sides of 0" in text and "not more faithful" not in text


def test_sae_verdict_is_read_per_method_never_pooled():
    """The default run's shape: UMAP pictures 9 layers (codes lower), MDS only 2 (codes higher). Pooled over methods
    per layer, the mean was UMAP's answer with MDS's sign lost; per method, UMAP stands on its own and MDS, with 2
    layers, is not enough evidence."""
    d_umap = [-0.015, -0.025, -0.014, -0.013, -0.002, -0.008, -0.021, -0.007, -0.004]
    rows = []
    layers = [("classifier", w) for w in (4, 8, 16, 32, 64)] + [("autoencoder", w) for w in WIDTHS]
    for (kind, w), d in zip(layers, d_umap):
        base = {"kind": kind, "width": w, "continuity_pixels": 0.9, "knn_accuracy": 0.9, "architecture": ""}
        rows.append(base | {"method": "umap", "space": "hidden", "trustworthiness_pixels": 0.9})
        rows.append(
            base | {"method": "umap", "space": "codes", "architecture": "relu_l1", "trustworthiness_pixels": 0.9 + d}
        )
        if w == 16:  # MDS at the picture width only, the other way
            rows.append(base | {"method": "mds", "space": "hidden", "trustworthiness_pixels": 0.85})
            rows.append(
                base | {"method": "mds", "space": "codes", "architecture": "relu_l1", "trustworthiness_pixels": 0.88}
            )
    text, fs = sae_finding(pd.DataFrame(rows), "relu_l1")
    by = {f.method: f for f in fs}
    assert set(by) == {"MDS", "UMAP"} and by["UMAP"].key == "F-sae-lies-less-umap"
    assert by["UMAP"].verdict == "not supported" and by["UMAP"].n_used == 9
    assert by["UMAP"].estimate == pytest.approx(np.mean(d_umap))
    assert by["MDS"].verdict == NOT_ENOUGH and by["MDS"].n_used == 2 and by["MDS"].estimate == pytest.approx(0.03)
    assert "a verdict needs at least 5" in by["MDS"].measured
    # no interval over 2 layers: a bootstrap of 2 values is only their range (review 5 item 6), so the text prints the
    # estimate and says so, and the record's interval is NaN
    assert "0.030 (n = 2, too few for an interval)" in by["MDS"].measured and "95% interval" not in by["MDS"].measured
    assert all(np.isnan(by["MDS"].interval)) and "estimate 0.03 (no 95% interval); n = 2 layers" in by["MDS"].evidence()
    assert "[95% interval " in by["UMAP"].measured and "bootstrap over layers]" in by["UMAP"].measured
    assert "MDS on 2, UMAP on 9" in text


#: A permutation of 0..7 with Spearman rho exactly 0 against 0..7.
SHUFFLE = (3, 6, 0, 5, 2, 7, 1, 4)


def _calibration_cells():
    """Three hidden sizes of 8 cells. ``pooled`` tracks the true MMCS only through m (its level rises with m as MMCS
    does; inside each m it is a shuffle of the cells, Spearman rho 0 against MMCS); ``within`` tracks MMCS inside
    every m and falls a little with m."""
    rows = []
    for j, m in enumerate((5, 10, 20)):
        for i in range(8):
            mmcs = 0.4 + 0.2 * j + 0.01 * i
            rows.append(
                {
                    "architecture": "relu_l1",
                    "m": m,
                    "importance": "uniform",
                    "mmcs": mmcs,
                    "pooled": 10.0 * j + SHUFFLE[i],
                    "within": 0.5 + 0.03 * i + 0.2 * ((i * 5) % 3 == 0) - 0.1 * j,
                }
            )
    return pd.DataFrame(rows)


def test_calibration_ranks_measures_within_m_not_pooled():
    """Pooled over m, ``pooled`` tracks MMCS better than ``within``; inside each m it does not track it at all (rho
    0), while ``within`` tracks MMCS in every m: the within-m ranking puts ``within`` first."""
    from supviz.real.calibration import rank_correlations
    from supviz.study.real.findings import calibration_ranking

    cal = _calibration_cells()
    corr = rank_correlations(cal, measures=("pooled", "within")).assign(architecture="relu_l1", target="mmcs")
    assert abs(corr.set_index("measure").loc["pooled", "rho"]) > abs(corr.set_index("measure").loc["within", "rho"])
    rk = calibration_ranking(cal, corr, architecture="relu_l1", measures=("pooled", "within")).set_index("measure")
    assert list(rk.index) == ["within", "pooled"]
    assert rk.loc["within", "rho_within"] > 0.5 and rk.loc["within", "within_low"] > 0  # interval excludes 0
    assert rk.loc["pooled", "rho_within"] == pytest.approx(0.0, abs=1e-12) and rk.loc["pooled", "rho"] > 0.8
    assert rk.loc["pooled", "within_low"] < 0 < rk.loc["pooled", "within_high"]
    assert rk.loc["within", "n_strata"] == 3 and rk.loc["within", "n_within"] == 24
    lo, hi = rk.loc["within", ["within_low", "within_high"]]
    assert lo < rk.loc["within", "rho_within"] < hi


def test_calibration_text_names_the_within_m_best_and_the_nearest_m_reading():
    from supviz.real.calibration import rank_correlations, read_layers
    from supviz.study.real.findings import calibration_ranking, calibration_text

    cal = _calibration_cells()
    corr = rank_correlations(cal, measures=("pooled", "within")).assign(architecture="relu_l1", target="mmcs")
    rk = calibration_ranking(cal, corr, architecture="relu_l1", measures=("pooled", "within"))
    q = pd.DataFrame(
        {"architecture": "relu_l1", "kind": ["classifier"], "width": [8], "pooled": [5.0], "within": [0.6]}
    )
    rd = read_layers(cal, q, measures=("pooled", "within"))
    text = calibration_text(rk, rd, n_cells=len(cal), picture_width=8, cells=cal)
    assert "Within m the best is within (" in text and "its interval excludes 0" in text
    assert "read through the toy cells of the nearest hidden size m = 10" in text and "at most a factor 2 away" in text
    assert "p = " not in text  # no pooled p-value sells the pooled correlation
    # without the cells nothing says whether they place the layer, so no reading is given
    bare = calibration_text(rk, rd, n_cells=len(cal), picture_width=8, chance=lambda m: 0.01)
    assert "cannot be placed: no calibration cells given" in bare and "MMCS ≈" not in bare and "chance" not in bare
    # beside its chance level: random unit decoders of the same size at that m; a reading at or below it says so
    high = calibration_text(rk, rd, n_cells=len(cal), picture_width=8, chance=lambda m: 0.97, cells=cal)
    assert "random unit decoders of the same size score 0.97 at m = 10: at or below chance" in high
    # the reading gets its bootstrap interval over the cells of its m, and is read against chance by it
    low = calibration_text(rk, rd, n_cells=len(cal), picture_width=8, chance=lambda m: 0.01, cells=cal)
    assert "bootstrap over the cells of m = 10]" in low and "0.01 at m = 10: above chance, its whole interval" in low
    assert "the importance variants agree near it" in low  # one variant agrees with itself
    est = float(rd[(rd["measure"] == "within")]["estimated_mmcs"].iloc[0])
    inside = calibration_text(rk, rd, n_cells=len(cal), picture_width=8, chance=lambda m: est - 1e-9, cells=cal)
    assert "at m = 10: not distinguishable from chance, its interval reaches both sides)" in inside


def _variant_cells(mmcs_a, mmcs_b):
    """12 cells at m = 20, two importance variants of 6, FVU over [0.06, 0.12] (near: within 0.006)."""
    fa, fb = [0.06, 0.07, 0.08, 0.09, 0.10, 0.11], [0.085, 0.09, 0.095, 0.10, 0.11, 0.12]
    rows = [{"importance": "geometric:0.9", "fvu": f, "mmcs": y} for f, y in zip(fa, mmcs_a)]
    rows += [{"importance": "uniform", "fvu": f, "mmcs": y} for f, y in zip(fb, mmcs_b)]
    return pd.DataFrame(rows).assign(architecture="relu_l1", m=20)


def _layer_text(cal, chance=0.47):
    from supviz.real.calibration import rank_correlations, read_layers
    from supviz.study.real.findings import calibration_ranking, calibration_text

    corr = rank_correlations(cal, measures=("fvu",)).assign(architecture="relu_l1", target="mmcs")
    rk = calibration_ranking(cal, corr, architecture="relu_l1", measures=("fvu",))
    q = pd.DataFrame({"architecture": "relu_l1", "kind": ["classifier"], "width": [16], "fvu": [0.10]})
    rd = read_layers(cal, q, measures=("fvu",))
    return calibration_text(rk, rd, n_cells=len(cal), picture_width=16, chance=lambda m: chance, cells=cal)


def test_calibration_text_says_the_cells_cannot_place_a_layer_where_the_variants_recover_apart():
    """Review 6 item 2: near the layer's FVU the 0.9^i cells recover 0.60 and the uniform ones 0.50; the text gives
    both spreads and says the cells cannot place the layer, with no MMCS read and no word on chance."""
    text = _layer_text(_variant_cells([0.72, 0.70, 0.66, 0.63, 0.60, 0.59], [0.52, 0.51, 0.50, 0.50, 0.49, 0.48]))
    assert "within 0.006 of its FVU (10% of their range, 0.06 to 0.12)" in text
    assert "MMCS 0.60 (1 cell; MMCS − chance 0.13) under importance 0.9^i" in text
    assert "MMCS 0.50 (2 cells; MMCS − chance 0.03) under uniform importance" in text
    assert "The toy cells cannot place the layer: the variants' MMCS near its value lie more than 0.05 apart" in text
    assert "MMCS ≈" not in text and "chance)" not in text and "interval 0" not in text
    assert "above chance" not in text and "distinguishable" not in text


def test_calibration_text_reads_the_value_and_interval_where_the_variants_agree():
    line = [0.9 - 3 * f for f in (0.06, 0.07, 0.08, 0.09, 0.10, 0.11)]
    up = [0.904 - 3 * f for f in (0.085, 0.09, 0.095, 0.10, 0.11, 0.12)]
    text = _layer_text(_variant_cells(line, up))
    assert "the importance variants agree near it" in text and "reads MMCS ≈ 0.60 [95% interval" in text
    assert (
        "bootstrap over the cells of m = 20]" in text
        and "score 0.47 at m = 20: above chance, its whole interval" in text
    )
    assert "cannot place" not in text


def test_the_read_through_interval_resamples_the_cells_of_one_m():
    """The read-through's interval: cells of one m resampled, the monotone fit redone, read at the value; a value
    at the edge of the cells' range is outside too many resamples for an interval (no extrapolation)."""
    from supviz.real.calibration import read_through, read_through_interval

    cal = _calibration_cells()
    est, _ = read_through(cal, "within", [0.6], m=10)
    lo, hi, why = read_through_interval(cal, "within", 0.6, m=10)
    assert why == "" and lo <= est[0] <= hi and lo < hi
    assert read_through_interval(cal, "within", 0.6, m=10) == (lo, hi, "")  # seeded
    cells = cal[cal["m"] == 10]
    edge = float(cells["within"].max())
    lo, hi, why = read_through_interval(cal, "within", edge, m=10)
    assert np.isnan(lo) and np.isnan(hi) and "no interval without extrapolating" in why
    # a perfectly monotone relation reads back exactly: every resample's fit passes through the cell it reads at
    exact = cal.assign(mmcs=cal["within"])
    v = float(np.sort(exact[exact["m"] == 10]["within"].unique())[3])
    assert read_through_interval(exact, "within", v, m=10)[:2] == (v, v)


def test_chance_mmcs_is_the_random_decoders_expectation_at_the_recipe_s_size():
    from supviz.sae.metrics import random_mmcs_expectation
    from supviz.study.real.findings import chance_mmcs

    # the recipe's dictionary: ceil(expansion x m) latents (SAEConfig.resolve_d_sae)
    assert chance_mmcs(20, 2.0) == pytest.approx(random_mmcs_expectation(20, 40))
    assert chance_mmcs(5, 1.5) == pytest.approx(random_mmcs_expectation(5, 8))
    assert 0.4 < chance_mmcs(20, 2.0) < 0.7  # E2's chance at m = 20 is about 0.54
    assert np.isnan(chance_mmcs(float("nan"), 2.0))


def test_the_per_layer_table_reads_each_layer_by_the_text_s_rule():
    """Review 7 item 1: the per-layer table printed the pooled fit's MMCS (0.493 for the classifier at w = 16) where
    the text said the cells cannot place the layer. Now both come from place_layer: n/a with the reason where the
    variants recover apart, the text's value and interval where they agree."""
    from supviz.real.calibration import place_layer, read_layers
    from supviz.study.real.section import read_through_table

    q = pd.DataFrame({"architecture": "relu_l1", "kind": ["classifier"], "width": [16], "fvu": [0.10]})
    cfg = {"sae_expansion": 2.0}
    apart = _variant_cells([0.72, 0.70, 0.66, 0.63, 0.60, 0.59], [0.52, 0.51, 0.50, 0.50, 0.49, 0.48])
    row = read_through_table(read_layers(apart, q, measures=("fvu",)), cfg, "relu_l1").iloc[0]
    assert math.isnan(row["mmcs"]) and math.isnan(row["mmcs_low"]) and math.isnan(row["mmcs_high"])
    assert "variants' MMCS ranges lie" in row["reason"] and row["m_used"] == 20
    assert "The toy cells cannot place the layer" in _layer_text(apart)
    line = [0.9 - 3 * f for f in (0.06, 0.07, 0.08, 0.09, 0.10, 0.11)]
    up = [0.904 - 3 * f for f in (0.085, 0.09, 0.095, 0.10, 0.11, 0.12)]
    agree = _variant_cells(line, up)
    row = read_through_table(read_layers(agree, q, measures=("fvu",)), cfg, "relu_l1").iloc[0]
    pl = place_layer(agree, "fvu", 0.10, m=20)
    assert row["mmcs"] == pytest.approx(round(pl.estimate, 3)) and row["reason"] == ""
    assert (row["mmcs_low"], row["mmcs_high"]) == pytest.approx(tuple(round(v, 3) for v in pl.interval))
    text = _layer_text(agree)
    assert f"reads MMCS ≈ {pl.estimate:.2f} [95% interval {pl.interval[0]:.2f}, {pl.interval[1]:.2f}" in text


def _split_cells():
    """Two m of 16 cells, two importance variants of 8: within each (m, variant) the measure is a shuffle of the
    MMCS (rho 0), but variant a recovers more and has the lower measure, so within m alone the measure tracks."""
    rows = []
    for m in (10, 20):
        for v, base, level in (("geometric:0.9", 0.7, 0.05), ("uniform", 0.5, 0.15)):
            for i in range(8):
                rows.append(
                    {
                        "architecture": "relu_l1",
                        "m": m,
                        "importance": v,
                        "mmcs": base + 0.01 * i,
                        "fvu": level + 0.005 * SHUFFLE[i],
                        "n_represented": 3 * m if v == "uniform" and i >= 5 else m,
                        "d_sae": 2 * m,
                    }
                )
    return pd.DataFrame(rows)


def test_the_correlation_within_m_and_importance_does_not_count_the_variants_split():
    """Within m the measure sorts the two variants (rho strongly negative, interval below 0); within (m, importance)
    it is a shuffle (rho 0, interval across 0). The ranking carries both, and the text says the within-m rho mixes
    the variants and gives the stratified one with its interval."""
    from supviz.real.calibration import rank_correlations, read_layers
    from supviz.study.real.findings import calibration_ranking, calibration_text
    from supviz.study.stats import stratified_spearman

    cal = _split_cells()
    corr = rank_correlations(cal, measures=("fvu",)).assign(architecture="relu_l1", target="mmcs")
    rk = calibration_ranking(cal, corr, architecture="relu_l1", measures=("fvu",)).iloc[0]
    assert rk["within_high"] < -0.5
    want = stratified_spearman(cal["fvu"], cal["mmcs"], [f"{m}|{v}" for m, v in zip(cal["m"], cal["importance"])])
    assert rk["rho_variant"] == pytest.approx(want.rho, abs=1e-12) and rk["rho_variant"] == pytest.approx(
        0.0, abs=1e-12
    )
    assert (rk["variant_low"], rk["variant_high"]) == pytest.approx(want.interval) and rk["n_variant_strata"] == 4
    rd = read_layers(
        cal,
        pd.DataFrame({"architecture": "relu_l1", "kind": ["classifier"], "width": [16], "fvu": [0.1]}),
        measures=("fvu",),
    )
    text = calibration_text(
        calibration_ranking(cal, corr, architecture="relu_l1", measures=("fvu",)),
        rd,
        n_cells=len(cal),
        picture_width=16,
        cells=cal,
    )
    assert "The within-m ρ mixes the importance variants" in text
    assert "Within (m, importance) strata FVU gives ρ = 0.00 [" in text and "over 4 strata" in text
    assert "its interval includes 0, so within one width and one variant it is not shown to track" in text


def test_the_text_counts_the_cells_whose_features_exceed_the_sae_s_latents():
    """Review 7 item 1: the capacity limit, from the cells: how many represent more features than 2m latents, per m
    and variant, and where only one variant does, that the split comes largely from the dictionary's size."""
    from supviz.real.calibration import mark_capacity, rank_correlations, read_layers
    from supviz.study.real.findings import calibration_ranking, calibration_text

    cal = mark_capacity(_split_cells(), expansion=2.0)
    corr = rank_correlations(cal, measures=("fvu",)).assign(architecture="relu_l1", target="mmcs")
    rk = calibration_ranking(cal, corr, architecture="relu_l1", measures=("fvu",))
    rd = read_layers(
        cal,
        pd.DataFrame({"architecture": "relu_l1", "kind": ["classifier"], "width": [16], "fvu": [0.1]}),
        measures=("fvu",),
    )
    text = calibration_text(rk, rd, n_cells=len(cal), picture_width=16, cells=cal)
    assert "its SAEs have as many latents as the digits layers' recipe gives (20 at m = 10, 40 at m = 20)" in text
    assert "6 of 32 cells do: 3 of 8 at m = 10 under uniform importance (up to 30 features for 20 latents)" in text
    assert "3 of 8 at m = 20 under uniform importance (up to 60 features for 40 latents). F3 draws them hollow." in text
    assert "At m = 10 only the cells under uniform importance do; at m = 20 only" in text
    fit = calibration_text(rk, rd, n_cells=len(cal), picture_width=16, cells=cal.assign(over_capacity=False))
    assert "No calibration cell does (32 cells)." in fit and "F3 draws them hollow" not in fit


def test_f3_draws_the_cells_over_the_dictionary_hollow():
    """The calibration figure: cells with over_capacity are drawn with no face colour, the others filled."""
    import matplotlib

    matplotlib.use("Agg")
    from supviz.real.calibration import mark_capacity
    from supviz.real.plots import calibration_figure

    cal = mark_capacity(_split_cells(), expansion=2.0).assign(**{k: 0.5 for k in ("l0", "effective_features")})
    rk = pd.DataFrame({"measure": ["fvu"], "rho": [0.0]})
    q = pd.DataFrame({"architecture": "relu_l1", "kind": ["classifier"], "width": [16], "fvu": [0.1]})
    fig = calibration_figure(cal, rk, q, architecture="relu_l1", measures=("fvu",))
    ax = fig.axes[0]
    hollow = filled = 0
    for coll in ax.collections:
        n = len(coll.get_offsets())
        if len(coll.get_facecolors()) == 0 or np.all(np.asarray(coll.get_facecolors())[:, 3] == 0):
            hollow += n
        else:
            filled += n
    assert hollow == int(cal["over_capacity"].sum()) == 6 and filled == len(cal) - 6
    labels = fig.legends[0].get_texts()
    assert any("hollow: more represented features than SAE latents" in t.get_text() for t in labels)


def test_one_importance_variant_has_nothing_to_mix():
    """With one variant the (m, importance) strata are the m's: the text says nothing of mixing variants."""
    from supviz.real.calibration import rank_correlations, read_layers
    from supviz.study.real.findings import calibration_ranking, calibration_text

    cal = _split_cells()
    cal = cal[cal["importance"] == "uniform"]
    corr = rank_correlations(cal, measures=("fvu",)).assign(architecture="relu_l1", target="mmcs")
    rk = calibration_ranking(cal, corr, architecture="relu_l1", measures=("fvu",))
    q = pd.DataFrame({"architecture": "relu_l1", "kind": ["classifier"], "width": [16], "fvu": [0.1]})
    text = calibration_text(rk, read_layers(cal, q, measures=("fvu",)), n_cells=len(cal), picture_width=16, cells=cal)
    assert "mixes the importance variants" not in text and "Within (m, importance)" not in text


def test_the_read_through_table_gives_its_reasons_in_the_report_s_words():
    """Review 7: the per-layer table's n/a reasons named measures and variants by their keys ("fvu",
    "geometric:0.9"), code names in the report's body."""
    import pandas as pd

    from supviz.study.real.section import read_through_table, reason_words

    why = "no cell of geometric:0.9, uniform lies within 0.04 of the layer's fvu; near the layer's fvu the mmcs"
    assert reason_words(why, "fvu") == (
        "no cell of importance 0.9^i, uniform importance lies within 0.04 of the layer's FVU; near the layer's FVU "
        "the MMCS"
    )
    readings = pd.DataFrame(
        {
            "kind": ["classifier"],
            "width": [16],
            "measure": ["stability_seeds"],
            "m_used": [20.0],
            "value": [0.6],
            "estimated_mmcs": [float("nan")],
            "mmcs_low": [float("nan")],
            "mmcs_high": [float("nan")],
            "reason": ["the layer's stability_seeds lies outside the range of the cells of geometric:0.9"],
        }
    )
    table = read_through_table(readings, {"sae_expansion": 2.0}, "relu_l1")
    assert table["reason"][0] == (
        "the layer's stability across seeds lies outside the range of the cells of importance 0.9^i"
    )
