"""Output folders: checked before anything is computed, and a manifest of what a run wrote.

Both commands that write a folder (``supviz run`` and ``supviz train``) check it the same way
before they compute or write anything (:func:`check_output_folder`): it must be a folder or not
exist yet, it must not sit under a file, it must be writable (tested by creating and removing a
probe, the only test that is right for root, read-only mounts and ``/proc``), and when it is not
empty it must hold a run of the same command. Anything else is refused with one line.

A ``supviz run`` folder holds one run's outputs. Its ``manifest.json`` lists every file the run
wrote (:func:`write_manifest`); the next run into the folder removes the files of the previous
manifest that it did not write itself (:func:`remove_stale`) and never touches a file that no
manifest lists.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from supviz.core.io import atomic_write_json, read_json_object
from supviz.errors import SupvizError

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "supviz.run"
MANIFEST_VERSION = 1


def check_output_folder(
    path: str | os.PathLike[str],
    *,
    name: str = "--out",
    accept: Callable[[Path], bool] | None = None,
    what: str = "a run of this command",
) -> Path:
    """Refuse an output folder that cannot hold this run; create nothing.

    Parameters
    ----------
    path
        The folder (it may not exist yet).
    name
        The option or setting named in the message (``"--out"``, ``"run.cache_dir"``).
    accept
        For a non-empty folder: whether it holds a run this command may replace or update.
        ``None``: any folder is accepted (a cache folder).
    what
        How the message names an acceptable folder.

    Returns
    -------
    Path
        ``path`` as a ``Path``.

    Raises
    ------
    SupvizError
        ``path`` is a file, lies under a file, is a dangling or looping link, is not writable,
        or is a non-empty folder that ``accept`` refuses.
    """
    p = Path(path)
    shown = str(p)
    if str(path) == "":
        raise SupvizError(f"`{name}` must name a folder; got ''.")
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError):
        if p.is_symlink():
            raise SupvizError(f"`{name}` {shown!r} is a link to nothing.") from None
        st = None
    except OSError as exc:  # a link loop, a name too long
        raise SupvizError(f"`{name}` {shown!r} cannot be used: {_reason(exc)}.") from None
    if st is not None:
        if not p.is_dir():
            raise SupvizError(f"`{name}` must be a folder; {shown!r} is a file.")
        anchor = p
        if accept is not None and _non_empty(p) and not accept(p):
            raise SupvizError(
                f"`{name}` {shown!r} is a non-empty folder that is not {what}; choose another or empty it."
            )
    else:
        anchor = p.absolute().parent
        while True:
            try:
                anchor.stat()
                break
            except (FileNotFoundError, NotADirectoryError):
                if anchor.is_symlink():
                    raise SupvizError(f"`{name}` {shown!r} lies under {str(anchor)!r}, a link to nothing.") from None
                anchor = anchor.parent
            except OSError as exc:
                raise SupvizError(f"`{name}` {shown!r} cannot be used: {_reason(exc)}.") from None
        if not anchor.is_dir():
            raise SupvizError(f"`{name}` {shown!r} lies under {str(anchor)!r}, which is a file.")
    _probe(anchor, name, shown)
    return p


def check_subfolders_writable(
    path: str | os.PathLike[str], *, name: str = "--out", skip: Iterable[str | os.PathLike[str]] = ()
) -> None:
    """Refuse a run folder whose existing subfolders cannot be written (a rerun writes into them).

    A rerun into a finished run folder replaces files in ``figures/`` and the other folders there;
    one that cannot be written (``chattr +i``, a read-only mount, a link into ``/proc``) used to
    fail with a raw ``PermissionError`` after the whole study had been recomputed. Each existing
    subfolder (links to folders included, hidden ones and ``skip`` not) gets the probe of
    :func:`check_output_folder`; create nothing.

    Raises
    ------
    SupvizError
        A subfolder is not writable or cannot be read; the message names it.
    """
    root = Path(path)
    if not root.is_dir():
        return
    skipped = {os.path.realpath(s) for s in skip}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                subs = [Path(e.path) for e in it if not e.name.startswith(".") and e.is_dir()]
        except OSError as exc:
            raise SupvizError(
                f"`{name}` {str(root)!r}: its folder {str(folder)!r} cannot be read ({_reason(exc)})."
            ) from None
        for sub in sorted(subs):
            if os.path.realpath(sub) in skipped:
                continue
            _probe(sub, name, str(root))
            if not sub.is_symlink():
                stack.append(sub)


def _probe(folder: Path, name: str, shown: str) -> None:
    """Create and remove a folder in ``folder``: the one writability test that never lies."""
    try:
        tmp = tempfile.mkdtemp(prefix=".supviz-probe-", dir=folder)
    except OSError as exc:
        where = "" if str(folder) == shown else f" in {str(folder)!r}"
        raise SupvizError(
            f"`{name}` {shown!r} is not writable (creating a folder{where} failed: {_reason(exc)})."
        ) from None
    os.rmdir(tmp)


def _non_empty(folder: Path) -> bool:
    with os.scandir(folder) as it:
        return any(True for _ in it)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


# -- manifest ------------------------------------------------------------------------------------


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The manifest of a ``supviz run`` folder, or ``None`` when there is no readable one."""
    path = Path(folder) / MANIFEST
    try:
        data = read_json_object(path, what="a supviz manifest")
    except SupvizError:  # unreadable, not JSON, nested too deep, not an object: no manifest
        return None
    if data.get("format") != MANIFEST_FORMAT or not isinstance(data.get("files"), list):
        return None
    if not all(isinstance(f, str) and _inside(f) for f in data["files"]):
        return None
    return data


