"""What every layout method shares: the :class:`Layout` record, input checks, notes, collapse tests.

The base of :mod:`supviz.dr`: it imports none of its sibling modules. Each method
(:mod:`~supviz.dr.mds_layout`, :mod:`~supviz.dr.umap_layout`, :mod:`~supviz.dr.tsne_layout`,
:mod:`~supviz.dr.torchdr_layout`) builds on it and adds only its own algorithm;
:func:`supviz.dr.layout.embed` dispatches to them by name.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.validation import check_array, check_dissimilarity_matrix, check_int, unit_scaled
from supviz.errors import SupvizError
from supviz.metrics.distances import check_dissimilarities
from supviz.runtime.codecs import cacheable

#: Every layout note is logged here at INFO (the name users configure, kept from supviz 0.1).
logger = logging.getLogger("supviz.dr.layout")

METHODS = ("mds", "umap", "tsne")
#: How the report and the figures name each method.
METHOD_NAMES = {"mds": "MDS", "umap": "UMAP", "tsne": "t-SNE"}


@cacheable
@dataclass
class Layout:
    """A 2-D (or k-D) picture of N points and how it was made.

    Attributes
    ----------
    embedding : numpy.ndarray, shape (N, k)
        The layout, float64. Only defined up to the method's invariances (rotation, reflection,
        translation; for MDS also nothing else): compare layouts by invariants, not coordinates.
    method : str
        ``"mds"``, ``"umap"`` or ``"tsne"``.
    params : dict
        The effective parameters, after clamps and fallbacks (e.g. ``n_neighbors`` clamped to
        ``N - 1``, ``init`` resolved from ``"auto"``, the integer seed passed to the library).
    info : dict
        What was fitted: ``smacof_stress`` (MDS: the stress-1 that SMACOF minimised, against the
        disparities of ``params["metric_type"]``; see :func:`mds_layout`), ``kl_divergence``
        (t-SNE), iteration counts, ``deterministic`` (whether equal seeds give equal output),
        ``collapsed``, and for MDS the full :class:`~supviz.dr.smacof.SmacofResult` under
        ``"result"`` (for the Shepard diagram).
    notes : list of str
        One line per clamp, fallback or library warning; each was also logged at INFO.
    """

    embedding: np.ndarray
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def n_points(self) -> int:
        """Number of points N."""
        return int(self.embedding.shape[0])

    def __repr__(self) -> str:
        # A few lines whatever N: the embedding is summarised, never printed (a 20-point Layout
        # printed ~25,000 characters through the dataclass repr, SmacofResult arrays included).
        n, k = self.embedding.shape if self.embedding.ndim == 2 else (self.embedding.shape[0], 1)
        params = ", ".join(f"{key}={_short(val)}" for key, val in self.params.items())
        info = ", ".join(f"{key}={_short(val)}" for key, val in self.info.items())
        notes = f"{len(self.notes)} note{'s' if len(self.notes) != 1 else ''}" + (
            f": {self.notes[0][:80]!r}..." if self.notes else ""
        )
        return f"Layout({self.method}, {n} points in {k}-D;\n  params: {params};\n  info: {info};\n  {notes})"


def _short(value: Any) -> str:
    """A value for a one-line repr: scalars as they are, arrays and objects by kind and shape."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (bool, int, str, type(None), np.integer, np.bool_)):
        return repr(value) if isinstance(value, str) else str(value)
    if isinstance(value, np.ndarray):
        return f"<array {value.shape}>"
    if isinstance(value, (list, tuple)) and len(value) <= 4 and all(isinstance(v, (int, float, str)) for v in value):
        return repr(value)
    return f"<{type(value).__name__}>"


def add_note(notes: list[str], message: str, *args: Any) -> None:
    """Record a clamp/fallback in ``notes`` and log it at INFO (``%``-style ``args``).

    A note already in ``notes`` is not added again (a library warning raised once per iteration
    is one fact, not 752).
    """
    text = message % args if args else message
    if text in notes:
        return
    notes.append(text)
    logger.info(text)


def add_warning_notes(notes: list[str], source: str, messages: Sequence[str]) -> None:
    """One note per distinct library warning, saying how often it was raised."""
    from collections import Counter

    for text, count in Counter(m.replace("\n", " ").strip() for m in messages).items():
        times = f" ({count} times)" if count > 1 else ""
        add_note(notes, "%s warned%s: %s", source, times, text)


#: Fewest points each layout method accepts (:func:`check_layout_input`'s ``min_points``): MDS places
#: 2 points; UMAP's and t-SNE's neighbour graphs need a point with 2 others. A config that pictures
#: n points with a method is checked against it before a run starts.
MIN_POINTS: dict[str, int] = {"MDS": 2, "UMAP": 3, "t-SNE": 3}


