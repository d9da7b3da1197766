"""``supviz run``: the study's stages, with progress, timings and a run record.

Stages, in order:

1. ``weights``: the section-2 weights, trained (cached) or loaded (only when a section needs them);
2. ``compute <section>`` for every registered section (:data:`supviz.study.registry.SECTIONS`), after
   the sections it needs (:attr:`~supviz.study.section.Section.needs`; their results in ``ctx.computed``);
3. ``figures <section>`` for every section (cached per figure);
4. ``table``: the tidy tables, one per kind of observation (:mod:`supviz.study.tables`; Parquet + CSV);
5. ``report``: the self-contained HTML report.

Before any of them, :func:`check_study` checks every input (the config and each section's view of
it, the weights file, the run folder, the cache folder); a bad one is one ``SupvizError`` line and
nothing is created. ``supviz config FILE`` runs the same function.

Every expensive step is cached (:mod:`supviz.runtime.cache`); a whole section's computed result is
also cached under a key of its config, so a warm rerun loads one entry per section. The run folder
gets ``run.json`` (config, seeds, versions, platform, per-stage timings, cache traffic),
``config.toml``, ``timings.json``, the section-2 grid as a ``supviz train`` run
(``weights.safetensors`` + ``metadata.json``: ``supviz inspect OUT`` and ``load_grid(OUT)`` read
it) and ``manifest.json``, the list of files this run wrote. A run folder holds one run: the files
of a previous run there that this one does not write are removed (only files its manifest lists),
and a non-empty folder that is not a run folder is refused.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supviz import __version__
from supviz.core.io import atomic_write_json, atomic_write_text, sweep_temporaries
from supviz.core.outdir import (
    OutputLog,
    check_output_folder,
    check_subfolders_writable,
    is_study_folder_or_results,
    previous_files,
)
from supviz.errors import SupvizError
from supviz.report.records import SectionOutput
from supviz.runtime.cache import Cache
from supviz.runtime.progress import Progress, StageTime
from supviz.study.config import StudyConfig, dump_config
from supviz.study.context import RunContext
from supviz.study.registry import SECTIONS, get_section
from supviz.study.section import Section

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run produced."""

    out: Path
    report: Path
    table: dict[str, Path]
    figures: list[str]
    stages: list[StageTime]
    total_seconds: float
    cache_hits: int
    cache_misses: int
    sections: list[SectionOutput] = field(default_factory=list)


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": sys.version.split()[0], "supviz": __version__}
    for pkg in ("numpy", "scipy", "torch", "scikit-learn", "umap-learn", "openTSNE", "matplotlib", "plotly", "pandas"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover
            out[pkg] = "absent"
    return out


@dataclass
class RunPlan:
    """What :func:`check_study` checked: everything a run needs before it writes anything."""

    config: StudyConfig
    out: Path | None
    cache_root: Path | None
    weights_file: str | None
    """The supplied weights (``--weights`` or ``weights.file``), or None to train."""
    weights: Any = None
    """The supplied weights, loaded (a ``TrainedGrid``), so the run reads the file once."""
    previous_files: list[str] = field(default_factory=list)
    """Files an earlier run in ``out`` wrote (its manifest)."""


def with_needs(sections: list[Section]) -> list[Section]:
    """``sections`` with the sections they need (:attr:`Section.needs`) before them, each once."""
    out: list[Section] = []

    def add(section: Section) -> None:
        for key in section.needs:
            add(get_section(key))
        if all(s.key != section.key for s in out):
            out.append(section)

    for s in sections:
        add(s)
    return out


def check_study(
    config: StudyConfig,
    *,
    out: str | Path | None = None,
    weights_file: str | None = None,
    use_cache: bool = True,
    sections: list[Section] | None = None,
) -> RunPlan:
    """Check every input of a run before anything is computed or written; create nothing.

    ``supviz run`` calls it first (through :func:`run_study`) and ``supviz config FILE`` calls it
    with ``out=None``, so the two accept and refuse the same configs.

    Checked: each section's view of the config (:meth:`Section.check`, e.g. the background models'
    training configs); ``toy.device`` (CUDA present, the GPU index there); the weights file, loaded
    in full (missing, a folder that is not a run, a link loop, a truncated or pickled array file, NaN
    values, an unknown format, rows that do not make one grid) and what each section needs of it
    (:meth:`Section.check_grid`, e.g. a cell of known feature probability); the run folder ``out``
    (a file, under a file, not writable, a non-empty folder that is not a ``supviz run`` folder, or
    one whose existing subfolders such as ``figures/`` are not writable);
    the cache folder ``run.cache_dir`` (or ``<out>/cache``: a file, under a file, not writable).

    Raises
    ------
    SupvizError
        The first problem found, in one line naming the option or TOML key.
    """
    todo = [s for s in (list(SECTIONS) if sections is None else list(sections)) if s.active(config)]
    path = weights_file or config.weights.file or None
    if not path and any(s.needs_grid for s in todo):  # the run trains the grid: it must fit this machine
        from supviz.toy.train import check_training_fits

        check_training_fits(config.train_config(), prefix="toy.")
    for section in todo:
        section.check(config)
    check_toy_device(config)
    grid = None
    if path and any(s.needs_grid for s in todo):
        grid = _load_supplied(path, "--weights" if weights_file else "weights.file")
        for section in todo:
            if section.needs_grid:
                section.check_grid(config, grid, "--weights" if weights_file else "weights.file")
    out_path = None if out is None else Path(out)
    previous: list[str] = []
    if out_path is not None:
        check_output_folder(
            out_path,
            name="--out",
            accept=is_study_folder_or_results,
            what="a `supviz run` folder (or one holding only `supviz train`, `sae` or `real` outputs in train/, sae/, "
            "real/)",
        )
        previous = previous_files(out_path)
    cache_root = None
    if use_cache:
        if config.run.cache_dir:
            cache_root = check_output_folder(config.run.cache_dir, name="run.cache_dir")
        elif out_path is not None:
            cache_root = check_output_folder(out_path / "cache", name="run.cache_dir")
    if out_path is not None:  # a rerun writes into figures/ and the other folders already there
        check_subfolders_writable(out_path, name="--out", skip=[out_path / "cache"])
    return RunPlan(
        config=config, out=out_path, cache_root=cache_root, weights_file=path, weights=grid, previous_files=previous
    )


def check_toy_device(config: StudyConfig) -> None:
    """``toy.device`` must be usable here (CUDA present, the GPU index there): the toy models train on it."""
    import re

    from supviz.toy.train import resolve_engine

    if config.toy.device == "cpu":
        return
    try:
        resolve_engine(config.toy)
    except SupvizError as exc:
        raise SupvizError(re.sub(r"^`", "`toy.", str(exc), count=1)) from None


def _load_supplied(path: str, name: str) -> Any:
    from supviz.study.adapters import load_weights

    try:
        return load_weights(path)
    except SupvizError as exc:
        msg = str(exc)
        if msg.startswith("`path`"):
            msg = f"`{name}`" + msg[len("`path`") :]
        elif not msg.startswith("`"):
            msg = f"`{name}` {msg}"
        raise SupvizError(msg) from None


def run_study(
    config: StudyConfig,
    out: str | Path,
    *,
    weights_file: str | None = None,
    quiet: bool = False,
    announce: Callable[[str], None] | None = None,
    use_cache: bool = True,
    sections: list[Section] | None = None,
    bars: bool | None = None,
) -> RunResult:
    """Run the study described by ``config`` into the folder ``out``.

    Parameters
    ----------
    config
        The study (see :mod:`supviz.study.config`).
    out
        Run folder; created if missing; an earlier run there is replaced file by file (a non-empty
        folder of anything else is refused). Figures go to ``out/figures``, the tables to
        ``out/<table>.{parquet,csv}`` (one table per kind of observation:
        :data:`supviz.study.tables.KINDS`), the report to ``out/report.html``, the section-2 grid to
        ``out/weights.safetensors`` + ``out/metadata.json``, the list of all of them to
        ``out/manifest.json``.
    weights_file
        Analyse these weights in section 2 instead of training (overrides ``weights.file``).

    The units of work run where ``run.scheduler`` says (:mod:`supviz.runtime.cluster`): local worker
    processes, or a Dask cluster reached before anything is written.
    quiet
        No stage lines and no progress bars.
    announce
        Receives the stage lines (the CLI prints them to stderr); default: logged at INFO.
    use_cache
        ``False`` recomputes everything (nothing is read from or written to the cache).
    sections
        The sections to run (default: all registered, in order).
    bars
        Draw progress bars; default: only when stderr is a terminal.

    Raises
    ------
    SupvizError
        A bad input (:func:`check_study`), before anything is written; or a failed computation
        (e.g. :class:`supviz.toy.train.TrainingDiverged`), after which the folder's manifest stays
        marked incomplete.
    """
    t_start = time.perf_counter()
    todo = [s for s in (list(SECTIONS) if sections is None else list(sections)) if s.active(config)]
    path = weights_file or config.weights.file or None
    if not path and any(s.needs_grid for s in todo):  # the run trains the grid: it must fit this machine
        from supviz.toy.train import check_training_fits

        check_training_fits(config.train_config(), prefix="toy.")
    plan = check_study(config, out=out, weights_file=weights_file, use_cache=use_cache, sections=with_needs(todo))
    out = Path(out)
    progress = Progress(quiet=quiet, announce=announce, bars=bars)
    cache = Cache(plan.cache_root or out / "cache", enabled=use_cache)
    from supviz.runtime.cluster import dispatcher_for
    from supviz.runtime.dispatch import use

    # a cluster is reached (and its view of the cache folder checked: figures are drawn into it even
    # without a cache) before anything is written
    with (
        dispatcher_for(
            config.run.scheduler, n_jobs=config.run.n_jobs, cache_root=cache.root, memo=cache, progress=progress.tasks
        ) as dispatcher,
        use(dispatcher),
    ):
        if config.run.scheduler and not quiet:
            progress.announce(f"[supviz] Dask cluster {config.run.scheduler}: {dispatcher.workers} worker threads")
        return _run_planned(
            plan, out, todo, cache, progress, dispatcher, t_start, weights_file=weights_file, use_cache=use_cache
        )


def _run_planned(
    plan: RunPlan,
    out: Path,
    todo: list[Section],
    cache: Cache,
    progress: Progress,
    dispatcher: Any,
    t_start: float,
    *,
    weights_file: str | None,
    use_cache: bool,
) -> RunResult:
    config = plan.config
    out.mkdir(parents=True, exist_ok=True)
    for depth in (0, 1):  # temporaries of a killed run in out/ and out/figures/ (pid-tagged ones only)
        sweep_temporaries(out, depth=depth, untagged=False)
    written = OutputLog(out, command="run", previous=plan.previous_files)
    if use_cache:
        cache.sweep()
    ctx = RunContext(
        config=config,
        out=out,
        cache=cache,
        progress=progress,
        weights_file=weights_file,
        outputs=written,
        supplied_grid=plan.weights,
        dispatcher=dispatcher,
    )
    written.claim("config.toml")
    atomic_write_text(out / "config.toml", dump_config(config))

    grid_key = ""
    computed = with_needs(todo)
    if any(s.needs_grid for s in computed):
        with progress.stage("weights" if plan.weights_file else "train toy models", cache):
            grid, grid_key = ctx.grid()
            _write_grid(grid, written)

    for section in computed:  # a section another one needs first, whether or not it is rendered
        with progress.stage(f"compute {section.key}", cache):
            params = {
                "section": section.key,
                "config": config.to_dict(),
                "grid": grid_key if section.needs_grid else "",
                **section.key_parts(config),
            }
            # figures/run settings do not change what a section computes
            params["config"].pop("figures", None)
            params["config"].pop("run", None)
            ctx.computing = section
            try:
                ctx.computed[section.key], _ = cache.get_or_compute("section", params, lambda s=section: s.compute(ctx))
            finally:
                ctx.computing = None

    outputs: list[SectionOutput] = []
    ctx.rendering = True
    for section in todo:
        with progress.stage(f"figures {section.key}", cache):
            outputs.append(section.render(ctx, ctx.computed[section.key]))
            ctx.rendered[section.key] = outputs[-1]
            ctx.flush_figures()

    from supviz.study.sources import source_for
    from supviz.study.tables import build_tables, table_files, write_tables

    for o in outputs:  # every "The study says" cell names where the study says it, or that it does not
        for f in o.findings:
            f.source = f.source or source_for(f.key)

    with progress.stage("table", cache):
        tables = build_tables(outputs)
        written.claim(*table_files(tables))
        table_paths = write_tables(tables, out)

    with progress.stage("report", cache):
        from supviz.report import build_report
        from supviz.study.conclusion import conclude

        conclusion = conclude(
            tables,
            [f for o in outputs for f in o.findings],
            rule=config.represented.rule,
            figure_ids={f.id for o in outputs for f in o.figures},
        )
        meta = _run_meta(ctx, progress.stages, time.perf_counter() - t_start)
        written.claim("report.html")
        report = build_report(outputs, out / "report.html", meta=meta, conclusion=conclusion, tables=list(tables))

    total = time.perf_counter() - t_start
    meta = _run_meta(ctx, progress.stages, total)
    written.claim("run.json", "timings.json")
    atomic_write_json(out / "run.json", meta)
    atomic_write_json(
        out / "timings.json", {"total_seconds": total, "stages": [dataclasses.asdict(s) for s in progress.stages]}
    )
    _make_readable(out)
    removed = written.finish({"supviz_version": __version__})
    if removed:
        log.info("removed %d files of the previous run in %s: %s", len(removed), out, ", ".join(removed[:5]))
    return RunResult(
        out=out,
        report=report,
        table=table_paths,
        figures=[f.id for o in outputs for f in o.figures],
        stages=progress.stages,
        total_seconds=total,
        cache_hits=cache.stats.total_hits,
        cache_misses=cache.stats.total_misses,
        sections=outputs,
    )


def _write_grid(grid: Any, written: OutputLog) -> None:
    """The section-2 grid into the run folder as a ``supviz train`` run (``supviz inspect OUT`` reads it)."""
    from supviz.toy.storage import METADATA_FILE, WEIGHTS_FILE, write_grid_files

    written.claim(WEIGHTS_FILE, METADATA_FILE)
    write_grid_files(grid, written.folder)


def _make_readable(out: Path) -> None:
    """Atomic writes create 0600 files; the run's outputs are meant to be shared (0644)."""
    import os
    import stat

    for path in [*out.glob("*"), *(out / "figures").glob("*")]:
        if path.is_file():
            mode = path.stat().st_mode
            os.chmod(path, mode | stat.S_IRGRP | stat.S_IROTH)


def _run_meta(ctx: RunContext, stages: list[StageTime], total: float) -> dict[str, Any]:
    import os

    cfg = ctx.config
    return {
        "supviz_version": __version__,
        "config": cfg.to_dict(),
        "weights_file": ctx.weights_file or cfg.weights.file or None,
        "seed": cfg.seed,
        "versions": _versions(),
        "platform": {
            "system": platform.platform(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "processor": platform.processor(),
        },
        "stages": [dataclasses.asdict(s) for s in stages],
        "total_seconds": total,
        "cache": {
            "root": str(ctx.cache.root),
            "hits": dict(ctx.cache.stats.hits),
            "misses": dict(ctx.cache.stats.misses),
        },
        # total is the time since the run began: its start is now minus total (the wall clock, not the finish)
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(time.time() - total)),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "source": source_commit(),
    }


def source_commit(path: Any = None) -> str:
    """The git commit supviz's own source was run from (with '+ uncommitted changes' where its tree differs), or
    'not a git checkout' (an installed package, a copy without .git, or no git on the PATH).

    ``path``: a folder of the source to ask about (default: this package's)."""
    import subprocess
    from pathlib import Path

    here = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no", "--", "."],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return f"git commit {head}" + (" + uncommitted changes" if dirty else "") if head else "not a git checkout"
