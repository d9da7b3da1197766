"""Lazy package exports: a name is imported from its module the first time it is used.

``import supviz`` and ``import supviz.dr`` stay cheap (no scipy, scikit-learn, torch, numba,
pandas or plotting library; ``tests/test_import_time.py``), yet ``supviz.dr.SMACOF`` and
``from supviz.metrics import layout_metrics`` work as if imported eagerly (PEP 562 module
``__getattr__``). Imports nothing itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(
    package: str, namespace: dict[str, Any], exports: Mapping[str, str], *, submodules: Iterable[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for ``package`` that import ``exports`` on demand.

    The one lazy-export mechanism of supviz: every package ``__init__`` that exports names lazily
    uses it (``supviz`` itself for its subpackages, ``supviz.dr``, ``supviz.metrics``,
    ``supviz.sae``, ``supviz.real``, ``supviz.study``).

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    namespace : dict
        The package's ``globals()``; each name is stored there once imported, so that
        ``__getattr__`` runs once per name.
    exports : mapping of str to str
        Public name -> the module that defines it (absolute, or relative to ``package`` when it
        starts with a dot). A name that equals one of the package's submodules must not be lazy
        (the submodule's import would shadow it): import such names eagerly.
    submodules : iterable of str
        Subpackages or submodules reachable as attributes without an explicit import
        (``supviz.dr`` after ``import supviz``); a listed one that this installation lacks is an
        ``AttributeError``, as for any unknown name.

    Returns
    -------
    (__getattr__, __dir__)
    """

    subs = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        if name in subs:
            try:
                value = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:  # a subpackage this installation does not have
                if exc.name != f"{package}.{name}":
                    raise
            else:
                namespace[name] = value
                return value
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports) | subs)

    return __getattr__, __dir__


def moved_module(old: str, new: str | Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """The ``__getattr__`` of a deprecated alias module ``old`` whose contents moved.

    ``new`` is the module everything moved to, or a mapping name -> new module (names it does not
    list are unknown). Every name read through the alias comes from its new home with a
    :class:`DeprecationWarning` that names it (the alias stays for one release)."""

    def __getattr__(name: str) -> Any:
        import warnings

        if name == "__all__":  # ``from old import *``: the names that moved (each with its warning)
            if not isinstance(new, str):
                return list(new)
            module = importlib.import_module(new)
            return list(getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")]))
        home = new if isinstance(new, str) else new.get(name)
        if name.startswith("__") or home is None:
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        warnings.warn(
            f"{old} moved: import {name!r} from {home} (the old name goes in the next release).",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(home), name)

    return __getattr__
