"""Config tables read the one way: a mapping, its keys checked against the fields, then ``cls(**table)``.

Every config of supviz (the study's tables, ``supviz train``'s :class:`~supviz.toy.TrainConfig`, an
SAE's :class:`~supviz.sae.SAEConfig`, a sweep's tables) is a dataclass that checks its own values in
``__post_init__``; this module checks what comes before: that the table is a mapping and names only
fields, so an unknown key is one line naming it and the keys that exist.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from supviz.errors import SupvizError


def table_keys(where: str, table: Any, names: Collection[str], *, what: str = "a TOML table") -> dict[str, Any]:
    """``table`` as a dict, checked: a mapping whose keys are all in ``names``.

    Raises
    ------
    SupvizError
        "`<where>` must be <what>; got ..." or "`<where>` has no key 'k'; known keys: ...".
    """
    if not isinstance(table, Mapping):
        raise SupvizError(f"`{where}` must be {what}; got {table!r}.")
    unknown = sorted(set(table) - set(names))
    if unknown:
        raise SupvizError(f"`{where}` has no key {unknown[0]!r}; known keys: {', '.join(sorted(names))}.")
    return dict(table)


def field_names(cls: type, *, exclude: Collection[str] = ()) -> set[str]:
    """The init fields of the dataclass ``cls`` (less ``exclude``)."""
    return {f.name for f in dataclasses.fields(cls) if f.init} - set(exclude)


def from_table(cls: type, table: Any, where: str, *, what: str = "a TOML table") -> Any:
    """``cls(**table)`` after :func:`table_keys`; a wrong type the dataclass itself rejects is one line too."""
    data = table_keys(where, table, field_names(cls), what=what)
    try:
        return cls(**data)
    except TypeError as exc:
        raise SupvizError(f"invalid `{where}` table: {exc}.") from None


def read_toml(path: str | Path, *, name: str = "--config") -> dict[str, Any]:
    """The table of a TOML file, every failure (missing, a folder, a link loop, unreadable, not UTF-8,
    not TOML) one :class:`SupvizError` line."""
    p = Path(path)
    if not p.is_file():
        raise SupvizError(f"`{name}` must be an existing TOML file; got {str(p)!r}.")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise SupvizError(f"`{name}` {str(p)!r} could not be read: {exc.strerror or type(exc).__name__}.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SupvizError(f"`{name}` {str(p)!r} is not UTF-8 text (byte {exc.start}); TOML files are UTF-8.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SupvizError(f"`{name}` {str(p)!r} is not valid TOML: {' '.join(str(exc).split())}.") from None


def document_keys(data: Any, known: Collection[str], *, what: str = "config") -> dict[str, Any]:
    """A whole config document (the top level of a TOML file) as a dict, its tables and keys checked.

    Raises
    ------
    SupvizError
        "a <what> must be a TOML table; got ..." or "the <what> has no table or key 'k'; known: ...".
    """
    if not isinstance(data, Mapping):
        raise SupvizError(f"a {what} must be a TOML table; got {type(data).__name__}.")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise SupvizError(f"the {what} has no table or key {unknown[0]!r}; known: {', '.join(sorted(known))}.")
    return dict(data)
