"""The self-contained HTML report of a study run (see :mod:`supviz.report.html`)."""

from supviz.report.html import build_report

__all__ = ["build_report"]
