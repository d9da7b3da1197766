"""The transformer section (opt-in, ``[transformer] enabled = true``): a real transformer's layers, pictured.

It runs :func:`supviz.real.text.text_experiment` -- the computation ``supviz real --model`` runs -- on template
sentences whose factors are known (:func:`supviz.real.corpus.template_corpus`, seeded by the study's seed), and
shows what it measured: per factor, k-NN label accuracy in each layer, in each picture of it and of its SAE codes,
and a linear probe (the ceiling), against chance; every picture coloured by each point's trust (its own share of
trustworthiness and continuity). Findings: :mod:`supviz.study.transformer.findings` (supviz's own questions).

Off by default, so the default run does not grow; with it on, ``supviz config`` and ``supviz run`` check the
model, the layers and the size before anything is written.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from supviz.report.records import SectionOutput, TableBlock
from supviz.study.section import Section

#: The settings that size the section (what a refusal names).
TRANSFORMER_SIZES = "`transformer.sentences`"


def _check_depth(config: Any) -> None:
    """A local model's ``config.json`` gives its depth: refuse ``transformer.layers`` beyond it before loading."""
    from pathlib import Path

    from supviz.core.io import read_json_object
    from supviz.errors import SupvizError
    from supviz.real.transformer import resolve_model

    cfg = config.section("transformer")
    try:
        where, local = resolve_model(cfg.model)
    except SupvizError as exc:
        msg = str(exc)
        raise SupvizError("`transformer.model`" + msg[len("`model`") :] if msg.startswith("`model`") else msg) from None
    if local and isinstance(cfg.layers, list) and cfg.layers:
        depth = read_json_object(Path(where) / "config.json", what="a model config").get("num_hidden_layers")
        if isinstance(depth, int) and max(cfg.layers) > depth:
            raise SupvizError(f"`transformer.layers` must be in 0..{depth} for this model; got {max(cfg.layers)}.")


class TransformerSection(Section):
    """A real transformer's layers pictured and measured per known factor, with a trust score on every point."""

    key = "transformer"
    title = "G. A real transformer: its layers pictured, with a trust score on every point"
    config_key = "transformer"

    def active(self, config: Any) -> bool:
        """Only with ``transformer.enabled = true``."""
        return bool(config.section("transformer").enabled)

    def check(self, config: Any) -> None:
        """The model resolves (the shipped one installed, a folder with a config and a tokenizer), the layers exist
        in a local model, and picturing the sentences fits this machine."""
        if not self.active(config):
            return
        from supviz.core.resources import check_fits, layout_need

        _check_depth(config)
        n = config.section("transformer").sentences
        check_fits(layout_need(n, what="picturing the sentences"), TRANSFORMER_SIZES)

    def compute(self, ctx: Any) -> Any:
        from supviz.real.corpus import template_corpus
        from supviz.real.text import text_experiment

        cfg = ctx.config.section("transformer")
        corpus = template_corpus(cfg.sentences, seed=ctx.seed("transformer-corpus"))
        return text_experiment(
            corpus,
            cfg.model,
            config=cfg.text_config(),
            seed=ctx.seed("transformer"),
            device=cfg.device or None,
            progress=ctx.progress.bars,
        )

    def render(self, ctx: Any, result: Any) -> SectionOutput:
        from supviz.dr.base import METHOD_NAMES
        from supviz.real import text_plots
        from supviz.study.transformer.findings import findings

        r = result
        cfg = ctx.config.section("transformer")
        factors = list(r.info["factors"])
        methods = list(r.info["config"]["methods"])
        colour = factors[0]
        figs = [
            ctx.figure(
                "G1_measures",
                title="G1. Which layers' pictures keep which factors",
                caption=(
                    f"Per factor of the {r.info['n']} template sentences: k-NN label accuracy (k = {cfg.k}, "
                    f"{cfg.folds}-fold cross-validated) in each layer (black), in each method's picture of it "
                    "(colours; dashed: the picture of the layer's SAE codes), a linear probe on the layer (grey, the "
                    "ceiling) and chance (dotted: the majority share). Layer 0 is the embeddings."
                ),
                content={"layers": _frame(r.layers), "pictures": _frame(r.pictures)},
                static=lambda r=r: text_plots.measures_figure(r.layers, r.pictures),
            )
        ]
        for i, m in enumerate(methods, start=2):
            name = METHOD_NAMES.get(m, m)
            for colour_by, tag in ((colour, "factor"), ("trust", "trust")):
                figs.append(
                    ctx.figure(
                        figure_id(i, m, tag),
                        title=f"G{i}. {name} pictures of the layers, coloured by "
                        + ("each point's trust" if tag == "trust" else colour_by),
                        caption=(
                            f"{name} of the pooled hidden states of {r.info['n']} sentences (columns: layers "
                            f"{r.info['layers']}; rows: the layer, and its {cfg.architecture} SAE codes where "
                            "pictured). "
                            + (
                                "Colour: each point's trust (t_i + c_i) / 2, its own share of trustworthiness and "
                                "continuity (low: the picture puts strangers near it or pulls its neighbours away); "
                                "grey: undefined, the corner says why. "
                                if tag == "trust"
                                else f"Colour: {colour_by}. "
                            )
                            + "Under each: T and C of the picture against the space it shows"
                            + ("" if tag == "trust" else ", and the k-NN accuracy of the factor in the picture")
                            + ". Hover a point in the interactive version for its sentence, its trust, its false and "
                            "missing neighbours and its factors."
                        ),
                        content={"points": _frame(r.points[r.points["method"] == m]), "pictures": _frame(r.pictures)},
                        static=lambda r=r, m=m, c=colour_by: text_plots.pictures_figure(
                            r.points, r.pictures, m, color=c, factors=factors
                        ),
                        interactive=(
                            (
                                lambda r=r, m=m, c=colour_by: text_plots.pictures_interactive(
                                    r.points, r.pictures, m, color=c, factors=factors
                                )
                            )
                            if tag == "factor"
                            else None
                        ),
                        embed_interactive=False,  # thousands of sentences: a page of its own, linked
                    )
                )
        seed = ctx.seed("transformer-findings")
        found = findings(r.layers, r.pictures, methods, seed=seed)
        for f in found:
            f.figures = [fig.id for fig in figs[:1]]
        return SectionOutput(
            key=self.key,
            title=self.title,
            intro=intro(r, cfg.architecture),
            figures=figs,
            tables=_tables(r),
            findings=found,
            rows=rows(r),
        )


