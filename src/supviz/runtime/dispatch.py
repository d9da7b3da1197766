"""Where the study's units of work run: this process, local worker processes, or a Dask cluster.

A *unit of work* is a task: train a group of toy models, one layout with its measures, one SAE
group, one figure. Code that has many of them calls :meth:`Dispatcher.map` on the dispatcher in
force (:func:`current`); ``supviz run`` and ``supviz sweep`` put one in force for the run
(:func:`use`), so the same code runs on two cores or on a cluster:

- :class:`Dispatcher` (``n_jobs = 1``) runs the tasks here, one after another;
- :class:`LocalDispatcher` spreads them over joblib's ``loky`` worker processes, which die with
  this process (:func:`die_with_parent`);
- :class:`supviz.runtime.cluster.DaskDispatcher` submits them to a ``dask.distributed`` cluster as futures.

**The cache is the single source of truth.** A task that has a cache key (``keys``) is looked up
in the run's cache (``memo``) first; a miss is computed where the task runs and *stored there*, into
the cache folder (a shared filesystem on a cluster), atomically, before its result comes back. So a
run interrupted anywhere, or a worker killed half way, loses only the tasks in flight, and the
next run finds every finished one (a local worker killed under a task stops the run with one line,
:class:`WorkerLost`, exit status 1).

**Large arguments** are wrapped in :class:`Shared` by the caller: a Dask dispatcher writes each
such array once into the cache folder and passes its path (:class:`NpyFile`; other values are
scattered to every worker), a local pool passes the array (joblib memory-maps large arrays into
its workers through files). Nothing relies on joblib's automatic scattering of big arguments (a
known hang of its Dask backend), and no input lives only in one worker's memory.

**Same numbers everywhere.** Every task runs with one BLAS/OpenMP thread (``threadpoolctl``), in
this process and in every worker, unless the caller asks otherwise (training, whose engine is
bit-identical at any thread count): a thread count changes the last bits of some reductions, hence
which of two tied distances wins. So a table computed on a cluster equals the local one, bit for
bit (``tests/runtime/test_cluster.py``).

Why worker *processes* and not threads: the jobs (UMAP / t-SNE / SMACOF layouts, matplotlib
figures) hold the GIL for most of their time. Measured with ``benchmarks/pool_backend.py`` (16 UMAP /
t-SNE layouts of diag(200), 2 cores, load ~3): one after another 6.11 s, joblib threading x2 5.50 s
(1.11x), this loky pool x2 3.26 s (1.87x). loky keeps idle workers for 300 s and a worker does not
notice that its parent died (after a ``kill -9`` of ``supviz run`` its workers lived on for 5-10
minutes at 320-425 MB each), so every pool runs :func:`die_with_parent` first: on Linux
``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (works while the worker is deep inside a numba kernel);
elsewhere a daemon thread polls the parent's pid.

Ctrl-C is the parent's to handle (local pools). A terminal's Ctrl-C (or ``kill -INT -PGID``) reaches every process
of the group, and a loky worker that is still importing joblib, or deep in a layout, used to print a
KeyboardInterrupt traceback of ~20 lines each beside the parent's one-line "supviz: interrupted".
So the workers are started with SIGINT blocked: the pool submits its tasks (and so starts its
workers and its manager thread) with SIGINT blocked in the submitting thread, and a child inherits
that signal mask through fork and exec, from its first instruction on (the resource trackers are
started before the block: the standard library's unblocks SIGINT when it starts one). The parent still gets the
signal (pending for the microseconds of a submit), joblib then stops the pool, and the workers end
with it; a worker that outlives its parent dies by :func:`die_with_parent`.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from supviz.errors import SupvizError

log = logging.getLogger(__name__)

#: ``prctl`` option number of PR_SET_PDEATHSIG (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, eq=False)
class Shared:
    """A large task argument: scattered once to a cluster, passed as is to local workers."""

    value: Any


@dataclass(frozen=True)
class NpyFile:
    """A large array that travels as a file: ``np.load(path, allow_pickle=False)`` where the task runs.

    A Dask dispatcher writes each :class:`Shared` array once into the run's cache folder (a
    shared filesystem): a file survives the worker that read it, where scattered data held by a
    killed worker is lost with it (and the tasks that needed it are cancelled)."""

    path: str

    def load(self) -> Any:
        import numpy as np

        return np.load(self.path, allow_pickle=False)


class _NullBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class Dispatcher:
    """Runs tasks in this process, one after another (the base of every dispatcher).

    Parameters
    ----------
    memo : optional
        The run's cache (:class:`supviz.runtime.cache.Cache`, or anything with ``key``, ``has``,
        ``load``, ``store`` and ``writer()``): tasks with keys are looked up there and stored there.
    progress : callable, optional
        ``progress(total, desc)`` returns a bar with ``update(n)`` and ``close()``; the run passes
        one that draws on a terminal and logs "done/total" lines otherwise.
    """

    name = "in process"

    def __init__(self, *, memo: Any = None, progress: Callable[[int, str], Any] | None = None) -> None:
        self.memo = memo
        self.progress = progress

    @property
    def workers(self) -> int:
        """How many tasks run at once."""
        return 1

    def writer(self) -> Any:
        """What a task stores cache entries through (picklable; ``None`` without a cache)."""
        if self.memo is None or not getattr(self.memo, "enabled", True):
            return None
        return self.memo.writer()

    def map(
        self,
        fn: Callable[..., Any],
        calls: Sequence[tuple[Any, ...]],
        *,
        desc: str = "tasks",
        n_jobs: int | None = None,
        kind: str | None = None,
        keys: Sequence[str | None] | None = None,
        one_thread: bool = True,
        bar: Any = None,
    ) -> Iterator[tuple[int, Any]]:
        """Run ``fn(*call)`` for every call; yield ``(index, result)`` as tasks finish (any order).

        Parameters
        ----------
        fn
            A module-level function (it travels to worker processes by reference).
        calls
            Argument tuples; a :class:`Shared` argument is unwrapped where the task runs.
        desc
            What the progress bar and log lines call these tasks.
        n_jobs
            Local worker processes for this call (default: the dispatcher's own); a cluster uses its workers.
        kind, keys
            Cache kind and one key per call (``None``: not cached). A key found in ``memo`` is
            loaded here and not run; a missing one is stored by the task where it runs.
        one_thread
            Run the task with one BLAS/OpenMP thread (the default; see the module docstring).
        bar
            A progress bar to update, used when this dispatcher has no ``progress`` of its own.
        """
        keys = list(keys) if keys is not None else [None] * len(calls)
        if len(keys) != len(calls):
            raise ValueError(f"{len(calls)} calls but {len(keys)} keys")
        todo: list[int] = []
        loaded: list[tuple[int, Any]] = []
        for i, key in enumerate(keys):
            hit = self._lookup(kind, key)
            if hit is _MISS:
                todo.append(i)
            else:
                loaded.append((i, hit))
        if self.progress is not None and todo:
            bar = self.progress(len(todo), desc)
        elif bar is None or not todo:
            bar = _NullBar()
        yield from loaded
        if not todo:
            return
        store = self.writer() if any(keys[i] is not None for i in todo) else None
        try:
            for i, value in self._run(
                fn,
                [calls[i] for i in todo],
                [keys[i] for i in todo],
                todo,
                kind=kind,
                store=store,
                n_jobs=n_jobs,
                one_thread=one_thread,
            ):
                bar.update(1)
                yield i, value
        finally:
            bar.close()

    def _lookup(self, kind: str | None, key: str | None) -> Any:
        from supviz.runtime.cache import MISSING

        if key is None or self.memo is None:
            return _MISS
        value = self.memo.lookup(kind, key)  # a damaged entry: a warning and a miss (Cache.lookup)
        return _MISS if value is MISSING else value

    def _run(self, fn, calls, keys, index, *, kind, store, n_jobs, one_thread) -> Iterator[tuple[int, Any]]:
        for i, call, key in zip(index, calls, keys):
            yield i, run_task(fn, call, store, kind, key, one_thread, in_worker=False)

    def close(self) -> None:
        """Release what the dispatcher holds (worker pools are per call here: nothing)."""


class LocalDispatcher(Dispatcher):
    """Tasks over ``n_jobs`` loky worker processes of this machine (in process when ``n_jobs`` is 1
    or there is one task)."""

    name = "local processes"

    def __init__(self, n_jobs: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_jobs = int(n_jobs)

    @property
    def workers(self) -> int:
        return self.n_jobs

    def _run(self, fn, calls, keys, index, *, kind, store, n_jobs, one_thread) -> Iterator[tuple[int, Any]]:
        n = min(max(1, int(self.n_jobs if n_jobs is None else n_jobs)), len(calls))
        if n == 1:
            yield from super()._run(fn, calls, keys, index, kind=kind, store=store, n_jobs=1, one_thread=one_thread)
            return
        from joblib import delayed
        from joblib.externals.loky.process_executor import TerminatedWorkerError

        _quiet_worker_replacement()
        jobs = (
            delayed(_indexed)(i, fn, call, store, kind, key, one_thread) for i, call, key in zip(index, calls, keys)
        )
        try:
            yield from parallel(n, return_as="generator_unordered")(jobs)
        except TerminatedWorkerError as exc:
            # a worker killed (kill -9, the kernel's out-of-memory killer) or crashed: loky's ~30-line traceback
            # and the trackers' leaked-semaphore note said nothing the user can act on
            note_interrupt()
            codes = re.search(r"exit codes of the workers are (\{[^}]*\})", str(exc))
            raise WorkerLost(
                f"a worker process died under a task (exit codes {codes.group(1) if codes else 'unknown'}: killed, "
                "or out of memory); the tasks that ended are kept in the cache: run the command again to resume."
            ) from None
        except BaseException:
            # a task's error (TrainingDiverged), Ctrl-C, or the caller stopping early tears the pool down under the
            # tasks still running: their workers are killed, and the trackers' leaked-semaphore note at exit (after
            # the one-line error of a diverged training on two workers) says nothing the user can act on
            note_interrupt()
            raise


_MISS = object()


class WorkerLost(SupvizError):
    """A local worker process died under a running task (killed by a signal, or out of memory): one line, exit 1."""

    exit_status = 1


def _quiet_worker_replacement() -> None:
    """Silence loky's warning that "a worker stopped while some jobs were given to the executor".

    loky replaces a worker whose memory grew by more than 300 MB over its size after its first
    task (its leak check): a worker that drew figures first and then trains SAEs or digits models
    with torch (sections E and F) grows that much. The pool starts a new worker and goes on; the
    warning (from the pool's manager thread, so filtered process-wide) would only break the run's
    one-line-per-stage output. Installed on every call, not once: whatever resets the process's
    filters in between (pytest around each test, ``warnings.catch_warnings`` in a notebook) would
    otherwise bring it back; ``filterwarnings`` replaces an identical filter, so the list stays short."""
    import warnings

    warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given", category=UserWarning)


def _unwrap(call: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(a.value if isinstance(a, Shared) else a.load() if isinstance(a, NpyFile) else a for a in call)


_ONE_THREAD_SET = False


def run_task(
    fn: Callable[..., Any],
    call: tuple[Any, ...],
    store: Any,
    kind: str | None,
    key: str | None,
    one_thread: bool,
    *,
    in_worker: bool = True,
) -> Any:
    """Run one task where it landed: one BLAS thread, then store the result under its key.

    In a worker process the thread limit is set once and kept (a worker runs nothing else; a
    limit restored by one task thread while another runs would change that one's numbers); in
    this process it holds for the task only.
    """
    global _ONE_THREAD_SET
    import warnings

    from threadpoolctl import threadpool_limits

    call = _unwrap(call)
    with warnings.catch_warnings():
        # umap-learn says a seeded run is single-threaded, once per layout; the run records the seed
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        if one_thread and in_worker:
            if not _ONE_THREAD_SET:
                threadpool_limits(limits=1)
                _ONE_THREAD_SET = True
            value = fn(*call)
        elif one_thread:
            with threadpool_limits(limits=1):
                value = fn(*call)
        else:
            value = fn(*call)
    if store is not None and key is not None:
        try:
            store.store(kind, key, value)
        except TypeError as exc:  # a value the cache's codecs cannot hold: still a result, not an entry
            log.warning("%s result not cached (%s)", kind, exc)
    return value


def one_numba_thread() -> None:
    """One numba thread in a worker process, as one BLAS thread.

    threadpoolctl does not reach numba's own thread pool. joblib's loky workers start with
    ``NUMBA_NUM_THREADS=1``, but a Dask worker does not (its nanny sets OMP/MKL/OpenBLAS only), so
    two Dask workers on two cores each ran numba's parallel kernels on both cores and the data-point
    section took as long on two workers as on one (benchmarks/cluster.py). Before numba is imported
    the environment variable decides; after, :func:`numba.set_num_threads` (per calling thread).
    """
    numba = sys.modules.get("numba")
    if numba is None:
        os.environ["NUMBA_NUM_THREADS"] = "1"
    else:
        numba.set_num_threads(1)


def _indexed(i: int, fn, call, store, kind, key, one_thread) -> tuple[int, Any]:
    return i, run_task(fn, call, store, kind, key, one_thread)


# -- the dispatcher in force -------------------------------------------------------------------

_CURRENT: contextvars.ContextVar[Dispatcher | None] = contextvars.ContextVar("supviz_dispatcher", default=None)


def current(n_jobs: int = 1) -> Dispatcher:
    """The dispatcher in force (set by :func:`use`), else a local one with ``n_jobs`` processes."""
    d = _CURRENT.get()
    return d if d is not None else LocalDispatcher(n_jobs)


@contextlib.contextmanager
def use(dispatcher: Dispatcher) -> Iterator[Dispatcher]:
    """Put ``dispatcher`` in force for the code inside the ``with`` block."""
    token = _CURRENT.set(dispatcher)
    try:
        yield dispatcher
    finally:
        _CURRENT.reset(token)


# -- local worker processes --------------------------------------------------------------------


def parallel(n_jobs: int, **kwargs: Any) -> Any:
    """A ``joblib.Parallel`` on the loky backend whose workers die with this process.

    Parameters
    ----------
    n_jobs : int
        Worker processes.
    **kwargs
        Passed to ``joblib.Parallel`` (``return_as="generator_unordered"``, ...).
    """
    from joblib import Parallel, parallel_config

    backend = _quiet_loky_backend()(initializer=die_with_parent, initargs=(os.getpid(),))
    with parallel_config(backend=backend):
        return Parallel(n_jobs=n_jobs, **kwargs)


def _quiet_loky_backend() -> type:
    """joblib's loky backend whose workers start with SIGINT blocked (see the module's docstring)."""
    import signal

    from joblib._parallel_backends import LokyBackend

    class QuietLokyBackend(LokyBackend):
        def submit(self, func: Any, callback: Any = None) -> Any:
            if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
                return super().submit(func, callback)
            _start_resource_trackers()
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                return super().submit(func, callback)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)

    return QuietLokyBackend


def _start_resource_trackers() -> None:
    """Start multiprocessing's and loky's resource trackers now, if they are not running.

    A pool's first submit starts them, and the standard library's ``ensure_running`` ends by
    *unblocking* SIGINT in the calling thread (``SIG_UNBLOCK``, not a restore), which would undo
    the block of the submit before the workers are forked. Started first, they are left alone.

    Both write their standard error through a relay (:func:`_tracker_stderr`) that passes every line on,
    except, once :func:`note_interrupt` has been called, their shutdown note that they are unlinking
    semaphores a killed worker left registered ("There appear to be 2 leaked semaphore objects to clean up
    at shutdown"), which followed "supviz: interrupted" after a Ctrl-C while a local Dask cluster worked,
    depending on timing. They still unlink them; any other word of theirs, and that note in a run that was
    not interrupted, still reaches standard error.
    """
    from multiprocessing import resource_tracker

    from joblib.externals.loky.backend import resource_tracker as loky_tracker

    with _tracker_stderr():
        resource_tracker.ensure_running()
        loky_tracker.ensure_running()


#: The relay between the resource trackers and standard error: a small process of its own session (a
#: terminal's Ctrl-C does not reach it), which outlives this one as long as a tracker writes to it.
_RELAY_CODE = """
import sys
interrupted = skip = False
for line in sys.stdin.buffer:
    if line == b"\\0supviz-interrupted\\n":
        interrupted = True
        continue
    if skip and line.lstrip().startswith(b"warnings.warn("):
        skip = False
        continue
    skip = False
    if interrupted and b"resource_tracker: There appear to be" in line and b"leaked" in line:
        skip = True
        continue
    sys.stderr.buffer.write(line)
    sys.stderr.buffer.flush()
"""
_RELAY: dict[str, int] = {}


@contextlib.contextmanager
def _tracker_stderr() -> Iterator[None]:
    """File descriptor 2 on the relay's pipe for the block (what a tracker started in it inherits), then back."""
    import subprocess

    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # pragma: no cover - no usable stderr
        pass
    if "fd" not in _RELAY:
        read, write = os.pipe()
        try:
            subprocess.Popen(
                [sys.executable, "-I", "-c", _RELAY_CODE], stdin=read, stdout=2, stderr=2, start_new_session=True
            )
        finally:
            os.close(read)
        os.set_inheritable(write, False)
        _RELAY["fd"] = write
    saved = os.dup(2)
    try:
        os.dup2(_RELAY["fd"], 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def note_interrupt() -> None:
    """Tell the relay that this run was interrupted (the CLI calls it on Ctrl-C, a pool when a worker died): from
    now on it drops the trackers' leaked-semaphore note, the one thing they say when a worker was killed."""
    fd = _RELAY.get("fd")
    if fd is not None:
        try:
            os.write(fd, b"\0supviz-interrupted\n")
        except OSError:  # pragma: no cover - the relay is gone
            pass


def die_with_parent(parent_pid: int) -> None:
    """Make this (worker) process end when ``parent_pid``, its parent, ends.

    Runs first in every worker of :func:`parallel`. If the parent is already gone (it died
    between starting the worker and this call), the worker exits at once.
    """
    if sys.platform.startswith("linux") and _set_pdeathsig():
        pass
    else:
        threading.Thread(target=_watch_parent, args=(parent_pid,), name="supviz-parent-watch", daemon=True).start()
    if os.getppid() != parent_pid:
        os._exit(1)
    _allow_worker_growth()


#: How much a worker may grow over its size after its first task before loky replaces it (loky's own limit is
#: 300 MB, its leak check). A study worker grows that much without leaking: after layouts it trains SAEs or digits
#: models with torch (sections E and F). Each replacement cost a fresh worker its imports (torch, umap-learn, numba)
#: and its numba kernels loaded again: the default run started three pairs of workers, about 20 CPU s.
WORKER_GROWTH_BYTES = int(1.5e9)


def _allow_worker_growth() -> None:
    """Raise loky's leak-check limit in this worker to :data:`WORKER_GROWTH_BYTES` (a module global that its
    worker loop reads at every check; a worker that grows past it is still replaced)."""
    try:
        from joblib.externals.loky import process_executor
    except ImportError:  # pragma: no cover - joblib without its vendored loky
        return
    if getattr(process_executor, "_MAX_MEMORY_LEAK_SIZE", None) is not None:
        process_executor._MAX_MEMORY_LEAK_SIZE = max(process_executor._MAX_MEMORY_LEAK_SIZE, WORKER_GROWTH_BYTES)


def _set_pdeathsig() -> bool:
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):  # no libc prctl: fall back to polling
        return False


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)
