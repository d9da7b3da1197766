"""Running the study's units of work on a ``dask.distributed`` cluster.

``supviz run --scheduler ADDRESS`` (or ``run.scheduler`` in the config; ``supviz sweep`` too) sends
every task of :mod:`supviz.runtime.dispatch` (train a group of toy models, one layout with its measures,
one SAE group, one figure) to a Dask cluster as futures:

- ``""`` (the default): no cluster; local worker processes (``run.n_jobs``);
- ``"local:N"``: a ``LocalCluster`` of N single-threaded worker processes on this machine;
- ``"tcp://host:8786"`` (any Dask address): an existing scheduler, e.g. one that dask-jobqueue
  started on SLURM (README, "On a cluster").

Why futures and not joblib's Dask backend (``benchmarks/cluster.py``, ``docs/benchmarks.md``): the
large inputs of a task (:class:`~supviz.runtime.dispatch.Shared`) travel as ``.npy`` files in the shared
cache folder, written once, where joblib's backend scatters every argument above 1 kB on its own
into one worker's memory (a killed worker takes such data with it, and the scheduler cancels the
tasks that needed it: seen in ``tests/runtime/test_cluster.py``); and each task is reported as it ends
(joblib batches short tasks). Dispatch costs the same order either way: 2-3 ms per task here
(results gathered in batches of finished tasks), 1-2 ms for joblib's backend, which batches
tasks; against tasks of 0.5-2 s neither was consistently faster on the data-point section.

The cache stays the single source of truth: workers write their entries into the run's cache
folder (atomic renames), so it must be a folder every worker sees (a shared filesystem; always
true for ``local:N``). :func:`connect` checks that before the run writes anything: a worker that
cannot read a probe file the client wrote there, or cannot create its own, is a one-line error.
A worker that dies mid-task loses that task only: the scheduler runs it again elsewhere, and a
run stopped altogether resumes from the cache like a local one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from supviz.errors import SupvizError
from supviz.runtime.dispatch import Dispatcher, NpyFile, Shared, die_with_parent, one_numba_thread, run_task

log = logging.getLogger(__name__)

#: host:port with an optional scheme (a bare host, which Dask cannot reach, is refused up front), or inproc://.
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):\d{1,5}$|^inproc://\S+$")
#: Seconds to wait for a scheduler to answer.
CONNECT_TIMEOUT = 20
#: Seconds a TCP peer has, once connected, to send Dask's handshake (a scheduler sends it at once, in
#: well under a millisecond here); a web server (the dashboard's port 8787, say) waits for a request.
HANDSHAKE_TIMEOUT = 5.0
#: Bytes a Dask handshake takes at most: one msgpack dict of a few settings (58 bytes with
#: distributed 2024-2025); a longer length prefix is some other protocol's text read as a length.
_HANDSHAKE_MAX_BYTES = 1 << 16


class ClusterError(SupvizError):
    """The cluster failed under a running study (lost workers, a task it could not run)."""

    exit_status = 1


def check_scheduler(value: Any, name: str = "run.scheduler") -> str:
    """``""``, ``"local:N"`` (1 <= N <= 64) or a Dask scheduler address; one-line error otherwise.

    Only the form is checked here (``supviz config`` reaches no cluster); :func:`connect` reaches it.
    """
    if not isinstance(value, str):
        raise SupvizError(
            f"`{name}` must be '', 'local:N' or a Dask scheduler address (tcp://host:port); got {value!r}."
        )
    text = value.strip()
    if not text:
        return ""
    if text.startswith("local"):
        m = re.fullmatch(r"local:(\d+)", text)
        if not m or not 1 <= int(m.group(1)) <= 64:
            raise SupvizError(f"`{name}` 'local:N' needs a worker count N from 1 to 64; got {value!r}.")
        return f"local:{int(m.group(1))}"
    port = text.rsplit(":", 1)[-1]
    if not text.startswith("inproc://") and port.isdigit() and not 1 <= int(port) <= 65535:
        raise SupvizError(f"`{name}` needs a port from 1 to 65535; got {value!r}.")
    if not _ADDRESS.match(text):
        raise SupvizError(
            f"`{name}` must be '', 'local:N' or a Dask scheduler address (tcp://host:port); got {value!r}."
        )
    return text


class DaskDispatcher(Dispatcher):
    """Tasks as ``dask.distributed`` futures (see the module docstring).

    Parameters
    ----------
    client : distributed.Client
        A connected client.
    memo, progress
        As :class:`supviz.runtime.dispatch.Dispatcher`.
    """

    name = "Dask"

    def __init__(self, client: Any, *, files: str | Path | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client
        self.files = None if files is None else Path(files)

    @property
    def workers(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def _run(self, fn, calls, keys, index, *, kind, store, n_jobs, one_thread) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        client = self.client
        # every large input once, in one round trip (explicitly: nothing is scattered behind our back)
        shared: dict[int, Shared] = {}
        for call in calls:
            for a in call:
                if isinstance(a, Shared):
                    shared.setdefault(id(a), a)
        futures_of: dict[int, Any] = {}
        written: list[Path] = []
        for i, value in list(shared.items()):
            if self.files is not None and _is_plain_array(value.value):
                futures_of[i] = self._to_file(value.value, written)
        rest = [i for i in shared if i not in futures_of]
        if rest:  # broadcast: a copy on every worker, so no single worker's death loses it
            futures_of.update(zip(rest, client.scatter([shared[i].value for i in rest], hash=False, broadcast=True)))
        token = uuid.uuid4().hex[:8]
        name = getattr(fn, "__name__", "task").strip("_")
        packed = [
            (fn, store, kind, key, one_thread, tuple(futures_of[id(a)] if isinstance(a, Shared) else a for a in call))
            for call, key in zip(calls, keys)
        ]
        futures = client.map(_dask_task, packed, key=[f"supviz-{name}-{token}-{i}" for i in index], pure=False)
        where = {fut.key: i for fut, i in zip(futures, index)}
        try:
            # results in batches of whatever has finished: one gather per batch, not one round trip per
            # task (2.0 instead of 3.4-4.0 ms of dispatch per trivial task, benchmarks/cluster.py)
            for batch in as_completed(futures, loop=client.loop).batches():
                for fut in batch:
                    if fut.status != "finished":
                        exc = fut.exception() if fut.status == "error" else None
                        if exc is None:  # cancelled: its inputs or its worker are gone for good
                            raise ClusterError(
                                f"the cluster cancelled task {where[fut.key]} of {name!r} "
                                f"({fut.status}); run again to resume from the cache."
                            )
                        raise _cluster_error(exc, name, where[fut.key]) from exc
                for fut, result in zip(batch, client.gather(batch)):
                    yield where[fut.key], result
                    fut.release()
        finally:
            pending = [f for f in futures if not f.done()]
            if pending:
                client.cancel(pending)
            del futures_of
            for path in written:
                path.unlink(missing_ok=True)

    def _to_file(self, arr: Any, written: list[Path]) -> NpyFile:
        """``arr`` as a content-named ``.npy`` file in the shared folder (written once, atomically)."""
        import hashlib

        import numpy as np

        from supviz.core.io import atomic_path

        arr = np.ascontiguousarray(arr)
        digest = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode() + arr.tobytes()).hexdigest()
        path = self.files / f"{digest}.npy"
        if not path.is_file():
            self.files.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, arr, allow_pickle=False)
            written.append(path)
        return NpyFile(str(path))


def _is_plain_array(value: Any) -> bool:
    import numpy as np

    return isinstance(value, np.ndarray) and not value.dtype.hasobject


def _dask_task(packed: tuple[Any, ...]) -> Any:
    fn, store, kind, key, one_thread, args = packed
    if one_thread:
        one_numba_thread()
    return run_task(fn, args, store, kind, key, one_thread, in_worker=True)


def _cluster_error(exc: BaseException, name: str, i: int) -> BaseException:
    if isinstance(exc, SupvizError):
        return exc
    try:
        from distributed import KilledWorker
    except ImportError:  # pragma: no cover
        KilledWorker = ()  # type: ignore[assignment]
    if isinstance(exc, KilledWorker):
        return ClusterError(
            f"the cluster lost every worker that ran task {i} of {name!r} ({exc}); run again to resume from the cache."
        )
    return exc


@contextlib.contextmanager
def connect(
    scheduler: str,
    *,
    cache_root: str | Path | None = None,
    memo: Any = None,
    progress: Callable[[int, str], Any] | None = None,
    name: str = "run.scheduler",
) -> Iterator[DaskDispatcher]:
    """A :class:`DaskDispatcher` on the cluster ``scheduler`` for the length of the ``with`` block.

    ``"local:N"`` starts (and at the end stops) a ``LocalCluster`` of N single-threaded worker
    processes that die with this process; an address connects to a running scheduler. With
    ``cache_root``, every worker must see the folder (or its nearest existing parent) and be able
    to write there; otherwise a :class:`SupvizError` says which.

    Raises
    ------
    SupvizError
        No scheduler at the address (within :data:`CONNECT_TIMEOUT` s), no workers, or a cache
        folder the workers cannot use.
    """
    scheduler = check_scheduler(scheduler, name)
    if not scheduler:
        raise SupvizError(f"`{name}` is empty: no cluster to connect to.")
    import logging as _logging

    from distributed import Client, LocalCluster

    cluster = None
    client = None
    # Dask's own INFO lines (scheduler and workers starting, closing) would bury supviz's stage lines
    # and ignore --quiet; its warnings and errors still show.
    dask_log = _logging.getLogger("distributed")
    dask_level = dask_log.level
    dask_log.setLevel(max(_logging.WARNING, dask_level))
    try:
        if scheduler.startswith("local:"):
            n = int(scheduler.split(":", 1)[1])
            with _sigint_blocked():  # Ctrl-C is this process's to handle, as for local pools (dispatch)
                cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=_logging.ERROR,
                )
            client = Client(cluster, set_as_default=False)
            client.run(die_with_parent, os.getpid())
        else:
            check_handshake(scheduler, name=name)
            try:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except Exception as exc:  # noqa: BLE001 - e.g. tornado's WebSocketError for ws:// to a web server
                _close_half_made(exc)
                what = _one_line(exc) if isinstance(exc, (OSError, TimeoutError)) else f"{type(exc).__name__}: {exc}"
                raise SupvizError(
                    f"`{name}` {scheduler!r}: no Dask scheduler answered ({' '.join(what.split())})."
                ) from None
            try:
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError):
                raise SupvizError(
                    f"`{name}` {scheduler!r}: the scheduler has no workers (none joined within {CONNECT_TIMEOUT} s)."
                ) from None
        if cache_root is not None:
            check_shared_folder(client, cache_root)
        files = None if cache_root is None else Path(cache_root) / "inputs"
        dispatcher = DaskDispatcher(client, memo=memo, progress=progress, files=files)
        log.info("Dask cluster %s: %d workers, %d threads", scheduler, len(client.nthreads()), dispatcher.workers)
        yield dispatcher
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            _stop_local_cluster(cluster)
        dask_log.setLevel(dask_level)


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT blocked in this thread while a ``LocalCluster`` starts, so that its event-loop thread and
    the worker processes its nannies start inherit the block (a signal mask passes to new threads and
    through fork and exec). A terminal's Ctrl-C reaches the whole process group: the workers, stopped
    by it mid-task, left their semaphores registered with the shared resource tracker, which printed
    "There appear to be 2 leaked semaphore objects" after "supviz: interrupted" (issue 22). This
    process still gets the signal and stops the cluster (:func:`_stop_local_cluster`); a worker that
    outlives it dies by :func:`~supviz.runtime.dispatch.die_with_parent`. The resource trackers start
    first, as :func:`supviz.runtime.dispatch._start_resource_trackers` explains.
    """
    import signal

    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        yield
        return
    from supviz.runtime.dispatch import _start_resource_trackers

    _start_resource_trackers()
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _close_half_made(exc: BaseException) -> None:
    """Close the ``Client`` whose constructor raised ``exc`` (found in the traceback's frames), at once.

    Left to the garbage collector, its ``__del__`` waited twice the connect timeout (40 s) to close a
    connection that never opened and then printed "Exception ignored ... TimeoutError" after the
    one-line error (issue 22: ``ws://`` or ``tls://`` to a web server).
    """
    from distributed import Client

    tb = exc.__traceback__
    while tb is not None:
        me = tb.tb_frame.f_locals.get("self")
        if isinstance(me, Client):
            with contextlib.suppress(Exception):
                me.close(timeout=1)
            with contextlib.suppress(Exception):
                me.status = "closed"  # what __del__ checks: nothing left to close
            return
        tb = tb.tb_next


