"""Open a report in a real headless browser and read back what happened.

:func:`check_report` runs Debian's ``chromium`` (or ``chromium-browser`` / ``google-chrome``)
headless on the report file with networking features off, lets the page run for a virtual time
budget, and returns the console messages the page logged and the render marker that the report's
script writes once the interactive figures it was asked to draw are drawn (``render_all``: every
one, through ``report.html?render=all``; ``javascript=False``: scripts off, what a reader without
JavaScript sees). :func:`render_seconds` measures how long the page takes to load and to draw
every interactive figure, in wall-clock seconds (the browser's own start-up subtracted). Used by
the tests; handy by hand: ``python tests/helpers/browser.py results/report.html``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from supviz.errors import SupvizError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_STATUS = re.compile(r"rendered (\d+) of (\d+) interactive figures( \((\d+) failed\))?")
_CONSOLE = re.compile(r":CONSOLE[^\]]*\]\s*(.*)")


@dataclass
class BrowserCheck:
    """What the browser saw."""

    rendered: int
    """Interactive figures drawn (from the report's status marker; -1 when the marker never appeared)."""
    total: int
    """Interactive figures in the page (-1 when unknown)."""
    console: list[str] = field(default_factory=list)
    """Every console message the page logged (errors, warnings, uncaught exceptions)."""
    dom: str = ""
    """The DOM after the scripts ran."""
    widest_table: int = -1
    """Width in CSS pixels of the widest table, all opened (``render_all`` only; -1 otherwise)."""
    column_width: int = -1
    """Width of the report's text column in CSS pixels (``render_all`` only)."""

    @property
    def ok(self) -> bool:
        return not self.console and self.total >= 0 and self.rendered == self.total


def find_browser() -> str | None:
    """Path of a headless-capable Chromium, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(exe: str, url: str, *, budget_ms: int, timeout_s: float, javascript: bool) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="supviz-chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            f"--virtual-time-budget={budget_ms}",
            "--window-size=1280,1000",
            *([] if javascript else ["--blink-settings=scriptEnabled=false"]),
            "--dump-dom",
            url,
        ]
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise SupvizError(f"`browser` must load the report within {timeout_s:.0f} s; it did not.") from None


def check_report(
    path: str | Path,
    *,
    render_all: bool = False,
    javascript: bool = True,
    budget_ms: int = 20000,
    timeout_s: float = 180.0,
    browser: str | None = None,
) -> BrowserCheck:
    """Load ``path`` in headless Chromium and return the console messages and the render status.

    Parameters
    ----------
    render_all
        Open the page as ``?render=all``: the report then draws every interactive figure on load.
    javascript
        ``False`` loads the page with scripts disabled.

    Raises
    ------
    SupvizError
        No browser found, or the browser failed to run.
    """
    exe = browser or find_browser()
    if exe is None:
        raise SupvizError("`browser` must be installed (chromium); none found on PATH.")
    url = Path(path).resolve().as_uri() + ("?render=all" if render_all else "")
    proc = _run(exe, url, budget_ms=budget_ms, timeout_s=timeout_s, javascript=javascript)
    if proc.returncode != 0 and not proc.stdout:
        raise SupvizError(f"`browser` failed (exit {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
    console = [m.group(1).strip() for line in proc.stderr.splitlines() if (m := _CONSOLE.search(line))]
    match = _STATUS.search(proc.stdout)
    rendered, total = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
    w = re.search(r'data-widest-table="(\d+)"', proc.stdout)
    c = re.search(r'data-column-width="(\d+)"', proc.stdout)
    return BrowserCheck(
        rendered=rendered,
        total=total,
        console=console,
        dom=proc.stdout,
        widest_table=int(w.group(1)) if w else -1,
        column_width=int(c.group(1)) if c else -1,
    )


def screenshot(
    path: str | Path,
    out: str | Path,
    *,
    javascript: bool = True,
    width: int = 1280,
    height: int = 1600,
    browser: str | None = None,
) -> Path:
    """A PNG of the top ``width`` x ``height`` pixels of the report as headless Chromium draws it
    (``javascript=False``: what a reader without JavaScript sees, the page with its scripts removed)."""
    exe = browser or find_browser()
    if exe is None:
        raise SupvizError("`browser` must be installed (chromium); none found on PATH.")
    out = Path(out).resolve()
    page = Path(path).resolve()
    with tempfile.TemporaryDirectory(prefix="supviz-chromium-") as profile:
        if not javascript:
            # headless Chromium cannot capture a page with scripts disabled; the page as a browser without
            # JavaScript shows it is the same file with its scripts removed (the report has no <noscript>)
            text = page.read_text(encoding="utf-8")
            page = Path(profile) / page.name
            page.write_text(re.sub(r"<script\b.*?</script>", "", text, flags=re.S), encoding="utf-8")
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "--virtual-time-budget=10000",
            f"--screenshot={out}",
            page.as_uri(),
        ]
        subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    if not out.is_file():
        raise SupvizError(f"`browser` wrote no screenshot of {str(path)!r}.")
    return out


def render_seconds(path: str | Path, *, repeats: int = 3, browser: str | None = None) -> dict[str, float]:
    """Wall-clock seconds headless Chromium takes for the report, its own start-up subtracted.

    ``load``: the page (its static figures) loaded and laid out; ``render_all``: the page with every
    interactive figure drawn (``?render=all``). Each is the median of ``repeats`` runs minus the median
    time of an empty page. A measurement, not a budget: the caller records it.
    """
    exe = browser or find_browser()
    if exe is None:
        raise SupvizError("`browser` must be installed (chromium); none found on PATH.")
    import statistics

    blank = Path(tempfile.mkdtemp(prefix="supviz-blank-")) / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")

    def wall(url: str) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            _run(exe, url, budget_ms=60000, timeout_s=300.0, javascript=True)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    base = wall(blank.resolve().as_uri())
    url = Path(path).resolve().as_uri()
    out = {
        "load": max(0.0, wall(url) - base),
        "render_all": max(0.0, wall(url + "?render=all") - base),
        "startup": base,
    }
    shutil.rmtree(blank.parent, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - manual use
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python tests/helpers/browser.py REPORT.html", file=sys.stderr)
        return 2
    res = check_report(args[0])
    print(f"rendered {res.rendered} of {res.total} interactive figures; {len(res.console)} console messages")
    for line in res.console:
        print("  console:", line)
    return 0 if res.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
