"""The figures of the real-network experiment (matplotlib, Agg canvas): F1, F2 and F3.

Each function takes the tables of a :class:`~supviz.real.experiment.RealResult` (or the same
columns from elsewhere) and returns a :class:`matplotlib.figure.Figure`; the report draws with
the same functions a notebook calls. Undefined values (NaN) are never drawn as numbers: a panel
without a value says "n/a".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from supviz.core.names import MEASURE_NAMES
from supviz.core.text import fixed
from supviz.dr.base import METHOD_NAMES

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

KIND_COLOURS = {"classifier": "#1f77b4", "autoencoder": "#d95f02"}


def _figure(width: float, height: float) -> "Figure":
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def pictures_panels(f1: dict[str, Any], pictures: Any) -> list[Any]:
    """F1's pictures as :class:`~supviz.plot.ScatterPanel` s (rows: spaces, columns: methods), coloured by class,
    each point's digit class and trust in its hover (:func:`supviz.plot.trust.hover_columns`: trust, t, c, false
    and missing neighbours against the space pictured; the reason where undefined). ``f1`` and ``pictures`` as
    for :func:`pictures_figure`; without ``f1["trust"]`` (a result made before it existed) the hover has the class
    only."""
    from supviz.plot import ScatterPanel
    from supviz.plot.trust import hover_columns

    labels = np.asarray(f1["labels"])
    trust = f1.get("trust", {})
    panels = []
    for sid, title in zip(f1["rows"], f1["titles"]):
        for m in f1["methods"]:
            name = f"{title}, {METHOD_NAMES.get(m, m)}"
            emb = f1["embeddings"].get(f"{sid}|{m}")
            if emb is None:
                panels.append(ScatterPanel(name, None, note="n/a"))
                continue
            hover: dict[str, Any] = {"point": np.arange(len(labels)), "class": labels}
            t = trust.get(f"{sid}|{m}")
            if t is not None:
                hover |= hover_columns(t["columns"], t["reason"])
            row = pictures[(pictures["id"] == sid) & (pictures["method"] == m)]
            corner = ""
            if len(row):
                r = row.iloc[0]
                corner = f"kNN {fixed(r.knn_accuracy)}  T {fixed(r.trustworthiness)}  C {fixed(r.continuity)}"
            panels.append(ScatterPanel(name, np.asarray(emb), color=labels.astype(float), corner=corner, hover=hover))
    return panels


def pictures_interactive(f1: dict[str, Any], pictures: Any) -> Any:
    """:func:`pictures_figure` in plotly (:func:`pictures_panels`): hovering a point shows its index, its digit class
    and its trust against the space pictured. Returns a ``plotly.graph_objects.Figure``."""
    from supviz.plot import ColorScale
    from supviz.plot.interactive import plot_grid

    classes = np.unique(np.asarray(f1["labels"]))
    scale = ColorScale("viridis", float(classes.min()), float(classes.max()), "digit class", integer=True)
    return plot_grid(
        pictures_panels(f1, pictures),
        ncols=len(f1["methods"]),
        title="F1, coloured by digit class; hover: each point's trust",
        color=scale,
        panel_px=260,
    )


def pictures_figure(f1: dict[str, Any], pictures: Any, *, point_size: float = 5.0) -> "Figure":
    """F1: each space (rows) pictured by each method (columns), points coloured by class.

    Parameters
    ----------
    f1 : dict
        ``RealResult.f1``: ``labels [N]``, ``rows`` (space ids), ``titles``, ``methods``,
        ``embeddings`` (``"<space>|<method>" -> [N, 2]``).
    pictures : pandas.DataFrame
        ``RealResult.pictures`` (the corner numbers: k-NN accuracy, silhouette, trustworthiness
        and continuity against the space itself and against the pixels).
    """
    from matplotlib.lines import Line2D

    rows, methods = list(f1["rows"]), list(f1["methods"])
    labels = np.asarray(f1["labels"])
    classes = np.unique(labels)
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    colour = {c: cmap(i % 10) for i, c in enumerate(classes)}
    fig = _figure(1.0 + 2.35 * len(methods), 0.6 + 2.3 * len(rows))
    axes = fig.subplots(len(rows), len(methods), squeeze=False)
    for i, (sid, title) in enumerate(zip(rows, f1["titles"])):
        for j, m in enumerate(methods):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            emb = f1["embeddings"].get(f"{sid}|{m}")
            if emb is None:
                ax.text(0.5, 0.5, "n/a", transform=ax.transAxes, ha="center", va="center", color="0.4")
                continue
            for c in classes:
                sel = labels == c
                ax.scatter(emb[sel, 0], emb[sel, 1], s=point_size, color=colour[c], linewidths=0, rasterized=True)
            ax.set_aspect("equal", adjustable="datalim")
            row = pictures[(pictures["id"] == sid) & (pictures["method"] == m)]
            if len(row):
                r = row.iloc[0]
                text = (
                    f"kNN {fixed(r.knn_accuracy)}  sil {fixed(r.silhouette)}\n"
                    f"T {fixed(r.trustworthiness)} / {fixed(r.trustworthiness_pixels)}  "
                    f"C {fixed(r.continuity)} / {fixed(r.continuity_pixels)}"
                )
                if bool(r.collapsed):
                    text = "collapsed\n" + text
                ax.text(
                    0.02,
                    0.02,
                    text,
                    transform=ax.transAxes,
                    fontsize=6,
                    va="bottom",
                    ha="left",
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.8, "linewidth": 0},
                )
            if i == 0:
                ax.set_title(METHOD_NAMES.get(m, m), fontsize=10)
            if j == 0:
                ax.set_ylabel(title.replace(" (", "\n("), fontsize=8)
    handles = [Line2D([], [], marker="o", linestyle="", color=colour[c], label=str(c)) for c in classes]
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncols=len(classes),
        fontsize=8,
        title="digit class",
        title_fontsize=8,
        frameon=False,
    )
    fig.supxlabel(
        "corners: kNN = k-NN label accuracy in the picture, sil = silhouette of the classes in the picture;\n"
        "T / C = trustworthiness / continuity against the space pictured / against the pixels",
        fontsize=7,
        color="0.3",
    )
    return fig


def _log2_axis(ax: Any, widths: Sequence[int]) -> None:
    ax.set_xscale("log", base=2)
    ws = sorted(set(int(w) for w in widths))
    ax.set_xticks(ws, labels=[str(w) for w in ws])
    ax.minorticks_off()
    ax.set_xlabel("hidden width w", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)


def sweep_figure(
    models: Any, quality: Any, spaces: Any, pictures: Any, *, architecture: str, methods: Sequence[str]
) -> "Figure":
    """F2: the width sweep. Task performance, effective features, SAE stability and the pictures'
    faithfulness (to their own space, to the pixels) and class structure against the hidden width.

    Lines: colour = model kind, solid = the hidden layer h, dashed = its SAE codes (``architecture``),
    marker = picture method; grey horizontal lines = the pixels' own picture (the control).
    """
    fig = _figure(11.5, 6.6)
    axes = fig.subplots(2, 3).ravel()
    widths = sorted(set(int(w) for w in models["width"]))
    markers = {"mds": "s", "umap": "o", "tsne": "^"}

    ax = axes[0]
    for kind, col, name in (
        ("classifier", "test_accuracy", "classifier: test accuracy"),
        ("autoencoder", "test_fvu", "autoencoder: 1 - test FVU"),
    ):
        t = models[models["kind"] == kind]
        if t.empty:
            continue
        g = t.groupby("width")[col]
        y = g.mean() if kind == "classifier" else 1.0 - g.mean()
        lo = g.min() if kind == "classifier" else 1.0 - g.max()
        hi = g.max() if kind == "classifier" else 1.0 - g.min()
        ax.plot(y.index, y.values, "o-", color=KIND_COLOURS[kind], label=name, ms=4)
        ax.fill_between(y.index, lo.values, hi.values, color=KIND_COLOURS[kind], alpha=0.15, lw=0)
    ax.set_title("(a) the models: mean and range over replicates", fontsize=9)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, loc="lower right")
    _log2_axis(ax, widths)

    q = quality[quality["architecture"] == architecture]
    ax = axes[1]
    for kind in ("classifier", "autoencoder"):
        t = q[q["kind"] == kind].sort_values("width")
        if not t.empty:
            ax.plot(t["width"], t["effective_features"], "o-", color=KIND_COLOURS[kind], ms=4, label=f"{kind}")
    from supviz.real.measures import SIGNED_PAIR

    ax.plot(widths, widths, ":", color="0.4", label="F = w: a non-negative layer with no superposition")
    if not q[q["kind"] == "autoencoder"].empty:
        ax.plot(
            widths,
            [SIGNED_PAIR * w for w in widths],
            "-.",
            color=KIND_COLOURS["autoencoder"],
            lw=0.9,
            label=f"F = {SIGNED_PAIR:g} w: a signed layer (+/- latent pairs) with none",
        )
    ax.set_yscale("log", base=2)
    ax.set_title(f"(b) effective features F of the hidden layer ({_arch_name(architecture)} SAE)", fontsize=9)
    ax.set_ylabel("F = exp(entropy)", fontsize=8)
    ax.legend(fontsize=7)
    _log2_axis(ax, widths)

    ax = axes[2]
    for kind in ("classifier", "autoencoder"):
        t = q[q["kind"] == kind].sort_values("width")
        if t.empty:
            continue
        ax.plot(t["width"], t["stability_seeds"], "o-", color=KIND_COLOURS[kind], ms=4, label=f"{kind}: across seeds")
        ax.plot(
            t["width"],
            t["stability_larger"],
            "s--",
            color=KIND_COLOURS[kind],
            ms=3,
            label=f"{kind}: vs larger dictionary",
        )
        ax.plot(t["width"], 1.0 - t["fvu"], ":", color=KIND_COLOURS[kind], label=f"{kind}: 1 - FVU")
    ax.set_ylim(0, 1.02)
    ax.set_title("(c) SAE quality without ground truth", fontsize=9)
    ax.legend(fontsize=6, loc="lower left")
    _log2_axis(ax, widths)

    p = pictures[(pictures["architecture"].isin(["", architecture]))]
    panels = (
        ("trustworthiness", "(d) trustworthiness of the picture vs its own space"),
        ("trustworthiness_pixels", "(e) trustworthiness of the picture vs the pixels"),
        ("knn_accuracy", "(f) k-NN label accuracy in the picture"),
    )
    for ax, (col, title) in zip(axes[3:], panels):
        for m in methods:
            pix = p[(p["kind"] == "pixels") & (p["method"] == m)]
            if len(pix) and math.isfinite(float(pix.iloc[0][col])):
                ax.axhline(float(pix.iloc[0][col]), color="0.55", lw=0.8, ls="-.", zorder=0)
            for kind in ("classifier", "autoencoder"):
                for space, ls in (("hidden", "-"), ("codes", "--")):
                    t = p[(p["kind"] == kind) & (p["space"] == space) & (p["method"] == m)].sort_values("width")
                    if t.empty:
                        continue
                    ax.plot(
                        t["width"],
                        t[col],
                        ls,
                        marker=markers.get(m, "o"),
                        color=KIND_COLOURS[kind],
                        ms=4,
                        label=f"{kind} {'h' if space == 'hidden' else 'codes'} ({METHOD_NAMES.get(m, m)})",
                    )
        ax.set_title(title, fontsize=9)
        _log2_axis(ax, widths)
    # (d) and (e) on one scale: how much a picture loses against its own space and against the pixels compare
    lo = min(axes[3].get_ylim()[0], axes[4].get_ylim()[0])
    for ax in axes[3:5]:
        ax.set_ylim(lo, 1.0 + 0.02 * (1.0 - lo))
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=KIND_COLOURS[k], lw=2) for k in ("classifier", "autoencoder")]
    labels = ["classifier", "autoencoder"]
    handles += [
        Line2D([], [], color="0.2", ls="-"),
        Line2D([], [], color="0.2", ls="--"),
        Line2D([], [], color="0.55", ls="-."),
    ]
    labels += ["hidden layer h", f"SAE codes of h ({_arch_name(architecture)})", "picture of the pixels (control)"]
    handles += [Line2D([], [], color="0.2", marker=markers.get(m, "o"), ls="") for m in methods]
    labels += [METHOD_NAMES.get(m, m) for m in methods]
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=len(labels),
        fontsize=7,
        frameon=False,
        title="(d)-(f):",
        title_fontsize=7,
    )
    return fig


def _arch_name(architecture: str) -> str:
    """The architecture as its paper names it (:data:`supviz.sae.config.ARCHITECTURE_NAMES`), not its code name."""
    from supviz.sae.config import ARCHITECTURE_NAMES

    return ARCHITECTURE_NAMES.get(architecture, architecture)


def _monotone_fits(cal: Any, measure: str) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The read-through's isotonic fits of MMCS on ``measure``, one per hidden size m over that m's cells (as
    :func:`supviz.real.calibration.read_through` with ``m``); an m whose fit is undefined is left out."""
    from supviz.real.calibration import read_through

    out = {}
    for m in sorted(set(int(v) for v in cal["m"])):
        t = cal[cal["m"] == m]
        a = t[measure].to_numpy(dtype=float)
        ok = np.isfinite(a) & np.isfinite(t["mmcs"].to_numpy(dtype=float))
        if ok.sum() < 3 or np.ptp(a[ok]) == 0:
            continue
        xs = np.linspace(a[ok].min(), a[ok].max(), 200)
        ys, _ = read_through(cal, measure, xs, m=m)
        out[m] = (xs, ys)
    return out


