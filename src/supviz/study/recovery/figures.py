"""Figures of section E (recovering the features with sparse autoencoders).

- :func:`recovery_heatmap_figure` (E1): the recovery scores of one architecture and importance
  variant over (m, p), beside the represented count.
- :func:`matched_pairs_figure` (E2): per cell, a joint 2-D MDS of the true feature directions and
  the decoder directions matched to them, pairs joined by a segment.
- :func:`codes_heatmap_figure` (E3): k-NN recall against x of the pictures of x_rep, h_rep and the SAE
  codes f(h_rep), and the paired gain of the codes over h_rep in chance-corrected recall (what the verdicts read),
  per method.

Every function draws what it is given (tidy frames or arrays) and returns a Figure; nothing is
computed here, nothing is saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from supviz.core.text import fmt_p
from supviz.dr.base import METHOD_NAMES
from supviz.plot.static import ReasonMarks, reason_heatmap

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure


def _grid_values(
    frame: "pd.DataFrame",
    column: str,
    ms: list[int],
    ps: list[float],
    reasons: dict[tuple[int, float], str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``column`` of ``frame`` over (m rows, p columns) and the reason of each NaN cell."""
    V = np.full((len(ms), len(ps)), np.nan)
    R = np.full((len(ms), len(ps)), "", dtype=object)
    for row in frame.itertuples(index=False):
        m, p = int(row.m), float(row.p)
        j = next((jj for jj, q in enumerate(ps) if abs(q - p) <= 1e-9 * max(1.0, p)), None)
        if m not in ms or j is None:
            continue
        i = ms.index(m)
        V[i, j] = float(getattr(row, column))
        R[i, j] = (reasons or {}).get((m, round(p, 9)), "")
    R[np.isfinite(V)] = ""
    R[~np.isfinite(V) & (R == "")] = "not computed for this cell"
    return V, R


def parse_reasons(text: str) -> dict[str, str]:
    """``"mmcs: why; fvu: why"`` -> ``{"mmcs": "why", "fvu": "why"}``."""
    out = {}
    for part in str(text or "").split("; "):
        if ": " in part:
            k, v = part.split(": ", 1)
            out[k.strip()] = v.strip()
    return out


#: E1 panels: column, title, colour range, colour map, number format.
E1_PANELS = (
    ("n_represented", "represented features (||W_i|| > 0.5)", None, "cividis", "{:.0f}"),
    ("mmcs", "MMCS (mean max cosine)", (0.0, 1.0), "viridis", "{:.2f}"),
    ("feature_mcc", "feature MCC (Hungarian, sign-aware cos)", (0.0, 1.0), "viridis", "{:.2f}"),
    ("recovery_rate", "recovery rate (cos >= 0.9)", (0.0, 1.0), "viridis", "{:.2f}"),
    ("dead_fraction", "dead latents (fraction)", (0.0, 1.0), "magma", "{:.2f}"),
    ("l0_ratio", "L0 / true L0 (colour: log2)", (-3.0, 3.0), "RdBu_r", "{:.2g}"),
    ("fvu", "FVU (variance unexplained)", (0.0, 1.0), "magma", "{:.2f}"),
    ("mmcs_chance", "MMCS of random decoders (chance)", (0.0, 1.0), "viridis", "{:.2f}"),
)


