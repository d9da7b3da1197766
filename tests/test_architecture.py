"""The house rules of docs/architecture.md, checked from the code's own imports.

Every ``import`` and ``from ... import`` of every module of ``src/supviz`` counts, wherever it
stands (top level, inside a function, under ``TYPE_CHECKING``): a lazy import is still an arrow.
``from package import submodule`` is an arrow to the submodule only (the package's ``__init__`` runs
for any import below it anyway).

1. No import circle at all (so none that spans two packages).
2. No arrow runs upward through the layers: commands; study; sweep; report; engines; runtime; core.
3. The report renders records: it imports nothing from the study or the sweep (rule 2 says so, and
   the message names it).
"""

from __future__ import annotations

import pytest

from helpers.architecture import LAYERS, circles, import_graph, layer_of


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_the_graph_sees_lazy_and_type_checking_imports(graph):
    # a function-level import (the CLI's subcommands) and the report's records are arrows too
    assert "supviz.report.records" in graph["supviz.study.section"]
    assert "supviz.study.pipeline" in graph["supviz.commands.run"]


def test_no_import_circle(graph):
    found = circles(graph)
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_no_import_runs_up_through_the_layers(graph):
    up = [
        f"{src} ({LAYERS[layer_of(src)][0]}) -> {dst} ({LAYERS[layer_of(dst)][0]})"
        for src, dsts in graph.items()
        for dst in sorted(dsts)
        if layer_of(dst) < layer_of(src)
    ]
    assert not up, "imports that run upward:\n" + "\n".join(up)


def test_every_module_has_a_layer(graph):
    for module in graph:
        layer_of(module)


def test_the_report_imports_nothing_of_the_study_or_the_sweep(graph):
    bad = sorted(
        (src, dst)
        for src, dsts in graph.items()
        if src.startswith("supviz.report")
        for dst in dsts
        if dst.startswith(("supviz.study", "supviz.sweep"))
    )
    assert not bad, bad


def test_the_sweep_stands_on_runtime_and_engines_not_on_the_study(graph):
    bad = sorted(
        (src, dst)
        for src, dsts in graph.items()
        if src.startswith("supviz.sweep")
        for dst in dsts
        if dst.startswith(("supviz.study", "supviz.report", "supviz.commands"))
    )
    assert not bad, bad


def test_the_base_of_dr_imports_none_of_its_siblings(graph):
    assert not {d for d in graph["supviz.dr.base"] if d.startswith("supviz.dr")}


def test_a_section_never_imports_the_registry(graph):
    bad = sorted(
        src
        for src, dsts in graph.items()
        if "supviz.study.registry" in dsts
        and src not in ("supviz.study.pipeline", "supviz.study", "supviz.study.registry")
    )
    assert not bad, bad


def test_the_picture_draws_the_engines_in_an_order_their_imports_allow(graph):
    """docs/architecture.svg puts the engines side by side; each imports only those to its right."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / "architecture_picture.py"
    spec = importlib.util.spec_from_file_location("supviz_architecture_picture", path)
    picture = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(picture)
    order = picture.ENGINE_ORDER
    engines = {p.split(".")[1] for p in LAYERS[[n for n, _ in LAYERS].index("engines")][1]}
    assert set(order) == engines
    wrong = sorted(
        (a, b) for a, b in picture.package_edges() if a in engines and b in engines and order.index(b) < order.index(a)
    )
    assert not wrong, wrong


def test_no_arrow_by_name_runs_up_either_but_the_stated_ones():
    """Lazy exports and deprecated aliases reach modules by name (strings): those arrows obey the layers too,
    but for the root package's face and the aliases (helpers.architecture.UPWARD_BY_NAME_ALLOWED)."""
    from helpers.architecture import UPWARD_BY_NAME_ALLOWED, name_graph

    by_name = name_graph()
    assert "supviz.dr.estimator" in by_name["supviz.dr"]  # it sees the lazy export of SMACOF
    allowed = {m for m in by_name if _allowed_by_name(m, UPWARD_BY_NAME_ALLOWED)}
    up = [
        f"{src} -> {dst}"
        for src, dsts in by_name.items()
        for dst in sorted(dsts)
        if layer_of(dst) < layer_of(src) and src not in allowed
    ]
    assert not up, "arrows by name that run upward:\n" + "\n".join(up)
    assert not circles({m: (set() if m in allowed else edges | by_name[m]) for m, edges in import_graph().items()})


def _allowed_by_name(module: str, allowed: tuple[str, ...]) -> bool:
    """The root package itself, or one of the aliases (a deprecated package's modules included)."""
    return module in allowed or any(module.startswith(a + ".") for a in allowed if a != "supviz")