def _stop_local_cluster(cluster: Any) -> None:
    """Close the ``LocalCluster`` that :func:`connect` started, its worker processes first, at once.

    The workers hold nothing the run needs (every result was gathered or is in the cache), but one
    still inside a task that an interrupted or failed run abandoned does not stop when asked: its
    nanny waited 4 s and then logged "Worker process still alive after 4.0 seconds, killing", one
    line per worker (issue 22), and the worker its own warnings about cancelled tasks. So each worker
    process is killed (SIGKILL: it logs nothing) before the cluster closes, and the nannies' lines
    about a worker that stopped are kept below ERROR while it does.
    """
    import logging as _logging
    import signal

    quiet = [_logging.getLogger(n) for n in ("distributed.nanny", "distributed.scheduler", "distributed.core")]
    levels = [q.level for q in quiet]
    for q in quiet:
        q.setLevel(_logging.ERROR)
    try:
        for nanny in list(getattr(cluster, "workers", {}).values()):
            pid = getattr(nanny, "pid", None)
            if pid:
                with contextlib.suppress(OSError):
                    os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
        cluster.close()
    finally:
        for q, level in zip(quiet, levels):
            q.setLevel(level)


def check_handshake(
    scheduler: str, *, name: str = "run.scheduler", connect_timeout: float | None = None, timeout: float | None = None
) -> None:
    """Refuse a TCP address where no Dask scheduler speaks, before a ``Client`` waits on it.

    A Dask listener writes its handshake as soon as it accepts a connection (``distributed.comm.core``,
    ``Listener.on_connection``): an 8-byte little-endian length, then that many bytes of frames
    (``distributed.protocol.utils.pack_frames``) holding one msgpack dict with ``"compression"`` and
    ``"python"``. This probe connects (within ``connect_timeout`` s, default :data:`CONNECT_TIMEOUT`),
    reads the handshake (within ``timeout`` s in all, default :data:`HANDSHAKE_TIMEOUT`), checks it
    and closes; the scheduler sees a client that left, and logs nothing above DEBUG. Without it a web
    server there (e.g. Dask's dashboard port) kept ``Client`` waiting for over 12 minutes, and one
    that answers read ``b"HTTP/1.1"`` as a length of 3.07 EiB (issue 22). Addresses of other schemes
    (``tls://``, ``ws://``, ``ucx://``, ``inproc://``) are left to ``Client``.

    Raises
    ------
    SupvizError
        Nothing listens, or the peer sends no Dask handshake in time, or something else.
    """
    import socket
    import struct
    import time

    scheme, _, rest = scheduler.rpartition("://")
    if scheme not in ("", "tcp"):
        return
    host, _, port = rest.rpartition(":")
    host = host[1:-1] if host.startswith("[") else host
    connect_timeout = CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
    timeout = HANDSHAKE_TIMEOUT if timeout is None else timeout
    where = f"`{name}` {scheduler!r}"
    try:
        sock = socket.create_connection((host, int(port)), timeout=connect_timeout)
    except (OSError, TimeoutError) as exc:
        raise SupvizError(f"{where}: no Dask scheduler answered ({_one_line(exc)}).") from None
    deadline = time.monotonic() + timeout

    def read(n: int, until: float | None = None) -> bytes:
        got = b""
        while len(got) < n:
            left = (deadline if until is None else min(deadline, until)) - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                chunk = sock.recv(n - len(got))
            except TimeoutError:
                break
            if not chunk:
                break
            got += chunk
        return got

    not_dask = f"{where}: something listens there, but not a Dask scheduler"
    hint = "(Dask's dashboard listens on 8787, its scheduler on 8786 unless told otherwise)"
    try:
        head = read(8)
        if not head:
            raise SupvizError(f"{not_dask}: it sent no Dask handshake within {timeout:g} s {hint}.")
        (size,) = struct.unpack("<Q", head.ljust(8, b"\0"))
        body = read(size) if len(head) == 8 and 8 <= size <= _HANDSHAKE_MAX_BYTES else b""
        info = _handshake_info(body) if len(body) == size else None
        if info is None:  # what it sent, as far as it comes at once, says what it is
            said = (head + body + read(24, until=time.monotonic() + 0.2))[:24]
            raise SupvizError(f"{not_dask}: it answered {said!r}, not a Dask handshake {hint}.")
    except OSError as exc:
        raise SupvizError(f"{where}: no Dask scheduler answered ({_one_line(exc)}).") from None
    finally:
        sock.close()
    log.debug("Dask handshake from %s: %s", scheduler, info)


