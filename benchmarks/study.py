"""Wall time of the default `supviz run`: cold (empty cache) and warm (everything cached), per stage.

    .venv/bin/python benchmarks/study.py [--out DIR] [--config FILE] [--steps N] [--keep]

Runs ``supviz run`` twice as a user would (subprocesses), into a fresh folder: the first run starts
from an empty cache, the second reuses it. Prints a Markdown table of the per-stage times that
each run recorded in its ``timings.json``, the totals, and the machine. Goal (issue 4): cold
<= 5 min on 2 CPU cores, warm < 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _supviz() -> list[str]:
    exe = ROOT / ".venv" / "bin" / "supviz"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "supviz"]


def _child_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed_run(out: Path, extra: list[str]) -> tuple[float, float, dict]:
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba"))
    c0 = _child_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run([*_supviz(), "run", "--out", str(out), *extra], env=env, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    cpu = _child_cpu() - c0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"supviz run failed with exit {proc.returncode}")
    return wall, cpu, json.loads((out / "timings.json").read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="run folder (default: a temporary one, removed afterwards)")
    ap.add_argument("--config", help="study TOML (default: the shipped study)")
    ap.add_argument("--steps", type=int, help="override toy.steps")
    ap.add_argument("--keep", action="store_true", help="keep the temporary run folder")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="supviz-bench-")) / "results"
    if out.exists():
        shutil.rmtree(out)
    extra = (["--config", args.config] if args.config else []) + (["--steps", str(args.steps)] if args.steps else [])
    load = os.getloadavg()
    cold_wall, cold_cpu, cold = timed_run(out, extra)
    warm_wall, warm_cpu, warm = timed_run(out, extra)
    warm_by = {s["name"]: s for s in warm["stages"]}
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs ({platform.processor() or platform.machine()})")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; command: supviz run {' '.join(extra)}".rstrip())
    print()
    print("| stage | cold (s) | computed | warm (s) |")
    print("| --- | ---: | ---: | ---: |")
    for s in cold["stages"]:
        w = warm_by.get(s["name"], {})
        print(f"| {s['name']} | {s['seconds']:.1f} | {s['misses']} | {w.get('seconds', float('nan')):.2f} |")
    print(f"| **total (in process)** | **{cold['total_seconds']:.1f}** | | **{warm['total_seconds']:.2f}** |")
    print(f"| **wall, with start-up** | **{cold_wall:.1f}** | | **{warm_wall:.2f}** |")
    print(f"| CPU time (user + sys, all processes) | {cold_cpu:.1f} | | {warm_cpu:.2f} |")
    print(
        f"\nload average before the cold run: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min); "
        f"CPU time / {os.cpu_count()} cores = {cold_cpu / (os.cpu_count() or 1):.0f} s, a floor for the cold wall time "
        "on an otherwise idle machine"
    )
    if not args.out and not args.keep:
        shutil.rmtree(out.parent, ignore_errors=True)
    else:
        print(f"\nrun folder: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
