"""Benchmark: import time and first-call time, supviz against the bare library, in fresh processes.

A notebook user pays two costs before the first picture: importing, and the first call of each
method, when numba compiles its kernels (supviz's SMACOF loop; umap-learn's and pynndescent's
kernels) or loads them from its on-disk cache. Each row runs in a fresh Python process:

- "cold": a new, empty ``NUMBA_CACHE_DIR`` (a fresh install: nothing compiled yet);
- "warm": the same directory again (every later session).

Rows (20 x 5 Gaussian points, seeded; the README's example size):

- ``import supviz`` and ``import supviz.dr, supviz.toy, supviz.metrics`` against ``import numpy``;
- ``mds_layout(X)`` (interval SMACOF, numba engine) against scikit-learn's
  ``MDS(metric_mds=True, init="classical_mds").fit_transform(X)``;
- ``SMACOF().fit(X)`` (the scikit-learn estimator, ratio);
- ``umap_layout(X, random_state=0)`` against ``umap.UMAP(random_state=0).fit_transform(X)``
  (``n_neighbors=5`` for both: 20 points);
- ``tsne_layout(X, perplexity=5, random_state=0)`` against ``openTSNE.TSNE(perplexity=5,
  random_state=0).fit(X)``.

For each: import time of the module that provides the call, first call, second call (s), and the
whole process's wall time and CPU time (user + system; less sensitive to other jobs on shared
cores, and close to the quiet wall time since compiling is single-threaded). Wall times on a shared
machine vary with load: the load average is printed with the table.

Run: ``.venv/bin/python benchmarks/first_call.py`` (``--src DIR`` to time another checkout's
``src``, e.g. before a change; ``--repeats N`` for the median of N runs per row).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PRELUDE = """
import json, time, sys, warnings
warnings.filterwarnings("ignore")
t0 = time.perf_counter()
"""

CASES = {
    "import supviz": ("import supviz", None),
    "import supviz.dr, .toy, .metrics": ("import supviz.dr, supviz.toy, supviz.metrics", None),
    "import numpy (baseline)": ("import numpy", None),
    "supviz mds_layout": (
        "import numpy as np\nfrom supviz.dr import mds_layout",
        "mds_layout(X, metric_type='interval')",
    ),
    "sklearn MDS (baseline)": (
        "import numpy as np\nfrom sklearn.manifold import MDS",
        "MDS(n_components=2, metric_mds=True, init='classical_mds', n_init=1, random_state=0).fit_transform(X)",
    ),
    "supviz SMACOF estimator": (
        "import numpy as np\nfrom supviz.dr import SMACOF",
        "SMACOF().fit(X)",
    ),
    "supviz umap_layout": (
        "import numpy as np\nfrom supviz.dr import umap_layout",
        "umap_layout(X, n_neighbors=5, random_state=0)",
    ),
    "umap-learn (baseline)": (
        "import numpy as np\nimport umap",
        "umap.UMAP(n_neighbors=5, random_state=0).fit_transform(X)",
    ),
    "supviz tsne_layout": (
        "import numpy as np\nfrom supviz.dr import tsne_layout",
        "tsne_layout(X, perplexity=5, random_state=0)",
    ),
    "openTSNE (baseline)": (
        "import numpy as np\nimport openTSNE",
        "openTSNE.TSNE(perplexity=5, random_state=0).fit(X)",
    ),
}


def script(imports: str, call: str | None) -> str:
    body = PRELUDE + imports + "\nt1 = time.perf_counter()\n"
    if call is None:
        body += "t2 = t3 = t1\n"
    else:
        body += (
            "X = np.random.default_rng(0).normal(size=(20, 5))\n"
            f"{call}\nt2 = time.perf_counter()\n{call}\nt3 = time.perf_counter()\n"
        )
    heavy = ["torch", "umap", "pynndescent", "openTSNE", "matplotlib", "plotly", "numba", "pandas", "sklearn", "scipy"]
    body += (
        f"loaded = [m for m in {heavy!r} if m in sys.modules]\n"
        "print(json.dumps({'import': t1 - t0, 'first': t2 - t1, 'second': t3 - t2, 'loaded': loaded}))\n"
    )
    return body


def run_case(code: str, cache: str, src: str | None) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "MPLBACKEND": "Agg"}
    if src is not None:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    start = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode != 0:  # e.g. a name that the timed checkout does not have yet
        nan = float("nan")
        return {
            "import": nan,
            "first": nan,
            "second": nan,
            "process": nan,
            "cpu": nan,
            "loaded": [out.stderr.strip().splitlines()[-1]],
        }
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process"] = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu"] = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--src", default=None, help="a checkout's src/ to import supviz from (default: the installed one)"
    )
    parser.add_argument("--repeats", type=int, default=1, help="runs per row (cold: a new cache each); median shown")
    parser.add_argument("--cases", default=None, help="comma-separated substrings of the row names to run")
    parser.add_argument("--json", default=None, help="also write the raw numbers to this file")
    args = parser.parse_args()
    src = str(Path(args.src).resolve()) if args.src else None
    where = subprocess.run(
        [sys.executable, "-c", "import supviz; print(supviz.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **({"PYTHONPATH": src} if src else {})},
    ).stdout.strip()
    print(
        f"supviz from {where}; Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"load average at start {os.getloadavg()[0]:.2f}"
    )
    rows = []
    names = [n for n in CASES if args.cases is None or any(c in n for c in args.cases.split(","))]
    for name in names:
        imports, call = CASES[name]
        code = script(imports, call)
        for state in ("cold", "warm"):
            runs = []
            for _ in range(args.repeats):
                with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
                    if state == "warm":
                        run_case(code, cache, src)  # fill the cache, then time a fresh process on it
                    runs.append(run_case(code, cache, src))
            med = {k: statistics.median(r[k] for r in runs) for k in ("import", "first", "second", "process", "cpu")}
            rows.append({"case": name, "cache": state, **med, "loaded": runs[-1]["loaded"]})
            if call is None:
                rows[-1]["cache"] = "-"
            print(
                f"{name:34s} {state}: import {med['import']:6.2f} s  first call {med['first']:6.2f} s  "
                f"second {med['second']:6.3f} s  process {med['process']:6.2f} s (CPU {med['cpu']:6.2f} s)",
                flush=True,
            )
            if call is None:
                break  # a cache holds nothing an import reads: one row is enough
    print(f"load average at end {os.getloadavg()[0]:.2f}\n")
    print(
        "| row | numba cache | import s | first call s | second call s | process s | process CPU s "
        "| heavy modules loaded |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        print(
            f"| {r['case']} | {r['cache']} | {r['import']:.2f} | {r['first']:.2f} | {r['second']:.3f} | "
            f"{r['process']:.2f} | {r['cpu']:.2f} | {', '.join(r['loaded']) or '-'} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"where": where, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
