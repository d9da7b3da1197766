"""The study's configuration: dataclasses, TOML load/dump and validation.

The default study ships as ``supviz/study/default.toml`` (``supviz config --default`` prints it).
A user file only needs the keys it changes; everything else keeps the default. Every value is
checked in ``__post_init__`` through :mod:`supviz.core.validation`, so a bad value fails before any
work starts, with a one-line message naming the TOML key.

Every config table of the study is defined here (one home): the core tables (:data:`_CORE`) and
each section's table (:data:`SECTION_TABLES`: ``Section.config_key`` -> the dataclass parsed from
it; section F's is the engine's own :class:`supviz.real.RealConfig`); the parsed object is
``StudyConfig.sections[config_key]``. This module imports no section.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supviz.core.config import document_keys, field_names, from_table, read_toml, table_keys
from supviz.core.validation import check_choice, check_float, check_int, check_probability
from supviz.errors import SupvizError
from supviz.real.config import RealConfig

if TYPE_CHECKING:  # pragma: no cover
    from supviz.toy.config import TrainConfig


def _check_importance(name: str, value: Any) -> str:
    """A named importance curve, checked by the rule of :func:`supviz.toy.importance.check_importance_spec`."""
    from supviz.toy.importance import check_importance_spec

    if not isinstance(value, str):
        raise SupvizError(f"`{name}` must be 'uniform', 'geometric:<ratio>' or 'power:<base>'; got {value!r}.")
    return str(check_importance_spec(name, value, 2))


def _path_text(name: str, value: Any, empty: str) -> str:
    """A path setting: a string (``''`` meaning ``empty``), never a number or a table."""
    if not isinstance(value, str):
        raise SupvizError(f"`{name}` must be a path (a string) or {empty}; got {value!r}.")
    return value


def _int_list(name: str, value: Any, *, min_value: int = 1) -> list[int]:
    if not isinstance(value, (list, tuple)) or not value:
        raise SupvizError(f"`{name}` must be a non-empty list of ints; got {value!r}.")
    return [check_int(f"{name}[{i}]", v, min_value=min_value) for i, v in enumerate(value)]


def _float_list(
    name: str,
    value: Any,
    *,
    probability: bool = False,
    positive: bool = False,
    each: Callable[[str, Any], float] | None = None,
) -> list[float]:
    """A non-empty list of numbers, each checked by ``each`` (given) or as a probability, a positive or any float."""
    if not isinstance(value, (list, tuple)) or not value:
        raise SupvizError(f"`{name}` must be a non-empty list of numbers; got {value!r}.")
    if each is not None:
        return [each(f"{name}[{i}]", v) for i, v in enumerate(value)]
    if probability:
        return [check_probability(f"{name}[{i}]", v) for i, v in enumerate(value)]
    lo = 0.0 if positive else None
    return [check_float(f"{name}[{i}]", v, min_value=lo, min_inclusive=not positive) for i, v in enumerate(value)]


def _min_dist(name: str, value: Any) -> float:
    """A UMAP ``min_dist`` of the study's pictures: in ``[0, spread]``, the range
    :func:`supviz.dr.umap_layout` accepts at the spread the study draws with (its default)."""
    from supviz.dr.umap_layout import DEFAULT_SPREAD

    return check_float(name, value, min_value=0.0, max_value=DEFAULT_SPREAD)


def _perplexity(name: str, value: Any) -> float:
    """A t-SNE perplexity of the study's pictures: at least :data:`supviz.dr.tsne_layout.MIN_PERPLEXITY`
    (the upper limit depends on the point count; :class:`BaselinesConfig` checks it)."""
    from supviz.dr.tsne_layout import MIN_PERPLEXITY

    value = check_float(name, value, min_value=0.0, min_inclusive=False)
    if value < MIN_PERPLEXITY:
        raise SupvizError(f"`{name}` must be at least 1/3 (t-SNE keeps 3 x perplexity neighbours); got {value:g}.")
    return value


#: What ``[toy]`` may not set: the toy models' seed derives from the study's root ``seed``.
_TOY_DERIVED = ("seed",)


def _build_toy(table: Any) -> "TrainConfig":
    """``[toy]``: the fields of :class:`supviz.toy.TrainConfig` (all but ``seed``), checked by TrainConfig itself.

    Messages name the TOML key (``toy.steps``), so ``supviz run``, ``supviz config`` and
    ``supviz train --config`` say the same thing about the same file.
    """
    import re

    from supviz.toy.config import TrainConfig

    if isinstance(table, dict) and "seed" in table:
        raise SupvizError("`toy` has no key 'seed': the toy models' seed derives from the root `seed` of the study.")
    table = table_keys("toy", table, field_names(TrainConfig, exclude=_TOY_DERIVED))
    try:
        return TrainConfig(**table)
    except SupvizError as exc:
        raise SupvizError(re.sub(r"^`", "`toy.", str(exc), count=1)) from None


@dataclass
class WeightsConfig:
    """Supplied weights to analyse instead of training (section 2 only)."""

    file: str = ""
    """Path of the weights; '' = train. The study's npz layout or anything `supviz.toy.load_grid` reads."""

    def __post_init__(self) -> None:
        self.file = _path_text("weights.file", self.file, "'' (train)")