#: Where ``supviz train``, ``sae`` and ``real`` write by default: a folder each under ``results/``, the
#: default ``supviz run`` folder, and the ``format`` of the ``metadata.json`` that marks each one's output.
#: The commands take their default ``--out`` and their format from here.
RESULTS = "results"
SUBCOMMAND_OUTPUTS: dict[str, str] = {"train": "supviz.toy.grid", "sae": "supviz.sae.run", "real": "supviz.real.run"}


def default_out(command: str) -> str:
    """The default ``--out`` of ``command`` (one of :data:`SUBCOMMAND_OUTPUTS`): ``results/<command>``."""
    return f"{RESULTS}/{command}"


def metadata_format(folder: str | os.PathLike[str]) -> str | None:
    """The ``format`` named by ``folder/metadata.json``, or None (no such file, not JSON, no format)."""
    try:
        data = read_json_object(Path(folder) / "metadata.json", what="a run folder's metadata")
    except SupvizError:
        return None
    return data.get("format") if isinstance(data.get("format"), str) else None


def is_study_folder_or_results(folder: str | os.PathLike[str]) -> bool:
    """Whether ``supviz run`` may write into ``folder``: a ``supviz run`` folder, or one that holds nothing
    but the other subcommands' default outputs (``train/``, ``sae/``, ``real/``, each that command's output,
    :data:`SUBCOMMAND_OUTPUTS`): ``results/`` after ``supviz train``, ``sae`` or ``real`` with their
    defaults. A run leaves those folders alone (it removes only files its own manifest lists)."""
    p = Path(folder)
    if is_study_folder(p):
        return True
    entries = list(p.iterdir())
    return bool(entries) and all(
        e.name in SUBCOMMAND_OUTPUTS
        and e.is_dir()
        and not e.is_symlink()
        and metadata_format(e) == SUBCOMMAND_OUTPUTS[e.name]
        for e in entries
    )


