"""The report hook of a sweep: its summary plot as the last section of ``supviz run``'s report.

A study config names a finished sweep with ``[sweep] folder = "path/to/sweep"`` (a ``supviz
sweep --out`` folder); the section is active only then. ``check`` reads and checks the sweep's
``sweep.parquet`` before anything is written; ``compute`` reads it into the section's result (its
digest is part of the cache key: a changed sweep is read again); ``render`` draws
:func:`supviz.sweep.summary.summary_figure`, the same figure as the sweep's own ``summary.png``, and
says how many cells and rows the sweep holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from supviz.errors import SupvizError
from supviz.report.records import SectionOutput
from supviz.study.section import Section


def _table_path(folder: str) -> Path:
    from supviz.sweep.run import TABLE_FILE, is_sweep_folder

    p = Path(folder)
    if not p.is_dir() or not is_sweep_folder(p) or not (p / TABLE_FILE).is_file():
        raise SupvizError(f"`sweep.folder` {folder!r} must be a finished `supviz sweep` folder (with {TABLE_FILE}).")
    return p / TABLE_FILE


def _read(folder: str) -> Any:
    from supviz.sweep.rows import read_sweep_table

    return read_sweep_table(_table_path(folder))


class SweepSection(Section):
    """The summary of a sweep (issue 13), when ``sweep.folder`` names one."""

    key = "sweep"
    title = "Beyond the study: a sweep over a larger grid"
    config_key = "sweep"

    def active(self, config: Any) -> bool:
        """Only with a sweep folder configured."""
        return bool(config.section("sweep").folder)

    def check(self, config: Any) -> None:
        """The folder must hold a finished sweep whose table reads as one."""
        if self.active(config):
            _read(config.section("sweep").folder)

    def key_parts(self, config: Any) -> dict[str, Any]:
        """The sweep table's digest: a sweep run again into the same folder is read again."""
        from supviz.core.io import file_sha256

        return {"table_sha256": file_sha256(_table_path(config.section("sweep").folder))}

    def compute(self, ctx: Any) -> dict[str, Any]:
        """The sweep ran on its own: its table, read (and checked) into the result."""
        folder = ctx.config.section("sweep").folder
        return {"folder": folder, "table": _read(folder)}

    def render(self, ctx: Any, result: dict[str, Any]) -> SectionOutput:
        """The summary figure and a sentence on what the sweep holds."""
        from supviz.sweep.summary import summary_figure

        table = result["table"]
        cells = table[["n_features", "n_hidden", "probability", "importance", "replicate"]].drop_duplicates()
        kinds = ", ".join(sorted(set(table["kind"])))
        fig = ctx.figure(
            "S1_sweep_summary",
            title="Sweep summary",
            caption=(
                f"The sweep in {result['folder']}: {len(cells)} cells (n = "
                f"{', '.join(map(str, sorted(set(cells.n_features))))}, m = "
                f"{', '.join(map(str, sorted(set(cells.n_hidden))))}), {len(table)} numbers ({kinds}). "
                "Lines: mean over replicates per feature probability; bands: their range; undefined measures "
                "left out and counted in the panel titles."
            ),
            content={
                "table": {c: table[c].to_numpy() for c in ("n_hidden", "probability", "value")},
                "keys": table[["kind", "metric", "method", "importance"]].astype(str).agg("|".join, axis=1).tolist(),
            },
            static=lambda: summary_figure(table),
        )
        intro = (
            f"A `supviz sweep` over {len(cells)} toy-model cells, each trained from a seed of its own parameters "
            f"and measured like the study's panels. Its full table: {result['folder']}/sweep.parquet."
        )
        return SectionOutput(key=self.key, title=self.title, intro=intro, figures=[fig])
