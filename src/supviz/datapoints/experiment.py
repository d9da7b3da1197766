"""The data-point experiment: pictures of ``x`` and of ``h = W^T x``, and how much ``h`` distorts.

For a cell (a trained ``W`` at feature probability ``p``) :func:`datapoint_cell` samples sparse inputs
``x`` from the cell's own distribution, maps them to ``h = W^T x`` and pictures the spaces below with
MDS, UMAP and t-SNE. Every picture is measured against ``x`` (k-NN recall, trustworthiness,
continuity, Shepard correlation, false neighbours).

Spaces (rows of the table, column ``space``):

``x``
    The inputs themselves: the control for the loss that any 2-D picture has.
``x_rep``
    An orthogonal embedding of the features the model represents (``x`` restricted to them): what a
    model that kept the same features *without* superposition would show. ``x_rep - x`` is the
    loss from the features the model drops; ``h - x_rep`` the loss from superposition itself.
``h``
    The latent codes.
``h_rep``
    The latent codes of ``x`` restricted to the represented features (``W``'s other rows contribute
    nothing): what superposition among the kept features alone does, with the same inputs as ``x_rep``.
    ``h_rep - x_rep`` is the loss from superposition among the kept features; ``h - h_rep`` what the
    features below the represented rule still carry (their rows are short, not zero).
``xhat``
    The model's outputs ``ReLU(W h + b)`` (with ``include_output``).

``x_rep`` and ``h_rep`` depend on which features count as represented. With a second rule
(:func:`datapoint_grid`'s ``other_rule``) the cells that picture them picture them under that rule too, keyed
``under_rule(space, rule)`` (:mod:`supviz.datapoints.spaces`) and listed in the table as rows of the same ``space``
with that ``rule``. Where both rules keep the same features, ``x_rep`` and ``h_rep`` are the same arrays under both,
so the second rule's pictures *are* the first rule's: their jobs have the same key (a job is addressed by what it
pictures: the cell or sample, the kept features and the method) and run once; the table repeats their rows under
the second rule. Only the cells where the two sets differ cost new layouts.

Method ``"exact"`` measures a space itself against ``x`` before any picture is drawn (for ``h``:
the distortion that superposition causes in the code space); ``"mds"``, ``"umap"``, ``"tsne"`` measure
the 2-D layout of the space.

:func:`datapoint_grid` runs every cell of a trained grid; the work is split into independent jobs
(one per layout, one per exact measure), run where :mod:`supviz.runtime.dispatch` puts them (local worker
processes that die with the parent, or a Dask cluster under ``supviz run --scheduler``) behind a tqdm bar.
Every job has its own child seed addressed by its place in the grid (:func:`supviz.core.seeding.child`),
so results do not depend on ``n_jobs`` or on job order. Cells with the same ``(n_features, p)`` share
their sample ``x`` (a paired design: differences between cells are differences of ``W``, not of the
sample), so the ``x`` control is pictured once per ``p``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.seeding import SeedLike, as_seed_sequence, child
from supviz.core.validation import check_array, check_choice, check_indices, check_int, check_probability
from supviz.datapoints.distortion import measure_distortion
from supviz.datapoints.embedding import latent_codes, model_outputs, orthogonal_codes
from supviz.datapoints.geometry import EquidistanceResult, equidistance, ring_measures
from supviz.datapoints.labels import PointLabels, point_labels
from supviz.datapoints.layouts import METHODS, datapoint_layout
from supviz.datapoints.sampling import SparseSample, sample_inputs
from supviz.datapoints.spaces import RULE_SPACES, SPACES, split_rule, under_rule
from supviz.errors import SupvizError
from supviz.runtime.codecs import register_folder_codec

logger = logging.getLogger(__name__)

__all__ = [
    "SPACES",
    "METRIC_COLUMNS",
    "DatapointCellResult",
    "DatapointGridResult",
    "datapoint_cell",
    "datapoint_grid",
    "superposition_effect",
]

METRIC_COLUMNS = (
    "knn_recall",
    "trustworthiness",
    "continuity",
    "stress1_ratio",
    "shepard_rho",
    "false_neighbour_rate",
    "false_neighbour_pairs",
)
_METHOD_INDEX = {"exact": 0, "mds": 1, "umap": 2, "tsne": 3}
_SPACE_INDEX = {"x": 1, "x_rep": 1, "h": 2, "xhat": 3, "h_rep": 4}


@dataclass
class DatapointCellResult:
    """Everything the data-point experiment made for one cell.

    Attributes
    ----------
    x : np.ndarray, shape (N, n)
        The sampled inputs (all rows non-zero).
    h : np.ndarray, shape (N, m)
        Latent codes ``W^T x``.
    xhat : np.ndarray or None, shape (N, n)
        Model outputs (with ``include_output``).
    labels : PointLabels
        Most important active feature and number of active features per point.
    represented : np.ndarray of bool, shape (n,)
        The features that the ``x_rep`` control keeps.
    layouts : dict[(space, method), supviz.dr.Layout]
        The 2-D pictures.
    metrics : dict[(space, method), dict[str, float]]
        Measures against ``x``; method ``"exact"`` for the spaces themselves.
    false_pairs : dict[(space, method), np.ndarray of int, shape (P, 2)]
        False-neighbour pairs (close in the picture, no shared active feature).
    probability, n_drawn, n_dropped, k : sampling and neighbourhood facts.
    geometry : EquidistanceResult
        Spread of the pairwise distances of the represented rows of ``W``.
    seconds : dict[(space, method), float]
        Time of each job (layout + measures), not part of the reproducible record.
    importance : np.ndarray or None
        The importances the labels were read with.
    reasons : dict[(space, method), str]
        Why each NaN measure of that job is NaN (``"metric: reason; ..."``,
        :attr:`~supviz.datapoints.distortion.DistortionResult.reasons`); "" when all are defined.
    seed_recalls : dict[(space, method), np.ndarray of shape (S,)]
        With ``picture_seeds = S > 1``: the k-NN recall of each of the S independent runs of that picture
        (entry 0 is the run in ``layouts`` and ``metrics``); empty with one seed.
    rule : str
        The represented rule of ``represented`` ("" when the mask was given).
    other_rule : str
        A second represented rule ("" for none): ``layouts``, ``metrics`` etc. also hold its pictures of x_rep and
        h_rep under the keys ``(under_rule(space, other_rule), method)``.
    other_represented : np.ndarray of bool, shape (n,), or None
        The features the second rule keeps.
    """

    x: np.ndarray
    h: np.ndarray
    xhat: np.ndarray | None
    labels: PointLabels
    represented: np.ndarray
    layouts: dict[tuple[str, str], Any]
    metrics: dict[tuple[str, str], dict[str, float]]
    false_pairs: dict[tuple[str, str], np.ndarray]
    probability: float
    n_drawn: int
    n_dropped: int
    k: int
    geometry: EquidistanceResult
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)
    importance: np.ndarray | None = None
    reasons: dict[tuple[str, str], str] = field(default_factory=dict)
    seed_recalls: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    rule: str = ""
    other_rule: str = ""
    other_represented: np.ndarray | None = None

    @property
    def uniform_importance(self) -> bool:
        """Whether every feature is equally important (labels then rank by value, not importance)."""
        return self.importance is None or bool(np.allclose(self.importance, self.importance[0]))

    @property
    def n_points(self) -> int:
        """Number of points pictured."""
        return int(self.x.shape[0])

    def table(self):
        """One row per (space, method, rule) with every measure (a pandas DataFrame); ``rule`` is the represented rule
        of an x_rep or h_rep row, "" for the spaces that do not depend on it."""
        import pandas as pd

        rows = []
        for (key, method), vals in sorted(self.metrics.items(), key=lambda kv: _sort_key(kv[0])):
            space, rule = split_rule(key)
            other = bool(rule)
            mask = self.other_represented if other and self.other_represented is not None else self.represented
            row = {
                "space": space,
                "method": method,
                "rule": rule if other else self.rule if space in RULE_SPACES else "",
                "n_points": self.n_points,
                "n_dropped": self.n_dropped,
                "n_represented": int(mask.sum()),
                "k": self.k,
            }
            row.update({c: vals.get(c, np.nan) for c in METRIC_COLUMNS})
            row["nan_reasons"] = self.reasons.get((key, method), "")
            runs = self.seed_recalls.get((key, method))
            # the picture's seed spread: one optimisation run is one draw of the layout's randomness
            row["picture_seeds"] = 1 if runs is None else int(runs.size)
            row["knn_recall_seed_mean"] = row["knn_recall"] if runs is None else float(np.nanmean(runs))
            row["knn_recall_seed_sd"] = np.nan if runs is None else float(np.nanstd(runs, ddof=1))
            lay = self.layouts.get((key, method))
            row["smacof_stress"] = float(lay.info.get("smacof_stress", np.nan)) if lay is not None else np.nan
            rows.append(row)
        return pd.DataFrame(rows)


@dataclass
class DatapointGridResult:
    """The data-point experiment over a trained grid.

    Attributes
    ----------
    table : pandas.DataFrame
        Tidy: one row per (importance, m, p, method, space, rule) with columns ``importance``, ``m``,
        ``p``, ``n_features``, ``instance``, ``space``, ``method``, ``rule`` (the represented rule of the x_rep and
        h_rep rows, "" for the others), ``n_points``, ``n_dropped``,
        ``n_represented``, ``k`` and :data:`METRIC_COLUMNS` (+ ``smacof_stress``). Control rows
        (``space="x"``) are repeated in every cell that shares the sample. :meth:`rule_table` keeps one rule's.
    geometry : pandas.DataFrame
        One row per cell: the equidistance measures of its represented rows
        (:class:`~supviz.datapoints.geometry.EquidistanceResult` fields) and, with ``ring``, the
        radial spread of their MDS picture beside that of ``diag(N)``.
    cells : list[DatapointCellResult]
        Per cell (the order of ``grid.specs``), for the figures.
    keys : list[tuple[str, int, float]]
        ``(importance, m, p)`` of each cell.
    timings : pandas.DataFrame
        Seconds per job (space, method, cell); not part of the reproducible record.
    rule, other_rule : str
        The represented rule of ``represented`` and the second rule pictured ("" for none).
    """

    table: Any
    geometry: Any
    cells: list[DatapointCellResult]
    keys: list[tuple[str, int, float]]
    timings: Any
    rule: str = ""
    other_rule: str = ""

    def rule_table(self, rule: str | None = None) -> Any:
        """The rows of :attr:`table` under one represented rule (default :attr:`rule`): every row that does not
        depend on the rule and the x_rep / h_rep rows of that rule (one row per (cell, space, method))."""
        t = self.table
        if "rule" not in t:
            return t
        keep = (t["rule"] == "") | (t["rule"] == (self.rule if rule is None else rule))
        return t[keep].reset_index(drop=True)

    def cell(self, importance: str, m: int, p: float) -> DatapointCellResult:
        """The cell of an importance variant, hidden size and probability (p matched to 1e-6)."""
        for key, res in zip(self.keys, self.cells):
            if key[0] == importance and key[1] == m and abs(key[2] - p) <= 1e-6 * max(1.0, abs(p)):
                return res
        raise SupvizError(f"no cell with importance={importance!r}, m={m}, p={p} in this result.")


# --------------------------------------------------------------------------------------------- jobs


def _job(
    points: np.ndarray,
    x: np.ndarray,
    method: str,
    params: Mapping[str, Any],
    seed: np.random.SeedSequence,
    k: int,
    max_pairs: int,
    pair_seed: np.random.SeedSequence,
    mds_max_points: int,
    n_landmarks: int,
) -> tuple[Any, dict[str, float], np.ndarray, float, str]:
    """One layout (or none for "exact"), its measures against ``x`` and why any is NaN; runs in a worker."""
    t0 = time.perf_counter()
    if method == "exact":
        layout = None
        Y = points
    else:
        layout = datapoint_layout(
            points, method, random_state=seed, mds_max_points=mds_max_points, n_landmarks=n_landmarks, **params
        )
        Y = np.asarray(layout.embedding, dtype=np.float64)
        # MDS layouts carry the full SmacofResult (N x N matrices): too heavy to ship back from
        # every worker and to keep for every cell; its stress and iteration count stay in info.
        layout.info.pop("result", None)
    # the Layout itself, so that its method's verdict on collapse reaches the measures
    res = measure_distortion(
        x, layout if layout is not None else Y, active=x > 0, k=k, max_pairs=max_pairs, random_state=pair_seed
    )
    return layout, res.metrics(), res.false.pairs, time.perf_counter() - t0, res.reason_text()


@dataclass
class _Plan:
    """What one cell needs: its sample, spaces and the keys of its jobs."""

    sample: SparseSample
    group: int
    spaces: dict[str, np.ndarray]
    represented: np.ndarray
    labels: PointLabels
    geometry: EquidistanceResult
    job_keys: dict[tuple[str, str], tuple]
    importance: np.ndarray | None = None
    seed_keys: dict[tuple[str, str], list[tuple]] = field(default_factory=dict)
    rule: str = ""
    other_rule: str = ""
    other_represented: np.ndarray | None = None


def _check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    methods = tuple(methods)
    for mth in methods:
        check_choice("methods", mth, METHODS)
    return methods


def _represented_mask(W: np.ndarray, importance: np.ndarray | None, rule: str, threshold: float) -> np.ndarray:
    from supviz.toy import represented_mask

    # Without an importance curve every feature may be the most important (the strongest is the
    # reference); with one, represented_mask picks the strongest of the top-importance features.
    if importance is None:
        importance = np.ones(W.shape[0])
    return np.asarray(represented_mask(W, rule=rule, threshold=threshold, importance=importance), dtype=bool)


def _plan_cell(
    *,
    instance: int,
    W: np.ndarray,
    bias: np.ndarray | None,
    importance: np.ndarray | None,
    sample: SparseSample,
    group: int,
    methods: tuple[str, ...],
    controls: tuple[str, ...],
    include_output: bool,
    layout_spaces: tuple[str, ...],
    represented: np.ndarray | None,
    represented_rule: str,
    represented_threshold: float,
    seed: np.random.SeedSequence,
    picture_seeds: int = 1,
    other: tuple[str, np.ndarray] | None = None,
) -> tuple[_Plan, dict[tuple, tuple]]:
    """The spaces of one cell and its job specs ``key -> (points, method, seed)``; each picture (not the exact
    measures) ``picture_seeds`` times, run r > 0 under the child seed of run 0 extended by r (run 0 is unchanged
    by the setting, and so is its cache entry).

    ``other = (rule, mask)``: a second represented rule whose x_rep and h_rep are pictured too (where
    ``layout_spaces`` pictures them; their exact measures are the run's ``cells`` columns), keyed
    ``under_rule(space, rule)``. A job is addressed by what it pictures: x_rep by the sample and its kept features
    (shared by the cells of a group, and x itself when every feature is kept), h_rep by the instance and its kept
    features, each with the seed of that address whatever the rule. Where ``mask`` keeps the same features as
    ``represented`` the second rule's spaces are the first rule's arrays and their jobs the same jobs: reused, not
    run again."""
    x = sample.x
    given = represented
    if represented is None:
        represented = _represented_mask(W, importance, represented_rule, represented_threshold)
    represented = np.asarray(represented, dtype=bool)
    if represented.shape != (W.shape[0],):
        raise SupvizError(f"`represented` must be a bool mask of {W.shape[0]} entries; got shape {represented.shape}.")
    spaces: dict[str, np.ndarray] = {}
    if "x" in controls:
        spaces["x"] = x
    if "x_rep" in controls and represented.any():
        spaces["x_rep"] = orthogonal_codes(x, represented)
    spaces["h"] = latent_codes(x, W)
    if "x_rep" in controls and represented.any():
        spaces["h_rep"] = latent_codes(np.where(represented, x, 0.0), W)
    if include_output:
        spaces["xhat"] = model_outputs(x, W, bias)
    masks = {"": represented}
    other_rule, other_mask = ("", None) if other is None else (other[0], np.asarray(other[1], dtype=bool))
    if other_mask is not None:
        if other_mask.shape != represented.shape:
            raise SupvizError(
                f"the other rule's mask must have {W.shape[0]} entries like `represented`; got shape "
                f"{other_mask.shape}."
            )
        masks[other_rule] = other_mask
        same = bool(np.array_equal(other_mask, represented))
        for space in RULE_SPACES:
            if space not in layout_spaces or "x_rep" not in controls or not other_mask.any():
                continue
            if same:  # the same features: the same array, so the same job (reused, not run again)
                spaces[under_rule(space, other_rule)] = spaces[space]
            elif space == "x_rep":
                spaces[under_rule(space, other_rule)] = orthogonal_codes(x, other_mask)
            else:
                spaces[under_rule(space, other_rule)] = latent_codes(np.where(other_mask, x, 0.0), W)
    jobs: dict[tuple, tuple] = {}
    job_keys: dict[tuple[str, str], tuple] = {}
    seed_keys: dict[tuple[str, str], list[tuple]] = {}
    for name, pts in spaces.items():
        space, rule = split_rule(name)
        # the second rule's spaces are pictured only (their exact measures are in the run's cells table)
        for method in (*(() if rule else ("exact",)), *(methods if space in layout_spaces else ())):
            mi = _METHOD_INDEX[method]
            if space in ("x", "x_rep"):
                # Orthogonal spaces depend only on the sample and the kept features: shared by the
                # cells of a group, and x_rep keeping every feature is the x job itself.
                feats = tuple(np.flatnonzero(masks[rule])) if space == "x_rep" else tuple(range(x.shape[1]))
                if len(feats) == x.shape[1]:
                    feats = ("all",)
                key = ("orth", group, feats, method)
                job_seed = child(seed, 1, group, mi)
            elif space == "h_rep":
                # addressed by its kept features too: the same set under either rule is the same job
                key = (space, instance, tuple(np.flatnonzero(masks[rule])), method)
                job_seed = child(seed, _SPACE_INDEX[space], instance, mi)
            else:
                key = (space, instance, method)
                job_seed = child(seed, _SPACE_INDEX[space], instance, mi)
            job_keys[(name, method)] = key
            jobs[key] = (pts, method, job_seed, group)
            if method != "exact" and picture_seeds > 1:
                extra = [(*key, "run", r) for r in range(1, picture_seeds)]
                seed_keys[(name, method)] = extra
                for r, ekey in enumerate(extra, start=1):
                    jobs[ekey] = (pts, method, child(job_seed, r), group)
    geom = equidistance(W, represented=represented, random_state=child(seed, 5, instance))
    plan = _Plan(
        sample=sample,
        group=group,
        spaces=spaces,
        represented=represented,
        labels=point_labels(x, importance=importance),
        geometry=geom,
        job_keys=job_keys,
        importance=None if importance is None else np.asarray(importance, dtype=np.float64),
        seed_keys=seed_keys,
        rule=represented_rule if given is None else "",
        other_rule=other_rule,
        other_represented=other_mask,
    )
    return plan, jobs


def _run_jobs(
    jobs: dict[tuple, tuple],
    samples: dict[int, SparseSample],
    *,
    method_params: Mapping[str, Mapping[str, Any]],
    k: int,
    max_pairs: int,
    seed: np.random.SeedSequence,
    mds_max_points: int,
    n_landmarks: int,
    n_jobs: int,
    progress: bool,
    desc: str,
) -> dict[tuple, tuple]:
    """Run the jobs where the dispatcher in force puts them (:mod:`supviz.runtime.dispatch`: local worker
    processes that die with this process, or a Dask cluster). Inside ``supviz run`` each job is a
    cache entry of its own (kind ``"datapoint-job"``, keyed by its inputs), stored where it ran."""
    from tqdm.auto import tqdm

    from supviz.runtime.dispatch import Shared, current

    dispatcher = current(n_jobs)
    memo = dispatcher.memo
    # Expensive first so that the pool's tail is short: layouts before exact measures.
    cost = {"tsne": 3, "umap": 2, "mds": 1, "exact": 0}
    order = sorted(jobs, key=lambda key: -cost[jobs[key][1]])
    shared: dict[int, Shared] = {}  # one Shared per array: scattered once to a cluster

    def big(arr: np.ndarray) -> Shared:
        return shared.setdefault(id(arr), Shared(arr))

    calls, keys = [], []
    for key in order:
        pts, method, job_seed, group = jobs[key]
        params = dict(method_params.get(method, {}))
        pair_seed = child(seed, 4, group)
        x = samples[group].x
        calls.append((big(pts), big(x), method, params, job_seed, k, max_pairs, pair_seed, mds_max_points, n_landmarks))
        keys.append(
            None
            if memo is None
            else memo.key(
                "datapoint-job",
                {
                    "points": pts,
                    "x": x,
                    "method": method,
                    "params": params,
                    "seed": _seed_key(job_seed),
                    "k": k,
                    "max_pairs": max_pairs,
                    "pair_seed": _seed_key(pair_seed),
                    "mds_max_points": mds_max_points,
                    "n_landmarks": n_landmarks,
                },
            )
        )
    out: dict[tuple, tuple] = {}
    bar = tqdm(total=len(order), desc=desc, unit="job") if progress else None
    for j, value in dispatcher.map(_job, calls, desc=desc, kind="datapoint-job", keys=keys, bar=bar):
        out[order[j]] = tuple(value)
    return out


def _seed_key(seed: np.random.SeedSequence) -> dict[str, Any]:
    """A seed sequence as plain numbers (part of a job's cache key)."""
    entropy = seed.entropy
    entropy = [int(e) for e in entropy] if isinstance(entropy, (list, tuple, np.ndarray)) else int(entropy)
    return {"entropy": entropy, "spawn_key": [int(v) for v in seed.spawn_key], "pool": int(seed.pool_size)}


def _assemble(plan: _Plan, results: dict[tuple, tuple], k: int) -> DatapointCellResult:
    layouts, metrics, pairs, seconds, reasons = {}, {}, {}, {}, {}
    for sm, key in plan.job_keys.items():
        layout, vals, fp, secs, why = results[key]
        reasons[sm] = why
        if layout is not None:
            layouts[sm] = layout
        metrics[sm] = vals
        pairs[sm] = fp
        seconds[sm] = secs
    seed_recalls = {
        sm: np.array([metrics[sm].get("knn_recall", np.nan)] + [results[e][1].get("knn_recall", np.nan) for e in extra])
        for sm, extra in plan.seed_keys.items()
    }
    return DatapointCellResult(
        x=plan.sample.x,
        h=plan.spaces["h"],
        xhat=plan.spaces.get("xhat"),
        labels=plan.labels,
        represented=plan.represented,
        layouts=layouts,
        metrics=metrics,
        false_pairs=pairs,
        probability=plan.sample.probability,
        n_drawn=plan.sample.n_drawn,
        n_dropped=plan.sample.n_dropped,
        k=k,
        geometry=plan.geometry,
        seconds=seconds,
        importance=plan.importance,
        reasons=reasons,
        seed_recalls=seed_recalls,
        rule=plan.rule,
        other_rule=plan.other_rule,
        other_represented=plan.other_represented,
    )


def _resolve_n_jobs(n_jobs: int) -> int:
    n_jobs = check_int("n_jobs", n_jobs)
    if n_jobs == 0:
        raise SupvizError("`n_jobs` must be a non-zero int (-1 = all cores); got 0.")
    if n_jobs < 0:
        n_jobs = max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return n_jobs


def _merged_params(method_params: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for name, vals in (method_params or {}).items():
        check_choice("method_params", name, METHODS)
        merged[name] = dict(vals)
    return merged


# ----------------------------------------------------------------------------------------- public


def datapoint_cell(
    W: np.ndarray,
    *,
    probability: float,
    importance: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    n_points: int = 2000,
    methods: Sequence[str] = METHODS,
    k: int = 10,
    include_output: bool = False,
    controls: Sequence[str] = ("x", "x_rep"),
    layout_spaces: Sequence[str] = SPACES,
    represented: np.ndarray | None = None,
    represented_rule: str = "mean_abs",
    represented_threshold: float = 0.05,
    method_params: Mapping[str, Mapping[str, Any]] | None = None,
    mds_max_points: int = 1000,
    n_landmarks: int = 1000,
    max_pairs: int = 200_000,
    sample: SparseSample | np.ndarray | None = None,
    random_state: SeedLike = None,
    n_jobs: int = 1,
    progress: bool = False,
) -> DatapointCellResult:
    """Pictures of the data points of one cell and their distortion against ``x``.

    Parameters
    ----------
    W : array, shape (n, m)
        Feature directions of the trained model (row ``i`` = feature ``i``).
    probability : float
        The cell's feature probability ``p`` (the sampling distribution).
    importance : array, shape (n,), optional
        Feature importances (labels; the study's represented rule); uniform when omitted.
    bias : array, shape (n,), optional
        The model's bias (for ``include_output``).
    n_points : int, default 2000
        Non-zero inputs to sample (all-zero draws are dropped and counted).
    methods : sequence of {"mds", "umap", "tsne"}
        Layout methods; ``"exact"`` (the spaces themselves) is always measured.
    k : int, default 10
        Neighbourhood size of every measure.
    include_output : bool, default False
        Also picture the model's outputs ``x' = ReLU(W h + b)`` (space ``"xhat"``).
    controls : sequence of {"x", "x_rep"}, default both
        The control spaces (see the module notes).
    layout_spaces : sequence of {"x", "x_rep", "h", "h_rep", "xhat"}, default all
        The spaces that get 2-D pictures; the others get only the exact measures. ``("x", "h")``
        skips the ``x_rep`` pictures, the most expensive part that the heatmaps can do without
        (its exact measures still separate dropping from superposition).
    represented : bool array, shape (n,), optional
        Features kept by the ``x_rep`` control; by default
        ``supviz.toy.represented_mask(W, rule=represented_rule, threshold=represented_threshold)``.
    represented_rule, represented_threshold
        The rule used when ``represented`` is omitted (the study's: ``"mean_abs"``, 0.05, relative to
        the most important feature; when several tie for most important, as under uniform
        importance, the strongest of them, so that a dropped row 0 cannot make every feature count).
    method_params : mapping method -> parameters, optional
        Overrides of :data:`supviz.datapoints.layouts.DEFAULT_PARAMS`.
    mds_max_points, n_landmarks : int
        Full SMACOF up to ``mds_max_points`` points, landmark SMACOF with ``n_landmarks`` beyond.
    max_pairs : int, default 200,000
        Pairs behind the Shepard correlation.
    sample : SparseSample or array (N, n), optional
        Use these inputs instead of sampling (arrays: all-zero rows are dropped and counted).
    random_state : seed
        Seeds the sample and every layout (child seeds).
    n_jobs : int, default 1
        Worker processes for the layouts (-1 = all cores).
    progress : bool, default False
        Show a tqdm bar.

    Returns
    -------
    DatapointCellResult
    """
    W = check_array("W", W, ndim=2)
    probability = check_probability("probability", probability)
    k = check_int("k", k, min_value=1)
    methods = _check_methods(methods)
    controls = tuple(check_choice("controls", c, ("x", "x_rep")) for c in controls)
    layout_spaces = tuple(check_choice("layout_spaces", c, SPACES) for c in layout_spaces)
    seed = as_seed_sequence(random_state, name="random_state")
    if sample is None:
        n_points = check_int("n_points", n_points, min_value=3)
        sample = sample_inputs(W.shape[0], probability=probability, n_points=n_points, random_state=child(seed, 0, 0))
    elif not isinstance(sample, SparseSample):
        arr = check_array("sample", sample, ndim=2)
        keep = (arr > 0).any(axis=1)
        sample = SparseSample(x=arr[keep], probability=probability, n_drawn=arr.shape[0], n_dropped=int((~keep).sum()))
    if sample.x.shape[1] != W.shape[0]:
        raise SupvizError(f"`sample` has {sample.x.shape[1]} features but `W` has {W.shape[0]} rows.")
    plan, jobs = _plan_cell(
        instance=0,
        W=W,
        bias=bias,
        importance=importance,
        sample=sample,
        group=0,
        methods=methods,
        controls=controls,
        include_output=include_output,
        layout_spaces=layout_spaces,
        represented=represented,
        represented_rule=represented_rule,
        represented_threshold=represented_threshold,
        seed=seed,
    )
    results = _run_jobs(
        jobs,
        {0: sample},
        method_params=_merged_params(method_params),
        k=k,
        max_pairs=max_pairs,
        seed=seed,
        mds_max_points=mds_max_points,
        n_landmarks=n_landmarks,
        n_jobs=_resolve_n_jobs(n_jobs),
        progress=progress,
        desc="data points",
    )
    return _assemble(plan, results, k)


def datapoint_grid(
    grid: Any,
    *,
    n_points: int = 200,
    methods: Sequence[str] = METHODS,
    k: int = 10,
    include_output: bool = False,
    controls: Sequence[str] = ("x", "x_rep"),
    layout_spaces: Sequence[str] = ("x", "h"),
    represented_rule: str = "mean_abs",
    represented_threshold: float = 0.05,
    other_rule: tuple[str, float] | None = None,
    method_params: Mapping[str, Mapping[str, Any]] | None = None,
    mds_max_points: int = 1000,
    n_landmarks: int = 1000,
    max_pairs: int = 200_000,
    instances: Sequence[int] | None = None,
    rep_pictured: Sequence[int] | None = None,
    ring: bool = True,
    ring_metric_type: str = "interval",
    picture_seeds: int = 1,
    random_state: SeedLike = None,
    n_jobs: int = -1,
    progress: bool = True,
) -> DatapointGridResult:
    """The data-point experiment for every cell of a trained grid, in parallel.

    Parameters
    ----------
    grid : supviz.toy.TrainedGrid
        Anything with ``specs`` (``InstanceSpec`` with ``n_features``, ``n_hidden``,
        ``probability``, ``importance_name``, ``importance``), ``weights`` and ``biases``.
    n_points : int, default 200
        Inputs per cell (shared by the cells with the same ``(n_features, p)``). 200 keeps the
        72-cell default study's section near a minute on 2 cores (docs/bench/datapoints.md);
        the section handles 10,000 (MDS switches to landmark SMACOF above ``mds_max_points``).
    layout_spaces : sequence of str, default ("x", "h")
        Spaces that get 2-D pictures (add ``"x_rep"`` to picture the no-superposition control
        too; its exact measures are always computed).
    other_rule : (rule, threshold), optional
        A second represented rule (:func:`supviz.toy.represented_mask`): the cells that picture x_rep and h_rep
        (``layout_spaces``, ``rep_pictured``) picture them under it too, as rows with ``rule`` = that rule. Where its
        represented set is the first rule's, its pictures are the first rule's (the same arrays, so the same jobs,
        run once; the rows are repeated); only the cells where the sets differ cost new layouts, seeded by what they
        picture (the kept features), not by the rule.
    instances : sequence of int, optional
        Only these instances of the grid (all by default).
    rep_pictured : sequence of int, optional
        The instances whose ``x_rep`` and ``h_rep`` get pictures (where ``layout_spaces`` asks for them); the others
        keep their exact measures only. Default: every instance. (The study pictures them only in the cells whose W
        stores features in superposition, the only cells where its claim reads them.)
    ring : bool, default True
        Add to :attr:`DatapointGridResult.geometry` the radial spread of the study's MDS picture
        of each cell's represented rows and of ``diag(N)`` of the same size
        (:func:`supviz.datapoints.geometry.ring_measures`, SMACOF of type ``ring_metric_type``).
    picture_seeds : int, default 1
        Independent runs of every picture (UMAP, t-SNE and MDS are randomised optimisations): the table gains
        each picture's seed mean and standard deviation of k-NN recall (``knn_recall_seed_mean``,
        ``knn_recall_seed_sd``, ``picture_seeds``); the first run is the one drawn and measured in full. Each run
        costs as much as the first (about 0.7 CPU s per cell for UMAP + t-SNE + MDS of 200 points).
    n_jobs : int, default -1
        Worker processes (-1 = all cores); results do not depend on it.
    progress : bool, default True
        A tqdm bar over the jobs.
    (other parameters as in :func:`datapoint_cell`)

    Returns
    -------
    DatapointGridResult
    """
    import pandas as pd

    n_points = check_int("n_points", n_points, min_value=3)
    k = check_int("k", k, min_value=1)
    methods = _check_methods(methods)
    controls = tuple(check_choice("controls", c, ("x", "x_rep")) for c in controls)
    layout_spaces = tuple(check_choice("layout_spaces", c, SPACES) for c in layout_spaces)
    picture_seeds = check_int("picture_seeds", picture_seeds, min_value=1)
    if other_rule is not None:
        if not isinstance(other_rule, (tuple, list)) or len(other_rule) != 2 or isinstance(other_rule[0], bool):
            raise SupvizError(f"`other_rule` must be a (rule, threshold) pair; got {other_rule!r}.")
        if other_rule[0] == represented_rule:
            raise SupvizError(
                f"`other_rule` must name a rule other than `represented_rule`; got {other_rule[0]!r} for both."
            )
    seed = as_seed_sequence(random_state, name="random_state")
    specs = list(grid.specs)
    idx = check_indices("instances", instances, len(specs), what="instance")
    if rep_pictured is None:
        rep_idx = set(idx)
    else:
        if isinstance(rep_pictured, (str, bytes, int, np.integer)):
            raise SupvizError(f"`rep_pictured` must be a sequence of instance indices; got {rep_pictured!r}.")
        rep_list = list(rep_pictured)  # none is allowed: no cell gets those pictures
        rep_idx = set(check_indices("rep_pictured", rep_list, len(specs), what="instance")) if rep_list else set()
        if rep_idx - set(idx):
            raise SupvizError(
                f"`rep_pictured` must name instances that are pictured (`instances`); got {sorted(rep_idx - set(idx))}."
            )
    no_rep = tuple(s for s in layout_spaces if s not in ("x_rep", "h_rep"))

    groups: dict[tuple[int, float], int] = {}
    samples: dict[int, SparseSample] = {}
    for i in idx:
        gkey = (int(specs[i].n_features), round(float(specs[i].probability), 12))
        if gkey not in groups:
            g = len(groups)
            groups[gkey] = g
            samples[g] = sample_inputs(gkey[0], probability=gkey[1], n_points=n_points, random_state=child(seed, 0, g))
    plans: list[_Plan] = []
    all_jobs: dict[tuple, tuple] = {}
    for i in idx:
        spec = specs[i]
        g = groups[(int(spec.n_features), round(float(spec.probability), 12))]
        bias = grid.biases[i] if getattr(grid, "biases", None) is not None else None
        W = np.asarray(grid.weights[i], dtype=np.float64)
        imp = np.asarray(spec.importance, dtype=np.float64)
        other = (
            None
            if other_rule is None
            else (str(other_rule[0]), _represented_mask(W, imp, str(other_rule[0]), float(other_rule[1])))
        )
        plan, jobs = _plan_cell(
            instance=i,
            W=W,
            bias=bias,
            importance=imp,
            sample=samples[g],
            group=g,
            methods=methods,
            controls=controls,
            include_output=include_output,
            layout_spaces=layout_spaces if i in rep_idx else no_rep,
            represented=None,
            represented_rule=represented_rule,
            represented_threshold=represented_threshold,
            seed=seed,
            picture_seeds=picture_seeds,
            other=other,
        )
        plans.append(plan)
        all_jobs.update(jobs)
    logger.info("data points: %d cells, %d jobs, %d points each", len(idx), len(all_jobs), n_points)
    results = _run_jobs(
        all_jobs,
        samples,
        method_params=_merged_params(method_params),
        k=k,
        max_pairs=max_pairs,
        seed=seed,
        mds_max_points=mds_max_points,
        n_landmarks=n_landmarks,
        n_jobs=_resolve_n_jobs(n_jobs),
        progress=progress,
        desc="data-point layouts",
    )
    cells, keys, tables, geo_rows, timing_rows = [], [], [], [], []
    for i, plan in zip(idx, plans):
        spec = specs[i]
        res = _assemble(plan, results, k)
        key = (str(spec.importance_name), int(spec.n_hidden), float(spec.probability))
        cells.append(res)
        keys.append(key)
        t = res.table()
        t.insert(0, "instance", i)
        t.insert(0, "n_features", int(spec.n_features))
        t.insert(0, "p", key[2])
        t.insert(0, "m", key[1])
        t.insert(0, "importance", key[0])
        tables.append(t)
        geo_rows.append({"importance": key[0], "m": key[1], "p": key[2], "instance": i, **res.geometry.as_dict()})
        timing_rows += [
            {"importance": key[0], "m": key[1], "p": key[2], "space": s, "method": mth, "seconds": v}
            for (s, mth), v in res.seconds.items()
        ]
    geometry = pd.DataFrame(geo_rows)
    if ring:
        rings = ring_measures(
            [grid.weights[i] for i in idx],
            [c.represented for c in cells],
            metric_type=ring_metric_type,
            random_state=child(seed, 6),
        )
        for col in rings[0]:
            geometry[col] = [r[col] for r in rings]
    return DatapointGridResult(
        table=pd.concat(tables, ignore_index=True),
        geometry=geometry,
        cells=cells,
        keys=keys,
        timings=pd.DataFrame(timing_rows),
        rule=represented_rule,
        other_rule="" if other_rule is None else str(other_rule[0]),
    )


def superposition_effect(
    table: Any,
    *,
    metrics: Sequence[str] = (
        "knn_recall",
        "trustworthiness",
        "continuity",
        "stress1_ratio",
        "shepard_rho",
        "false_neighbour_rate",
    ),
):
    """Split each measure's loss into the 2-D floor, dropped features and superposition.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`DatapointGridResult.table` (needs spaces ``x``, ``x_rep`` and ``h``) of one represented rule
        (:meth:`DatapointGridResult.rule_table`).
    metrics : sequence of str
        Measures to split.

    Returns
    -------
    pandas.DataFrame
        One row per (importance, m, p, method, metric) with ``x`` (the control's value),
        ``x_rep``, ``h``, ``dropped = x_rep - x``, ``superposition = h - x_rep`` and
        ``total = h - x``. For ``method="exact"`` the ``x`` row is ``x`` against itself (1 for the
        neighbourhood measures; its false-neighbour rate is that of the inputs' own k-NN graph).
    """
    import pandas as pd

    if "rule" in table and table["rule"][table["rule"] != ""].nunique() > 1:
        raise SupvizError(
            "`table` holds x_rep rows of two represented rules; pass one rule's rows "
            "(DatapointGridResult.rule_table())."
        )
    index = [c for c in ("importance", "m", "p") if c in table.columns] + ["method"]
    wide = table.pivot_table(index=index, columns="space", values=list(metrics), aggfunc="first", dropna=False)
    rows = []
    for metric in metrics:
        part = wide[metric].copy()
        for space in ("x", "x_rep", "h"):
            if space not in part.columns:
                part[space] = np.nan
        part = part[["x", "x_rep", "h"]].reset_index()
        part.insert(len(index), "metric", metric)
        part["dropped"] = part["x_rep"] - part["x"]
        part["superposition"] = part["h"] - part["x_rep"]
        part["total"] = part["h"] - part["x"]
        rows.append(part)
    out = pd.concat(rows, ignore_index=True)
    out.columns.name = None
    return out


def _sort_key(sm: tuple[str, str]) -> tuple[int, str, int]:
    space, rule = split_rule(sm[0])
    return (SPACES.index(space) if space in SPACES else 99, rule, _METHOD_INDEX.get(sm[1], 99))


# A grid result in a cached value (the study's section D) is a folder of its own (supviz.datapoints.storage).
register_folder_codec(
    DatapointGridResult, "supviz.datapoints.storage:save_result", "supviz.datapoints.storage:load_result"
)
