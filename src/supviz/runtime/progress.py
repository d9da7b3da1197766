"""Progress of a long run: stage lines with timings and cache traffic, bars on a terminal, task counts in logs.

:class:`Progress` is what ``supviz run``, ``supviz sweep`` and ``supviz real`` report through:
``with progress.stage(name, cache):`` times a stage and announces its start and end;
``progress.bar`` / ``progress.tasks`` count units of work (a tqdm bar on a terminal; one
"done/total tasks" line at most every :data:`TASK_LINE_SECONDS` in a log file).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


class _NullBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass


@dataclass
class StageTime:
    """Wall time of one stage and the cache traffic during it."""

    name: str
    seconds: float
    hits: int = 0
    misses: int = 0


class Progress:
    """Stage announcements and progress bars on stderr (silent when ``quiet``).

    ``announce`` receives each stage line; the CLI passes a printer, library use logs it. Bars are
    drawn only when stderr is a terminal (:attr:`bars`): a log file gets one line per stage, not
    hundreds of carriage-return updates.
    """

    def __init__(
        self, *, quiet: bool = False, announce: Callable[[str], None] | None = None, bars: bool | None = None
    ) -> None:
        self.quiet = quiet
        self.announce = announce or (lambda text: log.info("%s", text))
        self.stages: list[StageTime] = []
        #: Whether progress bars are drawn: ``bars`` if given, else only on a terminal; never when quiet.
        self.bars = False if quiet else (_stderr_is_terminal() if bars is None else bool(bars))

    @contextlib.contextmanager
    def stage(self, name: str, cache: Any = None) -> Iterator[None]:
        """Time a stage; announce its start and end."""
        h0 = cache.stats.total_hits if cache else 0
        m0 = cache.stats.total_misses if cache else 0
        if not self.quiet:
            self.announce(f"[supviz] {name} ...")
        t0 = time.perf_counter()
        yield
        dt = time.perf_counter() - t0
        st = StageTime(
            name, dt, (cache.stats.total_hits - h0) if cache else 0, (cache.stats.total_misses - m0) if cache else 0
        )
        self.stages.append(st)
        if not self.quiet:
            self.announce(f"[supviz] {name}: {dt:.1f} s ({st.misses} computed, {st.hits} from cache)")

    def bar(self, total: int, desc: str) -> Any:
        """A tqdm bar on a terminal (a no-op one otherwise)."""
        if not self.bars or total <= 0:
            return _NullBar()
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=f"  {desc}", leave=False, dynamic_ncols=True)

    def tasks(self, total: int, desc: str) -> Any:
        """Progress of ``total`` tasks: a bar on a terminal, else "desc: done/total tasks" lines
        (at most one per :data:`TASK_LINE_SECONDS`, and the last), so a cluster job's log shows
        how far the run is. Silent when quiet."""
        if self.quiet or total <= 0:
            return _NullBar()
        if self.bars:
            return self.bar(total, f"{desc} (tasks)")
        return _TaskLines(total, desc, self.announce)


#: Least seconds between two "done/total tasks" lines in a log.
TASK_LINE_SECONDS = 30.0


class _TaskLines:
    """``[supviz]   <desc>: 12/40 tasks`` lines for logs (no terminal)."""

    def __init__(self, total: int, desc: str, announce: Callable[[str], None]) -> None:
        self.total, self.desc, self.announce = total, desc, announce
        self.done = 0
        self.last = time.perf_counter()

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if self.done == self.total or now - self.last >= TASK_LINE_SECONDS:
            self.last = now
            self.announce(f"[supviz]   {self.desc}: {self.done}/{self.total} tasks")

    def close(self) -> None:
        pass


def _stderr_is_terminal() -> bool:
    import sys

    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False
