"""Geometry of trained toy models (SPEC section 0), vectorised over instances.

For ``W [n, m]`` (row i = feature i's direction):

* Gram matrix ``W W^T`` ``[n, n]`` (the paper writes ``W^T W`` for its transposed W);
* feature norms ``||W_i||``;
* superposition of feature i: ``sum_{j != i} (W_i_hat . W_j)^2``;
* feature dimensionality ``D_i = ||W_i||^2 / sum_j (W_i_hat . W_j)^2`` in [0, 1];
  a dead feature (its row coincides with the origin up to rounding: ``||W_i|| <= 1e-12 max|W|``, the
  rule of :mod:`supviz.core.geometry`, so any scale of W gives the same answer) gets ``D_i = 0`` and
  superposition 0, never NaN;
* dimensions per feature ``m / ||W||_F^2`` (NaN for a W that is all zero up to rounding: no feature
  is stored, so "dimensions per feature" is undefined, not infinite);
* represented features by two rules (:func:`represented_mask`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from supviz.core.validation import check_array, check_choice, check_float, check_int
from supviz.errors import SupvizError
from supviz.runtime.codecs import cacheable

#: Norm, relative to the instance's largest ``|W|`` entry, below which a feature counts as dead (no
#: direction): its row coincides with the origin up to rounding (:data:`supviz.core.geometry.COINCIDE_RTOL`).
DEAD_NORM = 1e-12
#: Default threshold of each represented-feature rule.
DEFAULT_THRESHOLDS = {"norm": 0.5, "mean_abs": 1.0 / 20.0}


@dataclass
class Diagnostics:
    """Diagnostics of ``W [k, n, m]`` (fields with a leading ``k`` axis) or ``W [n, m]`` (without it).

    Attributes
    ----------
    n_features, n_hidden : int
    gram : np.ndarray [..., n, n]
        ``W W^T``.
    norms : np.ndarray [..., n]
        ``||W_i||``.
    superposition : np.ndarray [..., n]
        ``sum_{j != i} (W_i_hat . W_j)^2``; 0 for dead features.
    dimensionality : np.ndarray [..., n]
        ``D_i``; 0 for dead features.
    frobenius_sq : np.ndarray [...]
        ``||W||_F^2``.
    dims_per_feature : np.ndarray [...]
        ``m / ||W||_F^2``.
    represented_norm, represented_mean_abs : np.ndarray [..., n] bool
        :func:`represented_mask` by each rule with its default threshold.
    n_represented_norm, n_represented_mean_abs : np.ndarray [...] int
        Their counts.
    reference_feature : np.ndarray [...] int
        The row the ``mean_abs`` rule compares with: the strongest of the most important features
        (see :func:`represented_mask`).
    """

    n_features: int
    n_hidden: int
    gram: np.ndarray
    norms: np.ndarray
    superposition: np.ndarray
    dimensionality: np.ndarray
    frobenius_sq: np.ndarray
    dims_per_feature: np.ndarray
    represented_norm: np.ndarray
    represented_mean_abs: np.ndarray
    n_represented_norm: np.ndarray
    n_represented_mean_abs: np.ndarray
    reference_feature: int

    @property
    def stacked(self) -> bool:
        """True for the diagnostics of a stack ``W [k, n, m]`` (fields with a leading ``k`` axis)."""
        return np.ndim(self.norms) == 2

    def __repr__(self) -> str:
        n_rep = np.atleast_1d(self.n_represented_norm)
        dpf = np.atleast_1d(self.dims_per_feature)
        span = lambda a, f: f(a[0]) if a.size == 1 or a.min() == a.max() else f"{f(a.min())}-{f(a.max())}"  # noqa: E731
        models = f"{n_rep.size} models, " if self.stacked else ""
        return (
            f"Diagnostics({models}n={self.n_features} features, m={self.n_hidden} hidden; represented (||W_i|| > "
            f"{DEFAULT_THRESHOLDS['norm']}): {span(n_rep, str)}; dims per feature {span(dpf, lambda v: f'{v:.3g}')}; "
            ".to_frame() for the per-feature table)"
        )

    def to_frame(self, *, per: str = "feature") -> Any:
        """The diagnostics as a tidy pandas DataFrame.

        Parameters
        ----------
        per : {"feature", "model"}, default "feature"
            ``"feature"``: one row per feature (per model and feature for a stack), columns

            - ``model`` (stacks only): index into the stack's first axis;
            - ``feature``: the row i of ``W``;
            - ``norm``: ``||W_i||`` (units of ``W``);
            - ``superposition``: ``sum_{j != i} (W_i_hat . W_j)^2`` (units of ``W`` squared; 0
              for a dead feature);
            - ``dimensionality``: ``D_i = ||W_i||^2 / sum_j (W_i_hat . W_j)^2`` (dimensionless,
              in [0, 1]; 0 for a dead feature);
            - ``represented_norm``: ``||W_i|| > 0.5``; ``represented_mean_abs``: ``mean|W_i| >
              mean|W_ref| / 20`` (bool; :func:`represented_mask`).

            ``"model"``: one row per model, columns ``model`` (stacks only), ``n_features``,
            ``n_hidden``, ``frobenius_sq`` (``||W||_F^2``, units of ``W`` squared),
            ``dims_per_feature`` (``m / ||W||_F^2``, hidden dimensions per unit of squared
            weight; ``inf`` for an all-zero ``W``), ``n_represented_norm``,
            ``n_represented_mean_abs`` (counts) and ``reference_feature`` (the ``mean_abs`` rule's
            reference row).

        Returns
        -------
        pandas.DataFrame
            ``df.attrs["units"]`` and ``df.attrs["definitions"]`` map each column to its unit
            and formula (Elhage et al. 2022, *Toy Models of Superposition*, for ``D_i`` and the
            superposition of a feature).
        """
        import pandas as pd

        from supviz.core.validation import check_choice

        per = check_choice("per", per, ("feature", "model"))
        k = np.atleast_1d(self.n_represented_norm).size
        if per == "feature":
            cols = {
                "feature": np.tile(np.arange(self.n_features), k),
                "norm": np.ravel(self.norms),
                "superposition": np.ravel(self.superposition),
                "dimensionality": np.ravel(self.dimensionality),
                "represented_norm": np.ravel(self.represented_norm),
                "represented_mean_abs": np.ravel(self.represented_mean_abs),
            }
            if self.stacked:
                cols = {"model": np.repeat(np.arange(k), self.n_features), **cols}
        else:
            cols = {
                "n_features": np.full(k, self.n_features),
                "n_hidden": np.full(k, self.n_hidden),
                "frobenius_sq": np.atleast_1d(self.frobenius_sq),
                "dims_per_feature": np.atleast_1d(self.dims_per_feature),
                "n_represented_norm": np.atleast_1d(self.n_represented_norm),
                "n_represented_mean_abs": np.atleast_1d(self.n_represented_mean_abs),
                "reference_feature": np.atleast_1d(self.reference_feature),
            }
            if self.stacked:
                cols = {"model": np.arange(k), **cols}
        df = pd.DataFrame(cols)
        df.attrs["units"] = {c: _UNITS[c] for c in df.columns}
        df.attrs["definitions"] = {c: _DEFINITIONS[c] for c in df.columns}
        return df


#: Unit of each column of :meth:`Diagnostics.to_frame` and :func:`grid_summary`.
_UNITS = {
    "model": "index",
    "feature": "index",
    "norm": "units of W",
    "superposition": "units of W squared",
    "dimensionality": "dimensionless, [0, 1]",
    "represented_norm": "bool",
    "represented_mean_abs": "bool",
    "n_features": "count",
    "n_hidden": "count",
    "frobenius_sq": "units of W squared",
    "dims_per_feature": "hidden dimensions per unit of squared weight",
    "n_represented_norm": "count",
    "n_represented_mean_abs": "count",
    "reference_feature": "index",
}
#: Formula of each column of :meth:`Diagnostics.to_frame` (W_i = row i of W, W_i_hat = W_i / ||W_i||).
_DEFINITIONS = {
    "model": "position in the stack W[k, n, m]",
    "feature": "row i of W (feature i's direction)",
    "norm": "||W_i||",
    "superposition": "sum_{j != i} (W_i_hat . W_j)^2 (0 for a dead feature)",
    "dimensionality": "D_i = ||W_i||^2 / sum_j (W_i_hat . W_j)^2 (0 for a dead feature)",
    "represented_norm": "||W_i|| > 0.5",
    "represented_mean_abs": "mean|W_i| > mean|W_ref| / 20 (W_ref: the reference row)",
    "n_features": "n, rows of W",
    "n_hidden": "m, columns of W",
    "frobenius_sq": "||W||_F^2 = sum_i ||W_i||^2",
    "dims_per_feature": "m / ||W||_F^2 (NaN for an all-zero W: no feature stored)",
    "n_represented_norm": "features with ||W_i|| > 0.5",
    "n_represented_mean_abs": "features with mean|W_i| > mean|W_ref| / 20",
    "reference_feature": "the strongest of the most important features: the mean_abs rule's reference",
}


def diagnostics(W: np.ndarray, *, importance: np.ndarray | None = None) -> Diagnostics:
    """All geometry diagnostics of one model ``[n, m]`` or a stack ``[k, n, m]``.

    Parameters
    ----------
    W : array [k, n, m] or [n, m]
        Finite weights; row i of each matrix is feature i's direction.
    importance : array [n], optional
        The importance curve: the strongest of its top-importance features is the reference of
        the ``mean_abs`` rule (see :func:`represented_mask`). Without it, row 0 (the study's rule).

    Returns
    -------
    Diagnostics
    """
    W3, squeeze = _as_stack(W)
    k, n, m = W3.shape
    refs = _references(W3, importance)  # (k,)
    gram = W3 @ W3.transpose(0, 2, 1)  # (k, n, n)
    norms = np.sqrt(np.einsum("kii->ki", gram))  # (k, n)
    alive = norms > DEAD_NORM * np.abs(W3).max(axis=(1, 2))[:, None]  # (k, n); all dead for W = 0
    safe = np.where(alive, norms, 1.0)
    proj_sq = (gram / safe[:, :, None]) ** 2  # (k, n, n): (W_i_hat . W_j)^2
    proj_sq[~alive] = 0.0
    total = proj_sq.sum(axis=2)  # (k, n): includes j = i, which is ||W_i||^2
    idx = np.arange(n)
    off = proj_sq.copy()
    off[:, idx, idx] = 0.0
    superposition = off.sum(axis=2)
    dimensionality = np.where(alive, norms**2 / np.where(alive, total, 1.0), 0.0)
    frob = np.einsum("kim,kim->k", W3, W3)
    # Undefined (NaN) when every feature is dead: the same rule as a dead feature's direction.
    stored = alive.any(axis=1)  # (k,)
    dims_per_feature = np.where(stored, m / np.where(stored, frob, 1.0), np.nan)
    rep_norm = _mask(W3, "norm", DEFAULT_THRESHOLDS["norm"], refs)
    rep_abs = _mask(W3, "mean_abs", DEFAULT_THRESHOLDS["mean_abs"], refs)
    out = Diagnostics(
        n_features=n,
        n_hidden=m,
        gram=gram,
        norms=norms,
        superposition=superposition,
        dimensionality=dimensionality,
        frobenius_sq=frob,
        dims_per_feature=dims_per_feature,
        represented_norm=rep_norm,
        represented_mean_abs=rep_abs,
        n_represented_norm=rep_norm.sum(axis=1),
        n_represented_mean_abs=rep_abs.sum(axis=1),
        reference_feature=refs,
    )
    if squeeze:
        for name in ("gram", "norms", "superposition", "dimensionality", "represented_norm", "represented_mean_abs"):
            setattr(out, name, getattr(out, name)[0])
        for name in (
            "frobenius_sq",
            "dims_per_feature",
            "n_represented_norm",
            "n_represented_mean_abs",
            "reference_feature",
        ):
            setattr(out, name, getattr(out, name)[0])
    return out


def represented_mask(
    W: np.ndarray,
    *,
    rule: str = "norm",
    threshold: float | None = None,
    importance: np.ndarray | None = None,
    reference: int | None = None,
) -> np.ndarray:
    """Which features a model represents, ``[k, n]`` for ``W [k, n, m]`` or ``[n]`` for ``W [n, m]``.

    Parameters
    ----------
    W : array [k, n, m] or [n, m]
    rule : {"norm", "mean_abs"}
        ``"norm"``: ``||W_i|| > threshold`` (default 0.5). ``"mean_abs"``: the study's rule,
        ``mean|W_i| > threshold * mean|W_ref|`` (default 1/20) with ``W_ref`` the most important
        feature.
    threshold : float, optional
        The rule's threshold; ``None`` for the rule's default.
    importance : array [n], optional
        Feature importances, to find the ``mean_abs`` reference. Where several features share the
        top importance (uniform importance: all of them), the reference is the strongest of them
        (largest mean|W_i|): with row 0 fixed instead, a model that dropped feature 0 would count
        every feature as represented. Under the study's 0.9^i this is row 0, as the study had it.
    reference : int, optional
        An explicit reference row for every instance (overrides ``importance``). Without either,
        row 0 (the study's convention).
    """
    rule = check_choice("rule", rule, tuple(DEFAULT_THRESHOLDS))
    thr = DEFAULT_THRESHOLDS[rule] if threshold is None else check_float("threshold", threshold, min_value=0.0)
    W3, squeeze = _as_stack(W)
    n = W3.shape[1]
    if reference is not None:
        refs = np.full(W3.shape[0], check_int("reference", reference, min_value=0, max_value=n - 1))
    else:
        refs = _references(W3, importance)
    mask = _mask(W3, rule, thr, refs)
    return mask[0] if squeeze else mask


def _mask(W3: np.ndarray, rule: str, thr: float, refs: np.ndarray) -> np.ndarray:
    if rule == "norm":
        return np.linalg.norm(W3, axis=2) > thr
    mean_abs = np.abs(W3).mean(axis=2)  # (k, n)
    ref_strength = mean_abs[np.arange(W3.shape[0]), refs][:, None]  # (k, 1)
    return mean_abs > thr * ref_strength


def _references(W3: np.ndarray, importance: np.ndarray | None) -> np.ndarray:
    """Per instance, the strongest row among the features of top importance (row 0 if unknown)."""
    k, n, _ = W3.shape
    if importance is None:
        return np.zeros(k, dtype=np.int64)
    imp = check_array("importance", importance, ndim=1)
    if imp.shape[0] != n:
        raise SupvizError(f"`importance` must have one entry per feature ({n}); got {imp.shape[0]}.")
    top = np.isclose(imp, imp.max(), rtol=1e-12, atol=0.0)  # (n,)
    strength = np.where(top[None, :], np.abs(W3).mean(axis=2), -np.inf)  # (k, n)
    return np.argmax(strength, axis=1)


def _as_stack(W: np.ndarray) -> tuple[np.ndarray, bool]:
    arr = check_array("W", W, ndim=(2, 3))
    if arr.shape[-1] < 1 or arr.shape[-2] < 1:
        raise SupvizError(f"`W` must have at least one feature and one hidden dimension; got shape {arr.shape}.")
    return (arr[None], True) if arr.ndim == 2 else (arr, False)


def grid_summary(
    grid: Any,
    *,
    norm_threshold: float | None = None,
    mean_abs_fraction: float | None = None,
) -> list[dict[str, object]]:
    """One row of scalar diagnostics per instance of a grid (what ``supviz inspect`` prints).

    Columns: ``index, label, n, m, p, importance, final_loss, frobenius_sq, dims_per_feature,
    represented_norm, represented_mean_abs, mean_superposition, mean_dimensionality`` (the last
    two over the features represented by the norm rule, NaN when there are none: a dead feature's
    superposition 0 and dimensionality 0 are conventions, not measurements; ``dims_per_feature``
    NaN for an all-zero W).
    """
    thr = (
        DEFAULT_THRESHOLDS["norm"]
        if norm_threshold is None
        else check_float("threshold", norm_threshold, min_value=0.0)
    )
    frac = (
        DEFAULT_THRESHOLDS["mean_abs"]
        if mean_abs_fraction is None
        else check_float("fraction", mean_abs_fraction, min_value=0.0)
    )
    finals = grid.final_losses
    rows: list[dict[str, object]] = []
    for i, (spec, W) in enumerate(zip(grid.specs, grid.weights)):
        d = diagnostics(W, importance=spec.importance)
        refs = np.atleast_1d(d.reference_feature)
        rep_norm = _mask(np.asarray(W, dtype=np.float64)[None], "norm", thr, refs)[0]
        rep_abs = _mask(np.asarray(W, dtype=np.float64)[None], "mean_abs", frac, refs)[0]
        rows.append(
            {
                "index": i,
                "label": grid.labels[i],
                "n": spec.n_features,
                "m": spec.n_hidden,
                "p": spec.probability,
                "importance": spec.importance_name,
                "final_loss": float(finals[i]),
                "frobenius_sq": float(d.frobenius_sq),
                "dims_per_feature": float(d.dims_per_feature),
                "represented_norm": int(rep_norm.sum()),
                "represented_mean_abs": int(rep_abs.sum()),
                "mean_superposition": float(d.superposition[rep_norm].mean()) if rep_norm.any() else float("nan"),
                "mean_dimensionality": float(d.dimensionality[rep_norm].mean()) if rep_norm.any() else float("nan"),
            }
        )
    return rows


#: Unit and definition of each column of :func:`grid_frame` (``TrainedGrid.to_frame()``).
GRID_COLUMNS = {
    "index": ("index", "position of the instance in the grid"),
    "label": ("text", "where the instance came from, e.g. 'm=5 p=0.01 geometric:0.7'"),
    "n": ("count", "n_features, rows of W"),
    "m": ("count", "n_hidden, columns of W"),
    "p": ("probability", "feature probability (None: unknown, external weights)"),
    "importance": ("text", "importance curve name: uniform, geometric:r, power:a, explicit:i, unknown"),
    "seed": ("int", "the instance's own seed (None: external weights)"),
    "final_loss": ("importance-weighted squared error", "mean training loss over the last logged window"),
    "diverged_at": ("step", "step by which loss or weights went non-finite; -1 when they stayed finite"),
    "frobenius_sq": ("units of W squared", "||W||_F^2"),
    "dims_per_feature": ("hidden dimensions per unit of squared weight", "m / ||W||_F^2 (NaN: W all zero)"),
    "represented_norm": ("count", "features with ||W_i|| > threshold (0.5)"),
    "represented_mean_abs": ("count", "features with mean|W_i| > fraction (1/20) * mean|W_ref|"),
    "mean_superposition": (
        "units of W squared",
        "mean of sum_{j != i} (W_i_hat . W_j)^2 over the features represented by the norm rule (NaN: none)",
    ),
    "mean_dimensionality": (
        "dimensionless, [0, 1]",
        "mean D_i over the features represented by the norm rule (NaN: none)",
    ),
}


def grid_frame(grid: Any, **kwargs: Any) -> Any:
    """:func:`grid_summary` as a pandas DataFrame, one row per instance, with seeds and divergence.

    Parameters
    ----------
    grid : TrainedGrid
    **kwargs
        ``norm_threshold``, ``mean_abs_fraction``: as in :func:`grid_summary`.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`GRID_COLUMNS`, in that order; ``df.attrs["units"]`` and
        ``df.attrs["definitions"]`` map each to its unit and definition.
    """
    import pandas as pd

    rows = grid_summary(grid, **kwargs)
    for row, spec, div in zip(rows, grid.specs, grid.diverged_at):
        row["seed"] = spec.seed
        row["diverged_at"] = int(div)
    df = pd.DataFrame(rows, columns=list(GRID_COLUMNS))
    df.attrs["units"] = {c: GRID_COLUMNS[c][0] for c in df.columns}
    df.attrs["definitions"] = {c: GRID_COLUMNS[c][1] for c in df.columns}
    return df


@cacheable
@dataclass
class CellDiagnostics:
    """Scalar diagnostics of one toy model (a cell of a grid), for the tidy tables."""

    values: dict[str, float]
    norms: np.ndarray
    superposition: np.ndarray
    dimensionality: np.ndarray


def cell_diagnostics(W: np.ndarray, importance: np.ndarray) -> CellDiagnostics:
    """:func:`diagnostics` of one W ``[n, m]``, reduced to scalars (the mean superposition and
    dimensionality over all features, dropped ones included) plus the per-feature arrays: a cell's
    row of the study's ``cells`` table and of a sweep."""
    d = diagnostics(W, importance=importance)
    values = {
        "frobenius_sq": float(d.frobenius_sq),
        "dims_per_feature": float(d.dims_per_feature),
        "n_represented_norm": float(d.n_represented_norm),
        "n_represented_mean_abs": float(d.n_represented_mean_abs),
        "mean_superposition": float(np.mean(d.superposition)),
        "mean_dimensionality": float(np.mean(d.dimensionality)),
    }
    return CellDiagnostics(
        values=values,
        norms=np.asarray(d.norms, dtype=float),
        superposition=np.asarray(d.superposition, dtype=float),
        dimensionality=np.asarray(d.dimensionality, dtype=float),
    )
