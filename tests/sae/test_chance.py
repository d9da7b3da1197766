"""Chance levels of the direction scores: random unit decoders through the scoring function itself."""

from __future__ import annotations

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.sae import metrics
from supviz.sae.chance import CHANCE_SCORES, chance_level, random_unit_rows


def _features(n: int, d: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d))


@pytest.mark.parametrize("d", [3, 10, 40])
def test_mean_mmcs_is_the_closed_form_expectation(d: int) -> None:
    # the measured chance level agrees with random_mmcs_expectation (rotation invariance: any features)
    ch = chance_level(_features(60, d), d_sae=120, draws=200, random_state=1)
    expected = metrics.random_mmcs_expectation(d, 120)
    sd = ch.draws[:, 0].std()
    assert abs(ch.mean("mmcs") - expected) <= 4 * sd / np.sqrt(200) + 1e-9


def test_chance_level_is_high_in_few_dimensions() -> None:
    # the numbers: 120 random decoders against the represented rows: ~0.985 at m = 3, ~0.40 at m = 40
    assert chance_level(_features(60, 3), d_sae=120, random_state=0).mean("mmcs") > 0.97
    assert chance_level(_features(60, 40), d_sae=120, random_state=0).mean("mmcs") < 0.45


def test_a_frozen_random_decoder_scores_its_chance_level_and_is_not_above_it() -> None:
    # a "trained" SAE that is one more random draw: its scores sit inside the chance draws' range
    rng = np.random.default_rng(7)
    F = _features(30, 10, seed=3)
    W = random_unit_rows(60, 10, rng)
    mmcs = float(metrics.mmcs(F[None], W[None])[0])
    ch = chance_level(F, d_sae=60, draws=19, random_state=8)
    assert abs(mmcs - ch.mean("mmcs")) < 0.05
    assert not mmcs > ch.max("mmcs")  # uninformative: not distinguishable from chance
    # the true features themselves as the decoder are far above it
    perfect = float(metrics.mmcs(F[None], np.vstack([F, W[:30]])[None])[0])
    assert perfect > ch.max("mmcs")


def test_every_score_has_its_chance_columns_and_the_mask_counts() -> None:
    F = _features(20, 5)
    mask = np.zeros(20, bool)
    mask[:4] = True
    ch = chance_level(F, d_sae=40, feature_mask=mask, draws=5, random_state=0)
    cols = ch.columns_dict()
    assert set(cols) == {f"{c}_chance" for c in CHANCE_SCORES} | {f"{c}_chance_max" for c in CHANCE_SCORES}
    for c in CHANCE_SCORES:
        assert 0 <= cols[f"{c}_chance"] <= cols[f"{c}_chance_max"] <= 1
    # no counted feature: undefined, with the scoring function's reason
    none = chance_level(F, d_sae=40, feature_mask=np.zeros(20, bool), draws=3, random_state=0)
    assert np.isnan(none.mean("mmcs")) and "represented" in none.notes["mmcs"]


def test_equal_seeds_give_equal_levels_and_bad_arguments_are_refused() -> None:
    F = _features(10, 4)
    a = chance_level(F, d_sae=20, draws=4, random_state=5)
    b = chance_level(F, d_sae=20, draws=4, random_state=5)
    np.testing.assert_array_equal(a.draws, b.draws)
    assert a.p_value == pytest.approx(0.2)
    with pytest.raises(SupvizError, match="d_sae"):
        chance_level(F, d_sae=0)
    with pytest.raises(SupvizError, match="draws"):
        chance_level(F, d_sae=4, draws=0)
