"""The study's sections, in report order: :data:`SECTIONS` (the registry sits above the sections).

Each section lives in its own package under :mod:`supviz.study` (``section.py``: compute and
render; ``findings.py``: its verdicts, pure functions of its tables). Adding one is a line here
and its config class in :data:`supviz.study.config.SECTION_TABLES`.
"""

from __future__ import annotations

from supviz.errors import SupvizError
from supviz.study.background.section import BackgroundSection
from supviz.study.baselines.section import BaselineSection
from supviz.study.datapoints.section import DatapointSection
from supviz.study.embeddings.section import EmbeddingSection
from supviz.study.real.section import RealSection
from supviz.study.recovery.section import RecoverySection
from supviz.study.section import Section
from supviz.study.sweep.section import SweepSection
from supviz.study.transformer.section import TransformerSection

#: The study's sections, in report order.
SECTIONS: list[Section] = [
    BackgroundSection(),
    BaselineSection(),
    EmbeddingSection(),
    DatapointSection(),
    RecoverySection(),
    RealSection(),
    TransformerSection(),  # only with [transformer] enabled = true
    SweepSection(),  # only with [sweep] folder = a `supviz sweep` output (issue 13)
]


def get_section(key: str) -> Section:
    """The registered section ``key``."""
    for s in SECTIONS:
        if s.key == key:
            return s
    raise SupvizError(f"`section` must be one of {[s.key for s in SECTIONS]}; got {key!r}.")