def _frame(frame: Any) -> dict[str, Any]:
    """A DataFrame as figure cache-key content (numbers as float arrays, text as lists)."""
    out = {}
    for c in frame.columns:
        col = frame[c]
        out[str(c)] = col.to_numpy(dtype=float) if col.dtype.kind in "fiub" else [str(v) for v in col]
    return out


def _span(values: Any, digits: int = 2) -> str:
    """``lo-hi`` of the finite values (one number when they agree), 'n/a' when none is finite."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return "n/a"
    lo, hi = f"{v.min():.{digits}f}", f"{v.max():.{digits}f}"
    return lo if lo == hi else f"{lo}-{hi}"


def calibration_text(saes: Any) -> str:
    """Why the toy-cell calibration (section F's bridge) is not read for these layers, with their numbers."""
    d = saes["d_sae"].to_numpy(dtype=float)
    eff = saes["effective_features"].to_numpy(dtype=float)
    return (
        "The effective feature count F = exp(H) of each layer's SAE codes is given raw, not read through section F's "
        "toy-cell calibration: those cells have at most 40 hidden dimensions (the study's grid, m <= 40), so their "
        f"SAEs span at most tens of latents, while these layers' SAEs have {_span(d, 0)} latents and F = "
        f"{_span(eff, 0)}. A reading outside the cells' range would be an extrapolation that looks like a "
        "number; it needs toy cells as wide as the layer, which this run does not train."
    )


def intro(r: Any, architecture: str) -> str:
    """The section's text, from the result's tables."""
    lay, pics = r.layers, r.pictures
    varied = lay[lay["factor"] != "control"]
    probe = varied.groupby("factor", sort=False)["probe_accuracy"].mean()
    raw = pics[pics["space"] == "layer"]
    tw = raw.drop_duplicates(["layer", "method"])
    parts = [
        f"The model: {r.info['model']} ({r.info['n_layers'] - 1} layers, {r.info['dim']}-d), its pooled hidden states "
        f"(mean over the tokens, then L2-normalised) of {r.info['n']} sentences ({r.info['source']}), at layers "
        f"{r.info['layers']} (0 = the embeddings). Each sentence carries known factors "
        f"({', '.join(r.info['factors'])}; the control is never written into the text). Chance for k-NN label "
        "accuracy and for the probe is the majority share of the factor.",
        "In the layers, a linear probe reads "
        + ", ".join(f"{f} {v:.2f}" for f, v in probe.items())
        + " (mean over layers). The pictures of the layers have trustworthiness "
        + _span(tw["trustworthiness"])
        + " and continuity "
        + _span(tw["continuity"])
        + "; G1 sets the k-NN accuracy of each factor in each picture against the layer's, which a global "
        "trustworthiness does not show. The pictures coloured by trust show where each picture lies, point by point.",
        calibration_text(r.saes),
    ]
    return "\n\n".join(parts)


def _tables(r: Any) -> list[TableBlock]:
    lay = r.layers[["layer", "factor", "classes", "chance", "probe_accuracy", "knn_accuracy"]].round(3)
    pic = r.pictures[["layer", "space", "method", "factor", "knn_accuracy", "knn_accuracy_space"]]
    wide = pic.pivot_table(index=["factor", "layer"], columns=["space", "method"], values="knn_accuracy").round(3)
    wide.columns = [f"{s} {m}" for s, m in wide.columns]
    tw = r.pictures.drop_duplicates(["layer", "space", "method"])[
        ["layer", "space", "method", "trustworthiness", "continuity", "mean_point_trust"]
    ].round(3)
    saes = r.saes.round(3)
    return [
        TableBlock("The layers: per factor, chance (majority share), linear probe and k-NN accuracy", lay),
        TableBlock("k-NN accuracy of each factor in each picture (space, method)", wide.reset_index()),
        TableBlock("Each picture's trustworthiness and continuity against its space", tw.reset_index(drop=True)),
        TableBlock("The SAE of each layer, without ground truth (held-out rows)", saes),
    ]


def rows(r: Any) -> list[dict[str, Any]]:
    """Rows of the run's tidy tables: ``texts`` (one per layer, space, method and factor; method ``"exact"`` for
    the layer itself), ``saes`` (``experiment = "T_layer"``) and ``coordinates`` (every point of every picture: its
    sentence, coordinates, trust and factors; ``figure`` = the interactive figure that shows it)."""
    from supviz.study.tables import COORDINATE_TRUST

    out: list[dict[str, Any]] = []
    n = int(r.info["n"])
    for t in r.layers.to_dict("records"):
        out.append(
            {
                "table": "texts",
                "space": "layer",
                "method": "exact",
                "dim": int(r.info["dim"]),
                "n_points": n,
                "layer": int(t["layer"]),
                "factor": t["factor"],
                "nan_reasons": t["notes"],
                "knn_accuracy": t["knn_accuracy"],
                "probe_accuracy": t["probe_accuracy"],
                "chance": t["chance"],
            }
        )
    for t in r.pictures.to_dict("records"):
        out.append(
            {
                "table": "texts",
                "space": "layer" if t["space"] == "layer" else "codes",
                "architecture": "" if t["space"] == "layer" else r.info["config"]["architecture"],
                "method": t["method"],
                "n_points": n,
                "layer": int(t["layer"]),
                "factor": t["factor"],
                "nan_reasons": t["notes"],
                **{k: t[k] for k in ("knn_accuracy", "trustworthiness", "continuity")},
            }
        )
    for t in r.saes.to_dict("records"):
        out.append(
            {
                "table": "saes",
                "experiment": "T_layer",
                "architecture": r.info["config"]["architecture"],
                "kind": "transformer",
                "layer": int(t["layer"]),
                "d_sae": t["d_sae"],
                "nan_reasons": t["notes"],
                **{k: t[k] for k in t if k not in ("layer", "d_sae", "notes")},
            }
        )
    factors = list(r.info["factors"])
    figure = {m: figure_id(i, m, "factor") for i, m in enumerate(r.info["config"]["methods"], start=2)}
    why = {
        (p.layer, p.space, p.method): p.notes
        for p in r.pictures.drop_duplicates(["layer", "space", "method"]).itertuples()
    }
    for t in r.points.to_dict("records"):
        reason = "" if math.isfinite(float(t["trust"])) else why[(t["layer"], t["space"], t["method"])]
        out.append(
            {
                "table": "coordinates",
                "section": "transformer",
                "figure": figure[t["method"]],
                "space": "layer" if t["space"] == "layer" else "codes",
                "method": t["method"],
                "panel": f"layer {t['layer']}",
                "point": int(t["point"]),
                "label": t["text"],
                **{k: t[k] for k in ("x", "y", *COORDINATE_TRUST)},
                "nan_reasons": "; ".join(f"{c}: {reason or 'undefined'}" for c in COORDINATE_TRUST) if reason else "",
                **{f: t[f] for f in factors},
            }
        )
    return out


def figure_id(i: int, method: str, tag: str) -> str:
    """The id of the ``i``-th figure of the section (``G2_umap_factor``, ``G2_umap_trust``)."""
    return f"G{i}_{method}_{tag}"