#: Each represented rule's default threshold (``supviz.toy.represented_mask``'s).
REPRESENTED_THRESHOLDS = {"norm": 0.5, "mean_abs": 0.05}


@dataclass
class RepresentedConfig:
    """When a feature counts as represented (C2's centre, C3, C5, x_rep, the ring, the diagnostics).

    Every verdict that depends on it is also computed with the other rule, and the report says
    whether it changes.
    """

    rule: str = "norm"
    """'norm': ||W_k|| > threshold (default 0.5); 'mean_abs': the study's mean|W_k| > threshold * mean|W_0|
    (default 1/20, W_0 the most important feature)."""
    threshold: float | None = None
    """Threshold of the rule; unset = the rule's default (0.5 for 'norm', 0.05 for 'mean_abs')."""

    def __post_init__(self) -> None:
        self.rule = check_choice("represented.rule", self.rule, ("mean_abs", "norm"))
        if self.threshold is None:
            self.threshold = REPRESENTED_THRESHOLDS[self.rule]
        self.threshold = check_float("represented.threshold", self.threshold, min_value=0.0)

    def other(self) -> "RepresentedConfig":
        """The other rule at its default threshold (what every rule-dependent verdict is checked against)."""
        return RepresentedConfig(rule="mean_abs" if self.rule == "norm" else "norm")

    def describe(self) -> str:
        """The rule in a reader's words, e.g. 'a weight norm above 0.5' or 'the study's rule, a mean absolute weight
        above 0.05 x feature 0's' (:data:`supviz.study.verdicts.RULE_TEXT` at the default thresholds)."""
        if self.rule == "norm":
            return f"a weight norm above {self.threshold:g}"
        return f"the study's rule, a mean absolute weight above {self.threshold:g} x feature 0's"


@dataclass
class MetricsConfig:
    """Layout metrics."""

    k: int = 10
    """Neighbourhood size of the neighbourhood metrics; never shrunk (a panel with fewer than k + 2 points gets NaN with
    the reason)."""

    def __post_init__(self) -> None:
        self.k = check_int("metrics.k", self.k, min_value=1)


@dataclass
class FiguresConfig:
    """Figure output."""

    dpi: int = 110
    """Resolution of the PNGs."""
    formats: list[str] = field(default_factory=lambda: ["png", "svg"])
    """Static formats: any of png, svg, pdf (png is always written: the report embeds it)."""
    interactive: bool = True
    """Write plotly versions of the scatter grids and embed them in the report."""

    def __post_init__(self) -> None:
        self.dpi = check_int("figures.dpi", self.dpi, min_value=30, max_value=600)
        if not isinstance(self.formats, (list, tuple)):
            raise SupvizError(f"`figures.formats` must be a list; got {self.formats!r}.")
        self.formats = [
            check_choice(f"figures.formats[{i}]", f, ("png", "svg", "pdf")) for i, f in enumerate(self.formats)
        ]
        if "png" not in self.formats:
            self.formats = ["png", *self.formats]
        if not isinstance(self.interactive, bool):
            raise SupvizError(f"`figures.interactive` must be true or false; got {self.interactive!r}.")


@dataclass
class RunConfig:
    """How the run executes."""

    n_jobs: int = 2
    """Worker processes for the UMAP / t-SNE grids (1 = in process)."""
    cache_dir: str = ""
    """Cache folder; '' = <out>/cache. On a cluster: a folder every worker sees (a shared filesystem)."""
    scheduler: str = ""
    """Where the units of work run: '' = local processes (n_jobs), 'local:N' = a Dask LocalCluster of N workers,
    or a Dask scheduler address ('tcp://host:8786'); the same as `supviz run --scheduler`."""

    def __post_init__(self) -> None:
        from supviz.runtime.cluster import check_scheduler

        self.n_jobs = check_int("run.n_jobs", self.n_jobs, min_value=1, max_value=64)
        self.cache_dir = _path_text("run.cache_dir", self.cache_dir, "'' (<out>/cache)")
        self.scheduler = check_scheduler(self.scheduler, "run.scheduler")


