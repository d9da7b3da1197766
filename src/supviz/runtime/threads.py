"""Worker threads that train shards of a job under one progress bar: :func:`run_workers`.

The toy-model engine (:mod:`supviz.toy.train`), the SAE engine (:mod:`supviz.sae.engine`) and the
digits models (:mod:`supviz.real.models`) each split their instances over worker threads, one per
CPU, and wait for them here: each job runs on its own thread with a shared stop event; a job that
raises sets it, so the others stop at their next step, and the first exception is re-raised in the
caller's thread once every thread has ended. While they run, a tqdm bar on stderr shows the steps
every worker has completed (the slowest one's count) and, where the caller gives one, the running
loss. Ctrl-C (or any exception in the waiting thread) sets the stop event and waits for the workers
before it propagates, so no thread outlives the call. The waiting is done on an event each worker sets
as it ends, never with ``Thread.join``: a KeyboardInterrupt that lands inside ``join(timeout)`` makes
CPython (3.9 to 3.12, ``Thread._wait_for_tstate_lock``'s bpo-45274 branch) release the running thread's
state lock and mark the thread stopped, so every later ``join`` returned at once while it still ran; at
exit the interpreter then ended it inside torch's C++ code (``pthread_exit`` unwinding through a
``noexcept`` frame), and ``supviz sae`` died with "terminate called without an active exception" and
SIGABRT (exit 134) instead of exit 130. numpy's floating-point warnings are off in
the workers: a product served by numpy would warn "overflow encountered in matmul" where torch's
does not, and the engines check losses and weights for non-finite values themselves (and raise
one SupvizError that says which instances diverged).
"""

from __future__ import annotations

import logging
import math
import sys
import threading
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

#: A unit of work: called with the shared stop event, returns when done or when the event is set.
Job = Callable[[threading.Event], None]


def run_workers(
    jobs: Sequence[Job],
    *,
    steps: int,
    done: Callable[[], int],
    desc: str,
    progress: bool | None = None,
    running_loss: Callable[[], float] | None = None,
    name: str = "supviz-worker",
) -> None:
    """Run every job on its own thread; show progress; re-raise the first failure.

    Parameters
    ----------
    jobs : sequence of callables ``job(stop)``
        Each checks ``stop.is_set()`` between its steps and returns when it is.
    steps : int
        The bar's total.
    done : callable
        Steps completed by every job (polled every 0.2 s).
    desc : str
        The bar's label ("train 72 models").
    progress : bool or None
        Draw the bar; None: only when stderr is a terminal, and only once the run has lasted 2 s.
    running_loss : callable, optional
        The loss shown beside the bar (NaN: none yet).
    name : str
        Thread names are ``<name>-<i>``.
    """
    from tqdm.auto import tqdm

    stop = threading.Event()
    errors: list[BaseException] = []
    ended = [threading.Event() for _ in jobs]

    def guard(job: Job, finished: threading.Event) -> None:
        import numpy as np

        try:
            with np.errstate(all="ignore"):  # per thread (numpy's error state is a context variable)
                job(stop)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)
            stop.set()
        finally:
            finished.set()

    threads = [
        threading.Thread(target=guard, args=(job, ended[i]), name=f"{name}-{i}", daemon=True)
        for i, job in enumerate(jobs)
    ]
    show = _stderr_is_terminal() if progress is None else bool(progress)
    bar = tqdm(
        total=steps,
        disable=not show,
        delay=0 if progress else 2.0,
        unit="step",
        file=sys.stderr,
        desc=desc,
        dynamic_ncols=True,
        leave=False,
    )

    def show_loss() -> None:
        loss = running_loss() if running_loss is not None else math.nan
        if math.isfinite(loss):
            bar.set_postfix(loss=f"{loss:.4g}", refresh=False)

    started: list[threading.Thread] = []
    try:
        for th in threads:
            th.start()
            started.append(th)
        log.info("%s: %d worker thread(s) at work", desc, len(started))
        while running := [e for e in ended if not e.is_set()]:
            running[0].wait(timeout=0.2)
            d = done()
            if d > bar.n:
                show_loss()
                bar.update(d - bar.n)
        show_loss()  # the final state, whatever the last poll saw
        bar.update(done() - bar.n)
        bar.refresh()
    except BaseException:
        stop.set()
        _wait_for_workers([ended[i] for i in range(len(started))])
        raise
    finally:
        bar.close()
    if errors:
        raise errors[0]


def _wait_for_workers(ended: Sequence[threading.Event]) -> None:
    """Wait until every started worker has ended (it stops at its next step once ``stop`` is set).

    A further Ctrl-C while waiting is absorbed: the first one is already on its way up, and leaving
    a worker running would let the interpreter kill it inside native code at exit.
    """
    for finished in ended:
        while not finished.is_set():
            try:
                finished.wait(timeout=0.2)
            except KeyboardInterrupt:
                continue


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False
