"""Section D (issue 5) through the pipeline: rows, figures, report, conclusion numbers, cache.

A tiny study (n = 12, m in {2, 3}, 2 probabilities, both importance variants: 8 cells, 40 inputs
per p) runs the embeddings section (for the feature-direction heatmaps) and the data-point section.
"""

import html
import json
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from supviz.errors import SupvizError
from supviz.report.conclusion import HOLDS_BELOW, conclusion_claims, method_effects, ring_evidence, verdict
from supviz.study.config import config_from_dict, load_config
from supviz.study.datapoints import load_result, save_result
from supviz.study.pipeline import run_study
from supviz.study.sections import get_section

TINY = {
    "seed": 3,
    "toy": {"n_features": 12, "hidden": [2, 3], "probabilities": [1.0, 0.05], "steps": 150, "batch_size": 64, "log_every": 50},
    "run": {"n_jobs": 2},
    "figures": {"dpi": 40, "formats": ["png"]},
    "embeddings": {"max_iter": 100, "min_points": 3},
    "datapoints": {"points": 40, "examples": [[2, 0.05], [7, 0.1]]},
}
CELLS = 8  # 2 variants x 2 m x 2 p
METHODS = ("mds", "umap", "tsne")
SECTIONS = ("embeddings", "datapoints")


def _run(cfg, out):
    return run_study(cfg, out, quiet=True, sections=[get_section(k) for k in SECTIONS])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("dp")
    cfg = config_from_dict(TINY)
    res = _run(cfg, out)
    return cfg, out, res


def _conclusion(out) -> str:
    doc = (out / "report.html").read_text()
    part = doc[doc.index("id='sec-conclusions'"):]
    return html.unescape(re.sub(r"<[^>]+>", " ", part))


def test_rows_figures_and_notes(run):
    _, out, res = run
    table = pd.read_parquet(out / "metrics.parquet")
    counts = table.groupby("experiment").size().to_dict()
    # exact + 3 pictures per cell for x (the shared control, repeated per cell) and h; x_rep exact only
    assert counts["D_h"] == CELLS * 4 and counts["D_x"] == CELLS * 4
    assert counts["D_x_rep"] == CELLS and counts["D_geometry"] == CELLS
    d = table[table.experiment.isin(["D_x", "D_h", "D_x_rep"])]
    assert (d["n_points"] == 40).all() and set(d["method"]) == {"exact", *METHODS}
    for col in ("knn_recall", "trustworthiness", "continuity", "false_neighbour_rate"):
        assert d[col].between(0, 1).all(), col
    # the inputs against themselves: a perfect neighbourhood
    assert np.allclose(d[(d.experiment == "D_x") & (d.method == "exact")]["knn_recall"], 1.0)
    # superposition into m < n dimensions loses neighbours before any picture is drawn
    assert (d[(d.experiment == "D_h") & (d.method == "exact")]["knn_recall"] < 1.0).all()
    geo = table[table.experiment == "D_geometry"]
    assert np.isfinite(geo["geo_cv"]).any() and (geo["geo_cv_gaussian"] > 0).any()

    slugs = ("uniform", "geometric0p9")
    want = [f"D1_{m}_{s}" for s in slugs for m in ("knn_recall", "trustworthiness", "false_neighbour_rate")]
    want += [f"D2_{m}_{s}" for s in slugs for m in METHODS] + [f"D3_m2_p0p05_{s}" for s in slugs] + ["D4_equidistance"]
    assert set(want) <= set(res.figures)
    for fid in want:
        png = out / "figures" / f"{fid}.png"
        assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 3000, fid
    assert "Plotly.newPlot" in (out / "figures" / "D3_m2_p0p05_uniform.html").read_text()
    section = next(o for o in res.sections if o.key == "datapoints")
    assert any("m = 7" in n and "skipped" in n for n in section.notes)
    # the heatmaps set the feature-direction pictures (section 2's rows) beside the data points
    fig = next(f for f in section.figures if f.id == "D1_knn_recall_uniform")
    assert "feature directions" in fig.caption


