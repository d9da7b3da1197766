"""Draw docs/architecture.svg: supviz's packages in their layers, an arrow per package-level import.

Run from the repository root: ``python docs/architecture_picture.py``. The suite checks what the
picture claims against today's imports (``tests/test_architecture.py``: the layers, and that each
engine imports only those to its right in :data:`ENGINE_ORDER`).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers.architecture import LAYERS, import_graph, layer_of  # noqa: E402

OUT = ROOT / "docs" / "architecture.svg"
#: Inside the engines, the order their imports allow (each imports only those to its right).
ENGINE_ORDER = ("real", "sae", "datapoints", "toy", "plot", "dr", "metrics")
#: What each box holds, in a few words.
NOTES = {
    "commands": "cli, one module per subcommand",
    "study": "config, sections (A-F, sweep), findings, conclusion, pipeline",
    "sweep": "grids larger than the study's",
    "report": "records in, one HTML file out",
    "real": "digits models, layers, measures",
    "datapoints": "pictures of h = Wᵀx vs x",
    "sae": "SAEs, scores vs known features",
    "toy": "toy models, training, diagnostics",
    "plot": "matplotlib + plotly pictures",
    "dr": "MDS (SMACOF), UMAP, t-SNE",
    "metrics": "stress, T, C, k-NN recall",
    "runtime": "dispatch, Dask, cache, codecs, progress, products, threads",
    "core": "validation, geometry, seeds, files, text",
}


def package(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("errors", "seeding", "cluster"):
        return "core"
    if parts[1] in ("cli", "__main__"):
        return "commands"
    return parts[1]


def package_edges() -> set[tuple[str, str]]:
    graph = import_graph()
    return {(package(a), package(b)) for a, bs in graph.items() for b in bs if package(a) != package(b)}


def boxes() -> dict[str, tuple[float, float]]:
    """Box centres: one row per layer, the engines side by side in :data:`ENGINE_ORDER`."""
    rows = [name for name, _ in LAYERS]
    pos = {}
    for r, name in enumerate(rows):
        y = len(rows) - 1 - r
        if name == "engines":
            for i, e in enumerate(ENGINE_ORDER):
                pos[e] = (1.0 + i * 1.55, y)
        else:
            pos[name] = (5.65, y - (0.45 if y < len(rows) - 1 - rows.index("engines") else 0))
    return pos


def draw(path: Path = OUT) -> Path:
    """Layers as bands, top to bottom; inside the engines, an arc per package-level import (every other
    import runs from a band to one below it, which the side arrow says once)."""
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "supviz"  # equal pictures, equal files
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    pos = boxes()
    fig = Figure(figsize=(12.5, 7.6))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-0.6, 11.6)
    ax.set_ylim(-1.4, len(LAYERS) - 0.1)
    ax.axis("off")
    for r, (name, _) in enumerate(LAYERS):
        y = len(LAYERS) - 1 - r
        ax.text(
            -0.5,
            pos.get(name, pos["real"])[1] if name != "engines" else y,
            name,
            fontsize=9,
            color="0.45",
            va="center",
            style="italic",
        )
    engines = [(a, b) for a, b in sorted(package_edges()) if a in ENGINE_ORDER and b in ENGINE_ORDER]
    for a, b in engines:
        (xa, ya), (xb, _) = pos[a], pos[b]
        span = abs(ENGINE_ORDER.index(b) - ENGINE_ORDER.index(a))
        ax.add_patch(
            FancyArrowPatch(
                (xa, ya - 0.27),
                (xb, ya - 0.27),
                connectionstyle=f"arc3,rad={0.05 + 0.012 * span}",
                arrowstyle="-|>",
                mutation_scale=9,
                color="0.45",
                lw=0.8,
                zorder=2,
            )
        )
    for name, (x, y) in pos.items():
        wide = name not in ENGINE_ORDER
        w = 10.6 if wide else 1.42
        x0 = 0.3 if wide else x - w / 2
        ax.add_patch(
            FancyBboxPatch(
                (x0, y - 0.27),
                w,
                0.54,
                boxstyle="round,pad=0.02",
                fc="#eef3fb" if wide else "#f4f8ee",
                ec="0.35",
                lw=0.9,
                zorder=3,
            )
        )
        cx = x0 + w / 2
        ax.text(cx, y + 0.09, name, ha="center", va="center", fontsize=10, weight="bold", zorder=4)
        ax.text(
            cx,
            y - 0.13,
            NOTES.get(name, ""),
            ha="center",
            va="center",
            fontsize=6.3 if not wide else 7.5,
            color="0.25",
            zorder=4,
        )
    top, bottom = len(LAYERS) - 1, pos["core"][1]
    ax.add_patch(
        FancyArrowPatch(
            (11.1, top + 0.2), (11.1, bottom - 0.2), arrowstyle="-|>", mutation_scale=14, color="0.3", lw=1.4
        )
    )
    ax.text(
        11.2, (top + bottom) / 2, "imports run down only", rotation=90, ha="left", va="center", fontsize=8, color="0.3"
    )
    ax.text(
        -0.5,
        -1.2,
        "A layer imports only itself and the layers below it, and there is no import circle anywhere "
        "(lazy and TYPE_CHECKING imports count). Arcs: which engine imports which (each only those to its right).",
        fontsize=7.5,
        color="0.3",
    )
    fig.savefig(path, format="svg", metadata={"Date": None})
    return path


if __name__ == "__main__":
    for module in import_graph():
        layer_of(module)
    print(draw())
