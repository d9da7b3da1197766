"""Deprecated alias (supviz 0.2; gone in 0.3): the section interface moved to supviz.study.section, the list to
supviz.study.registry, the records to supviz.report.records."""

from supviz.core.lazy import moved_module

__getattr__ = moved_module(
    __name__,
    {
        "Section": "supviz.study.section",
        "SECTIONS": "supviz.study.registry",
        "get_section": "supviz.study.registry",
        "FigureRecord": "supviz.report.records",
        "Finding": "supviz.report.records",
        "TableBlock": "supviz.report.records",
        "SectionOutput": "supviz.report.records",
    },
    globals(),
)
