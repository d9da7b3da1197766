"""Open a report in a real headless browser and read back what happened.

:func:`check_report` runs Debian's ``chromium`` (or ``chromium-browser`` / ``google-chrome``)
headless on the report file with networking features off, lets the page run for a virtual time
budget, and returns the console messages the page logged and the render marker that the report's
script writes once every interactive figure has been drawn. Used by the tests; handy by hand:
``python -m supviz.report.browser results/report.html``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
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


def check_report(path: str | Path, *, budget_ms: int = 20000, timeout_s: float = 180.0, browser: str | None = None) -> BrowserCheck:
    """Load ``path`` in headless Chromium and return the console messages and the render status.

    Raises
    ------
    SupvizError
        No browser found, or the browser failed to run.
    """
    exe = browser or find_browser()
    if exe is None:
        raise SupvizError("`browser` must be installed (chromium); none found on PATH.")
    url = Path(path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="supviz-chromium-") as profile:
        cmd = [
            exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
            f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", f"--virtual-time-budget={budget_ms}",
            "--dump-dom", url,
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise SupvizError(f"`browser` must load the report within {timeout_s:.0f} s; it did not.") from None
    if proc.returncode != 0 and not proc.stdout:
        raise SupvizError(f"`browser` failed (exit {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
    console = [m.group(1).strip() for line in proc.stderr.splitlines() if (m := _CONSOLE.search(line))]
    match = _STATUS.search(proc.stdout)
    rendered, total = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
    return BrowserCheck(rendered=rendered, total=total, console=console, dom=proc.stdout)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - manual use
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m supviz.report.browser REPORT.html", file=sys.stderr)
        return 2
    res = check_report(args[0])
    print(f"rendered {res.rendered} of {res.total} interactive figures; {len(res.console)} console messages")
    for line in res.console:
        print("  console:", line)
    return 0 if res.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
