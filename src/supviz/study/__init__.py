"""The study behind ``supviz run``: config, cache, sections (experiments), table and pipeline.

- :mod:`supviz.study.config`     :class:`StudyConfig`, the default TOML, load / dump / validation
- :mod:`supviz.runtime.cache`      content-addressed, atomic cache of every expensive step
- :mod:`supviz.study.sections`   the section interface and the ordered list of sections
- :mod:`supviz.study.context`    what a section gets from the run (cache, progress, seeds, layouts, figures)
- :mod:`supviz.study.background` A1-A3; :mod:`supviz.study.baselines` B1-B5; :mod:`supviz.study.embeddings` C1-C5
- :mod:`supviz.study.table`      the tidy metrics table
- :mod:`supviz.study.pipeline`   :func:`run_study`, the stages and the run record
"""

from supviz.study.config import StudyConfig, default_toml_text, dump_config, load_config

__all__ = ["StudyConfig", "default_toml_text", "dump_config", "load_config", "run_study"]


def __getattr__(name: str):
    if name == "run_study":
        from supviz.study.pipeline import run_study

        return run_study
    raise AttributeError(name)
