"""The study behind ``supviz run``: config, sections (compute -> result -> findings -> figures -> records), pipeline.

- :mod:`supviz.study.config`     :class:`StudyConfig` and every config table, the default TOML, load / dump / validation
- :mod:`supviz.study.section`    the interface a section implements; :mod:`supviz.study.registry` the sections, in order
- :mod:`supviz.study.context`    what a section gets from the run (cache, progress, seeds, layouts, figures)
- ``supviz.study.<section>``     one package per section: ``background`` (A), ``baselines`` (B), ``embeddings`` (C),
  ``datapoints`` (D), ``recovery`` (E), ``real`` (F), ``sweep``; each a ``section.py`` (compute, render) and a
  ``findings.py`` (its verdicts, pure functions of its tables)
- :mod:`supviz.study.verdicts`   the rules every finding shares; :mod:`supviz.study.conclusion` the answer, once
- :mod:`supviz.study.tables`     the tidy tables, one per kind of observation
- :mod:`supviz.study.pipeline`   :func:`run_study`, the stages and the run record
"""

from supviz.core.lazy import lazy_exports

_EXPORTS = {
    "StudyConfig": "supviz.study.config",
    "default_toml_text": "supviz.study.config",
    "dump_config": "supviz.study.config",
    "load_config": "supviz.study.config",
    "run_study": "supviz.study.pipeline",
    "check_study": "supviz.study.pipeline",
    "SECTIONS": "supviz.study.registry",
    "get_section": "supviz.study.registry",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
