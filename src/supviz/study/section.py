"""The small interface a study section implements: :class:`Section`.

``supviz run`` walks :data:`supviz.study.registry.SECTIONS` in order: every section's
:meth:`Section.compute` (the expensive work: training, layouts, metrics; its result is cached under a
key of the config, the grid when the section ``needs_grid``, and :meth:`Section.key_parts`), then
every section's :meth:`Section.render` (findings, figures, table rows, generated text: from the
result alone; nothing is computed there, the run context refuses). The report shows the rendered
sections in the same order.

Adding a section (as issue 5 added the pictures of data points ``h = W^T x``) takes a package, its
config class and two lines:

1. write ``supviz/study/<name>/section.py`` with a ``Section`` subclass (and its pure findings in
   ``supviz/study/<name>/findings.py``, functions of the tables its rows make)::

       class DatapointSection(Section):
           key = "datapoints"                 # unique id (the report's anchor, ctx.computed's key)
           title = "Data points, not only feature directions"
           config_key = "datapoints"          # its TOML table (None: the section has none)
           needs_grid = True                  # it reads ctx.grid(): the run prepares the weights and
                                              # keys the cached result by them (ctx.grid() refuses otherwise)

           def compute(self, ctx):            # the expensive work, through ctx.cache / ctx.layouts
               grid, grid_key = ctx.grid()    # the section-2 weights (trained or supplied)
               ...
               return results                 # what the cache's codecs store (supviz.runtime.codecs;
                                              # a dataclass of your own: mark it @cacheable)

           def render(self, ctx, results):    # findings, figures, rows, text: from ``results`` only
               findings = my_findings(table_of(results))
               fig = ctx.figure("D1_uniform", title=..., caption=..., content=..., static=draw)
               return SectionOutput(key=self.key, title=self.title, intro=..., figures=[fig],
                                    rows=[...], findings=findings)

2. its config class (a dataclass checking its values in ``__post_init__``) in
   :data:`supviz.study.config.SECTION_TABLES` under ``config_key``, and ``DatapointSection()`` in the list of
   :mod:`supviz.study.registry` (the registry sits above the sections; a section never imports it).
   A section that reads another's computed result names it in :attr:`Section.needs`.

``ctx.figure`` returns a :class:`~supviz.report.records.FigureRecord` at once; on a cache miss the
drawing is queued and the pipeline draws all of a section's figures in parallel right after its
``render`` returns, filling in ``record.files`` and ``record.interactive``. So ``render`` must not
read those two.

Everything a section needs from the run is on the :class:`~supviz.study.context.RunContext`: the
parsed config (``ctx.config``, ``ctx.config.section(key)``), the cache, progress bars, the shared
weights (``ctx.grid()``), parallel layouts (``ctx.layouts(...)``), seeds (``ctx.seed(...)``), the
results of the sections it needs (``ctx.computed[key]``) and cached figure output (``ctx.figure(...)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from supviz.report.records import SectionOutput

if TYPE_CHECKING:  # pragma: no cover
    from supviz.study.context import RunContext


class Section:
    """Base class of a study section (see the module docstring)."""

    key: ClassVar[str] = ""
    title: ClassVar[str] = ""
    config_key: ClassVar[str | None] = None
    """The section's TOML table, parsed into ``config.section(config_key)`` by the class that
    :data:`supviz.study.config.SECTION_TABLES` names for it (``None``: no table)."""
    #: Whether the section uses ``ctx.grid()`` (the run prepares it in its own "weights" stage).
    needs_grid: ClassVar[bool] = False
    #: Keys of the sections whose computed results this section reads (``ctx.computed[key]``, in its
    #: ``compute`` and ``render``); the run computes them first (from the cache where it can), whether or
    #: not it renders them.
    needs: ClassVar[tuple[str, ...]] = ()

    def active(self, config: Any) -> bool:
        """Whether the run includes this section (an optional one, such as a sweep's summary, says no
        unless its config asks for it); default: always."""
        return True

    def check(self, config: Any) -> None:
        """Raise a ``SupvizError`` for a setting of ``config`` that :meth:`compute` would reject.

        ``supviz run`` and ``supviz config`` call it for every section before anything is written
        or computed; the default checks nothing beyond the section's config table.
        """

    def check_grid(self, config: Any, grid: Any, name: str) -> None:
        """Raise a ``SupvizError`` when supplied weights ``grid`` (a ``TrainedGrid``, read from the
        file of option ``name``) cannot serve this section (:attr:`needs_grid` sections only).

        Called by ``check_study`` before anything is written; the default accepts any grid.
        """

    def key_parts(self, config: Any) -> dict[str, Any]:
        """What besides the config and the grid the cached result depends on (for example the digest of a
        file the section reads), added to its cache key; default: nothing."""
        return {}

    def compute(self, ctx: "RunContext") -> Any:
        """The expensive work (cached through ``ctx.cache``); returns what the cache's codecs store
        (:mod:`supviz.runtime.codecs`: numbers, strings, arrays, lists, dicts and registered dataclasses)."""
        raise NotImplementedError

    def render(self, ctx: "RunContext", result: Any) -> SectionOutput:
        """Findings, figures, table rows and text from ``compute``'s result: pure functions of the
        result (never training or any other computation: ``compute`` does that, cached)."""
        raise NotImplementedError