def _rho_title(row: Any) -> str:
    """A panel title's correlation lines: within m (the ranking's statistic, with its interval), within (m, importance)
    strata where the ranking has it (:func:`supviz.study.real.findings.calibration_ranking`), then pooled."""
    if not len(row):
        return "Spearman ρ: n/a"
    r = row.iloc[0]
    within = (
        f"within m: ρ = {fixed(r['rho_within'])} [{fixed(r['within_low'])}, {fixed(r['within_high'])}]"
        if "rho_within" in r and math.isfinite(float(r["rho_within"]))
        else "within m: ρ n/a"
    )
    variant = (
        f"\nwithin (m, variant): ρ = {fixed(r['rho_variant'])} [{fixed(r['variant_low'])}, "
        f"{fixed(r['variant_high'])}]"
        if "rho_variant" in r and math.isfinite(float(r["rho_variant"]))
        else ""
    )
    return f"{within}{variant}\npooled over m: ρ = {fixed(r['rho'])}"


def _over_capacity(cal: Any) -> Any:
    """``cal["over_capacity"]`` as booleans on ``cal``'s index (:func:`supviz.real.calibration.mark_capacity`); all
    False for a table without the column (nothing is known to exceed the dictionary)."""
    import pandas as pd

    if "over_capacity" not in cal:
        return pd.Series(False, index=cal.index)
    return cal["over_capacity"].fillna(False).astype(bool)


