"""Section B's panels: what each says under it."""

import numpy as np

from supviz.study.baselines.section import baseline_corner


def test_each_baseline_panel_prints_its_extent_so_a_collapse_does_not_look_like_a_picture():
    """Every B panel is scaled to fill its box, so t-SNE's ring 0.002 wide looked as large as a disc 80 wide (the fresh
    reviewer's finding): the extent, the longer side of the picture's bounding box, is printed under each panel."""
    small = baseline_corner({"procrustes_baseline": 0.31}, {"radius_cv": 0.016, "spread": 0.00221})
    large = baseline_corner({"procrustes_baseline": 0.2}, {"radius_cv": 0.28, "spread": 80.4})
    assert small == "P 0.31  CV 0.02\nextent 0.0022"
    assert large.endswith("extent 80")
    # a panel without a measured extent says nothing about it, rather than a number that looks fine
    assert baseline_corner({"procrustes_baseline": 0.2}, {"radius_cv": 0.28, "spread": np.nan}) == "P 0.20  CV 0.28"


def test_each_t_sne_picture_is_drawn_from_several_random_starts(tmp_path):
    """B4 and B5 lay out every perplexity and every N from ``baselines.tsne_seeds`` random starts, each its own child
    seed (start 0 the picture's own seed, which the figure draws): the rows carry ``start``, the starts differ, the
    exact-affinity pictures (PCA start, deterministic) are drawn once, and the figures and tables show start 0."""
    from supviz.runtime.cache import Cache
    from supviz.study.baselines.section import BaselineSection, first_starts, start_seed
    from supviz.study.config import config_from_dict
    from supviz.study.context import RunContext

    cfg = config_from_dict(
        {
            "baselines": {
                "mds_n": [3],
                "umap_grid_n": 10,
                "umap_grid_n_neighbors": [2],
                "umap_grid_min_dist": [0.1],
                "umap_n": [4],
                "tsne_grid_n": 10,
                "tsne_grid_perplexity": [1, 2],
                "tsne_n": [4, 10],
                "tsne_seeds": 3,
            }
        }
    )
    ctx = RunContext(config=cfg, out=tmp_path, cache=Cache(tmp_path / "c"))
    seeds = [start_seed(ctx, "B5", "N = 10", k) for k in range(3)]
    assert seeds[0] == ctx.seed("B", "B5", "N = 10") and len(set(seeds)) == 3
    res = BaselineSection().compute(ctx)
    b5 = [p for p in res["B5"] if p.title == "N = 10"]
    assert [p.stats["start"] for p in b5] == [0, 1, 2]
    # below RING_MIN_POINTS a picture is never read for the artifact: only its first start is laid out
    assert [p.stats["start"] for p in res["B5"] if p.title == "N = 4"] == [0]
    assert sorted((p.title, p.stats["start"]) for p in res["B4"]) == [
        (f"perplexity {q}", k) for q in (1, 2) for k in range(3)
    ]
    assert len(res["B5x"]) == 2 and len(res["B4x"]) == 1 and "start" not in res["B5x"][0].stats
    xy = [p.xy for p in b5]
    assert not np.allclose(xy[0], xy[1]) and not np.allclose(xy[1], xy[2])  # each start its own picture
    assert [p.stats["start"] for p in first_starts(res["B5"])] == [0, 0]
    # every start carries MDS's rerun, the null of both verdicts (B4 included)
    assert all(np.isfinite(p.stats["radius_cv_mds_rerun"]) for p in res["B4"] + res["B5"])
    # the same seeds give the same pictures
    again = BaselineSection().compute(RunContext(config=cfg, out=tmp_path / "b", cache=Cache(tmp_path / "c2")))
    for p, q in zip(res["B5"], again["B5"]):
        np.testing.assert_allclose(p.xy, q.xy, rtol=1e-6, atol=1e-9)
