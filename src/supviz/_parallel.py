"""Worker processes that end with the process that started them.

supviz spreads layouts and figures over joblib's ``loky`` worker processes. loky keeps its workers
for reuse (300 s idle by default), and a worker does not notice that its parent died: after a
``kill -9`` of ``supviz run`` its workers lived on for 5-10 minutes at 320-425 MB each. So every
pool supviz starts runs :func:`die_with_parent` in each worker first: on Linux it asks the kernel
for SIGKILL when the parent ends (``prctl(PR_SET_PDEATHSIG)``, no polling, no GIL needed, so it
works while the worker is deep inside a numba kernel); elsewhere a daemon thread polls the
parent's pid once a second.

Ctrl-C is the parent's to handle. A terminal's Ctrl-C (or ``kill -INT -PGID``) reaches every process
of the group, and a loky worker that is still importing joblib, or deep in a layout, used to print a
KeyboardInterrupt traceback of ~20 lines each beside the parent's one-line "supviz: interrupted".
So the workers are started with SIGINT blocked: the pool submits its tasks (and so starts its
workers and its manager thread) with SIGINT blocked in the submitting thread, and a child inherits
that signal mask through fork and exec, from its first instruction on (the resource trackers are
started before the block: the standard library's unblocks SIGINT when it starts one). The parent still gets the
signal (pending for the microseconds of a submit), joblib then stops the pool, and the workers end
with it; a worker that outlives its parent dies by :func:`die_with_parent`.

Why not threads? The jobs are UMAP / t-SNE / SMACOF layouts and matplotlib figures, which hold the
GIL for most of their time, so a thread pool runs them nearly one at a time. Measured with
``benchmarks/pool_backend.py`` (16 UMAP / t-SNE layouts of diag(200), 2 cores, machine under load
~3): one after another 6.11 s, joblib threading x2 5.50 s (1.11x), this loky pool x2 3.26 s (1.87x).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

#: ``prctl`` option number of PR_SET_PDEATHSIG (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


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
    """
    from multiprocessing import resource_tracker

    from joblib.externals.loky.backend import resource_tracker as loky_tracker

    resource_tracker.ensure_running()
    loky_tracker.ensure_running()


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