@dataclass
class BackgroundConfig:
    """Section A: the paper's background figures, regenerated from supviz's own models."""

    a1_probabilities: list[float] = field(default_factory=lambda: [1.0, 0.1])
    """A1 (n = 2, m = 1): feature probabilities, dense to sparse."""
    a1_seeds: int = 5
    """A1: independent trainings (seeds) per probability; the figure shows the lowest-loss one, the optimum the paper
    pictures (one training can stop in a local minimum), and the table every one. About 2 s each on 2 cores."""
    a2_n_features: int = 20
    """A2: features n."""
    a2_hidden: int = 5
    """A2: hidden size m."""
    a2_importance: str = "geometric:0.7"
    """A2: importance curve."""
    a2_probabilities: list[float] = field(default_factory=lambda: [1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001])
    """A2: feature probabilities, one column each."""
    a2_seeds: int = 5
    """A2: independent trainings (seeds) of the sweep; the figure shows the lowest-loss model per p, and the verdict
    reads the packing trend of every seed (its interval is over seeds; fewer than 5 seeds give no verdict). Each costs
    about three A1 trainings (18 s against 6 s on 2 busy cores)."""
    a3_n_features: int = 60
    """A3 (default size): features n."""
    a3_hidden: int = 6
    """A3 (default size): hidden size m."""
    a3_probability_count: int = 16
    """A3 (default size): probabilities p = logspace(0, -3, count), i.e. 1/(1-S) from 1 to 1000."""
    a3_paper_size: bool = False
    """A3 at the larger, paper-like size :data:`PAPER_A3` instead of the default size."""
    steps: int = 0
    """Training steps of A1-A3; 0 = toy.steps."""

    def __post_init__(self) -> None:
        self.a1_probabilities = _float_list("background.a1_probabilities", self.a1_probabilities, probability=True)
        self.a1_seeds = check_int("background.a1_seeds", self.a1_seeds, min_value=1)
        self.a2_n_features = check_int("background.a2_n_features", self.a2_n_features, min_value=2)
        self.a2_hidden = check_int("background.a2_hidden", self.a2_hidden, min_value=1)
        self.a2_importance = _check_importance("background.a2_importance", self.a2_importance)
        self.a2_probabilities = _float_list("background.a2_probabilities", self.a2_probabilities, probability=True)
        self.a2_seeds = check_int("background.a2_seeds", self.a2_seeds, min_value=1)
        self.a3_n_features = check_int("background.a3_n_features", self.a3_n_features, min_value=2)
        self.a3_hidden = check_int("background.a3_hidden", self.a3_hidden, min_value=1)
        self.a3_probability_count = check_int("background.a3_probability_count", self.a3_probability_count, min_value=2)
        if not isinstance(self.a3_paper_size, bool):
            raise SupvizError(f"`background.a3_paper_size` must be true or false; got {self.a3_paper_size!r}.")
        self.steps = check_int("background.steps", self.steps, min_value=0)


#: The larger A3 configuration of ``--paper-size-a3``: (n_features, hidden, probability count).
#: The paper does not print its size; this is a few hundred features in tens of dimensions, as its figure shows.
PAPER_A3 = (200, 20, 30)


