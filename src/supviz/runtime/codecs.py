"""Code-free storage of cached values: a small registry of codecs, filled by the types themselves.

A cached value is written into a folder that nothing can execute when it is read:

``value.json``
    The value as a JSON tree (below), with references to the files next to it.
``arrays.npz``
    Every NumPy array of the value, read back with ``allow_pickle=False`` (object arrays are
    refused when stored).
``tables/<name>.parquet``
    Every pandas DataFrame.
``folders/<name>/``
    Every value of a type with a folder codec of its own (:func:`register_folder_codec`; a
    :class:`~supviz.toy.TrainedGrid` is a ``supviz train`` run folder, ``weights.safetensors`` +
    ``metadata.json``, :mod:`supviz.toy.storage`).

The JSON tree: ``null``, booleans, ints and strings stand for themselves; a list is a list; every
other kind is an object with one ``$`` key that names its codec:

=====================  ================================================
``{"$float": "nan"}``  a non-finite float (finite floats are numbers)
``{"$tuple": [...]}``  a tuple
``{"$dict": [[k, v], ...]}``  a dict (keys of any storable kind, order kept)
``{"$array": "a0"}``   an array in ``arrays.npz``
``{"$scalar": ["float32", 1.5]}``  a NumPy scalar
``{"$table": "t0"}``   a DataFrame in ``tables/``
``{"$folder": ["supviz.toy.grid:TrainedGrid", "f0"]}``  a value in ``folders/`` (its type's folder codec)
``{"$path": "..."}``   a ``pathlib.Path``
``{"$dataclass": "supviz.study.common:PanelResult", "fields": {...}}``  a registered dataclass
=====================  ================================================

A dataclass is stored only when its module marked it :func:`cacheable` (the study's result types and
the engine types they hold: :class:`~supviz.dr.base.Layout`, ...), and read back by setting its fields
on a bare instance of that class: reading a value imports only the supviz module that its type names
(so that the module registers its types) and calls no code the value chose. Storing any other type is
a ``TypeError`` (a programming error, found by the tests that run every section through the cache).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "supviz.cache.value"
FORMAT_VERSION = 2
VALUE_FILE = "value.json"
ARRAYS_FILE = "arrays.npz"

#: Dataclasses a cached value may hold, by ``"module:qualname"``. A leaf registry: it imports nothing
#: and is filled by the modules that define the types (:func:`cacheable`), when they are imported.
DATACLASSES: dict[str, type] = {}
#: Values stored as a folder of their own, by the ``"module:qualname"`` of their type:
#: (``"module:writer"``, ``"module:reader"``); ``writer(value, folder)``, ``reader(folder) -> value``.
FOLDER_CODECS: dict[str, tuple[str, str]] = {}


def _type_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def cacheable(cls: type) -> type:
    """Class decorator: cached values may hold instances of the dataclass ``cls`` (stored field by field)."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    DATACLASSES[_type_name(cls)] = cls
    return cls


def register_folder_codec(cls: type, writer: str, reader: str) -> None:
    """Store values of the type ``cls`` as a folder of their own, written by ``writer`` and read back by
    ``reader`` (each ``"module:function"``, imported when first used)."""
    FOLDER_CODECS[_type_name(cls)] = (writer, reader)