def test_report_conclusion_states_the_table_numbers(run):
    _, out, res = run
    doc = (out / "report.html").read_text()
    assert "id='sec-datapoints'" in doc and "3. Data points" in doc
    text = _conclusion(out)
    assert "Is superposition a problem for latent-space pictures?" in text
    table = pd.read_parquet(out / "metrics.parquet")
    for imp in ("uniform", "geometric:0.9"):
        for method, name in (("mds", "MDS"), ("umap", "UMAP"), ("tsne", "t-SNE")):
            # recomputed here from the table, independently of supviz.report.conclusion
            sel = table[(table.importance == imp) & (table.method == method)]
            x = sel[sel.experiment == "D_x"]["knn_recall"].median()
            h = sel[sel.experiment == "D_h"]["knn_recall"].median()
            rel = (x - h) / x
            sentence = (f"{name}: the picture of h keeps a median {h:.2f} of each input's k nearest neighbours, the "
                        f"picture of x itself {x:.2f}, a relative loss of {100 * rel:.0f}%")
            assert sentence in text, sentence
    exact = table[(table.experiment == "D_h") & (table.method == "exact") & (table.importance == "uniform")]
    assert f"keep a median {exact['knn_recall'].median():.2f} of each input's k nearest neighbours" in text
    geo = table[(table.experiment == "D_geometry") & (table.importance == "uniform")].dropna(subset=["geo_cv"])
    assert f"coefficient of variation of {geo['geo_cv'].median():.3f}" in text
    # every figure the conclusion cites is in the report
    for fid in re.findall(r"href='#fig-([\w]+)'", doc[doc.index("id='sec-conclusions'"):]):
        assert f"id='fig-{fid}'" in doc


def test_cache_hit_on_rerun_and_no_pickle_in_the_section_store(run):
    cfg, out, _ = run
    before = pd.read_parquet(out / "metrics.parquet")
    again = _run(cfg, out)
    assert again.cache_misses == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "metrics.parquet"), before)
    folders = [p for p in (out / "cache" / "datapoints").glob("*/*") if p.is_dir()]
    assert len(folders) == 1
    names = sorted(p.name for p in folders[0].iterdir())
    assert names == ["arrays.npz", "geometry.parquet", "index.json", "table.parquet", "timings.parquet"]
    with np.load(folders[0] / "arrays.npz", allow_pickle=False) as npz:
        assert all(npz[n].dtype != object for n in npz.files)
    # a changed point count recomputes the section, not the training or section 2
    cfg2 = config_from_dict({**TINY, "datapoints": {**TINY["datapoints"], "points": 30}})
    res2 = _run(cfg2, out)
    misses = json.loads((out / "run.json").read_text())["cache"]["misses"]
    assert "train" not in misses and "cell" not in misses
    assert res2.cache_misses > 0
    t2 = pd.read_parquet(out / "metrics.parquet")
    assert (t2.loc[t2.experiment == "D_h", "n_points"] == 30).all()


def _toy_grid(seed=0, n=8, m=2):
    rng = np.random.default_rng(seed)
    specs, weights = [], []
    for p in (0.3, 0.1):
        specs.append(SimpleNamespace(n_features=n, n_hidden=m, probability=p, importance_name="uniform",
                                     importance=np.ones(n)))
        weights.append(rng.normal(size=(n, m)))
    return SimpleNamespace(specs=specs, weights=weights, biases=[np.zeros(n)] * len(specs))


def test_store_round_trip_keeps_everything(tmp_path):
    from supviz.datapoints import datapoint_grid

    res = datapoint_grid(_toy_grid(), n_points=30, methods=("mds",), random_state=1, n_jobs=1, progress=False)
    save_result(res, tmp_path)
    back = load_result(tmp_path)
    pd.testing.assert_frame_equal(back.table, res.table)
    pd.testing.assert_frame_equal(back.geometry, res.geometry)
    assert back.keys == res.keys
    for a, b in zip(res.cells, back.cells):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.h, b.h)
        np.testing.assert_array_equal(a.represented, b.represented)
        np.testing.assert_array_equal(a.labels.top_rank, b.labels.top_rank)
        assert a.layouts.keys() == b.layouts.keys() and a.false_pairs.keys() == b.false_pairs.keys()
        for k in a.layouts:
            np.testing.assert_array_equal(a.layouts[k].embedding, b.layouts[k].embedding)
            np.testing.assert_array_equal(a.false_pairs[k], b.false_pairs[k])
        assert a.metrics.keys() == b.metrics.keys()
        for k in a.metrics:
            np.testing.assert_allclose(list(a.metrics[k].values()), list(b.metrics[k].values()), equal_nan=True)
        assert b.geometry == a.geometry
    # the shared sample is stored once
    with np.load(tmp_path / "arrays.npz") as npz:
        assert sum(npz[n].shape == (30, 8) for n in npz.files) == 2  # one x per p