@dataclass
class BaselinesConfig:
    """Section B: layouts of orthogonal data diag(N)."""

    mds_n: list[int] = field(default_factory=lambda: [3, 4, 8, 20, 40, 60])
    """B1: point counts N of the ratio-MDS panels."""
    umap_grid_n: int = 60
    """B2: N of the UMAP hyper-parameter sweep."""
    umap_grid_n_neighbors: list[int] = field(default_factory=lambda: [2, 5, 10, 20, 30, 40])
    """B2: n_neighbors values (rows)."""
    umap_grid_min_dist: list[float] = field(default_factory=lambda: [0.05, 0.1, 0.5])
    """B2: min_dist values (columns)."""
    umap_n: list[int] = field(default_factory=lambda: [3, 4, 6, 10, 15, 20, 40, 60, 100, 200])
    """B3: point counts N."""
    umap_n_neighbors: int = 15
    """B3: n_neighbors (N - 1 where N is smaller)."""
    umap_min_dist: float = 0.1
    """B3: min_dist."""
    tsne_grid_n: int = 60
    """B4: N of the perplexity sweep."""
    tsne_grid_perplexity: list[float] = field(default_factory=lambda: [float(p) for p in range(1, 16)])
    """B4: perplexities."""
    tsne_n: list[int] = field(default_factory=lambda: [3, 4, 6, 10, 15, 20, 40, 60, 100, 200])
    """B5: point counts N (perplexity (N - 1) / 3)."""
    tsne_seeds: int = 5
    """B4, B5: random starts of t-SNE per picture (each its own child seed; the figure draws start 0). t-SNE of
    diag(N) with the study's settings collapses from some starts and not others, so each perplexity and each N is
    read over its starts."""
    max_iter: int = 1000
    """SMACOF iterations at most."""
    eps: float = 1e-6
    """SMACOF convergence tolerance."""

    def __post_init__(self) -> None:
        self.mds_n = _int_list("baselines.mds_n", self.mds_n, min_value=3)
        self.umap_grid_n = check_int("baselines.umap_grid_n", self.umap_grid_n, min_value=3)
        self.umap_grid_n_neighbors = _int_list(
            "baselines.umap_grid_n_neighbors", self.umap_grid_n_neighbors, min_value=2
        )
        self.umap_grid_min_dist = _float_list("baselines.umap_grid_min_dist", self.umap_grid_min_dist, each=_min_dist)
        self.umap_n = _int_list("baselines.umap_n", self.umap_n, min_value=3)
        self.umap_n_neighbors = check_int("baselines.umap_n_neighbors", self.umap_n_neighbors, min_value=2)
        self.umap_min_dist = _min_dist("baselines.umap_min_dist", self.umap_min_dist)
        self.tsne_grid_n = check_int("baselines.tsne_grid_n", self.tsne_grid_n, min_value=4)
        self.tsne_grid_perplexity = _float_list(
            "baselines.tsne_grid_perplexity", self.tsne_grid_perplexity, each=_perplexity
        )
        # B4 lays out diag(tsne_grid_n) at each perplexity, which t-SNE refuses above (N - 1) / 3
        # (supviz.dr.tsne_layout.perplexity_limit, the reference implementation's limit)
        limit = (self.tsne_grid_n - 1) / 3.0
        for i, perp in enumerate(self.tsne_grid_perplexity):
            if perp > limit:
                raise SupvizError(
                    f"`baselines.tsne_grid_perplexity[{i}]` must be at most (N - 1) / 3 = {limit:g} for "
                    f"`baselines.tsne_grid_n` = {self.tsne_grid_n} points; got {perp:g}."
                )
        self.tsne_n = _int_list("baselines.tsne_n", self.tsne_n, min_value=3)
        self.tsne_seeds = check_int("baselines.tsne_seeds", self.tsne_seeds, min_value=1)
        self.max_iter = check_int("baselines.max_iter", self.max_iter, min_value=1)
        self.eps = check_float("baselines.eps", self.eps, min_value=0.0, min_inclusive=False)


@dataclass
class EmbeddingsConfig:
    """Section C: layouts of the rows of the trained W."""

    mds_type: str = "interval"
    """SMACOF transformation for C2/C3: 'ratio', 'interval' (the study) or 'ordinal'."""
    max_iter: int = 1000
    """SMACOF iterations at most."""
    eps: float = 1e-6
    """SMACOF convergence tolerance."""
    umap_n_neighbors: int = 15
    """C4/C5 n_neighbors (min(this, points - 1) in C5)."""
    umap_min_dist: float = 1e-4
    """C4/C5 min_dist (the study's code; its prose says 1e-5)."""
    min_points: int = 4
    """C3/C5 panels with fewer represented features stay empty."""
    heatmap_quantile: float = 0.99
    """C1 colour range: symmetric [-r, r], r = this quantile of the off-diagonal |W W^T| between represented
    features."""
    collapse_starts: int = 20
    """C6: random SMACOF starts per collapsed C3 cell, rule and MDS type (besides the Torgerson start)."""
    null_draws: int = 5
    """C3/C5: sets of N random unit directions in R^m pictured per (m, N) and method, the null P is read against."""
    reference_weights: str = ""
    """C6: the study's weights to repeat the check on; '' = look for hamblin2022_weights.npz next to the checkout
    (shared/data/ or data/), 'none' = skip."""

    def __post_init__(self) -> None:
        self.collapse_starts = check_int("embeddings.collapse_starts", self.collapse_starts, min_value=2)
        self.null_draws = check_int("embeddings.null_draws", self.null_draws, min_value=1)
        if not isinstance(self.reference_weights, str):
            raise SupvizError(
                f"`embeddings.reference_weights` must be a path, '' or 'none'; got {self.reference_weights!r}."
            )
        self.mds_type = check_choice("embeddings.mds_type", self.mds_type, ("ratio", "interval", "ordinal"))
        self.max_iter = check_int("embeddings.max_iter", self.max_iter, min_value=1)
        self.eps = check_float("embeddings.eps", self.eps, min_value=0.0, min_inclusive=False)
        self.umap_n_neighbors = check_int("embeddings.umap_n_neighbors", self.umap_n_neighbors, min_value=2)
        self.umap_min_dist = _min_dist("embeddings.umap_min_dist", self.umap_min_dist)
        self.min_points = check_int("embeddings.min_points", self.min_points, min_value=3)
        self.heatmap_quantile = check_float(
            "embeddings.heatmap_quantile", self.heatmap_quantile, min_value=0.5, max_value=1.0
        )