def _function(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def _registered(table: dict[str, Any], name: str) -> Any:
    """The registry entry ``name``: a supviz module registers its own types when it is imported, so the
    module ``name`` names is imported first if needed (only a ``supviz`` module, and only its registered
    types are used: reading calls no code that the value chose)."""
    if not isinstance(name, str) or name.count(":") != 1:
        raise EntryError(f"bad type name {str(name)[:60]!r}")
    if name not in table:
        module = name.split(":")[0]
        if module.split(".")[0] != "supviz":
            raise EntryError(f"unregistered type {name!r}")
        try:
            importlib.import_module(module)
        except ImportError:
            raise EntryError(f"unregistered type {name!r}") from None
    if name not in table:
        raise EntryError(f"unregistered type {name!r}")
    return table[name]


class EntryError(Exception):
    """A stored value that cannot be read back (missing file, unknown codec, wrong shape)."""


# -- write -----------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.arrays: dict[str, np.ndarray] = {}
        self.n_tables = 0
        self.n_folders = 0

    def encode(self, obj: Any) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and not isinstance(obj, bool):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"$float": repr(obj)}
        if isinstance(obj, list):
            return [self.encode(v) for v in obj]
        if isinstance(obj, tuple):
            return {"$tuple": [self.encode(v) for v in obj]}
        if isinstance(obj, dict):
            return {"$dict": [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                raise TypeError("cannot cache an object array (it would need pickle)")
            name = f"a{len(self.arrays)}"
            self.arrays[name] = np.ascontiguousarray(obj)
            return {"$array": name}
        if isinstance(obj, np.generic):
            if isinstance(obj, np.object_):
                raise TypeError("cannot cache a numpy object scalar")
            return {"$scalar": [obj.dtype.str, self.encode(obj.item())]}
        if isinstance(obj, Path):
            return {"$path": str(obj)}
        kind = type(obj)
        type_name = _type_name(kind)
        if type_name in FOLDER_CODECS:
            name = f"f{self.n_folders}"
            self.n_folders += 1
            target = self.folder / "folders" / name
            target.mkdir(parents=True)
            _function(FOLDER_CODECS[type_name][0])(obj, target)
            return {"$folder": [type_name, name]}
        if kind.__module__.startswith("pandas") and kind.__name__ == "DataFrame":
            name = f"t{self.n_tables}"
            self.n_tables += 1
            (self.folder / "tables").mkdir(exist_ok=True)
            obj.to_parquet(self.folder / "tables" / f"{name}.parquet")
            return {"$table": name}
        if DATACLASSES.get(type_name) is kind:
            return {
                "$dataclass": type_name,
                "fields": {f.name: self.encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)},
            }
        raise TypeError(
            f"cannot cache a {kind.__module__}.{kind.__qualname__} (mark it @supviz.runtime.codecs.cacheable)"
        )


def write_value(value: Any, folder: str | os.PathLike[str]) -> None:
    """Write ``value`` into the (new, empty) ``folder``; see the module docstring for the layout."""
    folder = Path(folder)
    w = _Writer(folder)
    tree = w.encode(value)
    if w.arrays:
        with open(folder / ARRAYS_FILE, "wb") as fh:
            np.savez(fh, **w.arrays)
    text = json.dumps(
        {"format": FORMAT, "version": FORMAT_VERSION, "value": tree}, allow_nan=False, separators=(",", ":")
    )
    (folder / VALUE_FILE).write_text(text, encoding="utf-8")


# -- read ------------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._arrays: dict[str, np.ndarray] | None = None

    def array(self, name: str) -> np.ndarray:
        if self._arrays is None:
            with open(self.folder / ARRAYS_FILE, "rb") as fh, np.load(fh, allow_pickle=False) as z:
                self._arrays = {k: z[k] for k in z.files}
        return self._arrays[name]

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict) or len([k for k in node if k.startswith("$")]) != 1:
            raise EntryError(f"unexpected node {str(node)[:60]!r}")
        tag = next(k for k in node if k.startswith("$"))
        arg = node[tag]
        if tag == "$float":
            if arg not in ("nan", "inf", "-inf"):
                raise EntryError(f"bad float {arg!r}")
            return float(arg)
        if tag == "$tuple":
            return tuple(self.decode(v) for v in arg)
        if tag == "$dict":
            return {_hashable(self.decode(k)): self.decode(v) for k, v in arg}
        if tag == "$array":
            return self.array(str(arg))
        if tag == "$scalar":
            dtype, value = arg
            dt = np.dtype(str(dtype))
            if dt.hasobject:
                raise EntryError("object scalar")
            return dt.type(self.decode(value))
        if tag == "$path":
            return Path(str(arg))
        if tag == "$table":
            import pandas as pd

            return pd.read_parquet(self.folder / "tables" / f"{_plain(arg)}.parquet")
        if tag == "$folder":
            type_name, name = arg
            return _function(_registered(FOLDER_CODECS, type_name)[1])(self.folder / "folders" / _plain(name))
        if tag == "$dataclass":
            return self._dataclass(str(arg), node.get("fields"))
        raise EntryError(f"unknown codec {tag!r}")

    def _dataclass(self, name: str, fields: Any) -> Any:
        cls = _registered(DATACLASSES, name)
        if not isinstance(fields, dict):
            raise EntryError(f"{name}: fields must be a mapping")
        expected = {f.name for f in dataclasses.fields(cls)}
        if set(fields) != expected:
            raise EntryError(f"{name} fields {sorted(fields)} != {sorted(expected)}")
        obj = object.__new__(cls)
        for key, value in fields.items():
            object.__setattr__(obj, key, self.decode(value))
        return obj


def _hashable(key: Any) -> Any:
    if isinstance(key, list):
        return tuple(_hashable(k) for k in key)
    return key


def _plain(name: Any) -> str:
    text = str(name)
    if not text.isalnum():
        raise EntryError(f"bad file name {text!r}")
    return text


def read_value(folder: str | os.PathLike[str]) -> Any:
    """The value stored by :func:`write_value` in ``folder``.

    Raises
    ------
    EntryError
        The folder does not hold a complete, readable value (the cache recomputes it).
    """
    folder = Path(folder)
    try:
        doc = json.loads((folder / VALUE_FILE).read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != FORMAT_VERSION:
            raise EntryError(f"{folder / VALUE_FILE} is not a supviz cache value")
        return _Reader(folder).decode(doc.get("value"))
    except EntryError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to read is an unreadable entry
        raise EntryError(f"{type(exc).__name__}: {exc}") from None
