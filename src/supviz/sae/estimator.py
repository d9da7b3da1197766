"""A scikit-learn estimator around one sparse autoencoder: :class:`SparseAutoencoder`.

``fit`` trains one SAE with :func:`supviz.sae.train_saes` on the rows of ``X`` (minibatches
without replacement, reshuffled every epoch); ``transform`` gives the codes ``f(X)``,
``inverse_transform`` the reconstruction ``f W_dec + b_dec``. ``__init__`` only stores its
arguments; they are checked by :class:`~supviz.sae.config.SAEConfig` when ``fit`` runs, so a bad
value raises a one-line :class:`~supviz.errors.SupvizError` (a ``ValueError``) there.

Example
-------
>>> from sklearn.pipeline import make_pipeline  # doctest: +SKIP
>>> from sklearn.preprocessing import StandardScaler
>>> pipe = make_pipeline(StandardScaler(), SparseAutoencoder(architecture="topk", k=4, random_state=0))
>>> codes = pipe.fit_transform(X)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from supviz.core.validation import from_torch
from supviz.errors import SupvizError


class SparseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """One sparse autoencoder as a scikit-learn transformer.

    Parameters
    ----------
    architecture : str, default "topk"
        One of :data:`supviz.sae.config.ARCHITECTURES`.
    d_sae : int or None, default None
        Number of latents; None: ``ceil(expansion_factor * n_features)``.
    expansion_factor : float, default 4.0
    steps : int, default 2000
    batch_size : int, default 256
        Rows per step (at most the number of rows).
    lr : float, default 3e-3
    l1_coefficient, k, l0_coefficient : optional
        The architecture's sparsity setting (None: its default; see :class:`~supviz.sae.config.SAEConfig`).
    normalize_activations : bool, default True
        Train on inputs rescaled to ``E||x||^2 = n_features`` (folded back afterwards). Data whose
        peak magnitude float32 cannot hold safely (outside ``[2**-100, 2**100]``, see
        :mod:`supviz.sae._float32`) is first multiplied in float64 by the power of two
        ``input_scale_``; with ``False`` such data is refused (:class:`~supviz.errors.SupvizError`).
    device : str, default "cpu"
    random_state : int, numpy Generator or None
        Seeds the initial weights and the minibatch order.

    Attributes
    ----------
    sae_ : SAE
        The trained autoencoder (:class:`supviz.sae.SAE`); it acts on ``X * input_scale_``.
    input_scale_ : float
        1.0, or the power of two that brought X into float32's safe range (see
        ``normalize_activations``); ``transform`` and ``inverse_transform`` undo it, so codes and
        reconstructions are in X's units.
    components_ : np.ndarray [d_sae, n_features]
        Decoder directions (``sae_.W_dec``), one row per latent.
    loss_curve_ : np.ndarray
        Training loss per ``log_every`` window.
    n_features_in_ : int
    feature_names_in_ : np.ndarray
        Where X had string column names.
    """

    def __init__(
        self,
        architecture: str = "topk",
        d_sae: int | None = None,
        expansion_factor: float = 4.0,
        steps: int = 2000,
        batch_size: int = 256,
        lr: float = 3e-3,
        l1_coefficient: float | None = None,
        k: int | None = None,
        l0_coefficient: float | None = None,
        normalize_activations: bool = True,
        device: str = "cpu",
        random_state: Any = None,
    ) -> None:
        self.architecture = architecture
        self.d_sae = d_sae
        self.expansion_factor = expansion_factor
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.l1_coefficient = l1_coefficient
        self.k = k
        self.l0_coefficient = l0_coefficient
        self.normalize_activations = normalize_activations
        self.device = device
        self.random_state = random_state

    def _config(self) -> Any:
        from supviz.sae.config import SAEConfig

        return SAEConfig(
            architecture=self.architecture,
            d_sae=self.d_sae,
            expansion_factor=self.expansion_factor,
            steps=self.steps,
            batch_size=self.batch_size,
            lr=self.lr,
            l1_coefficient=self.l1_coefficient,
            k=self.k,
            l0_coefficient=self.l0_coefficient,
            normalize_activations=self.normalize_activations,
            device=self.device,
            log_every=max(1, min(100, int(self.steps) if isinstance(self.steps, int) else 100)),
        )

    def fit(self, X: Any, y: Any = None) -> "SparseAutoencoder":
        """Train the SAE on the rows of ``X [n_samples, n_features]``; ``y`` is ignored."""
        from supviz.core.seeding import child
        from supviz.sae import _float32
        from supviz.sae.engine import SAEJob, train_saes
        from supviz.sae.sources import ArraySource

        X = validate_data(self, from_torch(X), dtype=[np.float64, np.float32])
        config = self._config()
        root = _seed(self.random_state)
        X64 = _float32.as_float64("X", X, ndim=2)
        self.input_scale_ = 1.0
        if config.normalize_activations and _float32.input_range_problem(X64):
            # an exact power of two in float64, before the float32 cast; folded back by transform
            self.input_scale_ = _float32.input_scale(X64)
            X64 = X64 * self.input_scale_
        source = ArraySource(X64, seed=child(root, 1), label="X")
        trained = train_saes([SAEJob(source, config, seed=child(root, 0), label="X")], threads=1, progress=False)
        self.sae_ = trained.saes[0]
        self.components_ = self.sae_.W_dec.copy()
        self.loss_curve_ = trained.losses[0].copy()
        self._n_features_out = self.sae_.d_sae
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The codes ``f(X)`` ``[n_samples, d_sae]`` (in X's float dtype)."""
        from supviz.sae.model import encode

        check_is_fitted(self)
        X = validate_data(self, from_torch(X), reset=False, dtype=[np.float64, np.float32])
        c = getattr(self, "input_scale_", 1.0)
        if c == 1.0:
            return encode([self.sae_], [X], device=self.device, dtype=X.dtype)[0]
        # f is positively homogeneous in (x, b_enc, b_dec): codes of X*c, divided by c, in float64
        F = encode([self.sae_], [X.astype(np.float64) * c], device=self.device, dtype=np.float64)[0]
        return (F / c).astype(X.dtype)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """The reconstruction ``X W_dec + b_dec`` of codes ``X [n_samples, d_sae]``."""
        from sklearn.utils import check_array

        check_is_fitted(self)
        F = check_array(X, dtype=[np.float64, np.float32])
        if F.shape[1] != self.sae_.d_sae:
            raise SupvizError(f"`X` must have {self.sae_.d_sae} columns (the latents); got shape {F.shape}.")
        dt = F.dtype
        c = getattr(self, "input_scale_", 1.0)
        if c == 1.0:
            return (F @ self.sae_.W_dec.astype(dt) + self.sae_.b_dec.astype(dt)).astype(dt)
        F64 = F.astype(np.float64) * c
        return ((F64 @ self.sae_.W_dec.astype(np.float64) + self.sae_.b_dec.astype(np.float64)) / c).astype(dt)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.non_deterministic = False
        return tags


def _seed(random_state: Any) -> np.random.SeedSequence:
    """A SeedSequence from an int, a numpy Generator, a legacy RandomState or None."""
    from supviz.core.seeding import as_seed_sequence

    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(int(random_state.randint(0, 2**31 - 1)))
    return as_seed_sequence(random_state, name="random_state")
