"""The whole real-network experiment in one call: :func:`digits_experiment`; and a user's own
activations: :func:`activations_report`.

:func:`digits_experiment` (section F of the study, ``supviz real``):

1. loads the digits and splits them (:mod:`supviz.real.data`);
2. trains classifiers and autoencoders over the widths and replicates as one batched job
   (:mod:`supviz.real.models`);
3. trains SAEs on the hidden layer of replicate 0 of every (kind, width), per architecture, and
   measures them on the held-out rows (:mod:`supviz.real.layer`);
4. calibrates the same measures on toy cells, when a toy grid is given (:mod:`supviz.real.calibration`);
5. pictures the pixels, the hidden layers and their SAE codes (held-out rows) with MDS, UMAP and
   t-SNE and measures every space and every picture (:mod:`supviz.real.measures`).

Pictures are computed by a ``layouts`` callable (default: :func:`supviz.dr.embed`, one after
another; the study passes its cached, parallel one) with the data-point defaults of
:data:`supviz.datapoints.layouts.DEFAULT_PARAMS`, the settings of section D.

Seeds (all from the caller's ``seed``): the split ``child(seed, 0)``, models ``child(seed, 1)``
(:func:`~supviz.real.models.model_seed` below it), SAEs ``child(seed, 2, a)`` for architecture
``a``, calibration ``child(seed, 3, a)``, picture of space ``s`` by method ``m``
``int_seed(child(seed, 4, crc32(s), crc32(m)))``, k-NN folds ``child(seed, 5)``.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supviz.core.seeding import SeedLike, child, int_seed
from supviz.errors import SupvizError
from supviz.real.config import RealConfig
from supviz.real.layer import QUALITY_KEYS, SAESettings
from supviz.runtime.codecs import cacheable

log = logging.getLogger(__name__)

#: A picture to compute: (points [N, d], method, params, int seed) -> a supviz.dr.Layout.
LayoutTask = tuple[np.ndarray, str, dict[str, Any], int]
LayoutRunner = Callable[[list[LayoutTask]], list[Any]]


def embed_all(tasks: list[LayoutTask]) -> list[Any]:
    """The default :data:`LayoutRunner`: :func:`supviz.dr.embed` of each task, in order."""
    from supviz import dr

    return [dr.embed(X, method, random_state=seed, **params) for X, method, params, seed in tasks]


@cacheable
@dataclass(eq=False)
class RealResult:
    """Everything section F shows, as tidy tables plus the F1 pictures.

    Attributes
    ----------
    config : dict
        The resolved :class:`RealConfig`.
    data : dict
        The digits split (sizes, split seed, source).
    models : pandas.DataFrame
        One row per model: ``kind, width, replicate, test_accuracy, test_fvu, final_loss``.
    quality : pandas.DataFrame
        One row per (architecture, kind, width): the SAE measures of
        :data:`~supviz.real.layer.QUALITY_KEYS`, ``d_sae`` and ``notes``.
    spaces : pandas.DataFrame
        One row per space (pixels, a hidden layer, its SAE codes): ``knn_accuracy, silhouette``.
    pictures : pandas.DataFrame
        One row per picture: the space's columns, ``method``, :data:`~supviz.real.measures.PICTURE_KEYS`,
        ``collapsed``, ``notes``.
    calibration, correlations, readings : pandas.DataFrame
        The toy cells' measures and true MMCS; rank correlations per (architecture, target,
        measure); each digits layer's measures read through the cells (estimated MMCS). Empty
        when no toy grid was given.
    f1 : dict
        The pictures at the picture width: ``labels [N]``, ``rows`` (space ids in drawing order),
        ``titles``, ``embeddings`` (``"<space>|<method>" -> [N, 2]``), ``trust`` (the same keys -> each point's
        trust against the space pictured: ``{"columns": name -> [N], "reason": str}``), ``methods``.
    notes : list[str]
    timings : dict[str, float]
    """

    config: dict[str, Any]
    data: dict[str, Any]
    models: Any
    quality: Any
    spaces: Any
    pictures: Any
    calibration: Any
    correlations: Any
    readings: Any
    f1: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def _space_id(kind: str, width: int, space: str, arch: str = "") -> str:
    if kind == "pixels":
        return "pixels"
    return f"{kind} w={width} {space}" + (f" ({arch})" if arch else "")


def digits_experiment(
    config: RealConfig | None = None,
    *,
    seed: SeedLike = 0,
    grid: Any = None,
    layouts: LayoutRunner | None = None,
    threads: int = 0,
) -> RealResult:
    """Run the real-network experiment (see the module docstring).

    Parameters
    ----------
    config : RealConfig, optional
        Default ``RealConfig()``; ``full = True`` runs its full sweep (:meth:`RealConfig.resolved`).
    seed : int, Generator, SeedSequence or None
    grid : TrainedGrid, optional
        Toy models for the calibration (the study passes its section-2 grid); its cells with
        ``m`` in ``calibration_hidden`` (all if empty) and a known feature probability are used.
        Without it the calibration tables are empty (and a note says so).
    layouts : callable, optional
        Computes a list of :data:`LayoutTask` (default :func:`embed_all`).
    threads : int
        Worker threads for the models and SAEs (0 = one per CPU).

    Returns
    -------
    RealResult
    """
    import pandas as pd

    from supviz.datapoints.layouts import DEFAULT_PARAMS
    from supviz.real.data import load_digits_split
    from supviz.real.measures import picture_measures, space_measures

    cfg = (RealConfig() if config is None else config).resolved()
    if not isinstance(cfg, RealConfig):
        raise SupvizError(f"`config` must be a RealConfig; got {type(config).__name__}.")
    layouts = embed_all if layouts is None else layouts
    timings: dict[str, float] = {}
    notes: list[str] = []
    digits = load_digits_split(test_fraction=cfg.test_fraction, seed=child(seed, 0))
    kinds = [("classifier", w) for w in cfg.widths] + [("autoencoder", w) for w in cfg.autoencoder_widths]
    cal_idx = _calibration_cells(cfg, grid, notes)
    parts: list[tuple[str, tuple]] = [("models", (cfg, digits, kinds, seed, threads))]
    if cal_idx:
        parts.append(("calibration", (cfg, grid, cal_idx, seed, threads, len(digits.train), len(digits.test))))
    done_parts = _run_parts(parts)
    trained, hidden, layer_saes, quality_rows, part_timings = done_parts[0]
    timings.update(part_timings)
    quality = pd.DataFrame(quality_rows)
    t2 = time.perf_counter()
    if cal_idx:
        cals, timings["calibration"] = done_parts[1]
        calibration, correlations, readings = _calibration_tables(cfg, cals, quality)
    else:
        empty = pd.DataFrame()
        calibration, correlations, readings = empty, empty, empty
        timings["calibration"] = time.perf_counter() - t2

    # spaces and pictures
    t3 = time.perf_counter()
    primary = cfg.architectures[0]
    y = digits.y_test
    spaces: dict[str, tuple[dict[str, Any], np.ndarray]] = {
        "pixels": ({"kind": "pixels", "width": 0, "space": "pixels", "architecture": ""}, digits.X_test)
    }
    for kind, w in kinds:
        spaces[_space_id(kind, w, "hidden")] = (
            {"kind": kind, "width": w, "space": "hidden", "architecture": ""},
            hidden[(kind, w)][1],
        )
        for arch in cfg.architectures:
            spaces[_space_id(kind, w, "codes", arch)] = (
                {"kind": kind, "width": w, "space": "codes", "architecture": arch},
                layer_saes[arch][(kind, w)].codes,
            )
    folds_seed = child(seed, 5)
    space_rows = []
    with _one_thread():
        for sid, (ident, X) in spaces.items():
            ms = space_measures(X, y, reference=digits.X_test, k=cfg.k, folds=cfg.folds, seed=folds_seed)
            space_rows.append({**ident, "id": sid, "dim": int(X.shape[1]), **dict(ms), "notes": ms.reason_text()})
    # which spaces get which pictures
    f1_rows = ["pixels"]
    for kind in ("classifier", "autoencoder"):
        if (kind, cfg.picture_width) in hidden:
            f1_rows += [
                _space_id(kind, cfg.picture_width, "hidden"),
                _space_id(kind, cfg.picture_width, "codes", primary),
            ]
    wanted: dict[tuple[str, str], None] = {}
    for sid in f1_rows:
        for m in cfg.methods:
            wanted[(sid, m)] = None
    for m in cfg.sweep_methods:
        wanted[("pixels", m)] = None
        for kind, w in kinds:
            wanted[(_space_id(kind, w, "hidden"), m)] = None
            wanted[(_space_id(kind, w, "codes", primary), m)] = None
    keys = list(wanted)
    tasks = [
        (
            spaces[sid][1],
            m,
            dict(DEFAULT_PARAMS[m]),
            int_seed(child(seed, 4, zlib.crc32(sid.encode()), zlib.crc32(m.encode()))),
        )
        for sid, m in keys
    ]
    done_layouts = layouts(tasks)
    timings["layouts"] = time.perf_counter() - t3
    t4 = time.perf_counter()
    picture_rows = []
    embeddings, trust = {}, {}
    with _one_thread():
        for (sid, m), lay in zip(keys, done_layouts):
            ident, X = spaces[sid]
            pm = picture_measures(X, lay, y, reference=digits.X_test, k=cfg.k, folds=cfg.folds, seed=folds_seed)
            picture_rows.append(
                {
                    **ident,
                    "id": sid,
                    "method": m,
                    **dict(pm),
                    "collapsed": bool(lay.info.get("collapsed", False)),
                    "notes": "; ".join([pm.reason_text(), *lay.notes]).strip("; "),
                }
            )
            if sid in f1_rows and m in cfg.methods:
                embeddings[f"{sid}|{m}"] = np.asarray(lay.embedding, dtype=np.float64)
                trust[f"{sid}|{m}"] = _point_trust(X, lay, cfg.k)
    timings["measures"] = time.perf_counter() - t4
    titles = {sid: _title(sid, cfg) for sid in f1_rows}
    f1 = {
        "labels": y,
        "rows": f1_rows,
        "titles": [titles[s] for s in f1_rows],
        "embeddings": embeddings,
        "trust": trust,
        "methods": list(cfg.methods),
        "width": cfg.picture_width,
        "architecture": primary,
    }
    info = {
        **digits.info,
        "split_seed": digits.split_seed,
        "test_fraction": digits.test_fraction,
        "model_seconds": trained.info["wall_seconds"],
        "recipes": trained.info["recipes"],
    }
    return RealResult(
        cfg.to_dict(),
        info,
        trained.to_frame(),
        quality,
        pd.DataFrame(space_rows),
        pd.DataFrame(picture_rows),
        calibration,
        correlations,
        readings,
        f1,
        notes,
        {k: round(v, 3) for k, v in timings.items()},
    )


def _point_trust(X: Any, layout: Any, k: int) -> dict[str, Any]:
    """Each point's trust in one F1 picture against the space it pictures (:func:`supviz.metrics.pointwise_trust`):
    ``{"columns": name -> (N,), "reason": why undefined or ''}``; NaN at every point with the reason where ``k``
    leaves no point outside a neighbourhood, the picture collapsed or the distances all tie."""
    from supviz.metrics.pointwise import panel_point_trust

    pt = panel_point_trust(np.asarray(X, dtype=np.float64), layout, k=k)
    return {"columns": pt.columns(), "reason": next(iter(pt.reasons.values()), "")}


def f1_points(f1: dict[str, Any]) -> Any:
    """The tidy point table of F1's pictures: one row per point per picture (``space`` id, ``method``, ``point``,
    ``label`` its digit class, ``x``, ``y``, its trust columns, ``nan_reasons`` where they are undefined), what
    ``supviz real`` writes as ``points.csv`` (open it in Embedding Atlas or DataMapPlot). Empty for a result made
    before ``f1["trust"]`` existed."""
    import pandas as pd

    labels = np.asarray(f1["labels"])
    frames = []
    for key, t in f1.get("trust", {}).items():
        sid, method = key.split("|")
        xy = np.asarray(f1["embeddings"][key], dtype=float)
        cols = {name: np.asarray(v, dtype=float) for name, v in t["columns"].items()}
        why = "; ".join(f"{name}: {t['reason']}" for name in cols) if t["reason"] else ""
        frames.append(
            pd.DataFrame(
                {
                    "space": sid,
                    "method": method,
                    "point": np.arange(len(xy)),
                    "label": labels,
                    "x": xy[:, 0],
                    "y": xy[:, 1],
                    **cols,
                    "nan_reasons": why,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _one_thread() -> Any:
    """The measures with one BLAS / OpenMP thread: scikit-learn's k-NN reductions spin on OpenMP
    barriers on a busy machine (5x slower on two loaded cores); the values do not change."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _settings(cfg: RealConfig, arch: str) -> SAESettings:
    return SAESettings(
        architecture=arch,
        expansion_factor=cfg.sae_expansion,
        larger_factor=cfg.sae_larger,
        seeds=cfg.sae_seeds,
        steps=cfg.sae_steps,
        batch_size=cfg.sae_batch_size,
        options=dict(cfg.sae_options.get(arch, {})),
    )