def check_layout_input(
    X: Any,
    *,
    method: str,
    min_points: int,
    precomputed: bool = False,
    notes: list[str] | None = None,
    observed: np.ndarray | None = None,
) -> np.ndarray:
    """Finite ``[N, d]`` points (or ``[N, N]`` dissimilarities) with enough rows, at unit scale,
    with points that coincide up to rounding made identical.

    Every layout method here is invariant to the scale of ``X`` (MDS normalises its disparities,
    t-SNE and UMAP calibrate a bandwidth per point), so the points are brought to a canonical
    scale, largest coordinate 1: first divided by a power of two (exact, so nothing overflows at
    1e300 and nothing underflows to identical points at 1e-300), then by their largest magnitude.
    The libraries calibrate their bandwidths by bisection to a tolerance (umap-learn: 1e-5), so at
    another scale they would fit slightly different affinities and, on small inputs, a visibly
    different picture; at one canonical scale every input scale gives the same one (up to the
    rounding in the user's own ``X * scale``). umap-learn's float32 copy keeps its precision at any scale;
    at a large offset it does not, which :func:`supviz.dr.umap_layout.umap_layout` handles by centring.

    Points that coincide up to rounding (:mod:`supviz.core.geometry`: within 1e-12 of the data's
    spread, or float64 rounding of its coordinates; translation invariant) are snapped onto one
    point (a note says how many moved), so that a copy of one point with 1e-15 relative noise is
    laid out as the identical points it is, not as its noise blown up to a full-size picture, and a
    group of them is one group for every method. Pairs of points that differ only by float32
    rounding but are distinct in float64 (a float32 copy of a float64 row) are kept apart, with a
    note that counts them (:func:`supviz.core.geometry.float32_pairs`).

    Precomputed dissimilarities (``precomputed=True``: t-SNE's and UMAP's ``metric="precomputed"``,
    MDS's ``precomputed=True``) pass the one check every method shares
    (:func:`supviz.core.validation.check_dissimilarity_matrix`: square, finite, non-negative,
    symmetric, zero diagonal), are divided by their largest entry, and pairs within 1e-12 of the
    spread they imply are set to 0 (a zero pair whose rows differ, breaking the triangle
    inequality, is refused). ``observed`` (``[N, N]`` bool, precomputed only; MDS passes its
    weights > 0) names the pairs that were measured: an unobserved pair, whatever number stands
    for it, never makes two points one.
    """
    from supviz.core.geometry import float32_pairs, snap_coincident, snapped_note

    if precomputed:
        pts = check_dissimilarities("X", X, min_points=0)
    else:
        pts = check_array("X", X, ndim=2)
    if pts.shape[0] < min_points:
        raise SupvizError(f"`X` must hold at least {min_points} points for {method}; got {pts.shape[0]}.")
    if pts.shape[1] < 1:
        raise SupvizError(f"`X` must have at least one coordinate per point; got shape {pts.shape}.")
    raw = pts
    pts = unit_scaled(pts)[0]
    peak = float(np.abs(pts).max()) if pts.size else 0.0
    pts = pts / peak if peak > 0 else pts
    if observed is not None and (not precomputed or np.shape(observed) != pts.shape):
        observed = None  # only dissimilarities have unobserved pairs; a misshapen mask is refused downstream
    pts, moved = snap_coincident(pts, precomputed=precomputed, observed=observed)
    if moved and notes is not None:
        add_note(notes, "%s: %s", method, snapped_note(moved, of=" of X", precomputed=precomputed))
    if not precomputed and notes is not None:
        near = float32_pairs(raw)
        if near:
            add_note(
                notes,
                "%s: %d pair%s of points of X differ%s only by float32 rounding (one row float32 values, the other "
                "rounding to them) but are distinct in float64, and are laid out apart; if they are float32 copies "
                "of float64 rows, give X in one precision.",
                method,
                near,
                "" if near == 1 else "s",
                "s" if near == 1 else "",
            )
    return pts


def all_identical(X: np.ndarray, *, precomputed: bool = False) -> bool:
    """Whether every row of ``X`` is the same point (bit for bit; inputs that coincide up to
    rounding were made identical by :func:`check_layout_input`); for dissimilarities, all zero."""
    if precomputed:
        return bool(not X.size or float(np.abs(X).max()) == 0.0)
    return bool((X == X[:1]).all())


