"""A real transformer's layers pictured and measured, with a trust score on every point of every picture.

:func:`text_experiment` takes sentences with known factors (:mod:`supviz.real.corpus`), reads every
layer's pooled hidden states (:mod:`supviz.real.transformer`), and per layer:

* **in the layer** (the ceiling a picture can keep): for each factor, k-NN label accuracy
  (:func:`supviz.real.measures.knn_label_accuracy`) and a linear probe's accuracy -- scikit-learn's
  ``LogisticRegression`` (L2, ``C = 1``, lbfgs) over the same stratified ``folds``-fold
  cross-validation; its chance level is the majority class share;
* **an SAE per layer** (:func:`supviz.real.layer.train_layer_saes`: FVU, L0, effective features, ...)
  and, for each factor value ``v``, the best single latent's F1: latent ``j`` predicts ``v`` where it
  fires (code > 0); ``F1 = 2 TP / (2 TP + FP + FN)`` (scikit-learn's ``f1_score`` of that indicator),
  the maximum over latents (NaN with a reason where no latent fires);
* **each picture** (MDS / UMAP / t-SNE of the layer, and of its SAE codes with ``code_pictures``):
  for each factor, k-NN label accuracy in the picture; trustworthiness and continuity against the
  pictured space (:mod:`supviz.metrics`); and every point's own share of both
  (:func:`supviz.metrics.pointwise.pointwise_trust`), whose mean is the global value.

Everything is a pure function of the inputs and ``seed`` (CPU; CUDA's hidden states agree within
float32 rounding). Tables are tidy: one row per (layer, factor), per (layer, factor value), per
(layer, space, method, factor), and the point table one row per point per picture.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.seeding import SeedLike, child, int_seed
from supviz.core.validation import check_choice, check_int
from supviz.errors import SupvizError
from supviz.runtime.codecs import cacheable

log = logging.getLogger(__name__)

NAN = float("nan")
METHODS = ("mds", "umap", "tsne")


@dataclass
class TextConfig:
    """Settings of :func:`text_experiment` (``supviz real --model``)."""

    n_sentences: int = 2000
    """Template sentences when no --texts are given."""
    methods: list[str] = field(default_factory=lambda: ["umap", "tsne", "mds"])
    """Picture methods (MDS beyond 1000 points: landmark SMACOF, supviz.datapoints.layouts)."""
    layers: list[int] | str | None = None
    """Hidden states to picture and measure (0 = embeddings, L = the last layer): a list, "all", or None = the
    embeddings, the middle layer and the last (0, L // 2, L), which keeps the default run to minutes."""
    code_pictures: bool = True
    """Also picture each layer's SAE codes (do pictures of SAE codes keep the factors better?)."""
    architecture: str = "relu_l1"
    """SAE architecture (supviz.sae)."""
    sae_expansion: float = 2.0
    """SAE latents per dimension."""
    sae_steps: int = 400
    """Steps of every SAE."""
    k: int = 10
    """Neighbourhood size of k-NN accuracy, trustworthiness, continuity and the per-point trust."""
    folds: int = 5
    """Cross-validation folds of k-NN accuracy and the probe."""
    batch_size: int = 64
    """Sentences per forward pass."""

    def __post_init__(self) -> None:
        from supviz.sae.config import ARCHITECTURES

        self.n_sentences = check_int("n_sentences", self.n_sentences, min_value=8)
        if not self.methods or len(set(self.methods)) != len(self.methods):
            raise SupvizError(f"`methods` must be a non-empty list without repeats of {', '.join(METHODS)}.")
        self.methods = [check_choice("methods", m, METHODS) for m in self.methods]
        if isinstance(self.layers, str):
            if self.layers != "all":
                raise SupvizError(f"`layers` must be a list of ints, 'all' or None; got {self.layers!r}.")
        elif self.layers is not None:
            self.layers = [check_int("layers", v, min_value=0) for v in self.layers]
            if not self.layers or len(set(self.layers)) != len(self.layers):
                raise SupvizError(f"`layers` must be a non-empty list without repeats; got {self.layers}.")
        self.architecture = check_choice("architecture", self.architecture, ARCHITECTURES)
        self.sae_steps = check_int("sae_steps", self.sae_steps, min_value=1)
        self.k = check_int("k", self.k, min_value=1)
        self.folds = check_int("folds", self.folds, min_value=2)
        self.batch_size = check_int("batch_size", self.batch_size, min_value=1)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def default_layers(n_states: int) -> list[int]:
    """The hidden states pictured by default: the embeddings, the middle layer and the last, ``[0, L // 2, L]``
    for ``n_states = L + 1`` (fewer when the model has fewer than 3)."""
    last = n_states - 1
    return sorted({0, last // 2, last})


def probe_accuracy(X: Any, labels: Any, *, folds: int = 5, seed: SeedLike = 0) -> tuple[float, str | None]:
    """Cross-validated accuracy of a linear probe (``LogisticRegression``, L2, ``C = 1``) on ``X [N, d]``.

    The same folds as :func:`supviz.real.measures.knn_label_accuracy` (``StratifiedKFold(folds,
    shuffle=True)`` seeded by ``seed``). NaN and why: fewer than 2 classes, or a class with fewer
    members than ``folds``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from supviz.real.measures import check_labels

    y = check_labels(labels, len(X))
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        return NAN, "fewer than 2 classes: nothing to tell apart"
    if counts.min() < folds:
        return NAN, f"class {classes[counts.argmin()]!r} has {counts.min()} member(s), fewer than the {folds} folds"
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=int_seed(seed))
    scores = cross_val_score(LogisticRegression(C=1.0, max_iter=2000), np.asarray(X, dtype=np.float64), y, cv=cv)
    return float(np.mean(scores)), None


def best_latent_f1(codes: Any, labels: Any) -> list[dict[str, Any]]:
    """For each value ``v`` of ``labels [N]``: the latent of ``codes [N, s]`` whose firing best predicts ``v``.

    Returns one row per value: ``value``, ``share`` (its frequency), ``f1`` (the best latent's F1,
    module docstring), ``latent`` (its index, -1 when none fires) and ``reason`` (why ``f1`` is NaN).
    """
    C = np.asarray(codes) > 0  # (N, s) fires
    y = np.asarray(labels)
    fired = C.sum(axis=0)  # (s,)
    rows = []
    for v in np.unique(y):
        t = y == v  # (N,)
        tp = (C & t[:, None]).sum(axis=0)  # (s,)
        denom = fired + t.sum()  # 2TP + FP + FN = fired + positives
        f1 = np.where(denom > 0, 2.0 * tp / np.maximum(denom, 1), 0.0)
        if not fired.any():
            rows.append({"value": v, "share": float(t.mean()), "f1": NAN, "latent": -1, "reason": "no latent fires"})
            continue
        j = int(np.argmax(f1))
        rows.append({"value": v, "share": float(t.mean()), "f1": float(f1[j]), "latent": j, "reason": ""})
    return rows


@cacheable
@dataclass(eq=False)
class TextResult:
    """What :func:`text_experiment` computed.

    Attributes
    ----------
    corpus : Corpus
    layers : pandas.DataFrame
        One row per (layer, factor): ``knn_accuracy``, ``probe_accuracy``, ``chance``, notes.
    latents : pandas.DataFrame
        One row per (layer, factor, value): the best single SAE latent's F1.
    saes : pandas.DataFrame
        One row per layer: the SAE's quality (:data:`supviz.real.layer.QUALITY_KEYS`).
    pictures : pandas.DataFrame
        One row per (layer, space, method, factor): ``knn_accuracy`` in the picture, the layer's
        (``knn_accuracy_space``), ``trustworthiness``, ``continuity``, ``mean_point_trust``.
    points : pandas.DataFrame
        The tidy export: one row per point per picture (layer, space, method, point, text, x, y, trust,
        trustworthiness, continuity, false_neighbours, missing_neighbours, factors).
    info : dict
        Model, sizes, timings (seconds per phase), notes.
    """

    corpus: Any
    layers: Any
    latents: Any
    saes: Any
    pictures: Any
    points: Any
    info: dict[str, Any]


def text_experiment(
    corpus: Any,
    model: Any = "minilm",
    *,
    config: TextConfig | None = None,
    seed: SeedLike = 0,
    device: str | None = None,
    progress: bool | None = None,
) -> TextResult:
    """Hidden states of every layer of ``model`` for ``corpus``, pictured and measured (module docstring).

    Parameters
    ----------
    corpus : Corpus
        Sentences and their factors (:func:`~supviz.real.corpus.template_corpus`, :func:`~.corpus.user_corpus`).
    model : str, Path or Encoder
        What :func:`supviz.real.transformer.load_encoder` takes (default the shipped all-MiniLM-L6-v2).
    config : TextConfig, optional
    seed : int, Generator, SeedSequence or None
        Pictures, SAEs and the cross-validation folds derive their seeds from it.
    device : str, optional
        Of the transformer (default CUDA where present).
    progress : bool, optional
        Progress bars.

    Raises
    ------
    SupvizError
        Fewer sentences than ``k + 2``, a layer the model does not have, or what the loaders refuse.
    """
    import pandas as pd

    from supviz.datapoints.layouts import DEFAULT_PARAMS, datapoint_layout
    from supviz.metrics.pointwise import point_table, pointwise_trust
    from supviz.real.experiment import _one_thread
    from supviz.real.layer import SAESettings, train_layer_saes
    from supviz.real.measures import knn_label_accuracy
    from supviz.real.transformer import encode

    cfg = TextConfig() if config is None else config
    n = len(corpus)
    if n < cfg.k + 2:
        raise SupvizError(f"the corpus must hold at least k + 2 = {cfg.k + 2} sentences; got {n}.")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    states = encode(
        list(corpus.texts), model, batch_size=cfg.batch_size, device=device, progress=progress
    ).pooled  # (L + 1, N, d)
    timings["hidden_states"] = time.perf_counter() - t0
    layers = default_layers(states.shape[0]) if cfg.layers is None else cfg.layers
    layers = list(range(states.shape[0])) if layers == "all" else layers
    bad = [v for v in layers if v >= states.shape[0]]
    if bad:
        raise SupvizError(f"`layers` must be in 0..{states.shape[0] - 1} for this model; got {bad[0]}.")
    factors = corpus.factors
    folds_seed = child(seed, 1)

    t0 = time.perf_counter()
    layer_rows = []
    with _one_thread():
        for layer in layers:
            H = states[layer]
            for name in factors.columns:
                y = factors[name].to_numpy(dtype=str)
                knn, r1 = knn_label_accuracy(H, y, k=cfg.k, folds=cfg.folds, seed=folds_seed)
                probe, r2 = probe_accuracy(H, y, folds=cfg.folds, seed=folds_seed)
                chance = float(pd.Series(y).value_counts(normalize=True).max())
                layer_rows.append(
                    {
                        "layer": layer,
                        "factor": name,
                        "classes": int(len(np.unique(y))),
                        "knn_accuracy": knn,
                        "probe_accuracy": probe,
                        "chance": chance,
                        "notes": "; ".join(dict.fromkeys(r for r in (r1, r2) if r)),
                    }
                )
    timings["layer_measures"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    settings = SAESettings(architecture=cfg.architecture, expansion_factor=cfg.sae_expansion, steps=cfg.sae_steps)
    labels = [f"layer {v}" for v in layers]
    trained = train_layer_saes(
        [(lab, states[v], states[v]) for lab, v in zip(labels, layers)], settings, seed=child(seed, 2)
    )
    sae_rows, latent_rows, codes = [], [], {}
    for v, lay in zip(layers, trained):
        codes[v] = lay.codes
        sae_rows.append(
            {"layer": v, "d_sae": lay.info.get("d_sae"), **dict(lay.quality), "notes": lay.quality.reason_text()}
        )
        for name in factors.columns:
            for row in best_latent_f1(lay.codes, factors[name].to_numpy(dtype=str)):
                latent_rows.append({"layer": v, "factor": name, **row})
    timings["saes"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    spaces = [(v, "layer", states[v]) for v in layers]
    if cfg.code_pictures:
        spaces += [(v, f"codes ({cfg.architecture})", codes[v]) for v in layers]
    pic_rows, point_frames = [], []
    for v, space, S in spaces:
        S64 = np.asarray(S, dtype=np.float64)
        with _one_thread():  # the pictured space's own k-NN accuracy: once per factor, not per method
            knn_space = {
                name: knn_label_accuracy(
                    S64, factors[name].to_numpy(dtype=str), k=cfg.k, folds=cfg.folds, seed=folds_seed
                )[0]
                for name in factors.columns
            }
        for m in cfg.methods:
            s = int_seed(child(seed, 3, v, zlib.crc32(space.encode()), zlib.crc32(m.encode())))
            lay = datapoint_layout(S64, m, random_state=s, **DEFAULT_PARAMS[m])
            Y = lay.embedding
            with _one_thread():
                pt = pointwise_trust(S64, lay, k=cfg.k)
                # the global scores are the per-point means exactly (tests/metrics/test_pointwise.py, to 1e-12):
                # computing them again would double the measures' cost; NaN where pt is (same reasons)
                T, C = float(np.mean(pt.trustworthiness)), float(np.mean(pt.continuity))
                for name in factors.columns:
                    y = factors[name].to_numpy(dtype=str)
                    knn, reason = knn_label_accuracy(Y, y, k=cfg.k, folds=cfg.folds, seed=folds_seed)
                    pic_rows.append(
                        {
                            "layer": v,
                            "space": space,
                            "method": m,
                            "factor": name,
                            "knn_accuracy": knn,
                            "knn_accuracy_space": knn_space[name],
                            "trustworthiness": T,
                            "continuity": C,
                            "mean_point_trust": float(np.mean(pt.trust)),
                            "notes": "; ".join(filter(None, [reason or "", *pt.reasons.values(), *lay.notes])),
                        }
                    )
            frame = point_table(S64, lay, k=cfg.k, trust=pt, text=corpus.texts, factors=factors)
            for pos, (col, value) in enumerate((("layer", v), ("space", space), ("method", m))):
                frame.insert(pos, col, value)
            point_frames.append(frame)
    timings["pictures"] = time.perf_counter() - t0
    info = {
        "model": str(getattr(model, "name", model)),
        "n": n,
        "dim": int(states.shape[2]),
        "n_layers": int(states.shape[0]),
        "layers": layers,
        "factors": list(factors.columns),
        "source": corpus.source,
        "config": cfg.to_dict(),
        "timings": timings,
    }
    return TextResult(
        corpus,
        pd.DataFrame(layer_rows),
        pd.DataFrame(latent_rows),
        pd.DataFrame(sae_rows),
        pd.DataFrame(pic_rows),
        pd.concat(point_frames, ignore_index=True),
        info,
    )
