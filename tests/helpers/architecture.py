"""The import graph of ``src/supviz`` and its layers: what ``tests/test_architecture.py`` checks and
``docs/architecture_picture.py`` draws.

Every ``import`` and ``from ... import`` of every module counts, wherever it stands (top level,
inside a function, under ``TYPE_CHECKING``): a lazy import is still an arrow. ``from package import
submodule`` is an arrow to the submodule only (the package's ``__init__`` runs for any import below
it anyway).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "supviz"

#: Top to bottom; a module may import its own layer and the layers below it. The engines import each
#: other (no circles, rule 1); deprecated aliases (``supviz.seeding``, ``supviz.cluster``) forward to
#: their new homes by name and import nothing but ``supviz.core.lazy``.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("commands", ("supviz.cli", "supviz.__main__", "supviz.commands")),
    ("study", ("supviz.study",)),
    ("sweep", ("supviz.sweep",)),
    ("report", ("supviz.report",)),
    (
        "engines",
        ("supviz.datapoints", "supviz.real", "supviz.sae", "supviz.plot", "supviz.dr", "supviz.metrics", "supviz.toy"),
    ),
    ("runtime", ("supviz.runtime",)),
    ("core", ("supviz.core", "supviz.errors", "supviz.seeding", "supviz.cluster", "supviz.figures", "supviz")),
]


def modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the supviz modules it imports (see the module docstring for what counts)."""
    mods = modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                subs = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in mods]
                targets = subs + ([module] if len(subs) < len(node.names) else [])
            else:
                continue
            graph[name].update(t for t in targets if t in mods and t != name)
    return graph


def layer_of(module: str) -> int:
    best, index = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, index = len(p), i
    assert index is not None, f"{module} belongs to no layer of LAYERS"
    return index


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


#: Calls through which a module reaches others by name (strings): the package faces' lazy exports and the
#: deprecated aliases.
NAME_CALLS = ("lazy_exports", "moved_module")


def name_graph() -> dict[str, set[str]]:
    """Module -> the supviz modules it reaches by name: the module strings given to :data:`NAME_CALLS`
    (an export table's values, an alias's target) and a package face's ``submodules``."""
    mods = modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        strings: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in NAME_CALLS:
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                        strings.append(sub.value)
        # the tables and tuples a call names by a variable (``_EXPORTS``, ``_SUBPACKAGES``)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                getattr(t, "id", "") in ("_EXPORTS", "_SUBPACKAGES") for t in node.targets
            ):
                strings += [
                    s.value for s in ast.walk(node.value) if isinstance(s, ast.Constant) and isinstance(s.value, str)
                ]
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for s in strings:
            target = package + s if s.startswith(".") else s if s.startswith("supviz") else f"{name}.{s}"
            if target in mods and target != name:
                graph[name].add(target)
    return graph


#: The arrows by name that run upward on purpose, each for one stated reason: the root package's face
#: makes every subpackage reachable as ``supviz.<name>``; a deprecated alias points to its new home.
UPWARD_BY_NAME_ALLOWED = ("supviz", "supviz.seeding", "supviz.cluster", "supviz.figures")