def identical_points_layout(n: int, n_components: int, method: str, notes: list[str]) -> np.ndarray:
    """The layout of N identical points: all at the origin, with a note.

    Every method's picture of one point repeated N times is that point: t-SNE's affinities are
    uniform (any neighbour choice is a tie-break), and the KL optimum for uniform affinities puts
    all points on one spot (KL 0); UMAP's fuzzy graph is uniform too and its layout would be an
    arbitrary spread; SMACOF has nothing to fit. Returning the origin keeps the picture from
    pretending to structure.
    """
    add_note(
        notes,
        "%s: all %d points of X are identical (up to rounding); the layout is a single spot (nothing to lay out).",
        method,
        n,
    )
    return np.zeros((n, n_components))


def check_start(init: np.ndarray, *, method: str, item: str = "") -> np.ndarray:
    """Refuse a start configuration ``init`` [N, k] whose points all coincide (up to rounding:
    :func:`supviz.core.geometry.points_coincide`, the rule every method and metric uses).

    Every method here moves a point by its distances to the others: t-SNE's exact gradient and UMAP's
    attraction between identical points are 0, SMACOF's Guttman transform of a one-spot start is that spot,
    so such a start never moves, and its collapsed layout would look like the optimum of inputs whose
    distances all tie. openTSNE's Barnes-Hut refuses it too; so supviz refuses it on every path.

    Raises
    ------
    SupvizError
        Naming the method and N.
    """
    from supviz.core.geometry import points_coincide

    if init.shape[0] >= 2 and points_coincide(init):
        raise SupvizError(
            f"`init` must not put all points{item} at one location for {method} (no gradient moves them apart); got "
            f"all {init.shape[0]} rows equal up to rounding. Give distinct start rows, or init='random'."
        )
    return init


def check_distinct_start(start: np.ndarray, *, method: str, n: int) -> np.ndarray:
    """Refuse a start whose rows for the distinct points ``start`` [n_distinct, k] all coincide, where the ``n`` points
    of X hold groups of coincident points: each group is laid out as one point, started at its first row of ``init``
    (every engine: :mod:`supviz.dr._coincident`, and SMACOF's representatives), so the start that moves is these
    rows, not all ``n`` (:func:`check_start`'s reason, said in the user's terms).

    Raises
    ------
    SupvizError
        Naming the method, ``n`` and the number of distinct points.
    """
    from supviz.core.geometry import points_coincide

    if start.shape[0] >= 2 and points_coincide(start):
        raise SupvizError(
            f"`init` must not put all distinct points at one location for {method} (no gradient moves them apart): X's "
            f"{n} points are {start.shape[0]} distinct ones (coincident points are one point, started at the first "
            f"row of `init` of their group), and those {start.shape[0]} rows of `init` are equal up to rounding. Give "
            "distinct start rows, or init='random'."
        )
    return start


#: Metrics whose distance is undefined for some rows: cosine for all-zero rows (0 / 0), correlation
#: for constant rows (zero variance).
_ROW_NORMALISED_METRICS = {"cosine": "all-zero", "correlation": "constant"}


def check_metric_rows(metric: Any, X: np.ndarray) -> Any:
    """A metric name or callable; refuse the rows for which a named metric is undefined.

    The cosine distance of an all-zero row (a dropped feature, an input whose active features
    were all dropped) is 0 / 0: scipy returns NaN (openTSNE then fails inside scikit-learn's
    neighbour search), scikit-learn calls it 1 from every point, umap-learn 0 between zero rows
    and 1 otherwise. Each is a convention that puts those points somewhere no data put them, so
    supviz refuses them, naming the rows, for every method and backend alike.
    """
    if callable(metric):
        return metric
    if not isinstance(metric, str) or not metric:
        raise SupvizError(f"`metric` must be a metric name or a callable; got {metric!r}.")
    if metric == "precomputed":  # checked as dissimilarities by check_layout_input
        return metric
    kind = _ROW_NORMALISED_METRICS.get(metric)
    if kind is None:
        return metric
    rows = X - X.mean(axis=1, keepdims=True) if metric == "correlation" else X
    norm = np.linalg.norm(rows, axis=1)
    bad = (
        np.flatnonzero(norm <= 1e-12 * np.linalg.norm(X, axis=1))
        if metric == "correlation"
        else np.flatnonzero(norm == 0)
    )
    if bad.size:
        shown = ", ".join(str(i) for i in bad[:8]) + (", ..." if bad.size > 8 else "")
        raise SupvizError(
            f"`X` must have no {kind} rows for metric={metric!r} (the {metric} distance of such a row is 0 / 0); "
            f"got {bad.size} (rows {shown}). Drop them, or use metric='euclidean'."
        )
    return metric