#: Default point count of the data-point section (see :class:`DatapointsConfig.points`).
DATAPOINTS_DEFAULT_POINTS = 200


@dataclass
class DatapointsConfig:
    """Section D (issue 5): pictures of data points ``h = W^T x`` against the inputs ``x``."""

    points: int = DATAPOINTS_DEFAULT_POINTS
    """Non-zero inputs sampled per probability p (shared by the cells of that p). 200 keeps the 72-cell
    section near a minute on 2 cores (docs/bench/study.md); `supviz run --points N` scales it (10,000 works)."""
    methods: list[str] = field(default_factory=lambda: ["mds", "umap", "tsne"])
    """Layout methods of the pictures: any of mds, umap, tsne."""
    k: int = 10
    """Neighbourhood size of every measure (k-NN recall, trustworthiness, continuity, false neighbours)."""
    layout_spaces: list[str] = field(default_factory=lambda: ["x", "x_rep", "h", "h_rep"])
    """Spaces that get 2-D pictures: x (the inputs, the control), h (latent codes), x_rep (x on the represented
    features only: the no-superposition control, always measured exactly), xhat (the model's outputs)."""
    examples: list[list[float]] = field(default_factory=lambda: [[3, 0.05], [10, 0.166]])
    """Cells drawn one by one (x beside h, every method, false neighbours): [m, p] pairs, p matched to the
    grid's nearest probability; pairs whose m is not in the grid are skipped (and the report says so)."""
    grid_methods: list[str] = field(default_factory=lambda: ["mds", "umap", "tsne"])
    """Methods whose pictures of h are drawn as the study's m x p grid (a subset of `methods`)."""
    picture_seeds: int = 1
    """Independent optimisation runs of every picture (MDS, UMAP and t-SNE are randomised): with more than 1 the
    verdicts use each cell's mean recall over the runs and report the runs' spread. Each run costs as much as the
    first (about 50 CPU s more for the default grid); the p-value bootstrap already carries a single run's noise."""

    def __post_init__(self) -> None:
        self.points = check_int("datapoints.points", self.points, min_value=10)
        self.picture_seeds = check_int("datapoints.picture_seeds", self.picture_seeds, min_value=1)
        methods = ("mds", "umap", "tsne")
        for name in ("methods", "grid_methods"):
            value = getattr(self, name)
            if not isinstance(value, (list, tuple)) or (name == "methods" and not value):
                raise SupvizError(f"`datapoints.{name}` must be a non-empty list of methods; got {value!r}.")
            setattr(self, name, [check_choice(f"datapoints.{name}[{i}]", v, methods) for i, v in enumerate(value)])
        extra = [m for m in self.grid_methods if m not in self.methods]
        if extra:
            raise SupvizError(
                f"`datapoints.grid_methods` must be a subset of `datapoints.methods` {self.methods}; got {extra[0]!r}."
            )
        self.k = check_int("datapoints.k", self.k, min_value=1)
        if not isinstance(self.layout_spaces, (list, tuple)) or "h" not in self.layout_spaces:
            raise SupvizError(
                f"`datapoints.layout_spaces` must be a list that contains 'h'; got {self.layout_spaces!r}."
            )
        self.layout_spaces = [
            check_choice(f"datapoints.layout_spaces[{i}]", v, ("x", "x_rep", "h", "h_rep", "xhat"))
            for i, v in enumerate(self.layout_spaces)
        ]
        if not isinstance(self.examples, (list, tuple)):
            raise SupvizError(f"`datapoints.examples` must be a list of [m, p] pairs; got {self.examples!r}.")
        pairs = []
        for i, pair in enumerate(self.examples):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise SupvizError(f"`datapoints.examples[{i}]` must be an [m, p] pair; got {pair!r}.")
            pairs.append(
                [
                    check_int(f"datapoints.examples[{i}][0]", pair[0], min_value=1),
                    check_probability(f"datapoints.examples[{i}][1]", pair[1]),
                ]
            )
        self.examples = pairs


