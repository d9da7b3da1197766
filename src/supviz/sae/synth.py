"""A synthetic SAE benchmark with structure, in the style of SAELens' SynthSAEBench
(``sae_lens/synthetic``, 6.54): Zipfian firing, a feature hierarchy, low-rank correlation and a
magnitude distribution; and **feature absorption** measured on the hierarchy.

The generator (:class:`SynthBenchmark`, numpy, seeded), per sample ``b``:

1. **Firing.** Feature i's probability ``p_i`` is Zipfian over its rank r = 1..n:
   ``p_i = p_min + (p_max - p_min) (r^-a - n^-a) / (1 - n^-a)`` (SAELens'
   ``zipfian_firing_probabilities``), so the first features fire most often.
2. **Low-rank correlation** (a Gaussian copula, as SAELens' ``_generate_low_rank_correlated_features``):
   ``z_b = F eps_b + sqrt(diag) * eta_b`` with ``F [n, rank]`` of N(0, correlation_scale^2)
   entries (rows whose squared norm passes 0.99 rescaled to it, as SAELens caps them),
   ``diag = 1 - ||F_i||^2``, ``eps_b ~ N(0, I_rank)``, ``eta_b ~ N(0, I_n)``; feature i fires when
   ``z_bi > Phi^-1(1 - q_i)``, so it fires with probability ``q_i`` and pairs co-fire as ``F F^T`` says.
3. **Hierarchy.** The ``n_parents`` most frequent features are parents; each has
   ``children_per_parent`` children drawn at random from the others. A child fires only when its
   parent fires, with conditional probability ``q_c = min(1, p_c / p_parent)`` (so its marginal
   stays near ``p_c``, SAELens' ``compensate_probabilities``), and children of one parent are
   **mutually exclusive**: of the children that fire together, one (uniformly at random) is kept.
4. **Magnitudes.** A firing feature's activation is ``max(0, mu_i + sigma * N(0, 1))`` with
   ``mu_i ~ U(magnitude_low, magnitude_high)`` per feature; active means ``a_bi > 0``.
5. ``x_b = sum_i a_bi t_i`` with unit directions ``t_i`` (:func:`supviz.sae.sources.random_directions`).

Presets (:data:`PRESETS`): ``"test"`` (64 features in 16 dimensions; the tests), ``"cpu"`` (256
features in 64 dimensions, the size of issue 20's comparison), ``"flat"`` (``"cpu"`` without hierarchy
and correlation: independent Zipfian firing, the kind of data of issue 20's comparison) and
``"synthsaebench-16k"`` (16,384 features in 768 dimensions, the size of SAELens' published
SynthSAEBench-16k; its structure parameters are supviz's, scaled from ``"cpu"``, not SAELens' -- a
GPU-sized run, behind ``benchmarks/sae_vs_saelens.py --preset``).

Scores: :func:`benchmark_scores` gives :func:`supviz.sae.score`'s table (SAELens' names -- mcc,
f1_score, uniqueness, explained_variance, sae_l0 as ``l0``, dead_latents -- and supviz's own) and
:func:`absorption` per parent-child edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from supviz.core.seeding import SeedLike, as_seed_sequence, child, numpy_rng
from supviz.core.validation import check_float, check_int
from supviz.errors import SupvizError

if TYPE_CHECKING:  # pragma: no cover
    from supviz.sae.metrics import SAEScores
    from supviz.sae.model import SAE

#: SAELens' cap on a correlation factor row: ``||F_i||^2 <= 1 - 0.01``.
MIN_DIAG = 0.01


@dataclass(frozen=True)
class SynthConfig:
    """The structure of a synthetic benchmark (see the module docstring for the generator)."""

    n_features: int = 256
    """True features n."""
    d: int = 64
    """Input dimensions."""
    zipf_exponent: float = 1.0
    """Zipf exponent a of the firing probabilities."""
    max_prob: float = 0.3
    """Probability of the most frequent feature."""
    min_prob: float = 0.01
    """Probability of the least frequent feature."""
    n_parents: int = 16
    """Parents of the hierarchy (the most frequent features); 0 = no hierarchy."""
    children_per_parent: int = 4
    """Mutually exclusive children of each parent."""
    correlation_rank: int = 8
    """Rank of the low-rank correlation; 0 = independent firing."""
    correlation_scale: float = 0.1
    """Standard deviation of the correlation factor's entries."""
    magnitude_low: float = 0.5
    """Smallest per-feature mean magnitude."""
    magnitude_high: float = 1.5
    """Largest per-feature mean magnitude."""
    magnitude_std: float = 0.1
    """Standard deviation of a firing feature's magnitude around its mean."""

    def __post_init__(self) -> None:
        n = check_int("n_features", self.n_features, min_value=2)
        check_int("d", self.d, min_value=1)
        check_float("zipf_exponent", self.zipf_exponent, min_value=0.0, min_inclusive=False)
        lo = check_float("min_prob", self.min_prob, min_value=0.0, min_inclusive=False)
        hi = check_float("max_prob", self.max_prob, max_value=1.0)
        if lo >= hi:
            raise SupvizError(f"`min_prob` must be < `max_prob`; got min_prob={lo}, max_prob={hi}.")
        p = check_int("n_parents", self.n_parents, min_value=0)
        c = check_int("children_per_parent", self.children_per_parent, min_value=2 if p else 0)
        if p * (1 + c) > n:
            raise SupvizError(
                f"the hierarchy needs n_parents * (1 + children_per_parent) <= n_features; got {p} * (1 + {c}) > {n}."
            )
        check_int("correlation_rank", self.correlation_rank, min_value=0)
        check_float("correlation_scale", self.correlation_scale, min_value=0.0)
        ml = check_float("magnitude_low", self.magnitude_low, min_value=0.0, min_inclusive=False)
        mh = check_float("magnitude_high", self.magnitude_high, min_value=0.0, min_inclusive=False)
        if ml > mh:
            raise SupvizError(f"`magnitude_low` must be <= `magnitude_high`; got {ml} > {mh}.")
        check_float("magnitude_std", self.magnitude_std, min_value=0.0)


