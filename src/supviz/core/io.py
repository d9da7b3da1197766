"""Atomic file output: a killed process never leaves a file that later reads as complete.

Everything is written to a temporary name in the destination's folder and moved into place with
:func:`os.replace`, which is atomic on POSIX for paths on one file system. A temporary's name
carries the id of the process that made it (``.<name>.pid<PID>.<random>.tmp``), so that
:func:`sweep_temporaries` can remove the ones a killed process left behind and never one that a
live process is still writing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from supviz.errors import SupvizError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path``.

    On an exception the temporary file is removed and ``path`` is untouched.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(dest), suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp makes 0600 files; outputs are meant to be shared like any file open() creates.
    os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=json_default) + "\n")


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Build a directory under a temporary name and rename it onto ``path`` when complete.

    An existing ``path`` is replaced only after the new one is complete.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(dest), suffix=".tmp", dir=dest.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if dest.exists():
            old = dest.with_name(f"{_tmp_prefix(dest)}old{secrets.token_hex(4)}.tmp")
            os.replace(dest, old)
            os.replace(tmp, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _tmp_prefix(dest: Path) -> str:
    return f".{dest.name}.pid{os.getpid()}."


_TAGGED = re.compile(r"^\..*\.pid(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")
_UNTAGGED = re.compile(r"^\..+\.(tmp|old)$")
#: Temporaries without a process id (made by an older supviz) are swept after this long.
UNTAGGED_MAX_AGE_S = 3600.0


def sweep_temporaries(folder: str | os.PathLike[str], *, depth: int = 0, untagged: bool = True) -> list[Path]:
    """Remove the temporaries that a killed process left ``depth`` levels below ``folder``.

    A temporary is removed when the process named in it no longer runs; with ``untagged``, also a
    ``.<name>.<random>.tmp`` / ``.<name>.old`` without a process id (older supviz made those) once
    it is older than :data:`UNTAGGED_MAX_AGE_S` (only for folders supviz owns, like its cache: a
    user's own hidden ``.tmp`` file looks the same). A process on another machine sharing the
    folder looks dead from here: do not share one cache between machines while both run.

    Returns
    -------
    list of Path
        What was removed.
    """
    root = Path(folder)
    levels = [root]
    for _ in range(depth):
        levels = [p for d in levels for p in _subfolders(d)]
    removed = []
    now = time.time()
    for d in levels:
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            m = _TAGGED.match(e.name)
            if m:
                stale = not _alive(int(m["pid"]))
            elif untagged and _UNTAGGED.match(e.name):
                try:
                    stale = now - e.stat(follow_symlinks=False).st_mtime > UNTAGGED_MAX_AGE_S
                except OSError:
                    continue
            else:
                continue
            if stale:
                path = Path(e.path)
                if e.is_dir(follow_symlinks=False):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                removed.append(path)
    return removed


def _subfolders(folder: Path) -> list[Path]:
    try:
        return [
            Path(e.path) for e in os.scandir(folder) if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")
        ]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def json_default(obj: Any) -> Any:
    """``json.dumps(default=...)`` for numpy scalars and arrays and paths."""
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def read_json_object(path: str | os.PathLike[str], *, what: str = "a JSON object") -> dict[str, Any]:
    """The JSON object (a dict) in the file ``path``: the one way supviz reads back JSON it wrote.

    Raises
    ------
    SupvizError
        One line naming the file: unreadable, empty, not JSON, or JSON that is not an object.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: [[[[...]]]]
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise SupvizError(f"could not read {str(p)!r} as JSON ({what}): {reason}.") from None
    if not isinstance(data, dict):
        raise SupvizError(f"{str(p)!r} must hold a JSON object ({what}); got {type(data).__name__}.")
    return data


def file_sha256(*paths: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of the bytes of ``paths``, read in order and in blocks (a content key for files)."""
    import hashlib

    h = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()