def _cells(ax: Any, x: Any, y: Any, over: Any, *, colour: Any, marker: str, label: str | None = None) -> None:
    """One group of calibration cells: filled where their represented features fit the SAE's dictionary, hollow
    (the same colour and marker) where they exceed it (``over``, booleans aligned with ``x`` and ``y``)."""
    o = np.asarray(over, dtype=bool)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if (~o).any():
        ax.scatter(x[~o], y[~o], s=14, color=colour, marker=marker, linewidths=0, label=label)
    if o.any():  # the label goes on the hollow ones only where no cell of the group is filled
        hollow = label if o.all() else None
        ax.scatter(
            x[o], y[o], s=14, facecolors="none", edgecolors=[colour], marker=marker, linewidths=0.9, label=hollow
        )


def calibration_figure(
    calibration: Any,
    ranking: Any,
    quality: Any,
    *,
    architecture: str,
    measures: Sequence[str],
    count: Any = None,
) -> "Figure":
    """F3: each no-ground-truth measure (x) against the true recovery MMCS above chance (y: MMCS less
    ``chance_mmcs``, what random unit decoders of the SAEs' size score at the cell's m; raw MMCS where the table has
    no such column) over toy cells, its Spearman rho
    within the hidden size m (with its 95% interval) and pooled over m in the title, the read-through's monotone fit
    within each m (in that m's colour), and where the digits layers lie (ticks at the bottom).

    ``ranking``: one row per measure with ``rho`` (pooled) and, where computed, ``rho_within, within_low,
    within_high`` (section F's :func:`supviz.study.real.findings.calibration_ranking`); ``count``: the same for the
    effective feature count against the represented count. The last panel: the effective feature count against the
    true number of represented features. A cell drawn hollow represents more features than its SAEs have latents
    (``over_capacity``, :func:`supviz.real.calibration.mark_capacity`; a table without the column: all filled).
    """
    import matplotlib

    cal = calibration[calibration["architecture"] == architecture]
    # the y axis: MMCS above what random unit decoders of the same size score at the cell's m (0 = chance); a
    # constant per m, so the within-m ranks and fits keep their shape (a table without the column: raw MMCS)
    corrected = "chance_mmcs" in cal
    chance = cal["chance_mmcs"].to_numpy(dtype=float) if corrected else np.zeros(len(cal))
    y_all = cal["mmcs"].to_numpy(dtype=float) - chance
    ylabel = "true MMCS − chance (toy cells)" if corrected else "true MMCS (toy cells)"
    q = quality[quality["architecture"] == architecture]
    n = len(measures) + 1
    ncols = 4
    nrows = math.ceil(n / ncols)
    fig = _figure(2.9 * ncols, 3.0 * nrows + 0.3)  # three title lines over each panel
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    ms = sorted(set(int(m) for m in cal["m"])) if len(cal) else []
    cmap = matplotlib.colormaps["viridis"]
    mcol = {m: cmap(i / max(1, len(ms) - 1)) for i, m in enumerate(ms)}
    marks = {imp: mk for imp, mk in zip(sorted(set(cal["importance"])) if len(cal) else [], "os^Dv")}
    from supviz.toy.importance import variant_label

    over = _over_capacity(cal)
    for ax, measure in zip(axes, measures):
        for (m, imp), t in cal.groupby(["m", "importance"]):
            _cells(
                ax,
                t[measure],
                t["mmcs"] - (t["chance_mmcs"] if corrected else 0.0),
                over[t.index],
                colour=mcol[int(m)],
                marker=marks[imp],
                label=f"m = {int(m)}, {variant_label(imp)}",
            )
        row = ranking[ranking["measure"] == measure]
        ax.set_title(f"{MEASURE_NAMES.get(measure, measure)}\n{_rho_title(row)}", fontsize=8)
        ax.set_xlabel(MEASURE_NAMES.get(measure, measure), fontsize=7)
        ax.set_ylabel(ylabel, fontsize=7)
        ax.tick_params(labelsize=6)
        ax.grid(alpha=0.3)
        for m, (xs, ys) in _monotone_fits(cal, measure).items():
            shift = float(np.nanmean(chance[cal["m"].to_numpy(dtype=float) == m])) if corrected else 0.0
            ax.plot(xs, ys - shift, color=mcol[m], lw=1.1, alpha=0.9)
        if corrected:
            ax.axhline(0.0, color="0.3", lw=0.8, ls=":")
        known = y_all[np.isfinite(y_all)]
        if corrected:
            known = np.r_[known, 0.0]  # the chance line stays in view
        if len(known):  # a free band at the bottom for the digits ticks (they cover the lowest cells otherwise)
            lo, hi = float(known.min()), float(known.max())
            pad = (hi - lo) or 0.1
            ax.set_ylim(lo - 0.15 * pad, hi + 0.05 * pad)
        for kind in ("classifier", "autoencoder"):
            vals = q[q["kind"] == kind][[measure, "width"]].dropna()
            for v, w in vals.itertuples(index=False):
                ax.axvline(float(v), ymax=0.06, color=KIND_COLOURS[kind], lw=1.5)
    ax = axes[len(measures)]
    if len(cal):
        for (m, imp), t in cal.groupby(["m", "importance"]):
            _cells(
                ax, t["n_represented"], t["effective_features"], over[t.index], colour=mcol[int(m)], marker=marks[imp]
            )
        hi = float(np.nanmax(np.r_[cal["n_represented"], cal["effective_features"], 1.0]))
        ax.plot([0, hi], [0, hi], ":", color="0.4")
    ax.set_title(
        "F against the true represented count\n" + _rho_title(count if count is not None else ranking.iloc[:0]),
        fontsize=8,
    )
    ax.set_xlabel("represented features (||W_i|| > 0.5)", fontsize=7)
    ax.set_ylabel("effective features F", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.grid(alpha=0.3)
    for ax in axes[n:]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    from matplotlib.lines import Line2D

    if over.any():
        handles += [Line2D([], [], color="0.3", marker="o", ls="", markerfacecolor="none", markersize=4)]
        labels += ["hollow: more represented features than SAE latents"]
    handles += [Line2D([], [], color="0.3", lw=1.1)]
    labels += ["monotone fit within one m (its colour; the read-through)"]
    handles += [Line2D([], [], color=KIND_COLOURS[k], lw=1.5) for k in ("classifier", "autoencoder")]
    labels += ["digits classifier layers (ticks)", "digits autoencoder layers (ticks)"]
    if corrected:
        handles += [Line2D([], [], color="0.3", lw=0.8, ls=":")]
        labels += ["chance: random unit decoders of the same size at that m"]
    fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)), fontsize=7, frameon=False)
    return fig
