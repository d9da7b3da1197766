"""Names that moved in 0.2 keep working for one release, each with a DeprecationWarning naming its new home."""

from __future__ import annotations

import importlib

import pytest

ALIASES = [
    ("supviz.seeding", "child", "supviz.core.seeding"),
    ("supviz.cluster", "check_scheduler", "supviz.runtime.cluster"),
    ("supviz.figures", "ColorScale", "supviz.plot"),
    ("supviz.study.training", "train_cells", "supviz.toy.cells"),
    ("supviz.study.table", "build_tables", "supviz.study.tables"),
    ("supviz.study.codecs", "read_value", "supviz.runtime.codecs"),
    ("supviz.study.cache", "Cache", "supviz.runtime.cache"),
    ("supviz.study.sections", "Section", "supviz.study.section"),
    ("supviz.study.sections", "get_section", "supviz.study.registry"),
    ("supviz.study.sections", "Finding", "supviz.report.records"),
    ("supviz.figures.static", "antipodal_figure", "supviz.toy.plots"),
    ("supviz.figures.static", "headline_figure", "supviz.datapoints.plots"),
    ("supviz.figures.interactive", "write_interactive_html", "supviz.plot.pages"),
    ("supviz.figures.panels", "ScatterPanel", "supviz.plot.panels"),
    ("supviz.figures.datapoints", "cell_figure", "supviz.datapoints.plots"),
]


@pytest.mark.parametrize(("old", "name", "new"), ALIASES)
def test_a_moved_name_still_works_and_says_where_it_went(old, name, new):
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=rf"{old} moved: import '{name}' from {new} "):
        value = getattr(module, name)
    assert value is getattr(importlib.import_module(new), name)


def test_an_alias_knows_only_the_names_that_moved():
    import supviz.study.sections as sections

    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        sections.nope  # noqa: B018


def test_the_old_subpackage_attribute_still_resolves():
    import supviz

    assert supviz.figures.__name__ == "supviz.figures"


def test_a_star_import_of_an_alias_brings_the_moved_names():
    namespace: dict = {}
    with pytest.warns(DeprecationWarning):
        exec("from supviz.seeding import *", namespace)  # noqa: S102 - a user's 0.1 import line
    from supviz.core import seeding

    assert namespace["child"] is seeding.child and namespace["int_seed"] is seeding.int_seed