def _handshake_info(body: bytes) -> dict | None:
    """The handshake dict packed in ``body`` (:func:`check_handshake`), or None for anything else."""
    try:
        from distributed.protocol.core import loads
        from distributed.protocol.utils import unpack_frames

        info = loads(unpack_frames(body))
    except Exception:  # any bytes at all can arrive here; what fails to decode is not a handshake
        return None
    return info if isinstance(info, dict) and {"compression", "python"} <= set(info) else None


def check_shared_folder(client: Any, folder: str | Path) -> None:
    """Make sure every worker sees ``folder`` (or its nearest existing parent) and can write there.

    The client writes a probe file with a random token; each worker must read the token back and
    create and remove a file of its own beside it. Nothing is left behind.

    Raises
    ------
    SupvizError
        Naming the first worker that cannot.
    """
    base = Path(folder).resolve()
    while not base.exists() and base != base.parent:
        base = base.parent
    token = uuid.uuid4().hex
    probe = base / f".supviz-probe-{os.getpid()}-{token[:8]}.tmp"
    probe.write_text(token, encoding="utf-8")
    try:
        answers = client.run(_probe, str(probe), token)
    finally:
        probe.unlink(missing_ok=True)
    for worker, problem in sorted(answers.items()):
        if problem:
            raise SupvizError(
                f"`run.cache_dir` {str(folder)!r} must be a folder every Dask worker can read and write "
                f"(a shared filesystem); worker {worker}: {problem}."
            )


def _probe(path: str, token: str) -> str:
    try:
        if Path(path).read_text(encoding="utf-8") != token:
            return "it sees another file at that path"
    except OSError as exc:
        return f"it cannot read {path} ({exc.strerror or type(exc).__name__})"
    mine = Path(path).with_name(Path(path).name + f".w{os.getpid()}")
    try:
        mine.write_text(token, encoding="utf-8")
        mine.unlink()
    except OSError as exc:
        return f"it cannot write there ({exc.strerror or type(exc).__name__})"
    return ""


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def dispatcher_for(
    scheduler: str,
    *,
    n_jobs: int,
    cache_root: str | Path | None,
    memo: Any,
    progress: Callable[[int, str], Any] | None,
) -> contextlib.AbstractContextManager[Dispatcher]:
    """The dispatcher of a run: a Dask one for a scheduler (:func:`connect`), else local processes."""
    if scheduler:
        return connect(scheduler, cache_root=cache_root, memo=memo, progress=progress)
    from supviz.runtime.dispatch import LocalDispatcher

    return contextlib.nullcontext(LocalDispatcher(n_jobs, memo=memo, progress=progress))
