"""scikit-learn estimator over supviz's SMACOF: :class:`SMACOF`.

The work is done by the pure function :func:`supviz.dr.smacof.smacof` (through
:func:`supviz.dr.mds_layout.mds_layout`, which brings the input to unit scale and records notes); this
class only stores its arguments in ``__init__``, declares their constraints in one place
(``_parameter_constraints``, so every message reads like "The 'max_iter' parameter of SMACOF must
be an int in the range [1, inf). Got 0 instead."), and keeps the fitted results in attributes
ending in ``_``, as :class:`sklearn.manifold.MDS` does. It passes scikit-learn's estimator checks
(``tests/dr/test_estimator.py``). Importing this module imports scikit-learn, so
``supviz.dr.SMACOF`` loads it on first use only.

The parameter checks use scikit-learn's ``_fit_context`` and ``sklearn.utils._param_validation``,
private APIs that scikit-learn's own estimators use; the version is pinned in ``constraints.txt``.
"""

from __future__ import annotations

import inspect
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from supviz.core.validation import from_torch
from supviz.errors import SupvizError

__all__ = ["SMACOF"]


class SMACOF(BaseEstimator):
    """SMACOF multidimensional scaling, ratio / interval / ordinal, as a scikit-learn estimator.

    R smacof's ``mds()`` semantics (de Leeuw & Mair 2009): disparities are the dissimilarities
    transformed by ``metric_type`` and normalised to ``sum_{i<j} dhat^2 = N(N-1)/2``; each
    iteration is a Guttman transform followed by the optimal-scaling step; the loop stops when the
    normalised stress falls by less than ``eps``. See :func:`supviz.dr.smacof.smacof`.

    Parameters
    ----------
    n_components : int, default 2
        Output dimension k >= 1.
    metric_type : {"ratio", "interval", "ordinal"}, default "ratio"
        Transformation of the dissimilarities into disparities: ``b * delta`` (ratio, metric MDS
        as in scikit-learn's ``MDS(metric_mds=True)``), ``a + b * delta`` (interval, what the
        study uses for toy-model weights), or any monotone function of ``delta`` (ordinal,
        Kruskal's non-metric MDS, primary approach to ties).
    dissimilarity : {"euclidean", "precomputed"}, default "euclidean"
        ``"euclidean"``: ``X`` holds points (N, d) and their Euclidean distances are scaled.
        ``"precomputed"``: ``X`` is a symmetric, non-negative (N, N) dissimilarity matrix with a
        zero diagonal.
    n_init : int, default 1
        Starts per fit; the one with the lowest stress is kept. Start 0 is ``init``, the others
        are uniform random configurations seeded by ``random_state``.
    max_iter : int, default 1000
        Guttman iterations per start, >= 1.
    eps : float, default 1e-6
        Stop when the normalised stress (``stress_ ** 2``) falls by less than ``eps``, >= 0.
    init : {"torgerson", "random"} or array-like of shape (N, n_components), default "torgerson"
        Start 0: classical (Torgerson) MDS, a random configuration, or a given one.
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None, default None
        Seeds the random starts (the Torgerson start is deterministic): start ``r`` draws from
        ``supviz.core.seeding.child(random_state, 0, r)``. A ``RandomState`` contributes one integer
        drawn from it, as scikit-learn's estimators use one. Equal ints give equal fits.
    engine : {"auto", "numba", "torch"}, default "auto"
        Which SMACOF engine iterates (same results): the compiled CPU loop (ratio, interval) or
        the PyTorch one (any type, any device). "auto": numba on the CPU where it applies.
    device : str, default "cpu"
        Device for the torch engine ("cpu", "cuda", ...).

    Attributes
    ----------
    embedding_ : ndarray of shape (N, n_components)
        The configuration, on the scale of the normalised disparities (R smacof's convention: mean
        squared disparity 1), not of ``X``. Defined up to rotation, reflection and translation.
    stress_ : float
        The stress-1 SMACOF minimised, against the disparities of ``metric_type``:
        ``sqrt(sum_{i<j} (dhat - d)^2 / sum_{i<j} dhat^2)`` (de Leeuw & Mair 2009), as R smacof
        reports it; a :class:`~supviz.dr.Layout` calls it ``info["smacof_stress"]``. For
        ``metric_type="ratio"`` it is Kruskal's stress-1 after optimal scaling,
        :func:`supviz.metrics.stress1_ratio` (scikit-learn's ``MDS(normalized_stress=True)``
        reports the same quantity). NaN when every point of ``X`` is identical (nothing to fit).
    n_iter_ : int
        Guttman iterations of the kept start.
    converged_ : bool
        Whether that start stopped by ``eps`` before ``max_iter``.
    layout_ : supviz.dr.Layout
        The fit as a :class:`~supviz.dr.Layout` (for :func:`supviz.metrics.layout_metrics` and
        plotting); ``layout_.info["result"]`` is the :class:`~supviz.dr.SmacofResult`, whose
        ``.shepard()`` gives the Shepard diagram, and ``layout_.notes`` the degenerate cases met.
    n_features_in_ : int
        Number of columns of ``X``.

    Raises
    ------
    sklearn.utils._param_validation.InvalidParameterError
        On a parameter outside its declared constraint (a ``ValueError`` and a ``TypeError``).
    SupvizError
        A ``ValueError``, in one line, on bad ``X``: scikit-learn's checks (NaN/inf, complex, sparse, fewer
        than 2 samples, no feature) with the first line of their message, then a precomputed matrix that
        is not square, symmetric, non-negative with a zero diagonal, or a bad ``init`` array.

    See Also
    --------
    supviz.dr.smacof.smacof : the function (batched, weights, every restart's stress).
    supviz.dr.mds_layout : the same fit as a :class:`~supviz.dr.Layout`.
    sklearn.manifold.MDS : scikit-learn's metric / non-metric MDS.

    Examples
    --------
    >>> import numpy as np
    >>> from supviz.dr import SMACOF
    >>> X = np.random.default_rng(0).normal(size=(30, 5))
    >>> est = SMACOF(metric_type="interval").fit(X)
    >>> est.embedding_.shape
    (30, 2)
    >>> bool(0.0 <= est.stress_ < 1.0)
    True
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "metric_type": [StrOptions({"ratio", "interval", "ordinal"})],
        "dissimilarity": [StrOptions({"euclidean", "precomputed"})],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "eps": [Interval(Real, 0.0, None, closed="left")],
        "init": [StrOptions({"torgerson", "random"}), "array-like"],
        "random_state": ["random_state", np.random.Generator],
        "engine": [StrOptions({"auto", "numba", "torch"})],
        "device": [str],
    }

    def __init__(
        self,
        n_components: int = 2,
        *,
        metric_type: str = "ratio",
        dissimilarity: str = "euclidean",
        n_init: int = 1,
        max_iter: int = 1000,
        eps: float = 1e-6,
        init: Any = "torgerson",
        random_state: Any = None,
        engine: str = "auto",
        device: str = "cpu",
    ) -> None:
        self.n_components = n_components
        self.metric_type = metric_type
        self.dissimilarity = dissimilarity
        self.n_init = n_init
        self.max_iter = max_iter
        self.eps = eps
        self.init = init
        self.random_state = random_state
        self.engine = engine
        self.device = device

    def __sklearn_tags__(self):  # noqa: D105 - scikit-learn's protocol
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.dissimilarity == "precomputed"
        return tags

    def fit(self, X: Any, y: Any = None) -> "SMACOF":
        """Fit the configuration of ``X``.

        Parameters
        ----------
        X : array-like of shape (N, d), or (N, N) with ``dissimilarity="precomputed"``
            Points, N >= 2, or their dissimilarities.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : SMACOF
        """
        self.fit_transform(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit the configuration of ``X`` and return it (``embedding_``).

        Parameters
        ----------
        X : array-like of shape (N, d), or (N, N) with ``dissimilarity="precomputed"``
            Points, N >= 2, or their dissimilarities.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        ndarray of shape (N, n_components)
        """
        from supviz.dr.mds_layout import mds_layout

        try:
            X = validate_data(self, from_torch(X), dtype=np.float64, ensure_min_samples=2)
        except ValueError as err:  # scikit-learn's own message, cut to its first line (the complex case prints X)
            if isinstance(err, SupvizError):
                raise
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise SupvizError(f"`X` must be finite real numbers, N >= 2 rows; got: {first}") from None
        precomputed = self.dissimilarity == "precomputed"
        init = self.init if isinstance(self.init, str) else np.asarray(from_torch(self.init), dtype=np.float64)
        layout = mds_layout(
            X,
            metric_type=self.metric_type,
            n_components=self.n_components,
            n_init=self.n_init,
            max_iter=self.max_iter,
            eps=self.eps,
            random_state=_seed(self.random_state),
            precomputed=precomputed,
            init=init,
            engine=self.engine,
            device=self.device,
        )
        self.layout_ = layout
        self.embedding_ = layout.embedding
        self.stress_ = float(layout.info["smacof_stress"])
        self.n_iter_ = int(layout.info["n_iter"])
        self.converged_ = bool(layout.info["converged"])
        return self.embedding_

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        """The parameters that differ from their defaults, scikit-learn style, on one line.

        An ``init`` array shows as its shape (scikit-learn's repr would print the array), and a
        fitted estimator adds what the fit gave.
        """
        defaults = {
            name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items() if name != "self"
        }
        parts = []
        for name, value in self.get_params(deep=False).items():
            if not isinstance(value, (str, int, float, bool, type(None))) and hasattr(value, "__len__"):
                parts.append(f"{name}=<array {np.shape(value)}>")
            elif not (value is defaults[name] or (type(value) is type(defaults[name]) and value == defaults[name])):
                parts.append(f"{name}={value!r}")
        text = f"{type(self).__name__}({', '.join(parts)})"
        if hasattr(self, "embedding_"):
            n, k = self.embedding_.shape
            text += f"  # fitted: N={n}, k={k}, stress_={self.stress_:.4g}, n_iter_={self.n_iter_}"
        return text


def _seed(random_state: Any) -> Any:
    """supviz's seed from scikit-learn's ``random_state`` conventions (a RandomState gives an int)."""
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    return random_state
