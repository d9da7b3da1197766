"""The one catalogue of degenerate inputs, and the engines and metrics swept over it (issue 8).

Degenerate geometry is the normal case in this field: the study's dropped features coincide at the
origin, diag(N) ties every distance, "represented only" panels hold a handful of points, pictures of
data points have many inputs at h = 0. Every engine, backend, init path and metric is run over every
input here by ``tests/test_degenerate_sweep.py`` and must give either a finite result with the
documented behaviour or a one-line ``SupvizError``: never a raw library exception, never a NaN metric
next to a "perfect" one, never an impossible value.

**Adding one line tests a new engine** (:data:`ENGINES`) or metric (:data:`METRICS`) against every
input; adding one :class:`Case` tests every engine and metric against a new input.

Sizes are small and iterations few: the sweep must stay a few seconds per engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

N = 12  # points per input (t-SNE needs perplexity <= (N - 1) / 3)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _torch(fn: Callable[[Any], Any]) -> Callable[[], Any]:
    def build() -> Any:
        import torch

        return fn(torch)

    return build


@dataclass(frozen=True)
class Case:
    """One degenerate input ``X`` (``[N, d]`` points, or something a user hands over as such).

    ``expect`` is ``"ok"`` (a finite result with the documented behaviour) or ``"error"`` (a one-line
    SupvizError matching ``match``). ``plain`` rebuilds the same points as a float64 array, for
    inputs that must give exactly what their plain equivalent gives; ``scale`` marks a copy of
    ``plain`` scaled by that factor (the result must equal the unscaled one up to scale).
    ``identical``: every row is the same point; ``tied``: every pairwise distance is the same.
    ``metric`` is the input metric the case is about (only engines that take one run it).
    """

    name: str
    build: Callable[[], Any]
    expect: str = "ok"
    match: str = ""
    plain: Callable[[], np.ndarray] | None = None
    scale: float | None = None
    identical: bool = False
    tied: bool = False
    metric: str = "euclidean"
    min_points: int = 1
    tags: tuple[str, ...] = field(default_factory=tuple)


def _coincident() -> np.ndarray:
    # a few real directions and the study's dropped features, all at the origin
    return np.vstack([_rng(0).normal(size=(N - 4, 5)), np.zeros((4, 5))])


def _plain() -> np.ndarray:
    return _rng(1).normal(size=(N, 5))


def _zero_rows() -> np.ndarray:
    W = _rng(2).normal(size=(N, 5))
    W[-3:] = 0.0
    return W


def _one_point() -> np.ndarray:
    return np.tile([[0.3, -1.2, 2.0, 0.5]], (N, 1))


def _identical_up_to_rounding() -> np.ndarray:
    # one point with 1e-15 relative noise: identical up to rounding (issue 8 follow-up, finding 4)
    return _one_point() * (1.0 + 1e-15 * _rng(13).normal(size=(N, 4)))


def _coincident_other_arrangement() -> np.ndarray:
    # N - 1 copies of one point and one other (finding 1: Barnes-Hut flung them to ~155, KL 1.43)
    return np.vstack([_one_point()[: N - 1], [[1.0, 1.0, 1.0, 1.0]]])


def _coincident_up_to_rounding() -> np.ndarray:
    # the dropped features at the origin, each 1e-16 off it (what training leaves behind)
    X = _coincident()
    X[-4:] += 1e-16 * _rng(14).normal(size=(4, 5))
    return X


CASES: list[Case] = [
    Case("coincident", _coincident),
    Case("coincident_other_arrangement", _coincident_other_arrangement),
    Case("coincident_up_to_rounding", _coincident_up_to_rounding),
    Case("two_clusters", lambda: np.repeat(_rng(15).normal(size=(2, 5)), N // 2, axis=0)),
    Case("identical_up_to_rounding", _identical_up_to_rounding, identical=True, tags=("rounding",)),
    Case("identical_nonzero", lambda: np.tile([[0.3, -1.2, 2.0, 0.5]], (N, 1)), identical=True),
    Case("identical_origin", lambda: np.zeros((N, 4)), identical=True),
    Case("all_tied_diag", lambda: np.eye(N), tied=True),
    Case(
        "zero_rows_cosine",
        _zero_rows,
        expect="error",
        match=r"no all-zero rows for metric='cosine'.*rows 9, 10, 11",
        metric="cosine",
    ),
    Case("n2", lambda: _rng(3).normal(size=(2, 3)), min_points=2),
    Case("n3", lambda: _rng(4).normal(size=(3, 3)), min_points=3),
    Case("n4", lambda: _rng(5).normal(size=(4, 3)), min_points=4),
    Case("scale_1e-300", lambda: _plain() * 1e-300, plain=_plain, scale=1e-300),
    Case("scale_1e300", lambda: _plain() * 1e300, plain=_plain, scale=1e300),
    Case("float16", lambda: _plain().astype(np.float16), plain=lambda: _plain().astype(np.float16).astype(np.float64)),
    Case(
        "torch_bfloat16",
        _torch(lambda t: t.tensor(_plain()).to(t.bfloat16)),
        plain=lambda: __import__("torch").tensor(_plain()).to(__import__("torch").bfloat16).double().numpy(),
    ),
    Case("torch_requires_grad", _torch(lambda t: t.nn.Parameter(t.tensor(_plain()))), plain=_plain),
    Case("complex", lambda: _plain() + 1j, expect="error", match=r"must be real; got complex values"),
]


# ----------------------------------------------------------------------------------------------
# Engines: every layout path. Each takes the input and returns a supviz.dr.Layout.

FAST_TSNE = {"n_iter": 120, "early_exaggeration_iter": 40, "random_state": 0}
FAST_UMAP = {"n_epochs": 40, "random_state": 0}


def _perp(X: Any) -> float:
    return max(len(X) - 1, 1) / 3.0


def _mds(**kw: Any) -> Callable[..., Any]:
    def run(X: Any, metric: str = "euclidean") -> Any:
        from supviz.dr import mds_layout

        return mds_layout(X, **kw)

    return run


def _tsne(**kw: Any) -> Callable[..., Any]:
    def run(X: Any, metric: str = "euclidean") -> Any:
        from supviz.dr import tsne_layout

        return tsne_layout(X, perplexity=_perp(X), metric=metric, **(FAST_TSNE | kw))

    return run


def _umap(**kw: Any) -> Callable[..., Any]:
    def run(X: Any, metric: str = "euclidean") -> Any:
        from supviz.dr import umap_layout

        return umap_layout(X, n_neighbors=4, metric=metric, **(FAST_UMAP | kw))

    return run


def _precomputed(run: Callable[..., Any], **kw: Any) -> Callable[..., Any]:
    """The same path fed the Euclidean distances of ``X`` (``metric="precomputed"``)."""

    def wrapped(X: Any, metric: str = "euclidean") -> Any:
        from supviz.metrics import pairwise_distances

        return run(pairwise_distances(X), **kw)

    return wrapped


def _tsne_pre(**kw: Any) -> Callable[..., Any]:
    def run(D: Any) -> Any:
        from supviz.dr import tsne_layout

        return tsne_layout(D, perplexity=_perp(D), metric="precomputed", **(FAST_TSNE | kw))

    return _precomputed(run)


def _umap_pre(**kw: Any) -> Callable[..., Any]:
    def run(D: Any) -> Any:
        from supviz.dr import umap_layout

        return umap_layout(D, n_neighbors=4, metric="precomputed", **(FAST_UMAP | kw))

    return _precomputed(run)


def _mds_pre(**kw: Any) -> Callable[..., Any]:
    def run(D: Any) -> Any:
        from supviz.dr import mds_layout

        return mds_layout(D, precomputed=True, **kw)

    return _precomputed(run)


@dataclass(frozen=True)
class Engine:
    """A layout path: ``run(X, metric=...)`` -> Layout. ``min_points``: fewer is a SupvizError.
    ``metrics``: the input metrics it takes (cases about another metric do not apply)."""

    name: str
    run: Callable[..., Any]
    min_points: int
    metrics: tuple[str, ...] = ("euclidean",)
    refuses: tuple[tuple[str, str], ...] = ()
    """(case name, message pattern): inputs this path refuses with a SupvizError, by design."""
    precomputed: bool = False
    """Fed distances, which do not carry the coordinates' scale: points identical up to rounding
    (tag ``"rounding"``) give distances that are a valid tiny geometry at their own scale, so only
    exact zeros are identical there."""
    chaotic: bool = False
    """Its output moves by a visible amount when the input moves by one rounding unit, so a rescaled
    copy (``X * 1e300`` is ``X`` up to such rounding) is held to the same checks, not to the same
    picture. scikit-learn's exact t-SNE: X against X (1 + 2**-52) gives layouts 0.6 apart
    (Procrustes) at N = 40, with its default settings."""


ENGINES: list[Engine] = [
    Engine("smacof-numba-ratio", _mds(metric_type="ratio", engine="numba"), 2),
    Engine("smacof-numba-interval", _mds(metric_type="interval", engine="numba"), 2),
    Engine("smacof-torch-ratio", _mds(metric_type="ratio", engine="torch"), 2),
    Engine("smacof-torch-interval", _mds(metric_type="interval", engine="torch"), 2),
    Engine("smacof-torch-ordinal", _mds(metric_type="ordinal"), 2),
    Engine("smacof-random-starts", _mds(metric_type="interval", init="random", n_init=2, random_state=0), 2),
    Engine("tsne-opentsne-bh-exact-neighbours", _tsne(), 3, ("euclidean", "cosine")),
    Engine("tsne-opentsne-fft", _tsne(negative_gradient_method="fft"), 3, ("euclidean", "cosine")),
    Engine("tsne-opentsne-random-init", _tsne(init="random"), 3),
    Engine("tsne-sklearn-exact", _tsne(backend="sklearn", n_iter=300), 3, ("euclidean", "cosine"), chaotic=True),
    Engine(
        "tsne-sklearn-barnes-hut",
        _tsne(backend="sklearn", n_iter=300, method="barnes_hut"),
        3,
        refuses=(("all_tied_diag", "found no affinity between any two"),),
    ),
    # coincident points reach no backend (the distinct points are laid out), so Barnes-Hut takes them too
    Engine("tsne-opentsne-bh-explicit", _tsne(negative_gradient_method="bh", theta=0.5), 3),
    Engine("tsne-opentsne-exact-explicit", _tsne(negative_gradient_method="exact"), 3),
    Engine(
        "tsne-opentsne-3d", _tsne(n_components=3), 3, refuses=(("n3", r"`n_components` must be an int in \[1, 2\]"),)
    ),
    Engine("tsne-opentsne-precomputed", _tsne_pre(), 3, precomputed=True),
    Engine("tsne-sklearn-precomputed", _tsne_pre(backend="sklearn", n_iter=300), 3, chaotic=True, precomputed=True),
    Engine("umap-precomputed", _umap_pre(), 3, precomputed=True),
    Engine("smacof-precomputed", _mds_pre(metric_type="interval"), 2, precomputed=True),
    Engine("umap-auto", _umap(), 3, ("euclidean", "cosine")),
    Engine("umap-spectral", _umap(init="spectral"), 3),
    Engine("umap-pca", _umap(init="pca"), 3),
    Engine("umap-random", _umap(init="random"), 3),
]


# ----------------------------------------------------------------------------------------------
# Metrics: every measure of supviz.metrics (and the study's radius spread), as f(X, Y) -> float or
# a mapping of floats. ``k`` is chosen per call by the sweep.


def _layout_metrics(X: Any, Y: Any, k: int) -> Any:
    from supviz.metrics import layout_metrics

    return layout_metrics(X, Y, k=k, baseline=_rng(9).normal(size=(len(getattr(Y, "embedding", Y)), 2)))


def _radius_spread(X: Any, Y: Any, k: int) -> float:
    from supviz.metrics.distances import layout_source
    from supviz.study.common import radial_stats

    src, collapsed = layout_source("Y", Y)
    return radial_stats(src.data, collapsed=collapsed)["radius_cv"]


def _metric(name: str, **kw: Any) -> Callable[[Any, Any, int], Any]:
    def run(X: Any, Y: Any, k: int) -> Any:
        import supviz.metrics as m

        f = getattr(m, name)
        if name in ("trustworthiness", "continuity", "knn_recall"):
            return f(X, Y, k=k)
        if name == "procrustes_distance":  # against a fixed, healthy picture of the same points
            return f(Y, _rng(9).normal(size=(len(getattr(Y, "embedding", Y)), 2)), **kw)
        return f(X, Y)

    return run


class _WithReasons(dict):
    """A mapping of measures that carries why each NaN is NaN (like LayoutMetrics)."""

    def __init__(self, values: dict[str, float], reasons: dict[str, str]) -> None:
        super().__init__(values)
        self.reasons = reasons


def _active(X: Any) -> np.ndarray:
    # the input features each point has "active" (x > 0), as the data-point section reads x
    return np.asarray(getattr(X, "detach", lambda: X)(), dtype=float) > 0


def _distortion(X: Any, Y: Any, k: int) -> Any:
    from supviz.datapoints import measure_distortion

    res = measure_distortion(X, Y, active=_active(X), k=k)
    return _WithReasons(
        {k_: v for k_, v in res.metrics().items() if k_ != "false_neighbour_pairs"},
        {k_: v for k_, v in res.reasons.items() if k_ != "false_neighbour_pairs"},
    )


def _false_rate(X: Any, Y: Any, k: int) -> float:
    from supviz.datapoints import false_neighbours

    return false_neighbours(Y, _active(X), k=k).rate


def _datapoint_spread(name: str) -> Callable[[Any, Any, int], float]:
    def run(X: Any, Y: Any, k: int) -> float:
        import supviz.datapoints as dp

        return getattr(dp, name)(Y)

    return run


@dataclass(frozen=True)
class Metric:
    """A measure ``run(X, Y, k)``; ``lo, hi``: its range; ``neighbourhood``: takes ``k``; ``pair``:
    compares two layouts (both arguments must be 2-D pictures of the same points)."""

    name: str
    run: Callable[[Any, Any, int], Any]
    lo: float = 0.0
    hi: float = 1.0
    neighbourhood: bool = False
    pair: bool = False


METRICS: list[Metric] = [
    Metric("stress1_ratio", _metric("stress1_ratio")),
    Metric("shepard_correlation", _metric("shepard_correlation"), lo=-1.0),
    Metric("trustworthiness", _metric("trustworthiness"), neighbourhood=True),
    Metric("continuity", _metric("continuity"), neighbourhood=True),
    Metric("knn_recall", _metric("knn_recall"), neighbourhood=True),
    Metric("procrustes_distance", _metric("procrustes_distance"), pair=True),
    Metric("procrustes_distance_matched", _metric("procrustes_distance", match=True), pair=True),
    Metric("layout_metrics", _layout_metrics, lo=-1.0, neighbourhood=True),
    Metric("radius_spread", _radius_spread, hi=np.inf),
    Metric("radial_spread", _datapoint_spread("radial_spread"), hi=np.inf),
    Metric("distance_spread", _datapoint_spread("distance_spread"), hi=np.inf),
    Metric("false_neighbour_rate", _false_rate, neighbourhood=True),
    Metric("measure_distortion", _distortion, lo=-1.0, neighbourhood=True),
]


@dataclass(frozen=True)
class LayoutCase:
    """A degenerate layout ``Y`` of points ``X`` (for the metrics). ``undefined``: the metrics that
    must be NaN (``"all"`` for every one); ``k``: the neighbourhood size to ask for."""

    name: str
    X: Callable[[], Any]
    Y: Callable[[], Any]
    undefined: tuple[str, ...] = ()
    k: int = 3
    expect: str = "ok"
    match: str = ""
    plain: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None
    """The same inputs as plain float64 arrays at scale 1: every value must equal theirs."""


NEIGHBOURHOOD = ("trustworthiness", "continuity", "knn_recall")


def _picture() -> np.ndarray:
    return _plain()[:, :2] + 0.3 * _rng(12).normal(size=(N, 2))


def _collapsed_tsne_layout() -> Any:
    # B5's case: t-SNE of diag(N) at perplexity (N - 1) / 3 collapses to ~1e-13; the method says so
    from supviz.dr import tsne_layout

    return tsne_layout(np.eye(N), perplexity=(N - 1) / 3, random_state=0)


LAYOUT_CASES: list[LayoutCase] = [
    LayoutCase("collapsed_to_zero", _plain, lambda: np.zeros((N, 2)), undefined=("all",)),
    LayoutCase("collapsed_off_origin", _plain, lambda: 5.0 + 1e-15 * _rng(3).normal(size=(N, 2)), undefined=("all",)),
    LayoutCase("collapsed_by_its_method", lambda: np.eye(N), _collapsed_tsne_layout, undefined=("all",)),
    LayoutCase(
        "all_tied_X",
        lambda: np.eye(N),
        lambda: _rng(4).normal(size=(N, 2)),
        undefined=NEIGHBOURHOOD + ("shepard_rho", "shepard_correlation"),
    ),
    LayoutCase(
        "identical_X",
        lambda: np.ones((N, 3)),
        lambda: _rng(5).normal(size=(N, 2)),
        undefined=NEIGHBOURHOOD + ("stress1_ratio", "shepard_rho", "shepard_correlation"),
    ),
    LayoutCase(
        "identical_up_to_rounding_X",
        lambda: np.ones((N, 3)) * (1.0 + 1e-15 * _rng(16).normal(size=(N, 3))),
        lambda: _rng(5).normal(size=(N, 2)),
        undefined=NEIGHBOURHOOD + ("stress1_ratio", "shepard_rho", "shepard_correlation"),
    ),
    LayoutCase("coincident_X", _coincident, lambda: _rng(6).normal(size=(N, 2))),
    LayoutCase("coincident_Y", _plain, lambda: np.vstack([_rng(7).normal(size=(N - 4, 2)), np.zeros((4, 2))])),
    LayoutCase("n3_k1", lambda: _rng(8).normal(size=(3, 3)), lambda: _rng(9).normal(size=(3, 2)), k=1),
    LayoutCase(
        "k_is_n_minus_1",
        lambda: _rng(10).normal(size=(5, 3)),
        lambda: _rng(11).normal(size=(5, 2)),
        k=4,
        undefined=NEIGHBOURHOOD,
    ),
    LayoutCase(
        "scale_1e-300", lambda: _plain() * 1e-300, lambda: _picture() * 1e-300, plain=lambda: (_plain(), _picture())
    ),
    LayoutCase(
        "scale_1e300", lambda: _plain() * 1e300, lambda: _picture() * 1e300, plain=lambda: (_plain(), _picture())
    ),
    LayoutCase(
        "torch_inputs",
        _torch(lambda t: t.nn.Parameter(t.tensor(_plain()))),
        _torch(lambda t: t.tensor(_picture()).to(t.bfloat16)),
        plain=lambda: (
            _plain(),
            __import__("torch").tensor(_picture()).to(__import__("torch").bfloat16).double().numpy(),
        ),
    ),
    LayoutCase("complex_Y", _plain, lambda: _picture() + 1j, expect="error", match=r"must be real; got complex values"),
]