def _synthetic(x_recall, h_recall, *, cv=0.05, cv_gauss=0.3):
    rows = []
    for m in (3, 10):
        for p in (1.0, 0.1):
            for method in ("mds", "umap"):
                rows.append({"experiment": "D_x", "importance": "uniform", "m": m, "p": p, "method": method,
                             "knn_recall": x_recall[method], "false_neighbour_rate": 0.1, "trustworthiness": 0.9})
                rows.append({"experiment": "D_h", "importance": "uniform", "m": m, "p": p, "method": method,
                             "knn_recall": h_recall[method] if m == 3 else x_recall[method],
                             "false_neighbour_rate": 0.2, "trustworthiness": 0.8})
            rows.append({"experiment": "D_h", "importance": "uniform", "m": m, "p": p, "method": "exact",
                         "knn_recall": 0.4})
            rows.append({"experiment": "D_geometry", "importance": "uniform", "m": m, "p": p, "method": "",
                         "geo_cv": cv, "geo_cv_gaussian": cv_gauss, "geo_radial_cv": 0.1, "geo_radial_cv_orthogonal": 0.1})
    return pd.DataFrame(rows)


def test_conclusion_rule_on_known_tables():
    assert verdict(0.0) == "holds" and verdict(HOLDS_BELOW + 0.05) == "partly" and verdict(0.5) == "does not hold"
    # MDS keeps what its picture of x keeps; UMAP halves it at m = 3 and is perfect at m = 10
    t = _synthetic({"mds": 0.12, "umap": 0.3}, {"mds": 0.12, "umap": 0.05})
    eff = {e.method: e for e in method_effects(t)}
    assert eff["mds"].verdict == "holds" and eff["mds"].relative_loss == pytest.approx(0.0)
    assert eff["umap"].by_m[3][0] == pytest.approx(-0.25) and eff["umap"].by_m[10][0] == pytest.approx(0.0)
    text = " ".join(c.text for c in conclusion_claims(t))
    assert "holds for MDS, but only because MDS of x is already about as poor" in text
    assert "for MDS the study's conclusion holds: its pictures of h lose 0%" in text
    assert "for UMAP the study's conclusion does not hold: its pictures of h lose 42% of the" in text  # (0.3-0.175)/0.3
    assert "at m = 10 only" in text  # when it holds for UMAP
    assert "near-equidistant" in text and "explains the ring" in text
    (ring,) = ring_evidence(_synthetic({"mds": 0.1, "umap": 0.1}, {"mds": 0.1, "umap": 0.1}, cv=0.4, cv_gauss=0.3))
    assert ring.share_below_gaussian == 0.0
    assert conclusion_claims(pd.DataFrame({"experiment": ["C2"]})) == []


@pytest.mark.parametrize(
    "table, message",
    [
        ({"points": 5}, r"`datapoints.points` must be an int >= 10; got 5."),
        ({"methods": ["pca"]}, r"`datapoints.methods\[0\]` must be one of"),
        ({"methods": ["mds"], "grid_methods": ["umap"]}, r"`datapoints.grid_methods` must be a subset"),
        ({"examples": [[3]]}, r"`datapoints.examples\[0\]` must be an \[m, p\] pair; got \[3\]."),
        ({"layout_spaces": ["x"]}, r"`datapoints.layout_spaces` must be a list that contains 'h'"),
    ],
)
def test_bad_section_config_is_one_line(table, message):
    with pytest.raises(SupvizError, match=message):
        config_from_dict({"datapoints": table})


def test_default_config_states_the_point_count():
    cfg = load_config().section("datapoints")
    assert cfg.points == 200 and cfg.methods == list(METHODS)