def recovery_heatmap_figure(
    frame: "pd.DataFrame", *, title: str, n_features: int | None = None, panel_in: float = 2.55
) -> "Figure":
    """E1: the recovery scores of one architecture and importance variant over (m, p).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per cell: ``m``, ``p``, ``n_represented``, ``mmcs``, ``feature_mcc``, ``recovery_rate``,
        ``dead_fraction``, ``l0``, ``true_l0``, ``fvu`` and ``nan_reasons`` (``"column: why; ..."``); with
        ``mmcs_chance`` (random decoders' MMCS, :mod:`supviz.sae.chance`) a last panel shows it.
    title : str
    n_features : int, optional
        Top of the represented-count colour range (default: the largest count).
    """
    from matplotlib.figure import Figure

    t = frame.copy()
    true = t["true_l0"].astype(float)
    t["l0_ratio"] = np.where(true > 0, t["l0"].astype(float) / true.where(true > 0, 1.0), np.nan)
    ms = sorted({int(m) for m in t["m"]})
    ps = sorted({float(p) for p in t["p"]}, reverse=True)
    parsed = {(int(r.m), round(float(r.p), 9)): parse_reasons(r.nan_reasons) for r in t.itertuples(index=False)}
    for r in t.itertuples(index=False):
        why = parsed[(int(r.m), round(float(r.p), 9))]
        if not np.isfinite(r.l0_ratio):
            why["l0_ratio"] = why.get("true_l0") or (
                "no represented feature is active on the evaluation inputs" if float(r.true_l0) == 0 else "L0 undefined"
            )
    ncols = 4
    nrows = int(np.ceil(len(E1_PANELS) / ncols))
    fig = Figure(figsize=(panel_in * ncols + 0.6, panel_in * 0.95 * nrows + 1.0), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    marks = ReasonMarks()
    panels = [p for p in E1_PANELS if p[0] in t]
    for ax, (col, head, rng, cmap, fmt) in zip(axes.ravel(), panels):
        V, R = _grid_values(t, col, ms, ps, {k: v.get(col, "") for k, v in parsed.items()})
        if rng is None:
            rng = (0.0, float(n_features or np.nanmax(np.r_[V.ravel(), 1.0])))
        colour = np.log2(np.where(V > 0, V, np.nan)) if col == "l0_ratio" else None
        im = reason_heatmap(
            ax,
            V,
            reasons=R,
            marks=marks,
            row_labels=[str(m) for m in ms],
            col_labels=[fmt_p(p) for p in ps],
            vmin=rng[0],
            vmax=rng[1],
            cmap=cmap,
            color_values=colour,
            fmt=fmt,
            title=head,
        )
        ax.set_xlabel("p", fontsize=7)
        ax.set_ylabel("m", fontsize=7)
        cb = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.02)
        cb.ax.tick_params(labelsize=6)
        if col == "l0_ratio":
            cb.set_ticks([-3, -2, -1, 0, 1, 2, 3], labels=["1/8", "1/4", "1/2", "1", "2", "4", "8"])
    spare = list(axes.ravel()[len(panels) :])
    for ax in spare:
        ax.set_axis_off()
    foot = marks.footer()
    if spare and foot:
        import textwrap

        lines = ["hatched = undefined:"] + [
            textwrap.fill(f"{m} = {r}", 46, subsequent_indent="    ") for r, m in marks.marks.items()
        ]
        note = spare[0].text(0.0, 1.0, "\n".join(lines), ha="left", va="top", fontsize=7, transform=spare[0].transAxes)
        note.set_in_layout(False)
    elif foot:
        fig.supxlabel(foot, fontsize=7)
    fig.suptitle(title, fontsize=10)
    return fig


@dataclass
class PairPanel:
    """One cell of E2: the 2-D positions of its true features and their matched decoder directions.

    Attributes
    ----------
    m, p : the cell.
    true_xy : np.ndarray [n, 2]
        The represented true features.
    decoder_xy : np.ndarray [n, 2]
        The decoder direction paired with each (NaN rows: none).
    color : np.ndarray [n]
        Importance rank of each true feature (0 = most important).
    cos : np.ndarray [n]
        Cosine of each pair.
    corner : str
    note : str
        Why the panel is empty (when ``true_xy`` is None).
    """

    m: int
    p: float
    true_xy: np.ndarray | None
    decoder_xy: np.ndarray | None
    color: np.ndarray | None
    cos: np.ndarray | None
    corner: str = ""
    note: str = ""