#: A layout whose diameter is below this, in the method's own units (t-SNE and UMAP: the unit of
#: their kernel 1 / (1 + d^2); SMACOF: normalised disparities, mean square 1), is collapsed: the
#: kernel differs from its value at 0 by less than 1e-12, so the objective cannot tell the layout
#: from a single point, and any structure inside it is optimiser noise.
COLLAPSE_DIAMETER = 1e-6


def layout_collapsed(embedding: np.ndarray, *, unit: float = 1.0) -> bool:
    """Whether all points of a layout lie within :data:`COLLAPSE_DIAMETER` x ``unit`` of each other,
    or coincide up to rounding (:func:`supviz.core.geometry.points_coincide`, the rule every metric uses).

    The spread is measured as the largest per-axis range, a lower bound of the diameter within a
    factor sqrt(k).
    """
    from supviz.core.geometry import points_coincide

    if embedding.size == 0:
        return False
    return float(np.ptp(embedding, axis=0).max()) <= COLLAPSE_DIAMETER * unit or points_coincide(embedding)


#: Singular values below this fraction of ``||X||_F`` are rounding noise in :func:`pca_init`.
_RANK_RTOL = 1e-12


def pca_init(X: np.ndarray, n_components: int, *, rng: np.random.Generator, max_abs: float) -> np.ndarray:
    """Principal-component scores of ``X`` as a start configuration that works for any N.

    Parameters
    ----------
    X : numpy.ndarray, shape (N, d)
        Points.
    n_components : int
        Output dimension k.
    rng : numpy.random.Generator
        Used only for components that the data cannot provide (rank below k, e.g. N = 3 collinear
        points, a single feature, or identical rows, whose centred singular values are rounding
        noise below 1e-12 ``||X||_F``): those columns are filled with Gaussian noise so that no
        column is constant (umap-learn divides each column by its range).
    max_abs : float
        The result is scaled so that its largest absolute coordinate is ``max_abs``.

    Returns
    -------
    numpy.ndarray, shape (N, k)
        Deterministic given ``X`` and ``rng``; each column's sign is fixed so that its entry of
        largest magnitude is positive.
    """
    centred = X - X.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    scores = np.zeros((X.shape[0], n_components))
    r = min(n_components, len(s))
    scores[:, :r] = u[:, :r] * s[:r]
    # Singular values at the rounding level of the data (not of the largest singular value,
    # which is itself rounding noise when all rows are equal) carry no direction.
    floor = _RANK_RTOL * float(np.linalg.norm(X))
    scale = float(s[0]) if len(s) and s[0] > floor else 1.0
    for c in range(n_components):
        col = scores[:, c]
        if c >= len(s) or s[c] <= max(1e-10 * scale, floor):
            scores[:, c] = rng.normal(scale=scale * 1e-2 / np.sqrt(max(X.shape[0], 1)), size=X.shape[0])
        else:
            scores[:, c] = col * (1.0 if col[np.argmax(np.abs(col))] >= 0 else -1.0)
    peak = float(np.abs(scores).max())
    return scores * (max_abs / peak) if peak > 0 else scores


def note_if_collapsed(embedding: np.ndarray, notes: list[str], method: str, *, unit: float = 1.0) -> bool:
    """Add a note when a layout is collapsed (:func:`layout_collapsed`); returns whether it is.

    A collapsed layout is the optimum for inputs whose distances all tie, such as t-SNE of
    ``diag(N)`` at perplexity (N - 1) / 3; its metrics are undefined (:mod:`supviz.metrics`).
    """
    if not layout_collapsed(embedding, unit=unit):
        return False
    spread = float(np.ptp(embedding, axis=0).max())
    add_note(
        notes,
        "%s layout collapsed: all %d points within %.3g of each other (below %.0e, where the objective cannot "
        "tell them from one spot; the optimum for inputs whose distances all tie, such as diag(N)).",
        method,
        embedding.shape[0],
        spread,
        COLLAPSE_DIAMETER * unit,
    )
    return True


def check_n_components(n_components: Any, n_points: int) -> int:
    """Output dimension: an int in ``[1, N - 1]``."""
    return check_int("n_components", n_components, min_value=1, max_value=max(1, n_points - 1))


def check_delta(delta: Any, *, min_points: int = 2, name: str = "delta") -> np.ndarray:
    """Validate a dissimilarity matrix or batch (:func:`supviz.core.validation.check_dissimilarity_matrix`,
    the check every method shares); return an exactly symmetric float64 copy, zero diagonal."""
    return check_dissimilarity_matrix(name, delta, min_points=min_points, batched=True)
