"""What a section gets from the run: config, cache, progress, seeds, shared weights, parallel
layouts and cached figure output (see :mod:`supviz.study.section`)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from supviz.dr.task import LayoutTask, run_layout
from supviz.errors import SupvizError
from supviz.runtime.cache import Cache, _canonical
from supviz.runtime.progress import Progress
from supviz.study import adapters
from supviz.study.config import StudyConfig

log = logging.getLogger(__name__)


@dataclass
class RunContext:
    """Everything a section needs from the run."""

    config: StudyConfig
    out: Path
    cache: Cache
    progress: Progress = field(default_factory=Progress)
    weights_file: str | None = None
    computed: dict[str, Any] = field(default_factory=dict)
    """The computed (or cached) results of the sections so far in this run, by key (what a later section
    that ``needs`` one reads)."""
    rendered: dict[str, Any] = field(default_factory=dict)
    """Outputs of the sections rendered so far in this run, by key (a later section may read an earlier
    one's rows, e.g. the data-point heatmaps set beside the feature-direction metrics)."""
    outputs: Any = None
    """The run folder's :class:`supviz.core.outdir.OutputLog` (files are claimed in it before they are
    written); ``None`` outside ``supviz run``."""
    supplied_grid: Any = None
    """The supplied weights, already loaded by :func:`supviz.study.pipeline.check_study`."""
    dispatcher: Any = None
    """Where the units of work run (:mod:`supviz.runtime.dispatch`); ``None``: local processes over ``run.n_jobs``."""
    computing: Any = None
    """The section whose ``compute`` runs now (set by the pipeline); ``None`` while rendering."""
    rendering: bool = False
    """Whether the run renders now: then nothing may be computed (:meth:`grid` and :meth:`layouts`
    refuse), so ``render`` never trains."""
    _grid: Any = None
    _grid_key: str | None = None
    _pending: list[tuple[Any, "_FigureJob"]] = field(default_factory=list)

    # -- seeds -------------------------------------------------------------------------------
    def seed(self, *names: str | int) -> int:
        """A stable int seed for the thing addressed by ``names`` (strings hashed with CRC-32)."""
        return self.config.derived_seed(*names)

    # -- shared weights ----------------------------------------------------------------------
    def grid(self) -> tuple[Any, str]:
        """The section-2 weights, trained (cached) or loaded from ``weights.file``: (TrainedGrid, key).

        Raises
        ------
        SupvizError
            Called from the ``compute`` of a section that does not declare ``needs_grid = True`` (its
            cached result would not depend on the weights), or while rendering before the grid was
            prepared (``render`` never trains).
        """
        section = self.computing
        if section is not None and not section.needs_grid:
            raise SupvizError(
                f"section {section.key!r} calls ctx.grid() in compute but does not declare "
                "`needs_grid = True` (its cached result would not follow the weights)."
            )
        if self._grid is None:
            if self.rendering:
                raise SupvizError(
                    "ctx.grid() while rendering, before the grid was prepared: render never trains "
                    "(read what compute returned)."
                )
            self._grid, self._grid_key = _study_grid(self)
        return self._grid, self._grid_key  # type: ignore[return-value]

    # -- where tasks run ---------------------------------------------------------------------
    def run_tasks(self) -> Any:
        """The run's dispatcher (:mod:`supviz.runtime.dispatch`): local processes unless the run set a cluster."""
        if self.dispatcher is None:
            from supviz.runtime.dispatch import LocalDispatcher

            self.dispatcher = LocalDispatcher(self.config.run.n_jobs, memo=self.cache, progress=self.progress.tasks)
        return self.dispatcher

    # -- layouts -----------------------------------------------------------------------------
    def layouts(self, tasks: Sequence[LayoutTask], *, desc: str) -> list[tuple[Any, str]]:
        """Compute (or load) many layouts: one task each, on the run's dispatcher.

        Returns ``(Layout, key)`` per task, in task order. Each finished layout is stored in the
        cache where it was computed, so a killed run (or worker) keeps what it finished. Refused while
        rendering (``render`` draws what ``compute`` returned).
        """
        if self.rendering:
            raise SupvizError("ctx.layouts() while rendering: render never computes (lay out in compute).")
        keys = [self.cache.key("layout", t.cache_params()) for t in tasks]
        unique: dict[str, int] = {}  # identical tasks are computed once
        for i, k in enumerate(keys):
            unique.setdefault(k, i)
        order = list(unique)
        results: dict[str, Any] = {}
        for j, layout in self.run_tasks().map(
            run_layout, [(tasks[unique[k]],) for k in order], desc=desc, kind="layout", keys=order
        ):
            results[order[j]] = layout
        return [(results[k], k) for k in keys]

    def claim(self, *paths: str) -> None:
        """Record files (relative to the run folder) that this run is about to write there."""
        if self.outputs is not None:
            self.outputs.claim(*paths)

    # -- figures -----------------------------------------------------------------------------
    def figure(
        self,
        fig_id: str,
        *,
        title: str,
        caption: str,
        content: Any,
        static: Callable[[], Any],
        interactive: Callable[[], Any] | None = None,
        lead: bool = False,
        inline: bool = True,
        embed_interactive: bool = True,
    ):
        """Draw (or fetch from the cache) one figure and copy its files into ``<out>/figures``.

        Parameters
        ----------
        fig_id
            File stem, unique in the run.
        content
            Everything the figure draws (arrays, titles, texts): its cache key.
        static
            Returns the matplotlib figure.
        interactive
            Returns the plotly figure, or ``None`` for static only.
        lead
            The figure that carries the report's answer (shown on its first screen).
        inline
            Embed the PNG in the report (default); ``False`` links the files from the caption instead.
        embed_interactive
            Embed the interactive version in the report (default); ``False`` links its page in ``figures/``
            instead (a large one would push the report past its size budget).
        """
        from supviz.report.records import FigureRecord

        fcfg = self.config.figures
        want_interactive = interactive is not None and fcfg.interactive
        params = {
            "id": fig_id,
            "content": _canonical(_panel_content(content)),
            "formats": fcfg.formats,
            "dpi": fcfg.dpi,
            "interactive": want_interactive,
        }
        key = self.cache.key("figure", params)
        record = FigureRecord(
            id=fig_id,
            title=title,
            caption=caption,
            files={},
            lead=lead,
            inline=inline,
            embed_interactive=embed_interactive,
        )
        folder = self.cache._folder("figure", key)
        if (
            self.cache.enabled
            and folder.is_dir()
            and _figure_files_present(folder, fig_id, fcfg.formats, want_interactive)
        ):
            self.cache.stats.count("figure", True)
            self._finish_figure(record, folder, want_interactive)
        else:
            self.cache.stats.count("figure", False)
            job = _FigureJob(
                fig_id, str(folder), tuple(fcfg.formats), fcfg.dpi, static, interactive if want_interactive else None
            )
            self._pending.append((record, job))
        return record

    def flush_figures(self) -> None:
        """Draw the figures queued by :meth:`figure` (in parallel over ``run.n_jobs``) and fill in their records.

        The pipeline calls it after each section's ``render``; a section never needs to.
        """
        pending, self._pending = self._pending, []
        if not pending:
            return
        for _ in self.run_tasks().map(_draw_figure, [(job,) for _, job in pending], desc="figures"):
            pass
        for record, job in pending:
            self._finish_figure(record, Path(job.folder), job.interactive is not None)

    def _finish_figure(self, record: Any, folder: Path, want_interactive: bool) -> None:
        from supviz.plot import pages as ifig

        dest = self.out / "figures"
        dest.mkdir(parents=True, exist_ok=True)
        names = [f"{record.id}.{fmt}" for fmt in self.config.figures.formats]
        if want_interactive:
            names += [f"{record.id}.html", "plotly.min.js"]
        self.claim(*(f"figures/{n}" for n in names))
        for fmt in self.config.figures.formats:
            target = dest / f"{record.id}.{fmt}"
            shutil.copyfile(folder / f"{record.id}.{fmt}", target)
            record.files[fmt] = str(target.relative_to(self.out))
        if want_interactive:
            record.interactive = (folder / f"{record.id}.json").read_text(encoding="utf-8")
            ifig.write_plotlyjs(dest)
            page = ifig.write_interactive_html(record.interactive, dest / f"{record.id}.html", title=record.title)
            record.files["html"] = str(page.relative_to(self.out))


@dataclass
class _FigureJob:
    """A figure to draw into its cache folder (picklable: the draw callables travel by cloudpickle)."""

    fig_id: str
    folder: str
    formats: tuple[str, ...]
    dpi: int
    static: Callable[[], Any]
    interactive: Callable[[], Any] | None


def _draw_figure(job: _FigureJob) -> str:
    """Draw one figure into its cache folder, atomically (a killed run leaves no half folder)."""
    from supviz.core.io import atomic_dir
    from supviz.plot import pages as ifig
    from supviz.plot import save_figure

    with atomic_dir(job.folder) as tmp:
        save_figure(job.static(), tmp / job.fig_id, formats=job.formats, dpi=job.dpi)
        if job.interactive is not None:
            (tmp / f"{job.fig_id}.json").write_text(ifig.figure_json(job.interactive()), encoding="utf-8")
    return job.folder


def _panel_content(obj: Any) -> Any:
    """Dataclass panels -> dicts, recursively, for the figure's cache key."""
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _panel_content(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _panel_content(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_panel_content(v) for v in obj]
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "fc":
        # round so that float noise below drawing precision does not redraw a figure
        return np.round(obj.astype(np.float64), 6)
    return obj


def _study_grid(ctx: RunContext) -> tuple[Any, str]:
    """The section-2 grid of the run: supplied weights, or trained (cached) from ``[toy]``."""
    cfg = ctx.config
    path = ctx.weights_file or cfg.weights.file
    if path:
        key = ctx.cache.key("weights", {"file_sha256": adapters.file_digest(path)})
        grid = ctx.supplied_grid if ctx.supplied_grid is not None else adapters.load_weights(path)
        return grid, key
    from supviz.toy.cells import train_cells

    config = cfg.train_config()
    grid, cell_keys = train_cells(
        config.instances(), config, cache=ctx.cache, dispatcher=ctx.run_tasks(), progress=ctx.progress.bars
    )
    return grid, ctx.cache.key("grid", {"cells": cell_keys})


#: The first bytes of a file of each figure format (PNG's signature, RFC 2083; PDF's header): a cached
#: file without them is damaged. Other formats (SVG, the interactive JSON) must be non-empty.
_MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


def _figure_files_present(folder: Path, fig_id: str, formats: Sequence[str], interactive: bool) -> bool:
    """Whether a cached figure's folder holds every file the run copies out, each readable as its format
    (a zero-byte or non-PNG ``.png`` is damaged): a damaged entry is a warning and is drawn again, as the
    cache's JSON, npz and Parquet entries are (:meth:`supviz.runtime.cache.Cache.lookup`)."""
    names = [f"{fig_id}.{fmt}" for fmt in formats] + ([f"{fig_id}.json"] if interactive else [])
    if not all((folder / name).is_file() for name in names):
        return False
    for name in names:
        magic = _MAGIC.get(name.rsplit(".", 1)[1].lower(), b"")
        try:
            with open(folder / name, "rb") as f:
                head = f.read(max(len(magic), 1))
        except OSError as exc:
            head, why = b"", str(exc)
        else:
            why = "empty" if not head else f"not a {name.rsplit('.', 1)[1].upper()} file"
        if not head or not head.startswith(magic):
            log.warning("figure cache entry %s: %s is %s; drawing it again", folder.name[:12], name, why)
            return False
    return True
