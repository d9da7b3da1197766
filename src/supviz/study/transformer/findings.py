"""The transformer section's findings: supviz's own questions about pictures of a real transformer's layers.

Pure functions of :class:`supviz.real.text.TextResult`'s tables (``layers``: one row per (layer, factor);
``pictures``: one row per (layer, space, method, factor)), each a :class:`~supviz.report.records.Finding` with its
estimate, 95% bootstrap interval over **factors** (the resampling unit: each factor the templates vary is one
observation; :func:`supviz.study.stats.bootstrap_interval`), n, chance level and threshold, read by
:func:`supviz.study.stats.interval_verdict` (fewer than :data:`~supviz.study.stats.MIN_N` factors: not enough
evidence).

Chance of a factor is its majority-class share (``layers.chance``: what always guessing the most frequent value
scores), for the linear probe and for k-NN label accuracy alike. The never-varied control factor is left out of
every estimate (it is the negative control: at chance by construction) and reported beside them.

* :func:`probe_finding` -- the layers hold each factor: ``probe - chance`` per factor (mean over the pictured
  layers), its median above 0;
* :func:`kept_finding` -- a method's pictures keep what the layer's neighbourhoods hold of each factor: the kept
  share ``(kNN_picture - chance) / (kNN_layer - chance)`` per factor (mean over layers whose layer k-NN is above
  chance), its median above :data:`KEPT_THRESHOLD`;
* :func:`codes_finding` -- pictures of SAE codes keep the factors better than pictures of the raw layer: the paired
  difference ``kNN(picture of codes) - kNN(picture of layer)`` per factor (mean over layers and methods), its
  median above 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from supviz.report.records import Finding
from supviz.study.stats import bootstrap_interval, interval_verdict

#: Where the claims stand: none of them is the study's.
OWN = "supviz's own question"
#: A picture "keeps" a factor when it keeps at least this share of the layer's k-NN accuracy above chance.
KEPT_THRESHOLD = 0.5
#: The factor no template expresses (supviz.real.corpus.CONTROL), left out of the estimates.
CONTROL = "control"
UNIT = "factors"


def _varied(frame: Any) -> Any:
    return frame[frame["factor"] != CONTROL]


def _summary(values: dict[str, float], *, seed: int) -> tuple[float, tuple[float, float] | None, int, int]:
    """Median over factors, its bootstrap interval, the factors used and those left out (NaN)."""
    v = np.array([x for x in values.values() if math.isfinite(x)], dtype=float)
    left = len(values) - v.size
    if not v.size:
        return math.nan, None, 0, left
    return float(np.median(v)), bootstrap_interval(v, np.median, random_state=seed), int(v.size), left


def _per_factor(values: dict[str, float]) -> str:
    return ", ".join(f"{f} {v:.3f}" if math.isfinite(v) else f"{f} n/a" for f, v in values.items())


def probe_finding(layers: Any, *, seed: int = 0) -> Finding:
    """Do the layers hold the factors the templates vary? ``probe_accuracy - chance`` per factor.

    ``layers``: :attr:`TextResult.layers` (columns ``layer, factor, probe_accuracy, chance``).
    """
    t = _varied(layers)
    gap = {
        f: float(np.nanmean(g["probe_accuracy"] - g["chance"])) if np.isfinite(g["probe_accuracy"]).any() else math.nan
        for f, g in t.groupby("factor", sort=False)
    }
    est, iv, n, left = _summary(gap, seed=seed)
    ctrl = layers[layers["factor"] == CONTROL]
    ctrl_text = (
        "; the never-varied control: probe "
        + ", ".join(f"{a:.3f}" for a in ctrl["probe_accuracy"])
        + f" against chance {float(ctrl['chance'].mean()):.3f}"
        if len(ctrl)
        else ""
    )
    return Finding(
        "A linear probe reads every factor the templates vary from the transformer's layers, above chance.",
        f"Probe accuracy minus chance (the majority share), mean over layers {sorted(set(layers['layer']))}: "
        f"{_per_factor(gap)}{ctrl_text}.",
        interval_verdict(est, iv, 0.0, claimed="above", n=n),
        key="T-probe",
        n_used=n,
        n_left_out=left,
        unit=UNIT,
        estimate=est,
        interval=iv,
        null=0.0,
        threshold=0.0,
        comparison="median over factors of (linear probe accuracy - majority-class share), 5-fold cross-validated",
        source=OWN,
    )


def kept_shares(layers: Any, pictures: Any, method: str) -> dict[str, float]:
    """Per factor: the share of the layer's k-NN accuracy above chance that ``method``'s picture keeps.

    ``(kNN_picture - chance) / (kNN_layer - chance)`` on the raw layer's pictures, mean over the layers whose own
    k-NN accuracy is above chance (NaN for a factor where none is).
    """
    chance = layers.set_index(["layer", "factor"])["chance"]
    p = _varied(pictures)
    p = p[(p["space"] == "layer") & (p["method"] == method)]
    out: dict[str, float] = {}
    for f, g in p.groupby("factor", sort=False):
        c = np.array([chance[(lay, f)] for lay in g["layer"]], dtype=float)
        above = g["knn_accuracy_space"].to_numpy(dtype=float) - c
        kept = g["knn_accuracy"].to_numpy(dtype=float) - c
        ok = np.isfinite(above) & np.isfinite(kept) & (above > 0)
        out[str(f)] = float(np.mean(kept[ok] / above[ok])) if ok.any() else math.nan
    return out


def kept_finding(layers: Any, pictures: Any, method: str, *, seed: int = 0) -> Finding:
    """Does ``method``'s picture keep what the layer's neighbourhoods hold of each factor (module docstring)?"""
    from supviz.dr.base import METHOD_NAMES

    name = METHOD_NAMES.get(method, method)
    shares = kept_shares(layers, pictures, method)
    est, iv, n, left = _summary(shares, seed=seed)
    return Finding(
        f"{name} pictures of a transformer's layers keep at least half of what the layer's neighbourhoods hold of "
        "each factor.",
        f"Kept share of the layer's k-NN accuracy above chance, per factor: {_per_factor(shares)}.",
        interval_verdict(est, iv, KEPT_THRESHOLD, claimed="above", n=n),
        key=f"T-kept-{method}",
        method=name,
        n_used=n,
        n_left_out=left,
        unit=UNIT,
        estimate=est,
        interval=iv,
        null=0.0,
        threshold=KEPT_THRESHOLD,
        comparison="median over factors of (kNN in the picture - chance) / (kNN in the layer - chance), chance = "
        "the majority share; 0 = the picture keeps nothing above chance, 1 = all the layer holds",
        source=OWN,
    )


def code_gains(pictures: Any) -> dict[str, float]:
    """Per factor: k-NN accuracy in the picture of the SAE codes minus in the picture of the raw layer, mean over
    (layer, method) pairs where both are defined."""
    p = _varied(pictures)
    raw = p[p["space"] == "layer"].set_index(["layer", "method", "factor"])["knn_accuracy"]
    codes = p[p["space"] != "layer"]
    out: dict[str, float] = {}
    for f, g in codes.groupby("factor", sort=False):
        d = np.array(
            [float(r.knn_accuracy) - float(raw.get((r.layer, r.method, f), math.nan)) for r in g.itertuples()],
            dtype=float,
        )
        d = d[np.isfinite(d)]
        out[str(f)] = float(d.mean()) if d.size else math.nan
    return out


def codes_finding(pictures: Any, *, seed: int = 0) -> Finding | None:
    """Do pictures of SAE codes keep the factors better than pictures of the raw layer? None without code pictures."""
    if not (pictures["space"] != "layer").any():
        return None
    gains = code_gains(pictures)
    est, iv, n, left = _summary(gains, seed=seed)
    return Finding(
        "Pictures of a transformer layer's SAE codes keep the factors better than pictures of the raw layer.",
        f"k-NN accuracy in the picture of the codes minus in the picture of the layer, mean over layers and methods, "
        f"per factor: {_per_factor(gains)}.",
        interval_verdict(est, iv, 0.0, claimed="above", n=n),
        key="T-codes",
        n_used=n,
        n_left_out=left,
        unit=UNIT,
        estimate=est,
        interval=iv,
        null=0.0,
        threshold=0.0,
        comparison="median over factors of the paired difference kNN(picture of SAE codes) - kNN(picture of the "
        "layer), same layer, method and folds",
        source=OWN,
    )


def findings(layers: Any, pictures: Any, methods: list[str], *, seed: int = 0) -> list[Finding]:
    """Every finding of the section, in report order."""
    out = [probe_finding(layers, seed=seed)]
    out += [kept_finding(layers, pictures, m, seed=seed) for m in methods]
    codes = codes_finding(pictures, seed=seed)
    return out + ([codes] if codes is not None else [])


__all__ = ["code_gains", "codes_finding", "findings", "kept_finding", "kept_shares", "probe_finding"]
