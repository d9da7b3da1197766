"""``benchmarks/sae_vs_saelens.py --seeds``: mean and spread over seeds, and supviz / SAELens paired by seed
(:func:`summarise`), on hand-made rows."""

import importlib.util
import math
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "sae_vs_saelens.py"


@pytest.fixture(scope="module")
def summarise():
    spec = importlib.util.spec_from_file_location("sae_vs_saelens", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # only defines functions: supviz and torch are imported inside them
    return module.summarise


def _row(seed, library, mcc, f1):
    return {"seed": seed, "architecture": "jumprelu", "library": library, "mcc": mcc, "f1_score": f1}


def test_mean_sd_over_seeds_and_the_ratio_paired_by_seed(summarise):
    rows = [
        _row(0, "supviz", 0.9, 0.6),
        _row(0, "saelens", 0.6, 0.6),
        _row(1, "supviz", 0.5, 0.8),
        _row(1, "saelens", 1.0, 0.4),
    ]
    s = summarise(rows, metrics=("mcc", "f1_score"))
    mean, sd, n = s["by"][("jumprelu", "supviz")]["mcc"]
    assert (mean, n) == (pytest.approx(0.7), 2) and sd == pytest.approx(math.sqrt(0.08))  # ddof 1: (0.2^2 * 2) / 1
    # paired per seed: 0.9 / 0.6 = 1.5 and 0.5 / 1.0 = 0.5 (the ratio of the means, 0.7 / 0.8, would be 0.875)
    mean, sd, n = s["ratio"]["jumprelu"]["mcc"]
    assert (mean, n) == (pytest.approx(1.0), 2) and sd == pytest.approx(math.sqrt(0.5))
    assert s["ratio"]["jumprelu"]["f1_score"][0] == pytest.approx((1.0 + 2.0) / 2)


def test_one_seed_has_no_spread_and_a_missing_saelens_row_no_ratio(summarise):
    s = summarise([_row(3, "supviz", 0.8, 0.7), _row(3, "saelens", 0.4, 0.7)], metrics=("mcc", "f1_score"))
    mean, sd, n = s["ratio"]["jumprelu"]["mcc"]
    assert (mean, n) == (pytest.approx(2.0), 1) and math.isnan(sd)
    alone = summarise([_row(0, "supviz", 0.8, 0.7)], metrics=("mcc", "f1_score"))
    assert alone["ratio"] == {} and alone["by"][("jumprelu", "supviz")]["f1_score"][2] == 1
