"""The transformer section's findings on hand-made tables: estimates, intervals over factors, chance, and verdicts
that flip when the numbers do."""

import math

import pandas as pd
import pytest

from supviz.study.stats import NOT_ENOUGH
from supviz.study.transformer.findings import (
    code_gains,
    codes_finding,
    findings,
    kept_finding,
    kept_shares,
    probe_finding,
)

FACTORS = ["topic", "sentiment", "tense", "number", "negation"]
CHANCE = {"topic": 0.2, "sentiment": 0.5, "tense": 0.34, "number": 0.5, "negation": 0.5, "control": 0.5}


def _layers(probe_gain, knn_gain=0.4, control=0.5):
    rows = []
    for layer in (0, 3):
        for f in [*FACTORS, "control"]:
            c = CHANCE[f]
            rows.append(
                {
                    "layer": layer,
                    "factor": f,
                    "chance": c,
                    "probe_accuracy": control if f == "control" else c + probe_gain,
                    "knn_accuracy": c if f == "control" else c + knn_gain,
                }
            )
    return pd.DataFrame(rows)


def _pictures(kept, codes_gain=None, knn_gain=0.4):
    rows = []
    for layer in (0, 3):
        for f in [*FACTORS, "control"]:
            c = CHANCE[f]
            space_acc = c + knn_gain
            acc = c + kept * knn_gain
            rows.append(
                {
                    "layer": layer,
                    "space": "layer",
                    "method": "umap",
                    "factor": f,
                    "knn_accuracy": acc,
                    "knn_accuracy_space": space_acc,
                }
            )
            if codes_gain is not None:
                rows.append(
                    {
                        "layer": layer,
                        "space": "codes (relu_l1)",
                        "method": "umap",
                        "factor": f,
                        "knn_accuracy": acc + codes_gain,
                        "knn_accuracy_space": space_acc,
                    }
                )
    return pd.DataFrame(rows)


def test_probe_above_chance_is_supported_and_at_chance_is_not():
    up = probe_finding(_layers(0.3))
    assert up.verdict == "supported" and up.estimate == pytest.approx(0.3) and up.n_used == 5
    assert up.unit == "factors" and up.null == 0.0 and up.source == "supviz's own question"
    flat = probe_finding(_layers(0.0))
    assert flat.verdict != "supported" and flat.estimate == pytest.approx(0.0)
    down = probe_finding(_layers(-0.1))
    assert down.verdict == "not supported"


def test_the_control_is_left_out_of_the_estimate_and_reported():
    f = probe_finding(_layers(0.3, control=0.99))
    assert f.estimate == pytest.approx(0.3) and "control: probe 0.990" in f.measured


def test_kept_share_is_the_share_of_the_layer_above_chance():
    shares = kept_shares(_layers(0.3), _pictures(0.8), "umap")
    assert set(shares) == set(FACTORS) and all(v == pytest.approx(0.8) for v in shares.values())
    assert kept_finding(_layers(0.3), _pictures(0.8), "umap").verdict == "supported"
    assert kept_finding(_layers(0.3), _pictures(0.2), "umap").verdict == "not supported"


def test_a_layer_at_chance_gives_no_kept_share():
    """A factor the layer's neighbourhoods do not hold has nothing a picture could keep: NaN, left out."""
    shares = kept_shares(_layers(0.3), _pictures(0.8, knn_gain=0.0), "umap")
    assert all(math.isnan(v) for v in shares.values())
    f = kept_finding(_layers(0.3), _pictures(0.8, knn_gain=0.0), "umap")
    assert f.verdict == "n/a" and f.n_used == 0 and f.n_left_out == 5


def test_codes_gain_flips_with_its_sign():
    assert all(v == pytest.approx(0.1) for v in code_gains(_pictures(0.5, 0.1)).values())
    assert codes_finding(_pictures(0.5, 0.1)).verdict == "supported"
    assert codes_finding(_pictures(0.5, -0.1)).verdict == "not supported"
    assert codes_finding(_pictures(0.5)) is None  # no pictures of codes, no finding


def test_fewer_factors_than_min_n_is_not_enough_evidence():
    lay = _layers(0.3)
    lay = lay[lay["factor"].isin(["topic", "sentiment", "control"])]
    assert probe_finding(lay).verdict == NOT_ENOUGH


def test_findings_keys_are_unique():
    keys = [f.key for f in findings(_layers(0.3), _pictures(0.8, 0.1), ["umap"])]
    assert keys == ["T-probe", "T-kept-umap", "T-codes"]