@dataclass
class RecoveryConfig:
    """Section E (issue 11): sparse autoencoders on every cell's h, scored against the known features."""

    architectures: list[str] = field(default_factory=lambda: ["jumprelu", "topk"])
    """SAE architectures, the first the section's main one (E2, E3 pictures): relu_l1, relu_l1_decnorm, topk, batchtopk,
    jumprelu. Each costs 20-45 s on 2 cores for the 72 cells (docs/bench/sae.md), half that on the sparse cells."""
    extra_cells: str = "sparse"
    """Cells the architectures after the first train on: 'all' or 'sparse' (p <= sparse_p; about half the time)."""
    sparse_p: float = 0.2
    """Cells with p at or below this count as sparse in the summaries (the study's p = 0.17, 0.09, 0.05)."""
    steps: int = 2000
    """Optimiser steps of every SAE (a fresh batch of the cell's own stream each step)."""
    batch_size: int = 128
    """Samples per step."""
    dictionary_ratio: float = 2.0
    """Latents per true feature (d_sae = ratio x n_features: 120 for the study's 60)."""
    n_eval: int = 4096
    """Fresh samples of each cell's stream the scores are computed on."""
    chance_draws: int = 19
    """Random unit decoders (the trained SAE's shape) scored beside each cell's SAE: its chance level. A score above
    all of them is distinguishable from chance at p = 1 / (draws + 1) (19: p = 0.05)."""
    codes: bool = True
    """E3: picture the SAE codes of section D's inputs (about 20-30 s on 2 cores)."""
    code_methods: list[str] = field(default_factory=lambda: ["mds", "umap", "tsne"])
    """Methods of the E3 pictures (a subset of datapoints.methods: they are set beside D's pictures)."""
    toy_experiment: bool = False
    """Also run Sharkey et al.'s toy experiment (128 features in 64 dims, 55 SAEs; ~100 s on 2 cores, so off by
    default)."""
    toy_paper_size: bool = False
    """The toy experiment at the paper's size (512 features in 256 dims; ~16x the work)."""

    def __post_init__(self) -> None:
        from supviz.sae.config import ARCHITECTURES

        if not isinstance(self.architectures, (list, tuple)) or not self.architectures:
            raise SupvizError(
                f"`recovery.architectures` must be a non-empty list of {list(ARCHITECTURES)}; "
                f"got {self.architectures!r}."
            )
        archs = [
            check_choice(f"recovery.architectures[{i}]", a, ARCHITECTURES) for i, a in enumerate(self.architectures)
        ]
        dup = next((a for i, a in enumerate(archs) if a in archs[:i]), None)
        if dup is not None:
            raise SupvizError(f"`recovery.architectures` must not repeat an architecture; got {dup!r} twice.")
        self.architectures = archs
        self.extra_cells = check_choice("recovery.extra_cells", self.extra_cells, ("all", "sparse"))
        self.sparse_p = check_probability("recovery.sparse_p", self.sparse_p)
        self.steps = check_int("recovery.steps", self.steps, min_value=1)
        self.batch_size = check_int("recovery.batch_size", self.batch_size, min_value=1)
        self.dictionary_ratio = check_float(
            "recovery.dictionary_ratio", self.dictionary_ratio, min_value=0.0, min_inclusive=False
        )
        self.n_eval = check_int("recovery.n_eval", self.n_eval, min_value=2)
        self.chance_draws = check_int("recovery.chance_draws", self.chance_draws, min_value=1)
        for name in ("codes", "toy_experiment", "toy_paper_size"):
            if not isinstance(getattr(self, name), bool):
                raise SupvizError(f"`recovery.{name}` must be true or false; got {getattr(self, name)!r}.")
        if not isinstance(self.code_methods, (list, tuple)):
            raise SupvizError(f"`recovery.code_methods` must be a list of methods; got {self.code_methods!r}.")
        self.code_methods = [
            check_choice(f"recovery.code_methods[{i}]", v, ("mds", "umap", "tsne"))
            for i, v in enumerate(self.code_methods)
        ]


@dataclass
class SweepReportConfig:
    """A finished `supviz sweep` whose summary goes into the report (section 'sweep')."""

    folder: str = ""
    """A `supviz sweep --out` folder; '' = no sweep section."""

    def __post_init__(self) -> None:
        if not isinstance(self.folder, str):
            raise SupvizError(f"`sweep.folder` must be a path string; got {self.folder!r}.")


