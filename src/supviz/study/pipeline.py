"""``supviz run``: the study's stages, with progress, timings and a run record.

Stages, in order:

1. ``weights``: the section-2 weights, trained (cached) or loaded (only when a section needs them);
2. ``compute <section>`` for every registered section (:data:`supviz.study.sections.SECTIONS`);
3. ``figures <section>`` for every section (cached per figure);
4. ``table``: the tidy metrics table (Parquet + CSV);
5. ``report``: the self-contained HTML report.

Every expensive step is cached (:mod:`supviz.study.cache`); a whole section's computed result is
also cached under a key of its config, so a warm rerun loads one entry per section. The run folder
gets ``run.json`` (config, seeds, versions, platform, per-stage timings, cache traffic),
``config.toml`` and ``timings.json``.
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
from supviz._io import atomic_write_json, atomic_write_text
from supviz.study.cache import Cache
from supviz.study.config import StudyConfig, dump_config
from supviz.study.context import Progress, RunContext, StageTime
from supviz.study.sections import SECTIONS, Section, SectionOutput

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


def run_study(
    config: StudyConfig,
    out: str | Path,
    *,
    weights_file: str | None = None,
    quiet: bool = False,
    announce: Callable[[str], None] | None = None,
    use_cache: bool = True,
    sections: list[Section] | None = None,
) -> RunResult:
    """Run the study described by ``config`` into the folder ``out``.

    Parameters
    ----------
    config
        The study (see :mod:`supviz.study.config`).
    out
        Run folder; created if missing. Figures go to ``out/figures``, the table to
        ``out/metrics.{parquet,csv}``, the report to ``out/report.html``.
    weights_file
        Analyse these weights in section 2 instead of training (overrides ``weights.file``).
    quiet
        No stage lines and no progress bars.
    announce
        Receives the stage lines (the CLI prints them to stderr); default: logged at INFO.
    use_cache
        ``False`` recomputes everything (nothing is read from or written to the cache).
    sections
        The sections to run (default: all registered, in order).
    """
    t_start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cache_root = Path(config.run.cache_dir) if config.run.cache_dir else out / "cache"
    cache = Cache(cache_root, enabled=use_cache)
    progress = Progress(quiet=quiet, announce=announce)
    ctx = RunContext(config=config, out=out, cache=cache, progress=progress, weights_file=weights_file)
    todo = list(SECTIONS) if sections is None else list(sections)
    atomic_write_text(out / "config.toml", dump_config(config))

    grid_key = ""
    if any(s.needs_grid for s in todo):
        with progress.stage("weights" if (weights_file or config.weights.file) else "train toy models", cache):
            _, grid_key = ctx.grid()

    results: dict[str, Any] = {}
    for section in todo:
        with progress.stage(f"compute {section.key}", cache):
            params = {
                "section": section.key,
                "config": config.to_dict(),
                "grid": grid_key if section.needs_grid else "",
            }
            # figures/run settings do not change what a section computes
            params["config"].pop("figures", None)
            params["config"].pop("run", None)
            results[section.key], _ = cache.get_or_compute("section", params, lambda s=section: s.compute(ctx))

    outputs: list[SectionOutput] = []
    for section in todo:
        with progress.stage(f"figures {section.key}", cache):
            outputs.append(section.render(ctx, results[section.key]))
            ctx.rendered[section.key] = outputs[-1]
            ctx.flush_figures()

    from supviz.study.table import build_table, write_table

    with progress.stage("table", cache):
        frame = build_table(row for o in outputs for row in o.rows)
        table_paths = write_table(frame, out)

    with progress.stage("report", cache):
        from supviz.report import build_report

        meta = _run_meta(ctx, progress.stages, time.perf_counter() - t_start)
        report = build_report(outputs, out / "report.html", meta=meta, table=frame)

    total = time.perf_counter() - t_start
    meta = _run_meta(ctx, progress.stages, total)
    atomic_write_json(out / "run.json", meta)
    atomic_write_json(out / "timings.json", {"total_seconds": total, "stages": [dataclasses.asdict(s) for s in progress.stages]})
    _make_readable(out)
    return RunResult(
        out=out, report=report, table=table_paths, figures=[f.id for o in outputs for f in o.figures], stages=progress.stages,
        total_seconds=total, cache_hits=cache.stats.total_hits, cache_misses=cache.stats.total_misses, sections=outputs,
    )


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
        "platform": {"system": platform.platform(), "machine": platform.machine(), "cpus": os.cpu_count(),
                     "processor": platform.processor()},
        "stages": [dataclasses.asdict(s) for s in stages],
        "total_seconds": total,
        "cache": {"root": str(ctx.cache.root), "hits": dict(ctx.cache.stats.hits), "misses": dict(ctx.cache.stats.misses)},
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
