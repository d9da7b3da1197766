"""The summary plot of a sweep: one measure per row, one importance curve per column, against m.

Rows (those the table has): the share of features represented (``||W_i|| > 0.5``, diagnostics);
the trustworthiness of the pictures of the feature directions (first method); the k-NN recall of
the pictures of ``h`` over that of ``x`` (data points, first method and point count: 1 = the
picture of ``h`` keeps as many neighbourhoods as the picture of the inputs); the MMCS of the SAEs
(first architecture and setting). One line per feature probability p: the mean over replicates,
with their range as a band. A NaN (an undefined measure) is left out of the mean, and the panel
says how many were.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _rows(table: Any) -> list[tuple[str, Any]]:
    """(title, frame of n_hidden, probability, importance, replicate, value) per summary row."""
    out = []
    diag = table[(table.kind == "diagnostics") & (table.metric == "n_represented_norm")].copy()
    if len(diag):
        diag["value"] = diag["value"] / diag["n_features"]
        out.append(("share of features represented (||W_i|| > 0.5)", diag))
    feats = table[(table.kind == "features") & (table.metric == "trustworthiness")]
    if len(feats):
        method = feats["method"].iloc[0]
        out.append((f"trustworthiness of the {method} picture of W's rows", feats[feats.method == method]))
    dp = table[(table.kind == "datapoints") & (table.metric == "knn_recall") & (table.method != "exact")]
    if len(dp):
        method, n_points = dp["method"].iloc[0], int(dp["n_points"].iloc[0])
        dp = dp[(dp.method == method) & (dp.n_points == n_points)]
        keys = ["n_features", "n_hidden", "probability", "importance", "replicate"]
        h = dp[dp.space == "h"].set_index(keys)["value"]
        x = dp[dp.space == "x"].set_index(keys)["value"]
        ratio = (h / x.reindex(h.index)).rename("value").reset_index()
        out.append((f"k-NN recall of the {method} picture of h / of x (N = {n_points})", ratio))
    sae = table[(table.kind == "sae") & (table.metric == "mmcs")]
    if len(sae):
        method, setting = sae["method"].iloc[0], sae["setting"].iloc[0]
        out.append(
            (
                f"MMCS of the {method} SAE ({setting.split(';')[0]})",
                sae[(sae.method == method) & (sae.setting == setting)],
            )
        )
    return out


def summary_figure(table: Any) -> Any:
    """The summary plot of a sweep table (:data:`supviz.sweep.rows.COLUMNS`); a matplotlib Figure.

    Raises
    ------
    SupvizError
        The table holds no row to plot.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from supviz.errors import SupvizError

    rows = _rows(table)
    if not rows:
        raise SupvizError("the sweep table holds nothing to summarise.")
    from matplotlib.ticker import NullLocator, ScalarFormatter

    imps = list(dict.fromkeys(table["importance"]))
    hidden = sorted(set(int(m) for m in table["n_hidden"]))
    probs = sorted(set(table["probability"]), reverse=True)
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, max(len(probs), 1)))
    fig, axes = plt.subplots(
        len(rows), len(imps), figsize=(4.2 * len(imps) + 0.6, 2.7 * len(rows)), squeeze=False, sharex=True
    )
    for r, (title, frame) in enumerate(rows):
        for c, imp in enumerate(imps):
            ax = axes[r][c]
            part = frame[frame.importance == imp]
            left_out = int((~np.isfinite(part["value"].to_numpy(float))).sum())
            for p, color in zip(probs, colors):
                sel = part[part.probability == p]
                if not len(sel):
                    continue
                g = sel.groupby("n_hidden")["value"]
                m = g.apply(lambda v: np.nanmean(v) if np.isfinite(v).any() else np.nan)
                lo = g.apply(lambda v: np.nanmin(v) if np.isfinite(v).any() else np.nan)
                hi = g.apply(lambda v: np.nanmax(v) if np.isfinite(v).any() else np.nan)
                ax.plot(m.index, m.to_numpy(), "-o", ms=3, color=color, label=f"p = {p:.3g}")
                ax.fill_between(m.index, lo.to_numpy(), hi.to_numpy(), color=color, alpha=0.2, lw=0)
            ax.set_title(f"{title}\n{imp}" + (f" ({left_out} undefined, left out)" if left_out else ""), fontsize=8)
            ax.set_xscale("log")
            ax.set_xticks(hidden)
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_locator(NullLocator())
            ax.grid(alpha=0.3)
            if r == len(rows) - 1:
                ax.set_xlabel("hidden size m")
    axes[0][-1].legend(fontsize=7, loc="best")
    n_rep = int(table["replicate"].max()) + 1 if len(table) else 0
    fig.suptitle(f"Sweep summary: mean over {n_rep} replicate(s) per cell, band = their range", fontsize=10)
    fig.tight_layout()
    return fig


def save_summary(table: Any, stem: str | Path) -> list[Path]:
    """Draw :func:`summary_figure` into ``<stem>.png`` and ``<stem>.svg`` (:func:`supviz.plot.save_figure`:
    atomic, the PNG palette-quantised, the SVG without a date); the paths."""
    import matplotlib.pyplot as plt

    from supviz.plot import save_figure

    fig = summary_figure(table)
    try:
        return list(save_figure(fig, stem, formats=("png", "svg"), dpi=110).values())
    finally:
        plt.close(fig)
