"""A real transformer's layers measured (supviz.real.text): probes, the control at chance, per-point trust."""

from __future__ import annotations

import math

import numpy as np
import pytest

from supviz.errors import SupvizError

pytest.importorskip("transformers", reason="the text extra (pip install 'supviz[text]'); make venv installs it")


@pytest.fixture(scope="module")
def states():
    from supviz.real.corpus import template_corpus
    from supviz.real.transformer import encode

    corpus = template_corpus(240, seed=3)
    return corpus, encode(corpus.texts, "minilm", device="cpu", progress=False).pooled


def test_a_factor_the_templates_never_vary_is_probed_at_chance(states):
    from supviz.real.text import probe_accuracy

    corpus, pooled = states
    n = len(corpus)
    for layer in (0, 6):
        control = corpus.factors["control"].to_numpy(dtype=str)
        chance = max(np.mean(control == v) for v in np.unique(control))
        acc, reason = probe_accuracy(pooled[layer], control, folds=5, seed=0)
        assert reason is None
        # a probe that learned nothing: accuracy within 3.5 binomial standard errors of chance (n test predictions)
        assert abs(acc - chance) <= 3.5 * math.sqrt(chance * (1 - chance) / n), (layer, acc, chance)
        topic, _ = probe_accuracy(pooled[layer], corpus.factors["topic"].to_numpy(dtype=str), folds=5, seed=0)
        assert topic >= 0.95  # the topic words are in the text: the probe finds them


def test_probe_is_nan_with_a_reason_when_undefined():
    from supviz.real.text import probe_accuracy

    X = np.random.default_rng(0).normal(size=(20, 3))
    assert math.isnan(probe_accuracy(X, np.array(["a"] * 20))[0])
    acc, reason = probe_accuracy(X, np.array(["a"] * 18 + ["b"] * 2), folds=5)
    assert math.isnan(acc) and "fewer than the 5 folds" in reason


def test_best_latent_f1_hand_count():
    from supviz.real.text import best_latent_f1

    codes = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0], [1.0, 1.0]])
    labels = np.array(["x", "x", "y", "y"])
    rows = {r["value"]: r for r in best_latent_f1(codes, labels)}
    # latent 0 fires on 0, 1, 3: for x TP 2, FP 1, FN 0 -> F1 = 4 / 5; latent 1 fires on 2, 3: for y F1 = 1
    assert rows["x"]["f1"] == pytest.approx(0.8) and rows["x"]["latent"] == 0
    assert rows["y"]["f1"] == pytest.approx(1.0) and rows["y"]["latent"] == 1
    none = best_latent_f1(np.zeros((4, 2)), labels)
    assert all(math.isnan(r["f1"]) and r["reason"] == "no latent fires" for r in none)


def test_experiment_tables_and_points(states):
    from supviz.metrics import continuity, trustworthiness
    from supviz.real.corpus import Corpus
    from supviz.real.text import TextConfig, text_experiment

    corpus, _ = states
    small = Corpus(corpus.texts[:40], corpus.factors.iloc[:40].reset_index(drop=True), corpus.source)
    cfg = TextConfig(methods=["tsne"], layers=[0, 6], code_pictures=True, sae_steps=20)
    res = text_experiment(small, "minilm", config=cfg, seed=0, device="cpu", progress=False)
    assert set(res.layers["layer"]) == {0, 6} and len(res.layers) == 2 * 6
    assert len(res.latents) == 2 * sum(len(small.factors[f].unique()) for f in small.factors)
    pts = res.points
    assert len(pts) == 40 * 2 * 2  # points x layers x (layer, codes)
    assert {"point", "text", "x", "y", "trust", "trustworthiness", "continuity", "topic", "control"} <= set(pts)
    for (layer, space), g in pts.groupby(["layer", "space"]):
        row = res.pictures[(res.pictures["layer"] == layer) & (res.pictures["space"] == space)].iloc[0]
        # the per-point scores average to the picture's global trustworthiness and continuity
        assert g["trustworthiness"].mean() == pytest.approx(row["trustworthiness"], abs=1e-12)
        assert g["continuity"].mean() == pytest.approx(row["continuity"], abs=1e-12)
    g = pts[(pts["layer"] == 6) & (pts["space"] == "layer")].sort_values("point")
    from supviz.real.transformer import encode

    H = encode(small.texts, "minilm", device="cpu", progress=False).pooled[6]
    assert trustworthiness(H, g[["x", "y"]].to_numpy(), k=cfg.k) == pytest.approx(g["trustworthiness"].mean(), abs=1e-6)
    assert continuity(H, g[["x", "y"]].to_numpy(), k=cfg.k) == pytest.approx(g["continuity"].mean(), abs=1e-6)


def test_default_layers_are_the_embeddings_the_middle_and_the_last() -> None:
    from supviz.real.text import TextConfig, default_layers

    assert default_layers(7) == [0, 3, 6] and default_layers(2) == [0, 1] and default_layers(1) == [0]
    assert TextConfig().layers is None and TextConfig(layers="all").layers == "all"
    with pytest.raises(SupvizError, match="`layers` must be a list of ints, 'all' or None"):
        TextConfig(layers="middle")
    with pytest.raises(SupvizError, match="without repeats"):
        TextConfig(layers=[1, 1])