#: Named structures. ``synthsaebench-16k`` has SynthSAEBench-16k's size (16,384 features, 768 dimensions).
PRESETS: dict[str, SynthConfig] = {
    "test": SynthConfig(n_features=64, d=16, n_parents=4, children_per_parent=3, correlation_rank=4),
    "cpu": SynthConfig(),
    "flat": SynthConfig(n_parents=0, children_per_parent=0, correlation_rank=0),
    "synthsaebench-16k": SynthConfig(
        n_features=16_384, d=768, n_parents=1024, children_per_parent=4, correlation_rank=32, correlation_scale=0.05
    ),
}


@dataclass(eq=False)
class SynthBenchmark:
    """A drawn benchmark: directions, probabilities, hierarchy, magnitudes and correlation factor.

    Build with :func:`make_benchmark`; draw samples with :meth:`sample`.

    Attributes
    ----------
    config : SynthConfig
    features : np.ndarray [n, d] float32
        Unit directions t_i.
    probabilities : np.ndarray [n]
        Zipfian p_i (descending).
    fire_probabilities : np.ndarray [n]
        q_i: p_i, or for a child its conditional probability given its parent.
    parents : np.ndarray [P] int
    children : np.ndarray [P, C] int
        ``children[e]`` are the mutually exclusive children of ``parents[e]``.
    magnitudes : np.ndarray [n]
        Mean magnitude mu_i.
    factor : np.ndarray [n, rank]
        The correlation factor F.
    seed : SeedSequence
    """

    config: SynthConfig
    features: np.ndarray
    probabilities: np.ndarray
    fire_probabilities: np.ndarray
    parents: np.ndarray
    children: np.ndarray
    magnitudes: np.ndarray
    factor: np.ndarray
    seed: np.random.SeedSequence = field(repr=False)

    @property
    def edges(self) -> np.ndarray:
        """Parent-child pairs ``[E, 2]`` (parent, child), parents in order."""
        P, C = self.children.shape
        return np.stack([np.repeat(self.parents, C), self.children.reshape(-1)], axis=1)

    def sample(self, n: int, *, seed: SeedLike = 0) -> tuple[np.ndarray, np.ndarray]:
        """``n`` samples: inputs ``X [n, d]`` float32 and true activations ``A [n, n_features]`` float32.

        Deterministic in ``seed`` (independent of the benchmark's own seed's draws).
        """
        from scipy.special import ndtri

        n = check_int("n", n, min_value=1)
        cfg = self.config
        rng = numpy_rng(seed)
        nf = cfg.n_features
        F = self.factor
        if F.shape[1]:
            z = rng.standard_normal((n, F.shape[1])) @ F.T + rng.standard_normal((n, nf)) * np.sqrt(1.0 - (F**2).sum(1))
        else:
            z = rng.standard_normal((n, nf))
        fires = z > ndtri(1.0 - self.fire_probabilities)  # (n, nf)
        if self.parents.size:
            kids = fires[:, self.children]  # (n, P, C)
            kids &= fires[:, self.parents][:, :, None]  # children fire only with their parent
            # mutual exclusivity: keep one firing child per parent, uniformly at random
            u = np.where(kids, rng.random(kids.shape), -1.0)
            keep = u.argmax(axis=2)  # (n, P)
            one = np.zeros_like(kids)
            np.put_along_axis(one, keep[:, :, None], True, axis=2)
            kids &= one
            fires[:, self.children] = kids
        A = np.where(fires, np.maximum(self.magnitudes + cfg.magnitude_std * rng.standard_normal((n, nf)), 0.0), 0.0)
        A = A.astype(np.float32)
        return (A @ self.features).astype(np.float32), A


