"""A content-addressed cache for the expensive steps of a study.

A step's key is the SHA-256 of everything that determines its output: a ``kind`` (what the step
is), its parameters, the keys of the steps it consumes (``upstream``), and the code that computes
it (:func:`code_version`: the supviz version and a digest of the package's source, so an edited
algorithm never serves a stale result). So a changed parameter changes the key of that step and of
everything downstream of it, and nothing else.

Every entry is a folder, ``<root>/<kind>/<key[:2]>/<key>/``, built under a temporary name and
renamed into place when complete (:mod:`supviz.core.io`), so a run killed half way leaves only
complete entries and the next run resumes from them; :meth:`Cache.sweep` removes the temporaries
of killed runs. A value entry holds the value in code-free files (:mod:`supviz.runtime.codecs`:
JSON, ``.npz`` read with ``allow_pickle=False``, Parquet, safetensors): reading the cache never
executes anything, so a cache folder others can write into is not a way in. Nothing here reads a
pickle; the ``.pkl`` files of older supviz versions are ignored. Folder entries (figure files,
the data-point tables) are filled by the step itself.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from supviz import __version__
from supviz.core.io import atomic_dir, sweep_temporaries
from supviz.runtime import codecs

log = logging.getLogger(__name__)
T = TypeVar("T")


def _canonical(obj: Any) -> Any:
    """A JSON-able, order-stable form of ``obj`` (arrays hashed by dtype, shape and bytes)."""
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        digest = hashlib.sha256(arr.tobytes()).hexdigest()
        return {"__array__": [str(arr.dtype), list(arr.shape), digest]}
    if isinstance(obj, np.generic):
        return _canonical(obj.item())
    if isinstance(obj, float):
        return repr(obj) if not math.isfinite(obj) else float(obj)
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot build a cache key from {type(obj).__name__}")


@functools.cache
def code_version() -> str:
    """``<supviz version>+<digest>``: the digest covers every ``.py`` and ``.toml`` file of the package."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:16]}"


def cache_key(kind: str, params: Mapping[str, Any], upstream: Sequence[str] = (), *, version: str | None = None) -> str:
    """The content key of a step.

    Parameters
    ----------
    kind
        What the step is (``"train"``, ``"layout"``, ...).
    params
        Everything that determines the step's output besides its inputs' keys. Arrays may appear.
    upstream
        Keys of the cached steps it consumes.
    version
        The code version; default :func:`code_version` (any change to supviz's code invalidates
        every entry).

    Returns
    -------
    str
        64 hex digits.
    """
    payload = {
        "kind": kind,
        "params": _canonical(dict(params)),
        "upstream": list(upstream),
        "version": code_version() if version is None else version,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class CacheStats:
    """Hits and misses of one run, per kind."""

    hits: dict[str, int] = field(default_factory=dict)
    misses: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, hit: bool) -> None:
        target = self.hits if hit else self.misses
        target[kind] = target.get(kind, 0) + 1

    @property
    def total_hits(self) -> int:
        return sum(self.hits.values())

    @property
    def total_misses(self) -> int:
        return sum(self.misses.values())


#: What :meth:`Cache.lookup` returns where there is no readable entry.
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