def _title(sid: str, cfg: RealConfig) -> str:
    if sid == "pixels":
        return "pixels x (64-d, the control)"
    kind, rest = sid.split(" ", 1)
    w = cfg.picture_width
    if "codes" in rest:
        from supviz.sae.config import ARCHITECTURE_NAMES  # the architecture as its paper names it

        arch = ARCHITECTURE_NAMES.get(cfg.architectures[0], cfg.architectures[0])
        return f"{kind} SAE codes f(h) ({arch}, {int(cfg.sae_expansion * w)} latents)"
    return f"{kind} hidden layer h ({w}-d)"


def _run_parts(parts: list[tuple[str, tuple]]) -> list[Any]:
    """Run the models-and-SAEs part and the calibration part: side by side as tasks of the dispatcher
    in force when it has two or more workers (each part's SAE and model engines hold the GIL most
    of the time, so one part keeps about one core busy), else here one after the other. Each part
    runs on one BLAS thread either way (:func:`_part`), so the results are the same bits."""
    from supviz.runtime.dispatch import current

    dispatcher = current()
    if len(parts) < 2 or dispatcher.workers < 2:
        return [_part(name, args) for name, args in parts]
    out: list[Any] = [None] * len(parts)
    tasks = dispatcher.map(_part, parts, desc="digits models / calibration", n_jobs=len(parts))
    for i, value in tasks:
        out[i] = value
    return out