def make_benchmark(config: SynthConfig | str = "cpu", *, seed: SeedLike = 0) -> SynthBenchmark:
    """Draw a benchmark of ``config`` (a :class:`SynthConfig` or a name in :data:`PRESETS`).

    Seeds: directions from ``child(seed, 0)``, hierarchy from ``child(seed, 1)``, magnitudes from
    ``child(seed, 2)``, correlation factor from ``child(seed, 3)``.

    Raises
    ------
    SupvizError
        An unknown preset name.
    """
    from supviz.sae.sources import random_directions

    if isinstance(config, str):
        if config not in PRESETS:
            raise SupvizError(f"`config` must be a SynthConfig or one of {sorted(PRESETS)}; got {config!r}.")
        config = PRESETS[config]
    if not isinstance(config, SynthConfig):
        raise SupvizError(f"`config` must be a SynthConfig or a preset name; got {type(config).__name__}.")
    root = as_seed_sequence(seed)
    n, a = config.n_features, config.zipf_exponent
    r = np.arange(1, n + 1, dtype=np.float64) ** -a
    p = config.min_prob + (config.max_prob - config.min_prob) * (r - r[-1]) / (r[0] - r[-1])
    P, C = config.n_parents, config.children_per_parent
    parents = np.arange(P, dtype=np.int64)
    children = numpy_rng(child(root, 1)).permutation(np.arange(P, n))[: P * C].reshape(P, C).astype(np.int64)
    q = p.copy()
    if P:
        q[children] = np.minimum(1.0, p[children] / p[parents][:, None])
    mags = numpy_rng(child(root, 2)).uniform(config.magnitude_low, config.magnitude_high, n)
    F = numpy_rng(child(root, 3)).standard_normal((n, config.correlation_rank)) * config.correlation_scale
    sq = (F**2).sum(1)
    over = sq > 1.0 - MIN_DIAG
    F[over] *= np.sqrt((1.0 - MIN_DIAG) / sq[over])[:, None]
    return SynthBenchmark(
        config=config,
        features=random_directions(n, config.d, seed=child(root, 0)),
        probabilities=p,
        fire_probabilities=q,
        parents=parents,
        children=children,
        magnitudes=mags,
        factor=F,
        seed=root,
    )


@dataclass(eq=False)
class Absorption:
    """Feature absorption of one SAE on a benchmark's hierarchy, one entry per parent-child edge.

    Attributes
    ----------
    parent, child : np.ndarray [E] int
    parent_latent : np.ndarray [E] int
        The parent's latent: ``argmax_j cos(w_j, t_parent)`` (signed: codes are non-negative).
    parent_cos : np.ndarray [E]
    recall_with_child, recall_without_child : np.ndarray [E]
        The parent latent's firing recall on samples where the parent is active with this child /
        with none of its children; NaN where no such sample was drawn.
    absorption : np.ndarray [E]
        ``recall_without_child - recall_with_child`` in [-1, 1]; NaN where either recall is.
    n_with, n_without : np.ndarray [E] int
        Samples behind each recall.
    mean : float
        Mean absorption over the defined edges; NaN (``reason``) if none is.
    reason : str
    """

    parent: np.ndarray
    child: np.ndarray
    parent_latent: np.ndarray
    parent_cos: np.ndarray
    recall_with_child: np.ndarray
    recall_without_child: np.ndarray
    absorption: np.ndarray
    n_with: np.ndarray
    n_without: np.ndarray
    mean: float
    reason: str = ""