def matched_pairs_figure(
    panels: Sequence[PairPanel],
    *,
    title: str,
    color_label: str,
    n_features: int,
    panel_in: float = 1.75,
    color_range: tuple[float, float] | None = None,
) -> "Figure":
    """E2: a grid (rows m, columns p, panels "m : p") of true features joined to their decoder directions.

    True features are filled circles coloured by each panel's ``color`` (importance rank, dark = most important, as
    in C2, on ``0 .. n_features - 1``; or another quantity on ``color_range``, e.g. the row's norm under uniform
    importance, where a rank is arbitrary); their paired decoder directions are black crosses; a segment joins each
    pair, grey when the pair's cosine >= 0.9 and red below. Each panel's ``corner`` (its MMCS beside chance, the
    picture's stress) is written under the panel, outside its axes, so it covers no point.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    ms = sorted({p.m for p in panels})
    ps = sorted({p.p for p in panels}, reverse=True)
    fig = Figure(figsize=(panel_in * len(ps) + 1.3, panel_in * len(ms) + 0.9), layout="constrained")
    axes = fig.subplots(len(ms), len(ps), squeeze=False)
    sc = None
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    for pan in panels:
        ax = axes[ms.index(pan.m), next(j for j, q in enumerate(ps) if q == pan.p)]
        ax.set_title(f"{pan.m} : {fmt_p(pan.p)}", fontsize=8)
        if pan.true_xy is None or pan.decoder_xy is None:
            ax.text(
                0.5,
                0.5,
                pan.note or "no data",
                ha="center",
                va="center",
                fontsize=6.5,
                color="0.4",
                transform=ax.transAxes,
                wrap=True,
            )
            continue
        T, D = np.asarray(pan.true_xy, float), np.asarray(pan.decoder_xy, float)
        ok = np.isfinite(D).all(axis=1)
        cos = np.nan_to_num(np.asarray(pan.cos, float), nan=0.0)
        segs = np.stack([T[ok], D[ok]], axis=1)
        colors = np.where(cos[ok] >= 0.9, "0.35", "tab:red")
        ax.add_collection(LineCollection(segs, colors=list(colors), linewidths=0.7, zorder=1))
        order = np.argsort(-np.asarray(pan.color, float), kind="stable")
        sc = ax.scatter(
            T[order, 0],
            T[order, 1],
            c=np.asarray(pan.color, float)[order],
            cmap="viridis",
            vmin=0 if color_range is None else color_range[0],
            vmax=max(1, n_features - 1) if color_range is None else color_range[1],
            s=12,
            linewidths=0.3,
            edgecolors="white",
            zorder=2,
        )
        ax.scatter(D[ok, 0], D[ok, 1], marker="x", c="black", s=9, linewidths=0.6, zorder=3)
        ax.set_aspect("equal", adjustable="datalim")
        if pan.corner:  # under the panel, outside the axes: inside, it covered points of the dense panels
            ax.set_xlabel(pan.corner, fontsize=6, labelpad=2, linespacing=1.1)
    if sc is not None:
        cb = fig.colorbar(sc, ax=axes, shrink=0.5, pad=0.01)
        cb.set_label(color_label, fontsize=8)
        cb.ax.tick_params(labelsize=7)
    handles = [
        Line2D([], [], marker="o", ls="", color="tab:green", markersize=4, label="true feature (row of W, unit)"),
        Line2D([], [], marker="x", ls="", color="black", markersize=4, label="closest decoder direction"),
        Line2D([], [], color="0.35", lw=0.8, label="pair, cos >= 0.9"),
        Line2D([], [], color="tab:red", lw=0.8, label="pair, cos < 0.9"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=9)
    return fig


def codes_heatmap_figure(
    cells: "pd.DataFrame", *, title: str, methods: Sequence[str], panel_in: float = 2.3
) -> "Figure":
    """E3: per method (rows), k-NN recall against x of the pictures of x_rep, h_rep and the SAE codes f(h_rep), and the
    paired gain of the codes over h_rep, ``codes' - h_rep'`` in chance-corrected recall (the difference the verdicts
    read), in the cells whose W has superposition.

    Parameters
    ----------
    cells : pandas.DataFrame
        :func:`supviz.study.recovery.findings.won_back_cells` rows of one importance variant:
        ``m``, ``p``, ``method``, ``x_rep``, ``h_rep``, ``codes``, ``gain``, ``superposed``, ``reason``.
    methods : sequence of str
        Rows (``exact`` = the spaces themselves, no picture).
    """
    from matplotlib.figure import Figure

    names = {**METHOD_NAMES, "exact": "no picture"}
    ms = sorted({int(m) for m in cells["m"]})
    ps = sorted({float(p) for p in cells["p"]}, reverse=True)
    short = {"x_rep": "inputs", "h_rep": "codes", "codes": "SAE codes"}  # of the represented features (the title)
    cols = (
        ("x_rep", f"pictures of the {short['x_rep']}"),
        ("h_rep", f"pictures of the {short['h_rep']}"),
        ("codes", f"pictures of the {short['codes']}"),
        ("gain", "SAE codes − codes, chance-corrected"),
    )

    def row_range(method: str) -> tuple[float, float]:
        # one colour range per row (per method): the x_rep, h_rep and codes panels of a row are compared with each other
        rec = cells.loc[cells["method"] == method, ["x_rep", "h_rep", "codes"]].to_numpy(dtype=float)
        fin = rec[np.isfinite(rec)]
        lo, hi = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
        return (lo - 0.05, hi + 0.05) if hi <= lo else (lo, hi)

    fig = Figure(figsize=(panel_in * len(cols) + 1.2, panel_in * 0.92 * len(methods) + 1.0), layout="constrained")
    axes = fig.subplots(len(methods), len(cols), squeeze=False)
    marks = ReasonMarks()
    im_seq = im_div = None
    # the gain where the verdicts read it: superposed cells with the three recalls (the share's own guard, h_rep's
    # loss under MIN_LOSS, does not apply to a difference)
    sup = cells["superposed"].to_numpy(dtype=bool) if "superposed" in cells else np.ones(len(cells), bool)
    cells = cells.assign(gain=np.where(sup, cells["gain"].to_numpy(dtype=float), np.nan))
    g = cells["gain"].to_numpy(dtype=float)
    span = float(np.nanmax(np.abs(g))) if np.isfinite(g).any() and np.nanmax(np.abs(g)) > 0 else 1.0
    first_row = [1 if (c < 3 and methods[0] == "exact" and len(methods) > 1) else 0 for c in range(len(cols))]
    for r, method in enumerate(methods):
        part = cells[cells["method"] == method]
        reasons = {
            (int(row.m), round(float(row.p), 9)): ("" if str(row.reason).startswith("h_rep loses less") else row.reason)
            for row in part.itertuples(index=False)
        }
        lo, hi = row_range(method)
        im_seq = None
        for c, (col, head) in enumerate(cols):
            ax = axes[r, c]
            panel_title = head if r == first_row[c] else ""
            if method == "exact" and col in ("x_rep", "h_rep", "codes"):
                panel_title = f"the {short[col]} themselves"
            V, R = _grid_values(
                part,
                col,
                ms,
                ps,
                reasons if col == "gain" else {k: "recall undefined for this picture" for k in reasons},
            )
            if col == "gain":
                im_div = reason_heatmap(
                    ax,
                    V,
                    reasons=R,
                    marks=marks,
                    row_labels=[str(m) for m in ms],
                    col_labels=[fmt_p(p) for p in ps],
                    vmin=-span,
                    vmax=span,
                    cmap="RdBu",
                    fmt="{:.2f}",
                    title=panel_title,
                )
            else:
                im_seq = reason_heatmap(
                    ax,
                    V,
                    reasons=R,
                    marks=marks,
                    row_labels=[str(m) for m in ms],
                    col_labels=[fmt_p(p) for p in ps],
                    vmin=lo,
                    vmax=hi,
                    cmap="viridis",
                    title=panel_title,
                )
            if c == 0:
                ax.set_ylabel(f"{names.get(method, method)}\nm", fontsize=8)
            if r == len(methods) - 1:
                ax.set_xlabel("p", fontsize=7)
        if im_seq is not None:
            cb = fig.colorbar(im_seq, ax=axes[r, 2], shrink=0.9, pad=0.02)
            cb.ax.tick_params(labelsize=6)
            cb.set_label("k-NN recall", fontsize=7)
    if im_div is not None:
        cb = fig.colorbar(im_div, ax=axes[:, 3], shrink=0.8, pad=0.01, location="bottom")
        cb.set_label("SAE codes − codes\n(chance-corrected recall, per cell)", fontsize=8)
    if marks.marks:  # one reason a line: on one line they ran past the figure's edges
        fig.supxlabel(
            "hatched = undefined:\n" + "\n".join(f"{m} = {r}" for r, m in marks.marks.items()), fontsize=8, ha="center"
        )
    fig.suptitle(title, fontsize=9)
    return fig
