"""Benchmark: every matrix-product shape of the default study's engines, by each implementation.

One thread, CPU time per instance (:func:`supviz.runtime.products.measure`: best of five rounds of
about 0.3 ms each, the implementations taking turns), for torch (MKL in the pip wheels), numpy
(OpenBLAS in the wheels) and supviz's own numba kernel, and the one :mod:`supviz.runtime.products`
serves the shape with on this machine. Before issue 18 every one of these products was torch's
(``torch.bmm``, batched; the "torch" column times one ``torch.mm`` per instance, which rounds alike
alone and batched), so ``torch / chosen`` is the speed-up per product. The shapes (``a^T``: the
first operand is stored transposed, as in ``X^T G``):

* toy models: n = 60, batch 1024, m in {3, 5, 10, 20, 30, 40}: factored ``X W``, ``H W^T``,
  ``X^T G`` for m < 15, Gram ``W W^T``, ``X M``, ``X^T G``, ``S W`` for m >= 15;
* SAEs (the study's cells, d_in = m, d_sae = 120, batch 128): ``x W_enc``, ``f W_dec`` and their
  gradient products;
* the digits models (64 pixels, batch 128, widths 4-64, 10 classes): forward and gradient products;
* the torch SMACOF engine (float64, the study's 60-point panels, 2-D): ``B(X) [x | 1]``.

Usage::

    python benchmarks/products.py              # the table, markdown
    python benchmarks/products.py --json FILE
    python benchmarks/products.py --write      # also replace these shapes' entries in the machine's table
                                               # with this run's choices (run it on a quiet machine)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

from supviz.runtime import products


def study_shapes() -> dict[str, list[tuple[int, int, int, bool, bool, str]]]:
    from supviz.toy._engine import product_shapes

    out: dict[str, list] = {"toy": [], "sae": [], "digits": [], "smacof": []}
    for m in (3, 5, 10, 20, 30, 40):
        out["toy"] += product_shapes(1024, 60, m)
    for m in (3, 5, 10, 20, 30, 40):  # SAE: x [128, m] W_enc [m, 120]; f [128, 120] W_dec [120, m]
        for M, K, N in ((128, m, 120), (128, 120, m)):
            out["sae"] += [
                (M, K, N, False, False, "float32"),
                (M, N, K, False, True, "float32"),
                (K, M, N, True, False, "float32"),
            ]
    for w in (4, 8, 16, 32, 64):  # digits: x [128, 64] W1 [64, w], h [128, w] W2 [w, 10]
        for M, K, N in ((128, 64, w), (128, w, 10)):
            out["digits"] += [
                (M, K, N, False, False, "float32"),
                (M, N, K, False, True, "float32"),
                (K, M, N, True, False, "float32"),
            ]
    out["smacof"] = [
        (60, 60, 3, False, False, "float64"),
        (1, 3600, 2, False, False, "float64"),
        (1, 3600, 1, False, False, "float64"),
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--write", action="store_true", help="replace these shapes' entries in the machine's table")
    args = ap.parse_args(argv)
    load0 = os.getloadavg()
    rows = []
    seen = set()
    for engine, shapes in study_shapes().items():
        for m, k, n, ta, tb, dtype in shapes:
            key = products.product_key(m, k, n, ta=ta, tb=tb, dtype=dtype)
            if key in seen:
                continue
            seen.add(key)
            us = products.remeasure([key])[key] if args.write else products.measure(key)
            rows.append(
                {
                    "engine": engine,
                    "key": key,
                    "us": us,
                    "fastest": min(us, key=us.get),
                    "served_by": products.choice(m, k, n, ta=ta, tb=tb, dtype=dtype),
                }
            )
    names = products.available()
    print(
        f"# {platform.machine()} {products.fingerprint().get('model', '')}, {len(os.sched_getaffinity(0))} CPUs; "
        f"load average {load0[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end; us per instance, one thread"
    )
    print("| engine | product | " + " | ".join(f"{n} us" for n in names) + " | served by | torch / served |")
    print("| --- | --- | " + " | ".join("---:" for _ in names) + " | --- | ---: |")
    for r in rows:
        served = r["us"][r["served_by"]]
        print(
            f"| {r['engine']} | {products.describe(r['key'])} | "
            + " | ".join(f"{r['us'][n]:.1f}" for n in names)
            + f" | {r['served_by']} | {r['us']['torch'] / served:.2f}x |"
        )
    print(f"# table: {products.table_path()}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": products.fingerprint(), "load": [load0, os.getloadavg()], "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