def _part(name: str, args: tuple) -> Any:
    """One part of :func:`digits_experiment` (a task of :func:`_run_parts`), on one BLAS thread."""
    from supviz.runtime.products import single_threaded

    with single_threaded():
        return _models_and_saes(*args) if name == "models" else _calibrate_all(*args)


def _models_and_saes(
    cfg: RealConfig, digits: Any, kinds: list[tuple[str, int]], seed: SeedLike, threads: int
) -> tuple[Any, dict, dict, list[dict[str, Any]], dict[str, float]]:
    """Train the digits models, then SAEs on the hidden layers (replicate 0), per architecture."""
    from supviz.real.layer import train_layer_saes
    from supviz.real.models import ModelSpec, Recipe, train_models

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    specs = [ModelSpec("classifier", w, r) for w in cfg.widths for r in range(cfg.replicates)]
    specs += [ModelSpec("autoencoder", w, r) for w in cfg.autoencoder_widths for r in range(cfg.replicates)]
    recipe = Recipe(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr)
    trained = train_models(
        specs,
        digits.X_train,
        digits.y_train,
        X_test=digits.X_test,
        y_test=digits.y_test,
        recipes={"classifier": recipe, "autoencoder": recipe},
        seed=child(seed, 1),
        threads=threads,
    )
    timings["models"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    hidden = {}
    for kind, w in kinds:
        m = trained.get(kind, w, 0)
        hidden[(kind, w)] = (m.hidden(digits.X_train), m.hidden(digits.X_test))
    layer_saes: dict[str, dict[tuple[str, int], Any]] = {}
    quality_rows = []
    for a, arch in enumerate(cfg.architectures):
        settings = _settings(cfg, arch)
        done = train_layer_saes(
            [(f"{k} w={w}", *hidden[(k, w)]) for k, w in kinds], settings, seed=child(seed, 2, a), threads=threads
        )
        layer_saes[arch] = {kw: lay for kw, lay in zip(kinds, done)}
        for (kind, w), lay in zip(kinds, done):
            quality_rows.append(
                {
                    "architecture": arch,
                    "kind": kind,
                    "width": w,
                    "d_sae": lay.info["d_sae"],
                    **{q: lay.quality[q] for q in QUALITY_KEYS},
                    "notes": lay.quality.reason_text(),
                }
            )
    timings["saes"] = time.perf_counter() - t1
    return trained, hidden, layer_saes, quality_rows, timings


def _calibration_cells(cfg: RealConfig, grid: Any, notes: list[str]) -> list[int]:
    """The toy cells the calibration uses (empty: no calibration; ``notes`` say why)."""
    if grid is None:
        notes.append("no toy grid given: the calibration bridge was not run.")
        return []
    hidden = set(cfg.calibration_hidden)
    known = [i for i, s in enumerate(grid.specs) if s.probability is not None]
    skipped = len(grid.specs) - len(known)
    if skipped:
        notes.append(f"{skipped} toy cell(s) of unknown feature probability left out of the calibration.")
    idx = [i for i in known if not hidden or grid.specs[i].n_hidden in hidden]
    if hidden and not idx:
        notes.append(
            f"no toy cell has m in `real.calibration_hidden` {sorted(hidden)}; the calibration uses every cell "
            f"({len(known)})."
        )
        idx = known
    if len(idx) < 3:
        notes.append(f"{len(idx)} toy cell(s) of known feature probability: too few to calibrate (3 needed).")
        return []
    return idx


def _calibrate_all(
    cfg: RealConfig, grid: Any, idx: list[int], seed: SeedLike, threads: int, n_train: int, n_eval: int
) -> tuple[list[Any], float]:
    """The calibration of every architecture on the toy cells ``idx`` (the expensive part: its SAEs)."""
    from supviz.real.calibration import calibrate

    t0 = time.perf_counter()
    cals = [
        calibrate(
            grid,
            idx,
            settings=_settings(cfg, arch),
            n_train=n_train,
            n_eval=n_eval,
            seed=child(seed, 3, a),
            threads=threads,
        )
        for a, arch in enumerate(cfg.architectures)
    ]
    return cals, time.perf_counter() - t0


def _calibration_tables(cfg: RealConfig, cals: list[Any], quality: Any) -> tuple[Any, Any, Any]:
    """The calibration tables, the pooled correlations and the digits layers read through the cells of their
    matching hidden size (:func:`supviz.real.calibration.read_layers`)."""
    import pandas as pd

    from supviz.real.calibration import rank_correlations, read_layers

    tables, corrs = [], []
    for arch, cal in zip(cfg.architectures, cals):
        t = cal.table.copy()
        t.insert(0, "architecture", arch)
        tables.append(t)
        c = cal.correlations.copy()
        c.insert(0, "target", "mmcs")
        c.insert(0, "architecture", arch)
        count = rank_correlations(cal.table, target="n_represented", measures=("effective_features",))
        count.insert(0, "target", "n_represented")
        count.insert(0, "architecture", arch)
        corrs += [c, count]
    table = pd.concat(tables, ignore_index=True)
    return table, pd.concat(corrs, ignore_index=True), read_layers(table, quality)


# -- a user's own activations -------------------------------------------------------------------


@dataclass(eq=False)
class ActivationsReport:
    """SAEs on a user's activations, and pictures of the activations and of the SAE codes, measured.

    Attributes
    ----------
    quality : pandas.DataFrame
        One row per architecture: :data:`~supviz.real.layer.QUALITY_KEYS` (in-sample: the SAEs are
        trained and measured on the same rows), ``d_sae``, ``notes``.
    spaces : pandas.DataFrame
        k-NN label accuracy and silhouette of the activations, the SAE codes and the reference.
    pictures : pandas.DataFrame
        One row per (space, method): :data:`~supviz.real.measures.PICTURE_KEYS` (``*_pixels``: against the
        ``reference`` given, NaN with a reason without one; the name is the digits tables').
    layouts : dict
        ``"<space>|<method>" -> Layout``.
    codes : dict
        ``architecture -> codes [N, d_sae]``.
    """

    quality: Any
    spaces: Any
    pictures: Any
    layouts: dict[str, Any]
    codes: dict[str, np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)


def activations_report(
    H: Any,
    labels: Any = None,
    *,
    reference: Any = None,
    config: RealConfig | None = None,
    seed: SeedLike = 0,
    layouts: LayoutRunner | None = None,
    threads: int = 0,
) -> ActivationsReport:
    """Picture and measure any activations ``H [N, d]``, raw and through SAEs (``config.architectures``).

    Parameters
    ----------
    H : array-like [N, d]
        Activations (numpy or torch), finite.
    labels : array-like [N], optional
        Classes for k-NN label accuracy and silhouette (NaN with a reason without them).
    reference : array-like [N, d_ref], optional
        The inputs ``H`` was computed from: trustworthiness / continuity against them too.
    config : RealConfig, optional
        Uses ``architectures``, the ``sae_*`` settings, ``methods``, ``k``, ``folds``.
    seed, layouts, threads :
        As in :func:`digits_experiment`.

    Returns
    -------
    ActivationsReport

    Raises
    ------
    SupvizError
        ``H`` not a finite ``[N, d]`` array with N >= 4, labels or reference of another length.
    """
    import pandas as pd

    from supviz.core.validation import check_array
    from supviz.datapoints.layouts import DEFAULT_PARAMS
    from supviz.real.layer import train_layer_saes
    from supviz.real.measures import check_labels, picture_measures, space_measures

    cfg = RealConfig() if config is None else config
    layouts = embed_all if layouts is None else layouts
    X = check_array("activations", H, ndim=2, dtype=np.float32)
    if X.shape[0] < 4 or X.shape[1] < 1:
        raise SupvizError(f"`activations` must be [N, d] with N >= 4 rows and d >= 1; got shape {list(X.shape)}.")
    y = None if labels is None else check_labels(labels, len(X))
    R = None
    if reference is not None:
        R = check_array("reference", reference, ndim=2)
        if len(R) != len(X):
            raise SupvizError(f"`reference` must hold one row per activation row ({len(X)}); got {len(R)}.")
    quality_rows, codes = [], {}
    for a, arch in enumerate(cfg.architectures):
        lay = train_layer_saes([("activations", X, X)], _settings(cfg, arch), seed=child(seed, 2, a), threads=threads)[
            0
        ]
        codes[arch] = lay.codes
        quality_rows.append(
            {
                "architecture": arch,
                "d_sae": lay.info["d_sae"],
                **dict(lay.quality),
                "notes": "; ".join(
                    ["in-sample (trained and measured on the same rows)", lay.quality.reason_text()]
                ).strip("; "),
            }
        )
    spaces = {"activations": X, **{f"codes ({a})": c for a, c in codes.items()}}
    if R is not None:
        spaces = {"reference": R, **spaces}
    folds_seed = child(seed, 5)
    space_rows = []
    with _one_thread():
        for sid, S in spaces.items():
            ms = space_measures(S, y, reference=R, k=cfg.k, folds=cfg.folds, seed=folds_seed)
            space_rows.append({"space": sid, "dim": int(S.shape[1]), **dict(ms), "notes": ms.reason_text()})
    keys = [(sid, m) for sid in spaces for m in cfg.methods]
    tasks = [
        (
            np.asarray(spaces[sid], dtype=np.float64),
            m,
            dict(DEFAULT_PARAMS[m]),
            int_seed(child(seed, 4, zlib.crc32(sid.encode()), zlib.crc32(m.encode()))),
        )
        for sid, m in keys
    ]
    done = layouts(tasks)
    rows, lays = [], {}
    with _one_thread():
        for (sid, m), lay in zip(keys, done):
            pm = picture_measures(spaces[sid], lay, y, reference=R, k=cfg.k, folds=cfg.folds, seed=folds_seed)
            rows.append(
                {
                    "space": sid,
                    "method": m,
                    **dict(pm),
                    "collapsed": bool(lay.info.get("collapsed", False)),
                    "notes": "; ".join([pm.reason_text(), *lay.notes]).strip("; "),
                }
            )
            lays[f"{sid}|{m}"] = lay
    info = {
        "n": int(len(X)),
        "d": int(X.shape[1]),
        "labels": y is not None,
        "reference": R is not None,
        "config": cfg.to_dict(),
    }
    return ActivationsReport(
        pd.DataFrame(quality_rows), pd.DataFrame(space_rows), pd.DataFrame(rows), lays, codes, info
    )