def absorption(
    codes: np.ndarray, decoder: np.ndarray, true_codes: np.ndarray, features: np.ndarray, edges: np.ndarray
) -> Absorption:
    """Feature absorption per parent-child edge (the measure SAELens' issue #729 proposes).

    For an edge (p, c), let ``j`` be the parent's latent, ``argmax_j cos(w_j, t_p)``. With ``A`` the
    samples where both are active (``a_bp > 0`` and ``a_bc > 0``) and ``B`` those where the parent is
    active alone (no child of p among ``edges`` active; with mutually exclusive children "the child
    is not active" would mix in its siblings, which may be absorbed too):

    ``recall_with = |{b in A: f_bj > 0}| / |A|``, ``recall_without = |{b in B: f_bj > 0}| / |B|``,
    ``absorption = recall_without - recall_with``.

    An SAE that absorbs the parent into the child (Chanin et al. 2024, "A is for absorption") has a
    parent latent that stops firing when the child fires: absorption near ``recall_without``. A
    faithful SAE scores about 0. Negative values mean the parent latent fires more with the child.

    Parameters
    ----------
    codes : array [N, s]
        The SAE's codes of the samples.
    decoder : array [s, d]
    true_codes : array [N, n]
        True activations of the same samples.
    features : array [n, d]
    edges : array [E, 2] int
        (parent, child) pairs (:attr:`SynthBenchmark.edges`).

    Raises
    ------
    SupvizError
        Shapes that disagree, or an edge outside the features.
    """
    f = np.asarray(codes)
    W = np.asarray(decoder, dtype=np.float64)
    C = np.asarray(true_codes)
    T = np.asarray(features, dtype=np.float64)
    E = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if f.ndim != 2 or C.ndim != 2 or f.shape[0] != C.shape[0]:
        raise SupvizError(
            f"`codes` [N, s] and `true_codes` [N, n] must share N; got {list(f.shape)} and {list(C.shape)}."
        )
    if W.shape[0] != f.shape[1] or T.shape[0] != C.shape[1] or W.shape[1] != T.shape[1]:
        raise SupvizError(
            f"`decoder` must be [s={f.shape[1]}, d] and `features` [n={C.shape[1]}, d]; got {list(W.shape)} and "
            f"{list(T.shape)}."
        )
    if E.size and (E.min() < 0 or E.max() >= C.shape[1]):
        raise SupvizError(f"`edges` must index the {C.shape[1]} features; got values in [{E.min()}, {E.max()}].")
    Wn = W / np.maximum(np.linalg.norm(W, axis=1, keepdims=True), 1e-12)
    Tn = T / np.maximum(np.linalg.norm(T, axis=1, keepdims=True), 1e-12)
    cos = Tn[E[:, 0]] @ Wn.T  # (E, s)
    latent = cos.argmax(axis=1)
    fired = f[:, latent] > 0  # (N, E)
    parent_on = C[:, E[:, 0]] > 0
    child_on = C[:, E[:, 1]] > 0
    family_on = np.zeros_like(child_on)  # (N, E): any child of the edge's parent is active
    for p in np.unique(E[:, 0]):
        cols = E[:, 0] == p
        family_on[:, cols] = child_on[:, cols].any(axis=1, keepdims=True)
    A, B = parent_on & child_on, parent_on & ~family_on
    n_with, n_without = A.sum(0), B.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r_with = np.where(n_with > 0, (fired & A).sum(0) / n_with, np.nan)
        r_without = np.where(n_without > 0, (fired & B).sum(0) / n_without, np.nan)
    ab = r_without - r_with
    ok = np.isfinite(ab)
    reason = "" if ok.any() else "no edge had samples with and without its child active"
    return Absorption(
        parent=E[:, 0],
        child=E[:, 1],
        parent_latent=latent,
        parent_cos=cos[np.arange(len(E)), latent],
        recall_with_child=r_with,
        recall_without_child=r_without,
        absorption=ab,
        n_with=n_with,
        n_without=n_without,
        mean=float(ab[ok].mean()) if ok.any() else float("nan"),
        reason=reason,
    )


def benchmark_scores(
    saes: "SAE | list[SAE]", bench: SynthBenchmark, *, n_eval: int = 8192, seed: SeedLike = 1
) -> tuple["SAEScores", list[Absorption]]:
    """Score SAEs on ``n_eval`` fresh samples of ``bench`` (drawn from ``seed``): the table of
    :func:`supviz.sae.score` (SAELens' names and supviz's own) and :func:`absorption` per SAE."""
    from supviz.sae.metrics import score
    from supviz.sae.model import SAE, encode

    saes = [saes] if isinstance(saes, SAE) else list(saes)
    X, A = bench.sample(n_eval, seed=seed)
    table = score(saes, X, features=bench.features, true_codes=A)
    codes = encode(saes, X)
    return table, [absorption(c, s.W_dec, A, bench.features, bench.edges) for c, s in zip(codes, saes)]


def summary(bench: SynthBenchmark, n: int = 8192, *, seed: SeedLike = 1) -> dict[str, Any]:
    """Measured statistics of ``n`` samples: true L0, each parent's rate and its children's rate given it."""
    _X, A = bench.sample(n, seed=seed)
    on = A > 0
    par = on[:, bench.parents]
    kids = on[:, bench.children]  # (n, P, C)
    return {
        "true_l0": float(on.sum(1).mean()),
        "parent_rate": par.mean(0),
        "children_given_parent": (kids.any(2) & par).sum(0) / np.maximum(par.sum(0), 1),
        "max_children_together": int(kids.sum(2).max()) if kids.size else 0,
        "children_without_parent": int((kids.any(2) & ~par).sum()),
    }