def is_study_folder(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` holds a ``supviz run`` (its manifest, or the run.json + config.toml of a
    run made before manifests existed)."""
    p = Path(folder)
    m = read_manifest(p)
    if m is not None:
        return m.get("command") == "run"
    return (p / "run.json").is_file() and (p / "config.toml").is_file()


def write_manifest(
    folder: str | os.PathLike[str],
    files: Iterable[str],
    *,
    command: str,
    complete: bool,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write ``manifest.json`` listing ``files`` (paths relative to ``folder``) atomically.

    ``complete=False`` marks a run in progress (or killed): its files are listed so that the next
    run can remove them, but nothing reads the folder as a finished run.
    """
    names = sorted({str(f) for f in files} | {MANIFEST})
    payload = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "command": command,
        "complete": complete,
        "files": names,
        **(extra or {}),
    }
    atomic_write_json(Path(folder) / MANIFEST, payload)


def remove_stale(folder: str | os.PathLike[str], previous: Iterable[str], current: Iterable[str]) -> list[str]:
    """Remove the files of ``previous`` (a manifest's list) that ``current`` does not hold.

    Only plain files listed in ``previous`` and lying inside ``folder`` are removed, and then
    their folders if empty. Returns the removed paths (relative).
    """
    root = Path(folder)
    keep = set(current)
    removed = []
    for rel in sorted(set(previous) - keep - {MANIFEST}):
        if not _inside(rel):
            continue
        target = root / rel
        if target.is_file() and not target.is_symlink():
            target.unlink()
            removed.append(rel)
            parent = target.parent
            while parent != root and not _non_empty(parent):
                parent.rmdir()
                parent = parent.parent
    return removed


def _inside(rel: str) -> bool:
    p = Path(rel)
    return bool(rel) and not p.is_absolute() and ".." not in p.parts


#: What a ``supviz run`` folder made before manifests existed holds (besides ``figures/``).
_LEGACY_FILES = ("config.toml", "run.json", "timings.json", "metrics.parquet", "metrics.csv", "report.html")
_LEGACY_FIGURE_SUFFIXES = (".png", ".svg", ".pdf", ".html", ".js")


def previous_files(folder: str | os.PathLike[str]) -> list[str]:
    """The files an earlier ``supviz run`` wrote into ``folder`` (its manifest's list).

    A folder of a run made before manifests existed lists what such runs wrote: the known
    top-level files and the figure files under ``figures/``.
    """
    p = Path(folder)
    m = read_manifest(p)
    if m is not None:
        return list(m["files"])
    if not is_study_folder(p):
        return []
    names = [n for n in _LEGACY_FILES if (p / n).is_file()]
    figures = p / "figures"
    if figures.is_dir():
        names += sorted(
            f"figures/{f.name}" for f in figures.iterdir() if f.is_file() and f.suffix in _LEGACY_FIGURE_SUFFIXES
        )
    return names


class OutputLog:
    """The files one run writes into its folder, kept in the folder's manifest as they are claimed.

    Claim a file before writing it: the manifest (marked incomplete) then lists it together with
    the previous run's files, so a run killed at any point leaves a folder whose every supviz file
    a later run knows and can remove. :meth:`finish` removes what the previous run wrote and this
    one did not, and marks the manifest complete.
    """

    def __init__(self, folder: str | os.PathLike[str], *, command: str, previous: Iterable[str] = ()) -> None:
        self.folder = Path(folder)
        self.command = command
        self.previous = list(previous)
        self.files: set[str] = set()

    def claim(self, *paths: str | os.PathLike[str]) -> None:
        """Record ``paths`` (relative to the folder, or absolute and inside it) as written by this run."""
        new = {self._rel(p) for p in paths} - self.files
        if new:
            self.files |= new
            write_manifest(self.folder, self.files | set(self.previous), command=self.command, complete=False)

    def finish(self, extra: dict[str, Any] | None = None) -> list[str]:
        """Remove the previous run's files that this run did not write; write the complete manifest.

        Returns the removed paths.
        """
        removed = remove_stale(self.folder, self.previous, self.files)
        write_manifest(
            self.folder, self.files, command=self.command, complete=True, extra={"removed": removed, **(extra or {})}
        )
        return removed

    def _rel(self, path: str | os.PathLike[str]) -> str:
        p = Path(path)
        text = Path(os.path.relpath(p, self.folder.absolute())).as_posix() if p.is_absolute() else p.as_posix()
        if not _inside(text):
            raise ValueError(f"{str(path)!r} is not inside {str(self.folder)!r}")
        return text