class Cache:
    """Content-addressed store under ``root``; ``enabled=False`` computes everything afresh."""

    def __init__(self, root: str | Path, *, enabled: bool = True, version: str | None = None) -> None:
        self.root = Path(root)
        self.enabled = enabled
        self.version = code_version() if version is None else version
        self.stats = CacheStats()

    def writer(self) -> "Cache":
        """A copy for a worker process to store entries through (same folder and code version, own counts)."""
        return Cache(self.root, enabled=self.enabled, version=self.version)

    def key(self, kind: str, params: Mapping[str, Any], upstream: Sequence[str] = ()) -> str:
        """See :func:`cache_key`."""
        return cache_key(kind, params, upstream, version=self.version)

    def _folder(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / key

    def has(self, kind: str, key: str) -> bool:
        """Whether a value entry exists."""
        return self.enabled and (self._folder(kind, key) / codecs.VALUE_FILE).is_file()

    def load(self, kind: str, key: str) -> Any:
        """The stored value.

        Raises
        ------
        KeyError
            No entry.
        codecs.EntryError
            An entry that cannot be read back (the caller recomputes it).
        """
        folder = self._folder(kind, key)
        if not (folder / codecs.VALUE_FILE).is_file():
            raise KeyError(key)
        return codecs.read_value(folder)

    def lookup(self, kind: str, key: str, *, check: Callable[[Any], str | None] | None = None) -> Any:
        """The stored value of ``key``, or :data:`MISSING`; counted as a hit or a miss.

        The one way every reader of the cache (:meth:`get_or_compute`, the dispatchers' memo, the
        toy cells, the sweep's SAEs) reads an entry: an entry that cannot be read back (an empty
        ``value.json``, garbage in ``arrays.npz``, a damaged folder such as a data-point result's
        ``index.json``; :func:`supviz.runtime.codecs.read_value` turns any failure into an
        :class:`~supviz.runtime.codecs.EntryError`) is a warning and a miss: the caller computes
        it again and its store replaces the entry. ``check(value)``, where given, says what is wrong
        with a value that reads (e.g. NaN weights in a trained cell) or None; such an entry is a
        warning and a miss too, and is removed so that the recomputed value is stored in its place.
        """
        if self.has(kind, key):
            try:
                value = self.load(kind, key)
            except (codecs.EntryError, KeyError) as exc:
                log.warning("%s cache entry %s unreadable (%s); computing it again", kind, key[:12], exc)
            else:
                reason = None if check is None else check(value)
                if reason is None:
                    self.stats.count(kind, True)
                    return value
                log.warning("%s cache entry %s is damaged (%s); computing it again", kind, key[:12], reason)
                self.discard(kind, key)
        self.stats.count(kind, False)
        return MISSING

    def discard(self, kind: str, key: str) -> None:
        """Remove the entry of ``key`` (renamed aside first, so no reader sees it half removed)."""
        folder = self._folder(kind, key)
        if not folder.is_dir():
            return
        aside = Path(tempfile.mkdtemp(prefix=f".{key}.pid{os.getpid()}.", suffix=".tmp", dir=folder.parent))
        try:
            os.replace(folder, aside / "entry")
        except OSError:  # another process replaced or removed it meanwhile
            pass
        shutil.rmtree(aside, ignore_errors=True)

    def store(self, kind: str, key: str, value: Any) -> None:
        """Store ``value`` atomically (a complete entry already there is kept: same key, same content)."""
        if not self.enabled:
            return
        dest = self._folder(kind, key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.pid{os.getpid()}.", suffix=".tmp", dir=dest.parent))
        try:
            codecs.write_value(value, tmp)
            try:
                os.rename(tmp, dest)
            except OSError:
                if not dest.is_dir():
                    raise
                try:  # an entry is there already: keep it if it reads, replace it if not
                    codecs.read_value(dest)
                except codecs.EntryError:
                    with atomic_dir(dest) as fresh:
                        shutil.copytree(tmp, fresh, dirs_exist_ok=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def sweep(self) -> list[Path]:
        """Remove the temporaries that killed runs left in the cache (see :func:`supviz.core.io.sweep_temporaries`)."""
        removed = []
        if self.root.is_dir():
            for depth in (1, 2):  # <root>/<kind>/.x.tmp (none today) and <root>/<kind>/<xx>/.<key>.pid<N>.*.tmp
                removed += sweep_temporaries(self.root, depth=depth)
        if removed:
            log.info("removed %d temporaries of killed runs from %s", len(removed), self.root)
        return removed

    def get_or_compute(
        self,
        kind: str,
        params: Mapping[str, Any],
        compute: Callable[[], T],
        *,
        upstream: Sequence[str] = (),
    ) -> tuple[T, str]:
        """The cached value of a step, computing and storing it on a miss.

        Returns
        -------
        (value, key)
        """
        key = self.key(kind, params, upstream)
        value = self.lookup(kind, key)
        if value is not MISSING:
            return value, key
        value = compute()
        self.store(kind, key, value)
        return value, key

    def folder(
        self, kind: str, params: Mapping[str, Any], build: Callable[[Path], None], *, upstream: Sequence[str] = ()
    ) -> tuple[Path, str]:
        """A cached folder: ``build(tmp)`` fills a fresh folder on a miss, which then moves into place.

        Returns
        -------
        (folder, key)
        """
        key = self.key(kind, params, upstream)
        dest = self._folder(kind, key)
        if self.enabled and dest.is_dir():
            self.stats.count(kind, True)
            return dest, key
        self.stats.count(kind, False)
        with atomic_dir(dest) as tmp:
            build(tmp)
        return dest, key
