"""``supviz sweep``: grids of toy models larger than the study's, measured cell by cell (issue 13).

- :mod:`~supviz.sweep.config`  :class:`SweepConfig` from a TOML file; the shipped ``example.toml``
- :mod:`~supviz.sweep.run`     :func:`run_sweep`: cells, pictures, measures, SAE scores -> ``sweep.parquet``
- :mod:`~supviz.sweep.sae`     sparse autoencoders per cell (``supviz.sae``), batched per group
- :mod:`~supviz.sweep.summary` the summary plot (``summary.png``), also drawn into the study's report
- :mod:`~supviz.study.sweep.section` the report hook: ``[sweep] folder = ...`` in a study config

Every unit of work runs where :mod:`supviz.runtime.dispatch` puts it (local processes or a Dask cluster)
and is a cache entry of its own, so a sweep resumes where it stopped and a larger one reuses a
smaller one's cells.
"""

from supviz.sweep.config import SweepConfig, example_toml_text, load_sweep, sweep_from_dict
from supviz.sweep.rows import COLUMNS
from supviz.sweep.run import SweepResult, run_sweep, sweep_cells

__all__ = [
    "COLUMNS",
    "SweepConfig",
    "SweepResult",
    "example_toml_text",
    "load_sweep",
    "run_sweep",
    "sweep_cells",
    "sweep_from_dict",
]
