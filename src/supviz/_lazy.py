"""Lazy package exports: a name is imported from its module the first time it is used.

``import supviz`` and ``import supviz.dr`` stay cheap (no scipy, scikit-learn, torch, numba,
pandas or plotting library; ``tests/test_import_time.py``), yet ``supviz.dr.SMACOF`` and
``from supviz.metrics import layout_metrics`` work as if imported eagerly (PEP 562 module
``__getattr__``). Imports nothing itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, namespace: dict[str, Any], exports: Mapping[str, str]) -> tuple[
    Callable[[str], Any], Callable[[], list[str]]
]:
    """A module ``__getattr__`` and ``__dir__`` for ``package`` that import ``exports`` on demand.

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

    Returns
    -------
    (__getattr__, __dir__)
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