@dataclass
class TransformerConfig:
    """The transformer section (off by default): a real transformer's layers pictured and measured, with a trust
    score on every point, through :func:`supviz.real.text.text_experiment` (what ``supviz real --model`` runs).

    The settings of :class:`supviz.real.text.TextConfig` are checked by it (messages name ``transformer.<key>``).
    """

    enabled: bool = False
    """Add the section to the report (the default run does not grow)."""
    model: str = "minilm"
    """'minilm' (all-MiniLM-L6-v2, shipped with supviz[text]), a local Hugging Face model folder, or a hub id."""
    sentences: int = 2000
    """Template sentences (supviz.real.corpus: five known factors and a never-varied control)."""
    layers: Any = field(default_factory=list)
    """Hidden states pictured (0 = the embeddings): a list, [] = the embeddings, the middle and the last layer, or
    'all'."""
    methods: list[str] = field(default_factory=lambda: ["umap", "tsne", "mds"])
    """Picture methods: any of umap, tsne, mds."""
    code_pictures: bool = True
    """Also picture each layer's SAE codes."""
    architecture: str = "relu_l1"
    """SAE architecture of each layer (supviz.sae)."""
    sae_expansion: float = 2.0
    """SAE latents per dimension of the layer."""
    sae_steps: int = 400
    """Steps of every SAE."""
    k: int = 10
    """Neighbourhood size of k-NN accuracy, trustworthiness, continuity and each point's trust."""
    folds: int = 5
    """Cross-validation folds of k-NN accuracy and the linear probe."""
    batch_size: int = 64
    """Sentences per forward pass."""
    device: str = ""
    """Torch device of the transformer; '' = CUDA where present, else the CPU."""

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise SupvizError(f"`transformer.enabled` must be true or false; got {self.enabled!r}.")
        if not isinstance(self.model, str) or not self.model:
            raise SupvizError(f"`transformer.model` must be 'minilm', a model folder or a hub id; got {self.model!r}.")
        if not isinstance(self.device, str):
            raise SupvizError(f"`transformer.device` must be a torch device name or ''; got {self.device!r}.")
        if isinstance(self.layers, (list, tuple)):
            self.layers = [check_int(f"transformer.layers[{i}]", v, min_value=0) for i, v in enumerate(self.layers)]
        elif self.layers != "all":
            raise SupvizError(f"`transformer.layers` must be a list of ints, [] or 'all'; got {self.layers!r}.")
        if not isinstance(self.methods, (list, tuple)):
            raise SupvizError(f"`transformer.methods` must be a list of umap, tsne, mds; got {self.methods!r}.")
        self.methods = [
            check_choice(f"transformer.methods[{i}]", m, ("umap", "tsne", "mds")) for i, m in enumerate(self.methods)
        ]
        if not isinstance(self.code_pictures, bool):
            raise SupvizError(f"`transformer.code_pictures` must be true or false; got {self.code_pictures!r}.")
        self.sae_expansion = check_float(
            "transformer.sae_expansion", self.sae_expansion, min_value=0.0, min_inclusive=False
        )
        self.text_config()  # every other value, checked by TextConfig
        self.sentences = check_int("transformer.sentences", self.sentences, min_value=self.k + 2)

    def text_config(self) -> Any:
        """The :class:`supviz.real.text.TextConfig` of these settings (its messages re-named ``transformer.<key>``)."""
        import re

        from supviz.real.text import TextConfig

        try:
            return TextConfig(
                n_sentences=self.sentences,
                methods=list(self.methods),
                layers=(list(self.layers) or None) if isinstance(self.layers, list) else self.layers,
                code_pictures=self.code_pictures,
                architecture=self.architecture,
                sae_expansion=self.sae_expansion,
                sae_steps=self.sae_steps,
                k=self.k,
                folds=self.folds,
                batch_size=self.batch_size,
            )
        except SupvizError as exc:
            msg = re.sub(r"^`n_sentences`", "`sentences`", str(exc), count=1)
            raise SupvizError(re.sub(r"^`", "`transformer.", msg, count=1)) from None


#: Each section's config table (``[background]``, ...), in report order; ``real`` is section F's, the
#: engine's own :class:`supviz.real.RealConfig` (``supviz real`` reads the same table).
SECTION_TABLES: dict[str, type] = {
    "background": BackgroundConfig,
    "baselines": BaselinesConfig,
    "embeddings": EmbeddingsConfig,
    "datapoints": DatapointsConfig,
    "recovery": RecoveryConfig,
    "real": RealConfig,
    "transformer": TransformerConfig,
    "sweep": SweepReportConfig,
}


#: Core tables of the config (section tables come from the section registry).
_CORE: dict[str, type] = {
    "weights": WeightsConfig,
    "represented": RepresentedConfig,
    "metrics": MetricsConfig,
    "figures": FiguresConfig,
    "run": RunConfig,
}


@dataclass
class StudyConfig:
    """The whole study. ``sections`` maps a section's config table name to its parsed config."""

    seed: int = 0
    """Root seed; every cell, panel and restart uses ``supviz.core.seeding.child(seed, ...)``."""
    toy: "TrainConfig" = field(default_factory=lambda: _build_toy({}))
    """The toy models of section 2: a :class:`supviz.toy.TrainConfig` (``[toy]`` holds its fields but ``seed``;
    :meth:`train_config` gives the one the study trains, seed included)."""
    weights: WeightsConfig = field(default_factory=WeightsConfig)
    represented: RepresentedConfig = field(default_factory=RepresentedConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    figures: FiguresConfig = field(default_factory=FiguresConfig)
    run: RunConfig = field(default_factory=RunConfig)
    sections: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.seed = check_int("seed", self.seed, min_value=0)
        from supviz.toy.config import TrainConfig

        if not isinstance(self.toy, TrainConfig):
            raise SupvizError(f"`toy` must be a TrainConfig; got {type(self.toy).__name__}.")
        for key, cls in _section_config_classes().items():
            if key not in self.sections:
                self.sections[key] = cls()

    def section(self, key: str) -> Any:
        """The parsed config table of section ``key``."""
        try:
            return self.sections[key]
        except KeyError:
            raise SupvizError(f"`section` must be one of {sorted(self.sections)}; got {key!r}.") from None

    def derived_seed(self, *names: str | int) -> int:
        """A stable int seed for the thing addressed by ``names`` (strings hashed with CRC-32)."""
        import zlib

        from supviz.core.seeding import child, int_seed

        key = [n if isinstance(n, int) else zlib.crc32(str(n).encode("utf-8")) for n in names]
        return int_seed(child(self.seed, *key))

    def train_config(self) -> "TrainConfig":
        """The :class:`supviz.toy.TrainConfig` of section 2's grid: ``[toy]`` with the seed derived from ``seed``.

        ``supviz train --config`` on a study file trains exactly this grid (the same weights, bit
        for bit, on the same machine).
        """
        return self.toy.replace(seed=self.derived_seed("toy-grid"))

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (TOML-ready), core tables first then section tables."""
        out: dict[str, Any] = {"seed": self.seed}
        out["toy"] = {k: v for k, v in self.toy.to_dict().items() if k not in _TOY_DERIVED}
        for name in _CORE:
            out[name] = dataclasses.asdict(getattr(self, name))
        for key, value in self.sections.items():
            out[key] = dataclasses.asdict(value)
        return out


def _section_config_classes() -> dict[str, type]:
    return dict(SECTION_TABLES)


def config_from_dict(data: dict[str, Any]) -> StudyConfig:
    """Build and validate a :class:`StudyConfig` from a (partial) nested dict."""
    sections_cls = _section_config_classes()
    data = document_keys(data, {"seed", "toy", *_CORE, *sections_cls})
    kwargs: dict[str, Any] = {}
    if "seed" in data:
        kwargs["seed"] = data["seed"]
    if "toy" in data:
        kwargs["toy"] = _build_toy(data["toy"])
    for name, cls in _CORE.items():
        if name in data:
            kwargs[name] = from_table(cls, data[name], name)
    kwargs["sections"] = {key: from_table(cls, data.get(key, {}), key) for key, cls in sections_cls.items()}
    try:
        return StudyConfig(**kwargs)
    except TypeError as exc:  # a wrong type that the dataclass itself rejected
        raise SupvizError(f"invalid config: {exc}.") from None


def default_toml_text() -> str:
    """The text of the shipped default config (with its comments)."""
    return resources.files("supviz.study").joinpath("default.toml").read_text(encoding="utf-8")


def load_config(path: str | Path | None = None, *, name: str = "--config") -> StudyConfig:
    """The default config, overlaid with the TOML file at ``path`` when given (``name``: how messages
    about the file name it)."""
    base = tomllib.loads(default_toml_text())
    if path is not None:
        base = _merge(base, read_toml(path, name=name))
    return config_from_dict(base)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def dump_config(config: StudyConfig) -> str:
    """The config as TOML text (loads back to an equal config)."""
    import tomli_w

    return tomli_w.dumps(config.to_dict())
