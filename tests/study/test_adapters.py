"""The study's glue to the engines: the weights-file rule, grid cells, SMACOF batching, rules of B3/B5."""

from pathlib import Path

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.runtime.cache import Cache
from supviz.study import adapters
from supviz.study.baselines.section import b3_neighbors, b5_perplexity
from supviz.study.config import load_config
from supviz.study.context import RunContext
from supviz.study.embeddings.section import grid_cells
from supviz.toy.importance import variant_slug

HAMBLIN = Path("/work/shared/data/hamblin2022_weights.npz")


def test_pairwise_matches_scipy():
    from scipy.spatial.distance import cdist

    X = np.random.default_rng(0).normal(size=(3, 7, 4))
    D = adapters.pairwise(X)
    for b in range(3):
        np.testing.assert_allclose(D[b], cdist(X[b], X[b]), atol=1e-12)
    assert np.all(np.diag(adapters.pairwise(np.eye(5))) == 0)


def test_hamblin_key_rule(tmp_path):
    good = tmp_path / "w.npz"
    np.savez(good, **{"60to3": np.zeros((6, 60, 3)), "60to3_withimportance": np.zeros((6, 60, 3))})
    other = tmp_path / "o.npz"
    np.savez(other, W=np.zeros((2, 5, 2)))
    assert [s.importance_name for s in adapters.load_weights(good).specs] == ["uniform"] * 6 + ["geometric:0.9"] * 6
    assert {s.importance_name for s in adapters.load_weights(other).specs} == {"unknown"}
    with pytest.raises(SupvizError, match="must be an existing run directory or weight file"):
        adapters.load_weights(tmp_path / "absent.npz")


@pytest.mark.skipif(not HAMBLIN.exists(), reason="the study's weights are not in ../shared/data")
def test_study_weights_map_to_cells(tmp_path):
    cfg = load_config()
    ctx = RunContext(config=cfg, out=tmp_path, cache=Cache(tmp_path / "c"), weights_file=str(HAMBLIN))
    grid, key = ctx.grid()
    assert adapters.importance_variants(grid) == ["uniform", "geometric:0.9"]
    hidden, ps, cells = grid_cells(ctx, grid, "geometric:0.9")
    assert hidden == [3, 5, 10, 20, 30, 40]  # the file's m = 50 is not in the default [toy] hidden
    assert [round(p, 3) for p in ps] == [1.0, 0.549, 0.302, 0.166, 0.091, 0.05]
    assert len(cells) == 36 and cells[0].W.shape == (60, 3)
    np.testing.assert_allclose(cells[0].importance, 0.9 ** np.arange(60))
    with np.load(HAMBLIN) as data:
        np.testing.assert_allclose(cells[-1].W, data["60to40_withimportance"][5], rtol=1e-6)
    # represented: ||W_k|| > 0.5 (the default), and the study's rule mean|W_k| > mean|W_0| / 20 beside it
    c = cells[5]
    mean_abs = np.abs(c.W).mean(axis=1)
    np.testing.assert_array_equal(c.masks["mean_abs"], mean_abs > mean_abs[0] / 20)
    np.testing.assert_array_equal(c.masks["norm"], np.linalg.norm(c.W, axis=1) > 0.5)
    assert ctx.grid()[1] == key and len(key) == 64


def test_smacof_batch_groups_by_point_count_and_caches(tmp_path):
    ctx = RunContext(config=load_config(), out=tmp_path, cache=Cache(tmp_path / "c"))
    deltas = [adapters.pairwise(np.eye(n)) for n in (3, 5, 3)]
    res = adapters.smacof_batch(ctx, deltas, metric_type="ratio", max_iter=200, eps=1e-6, seed=1, desc="t")
    assert [r.embedding.shape for r, _ in res] == [(3, 2), (5, 2), (3, 2)]
    assert res[0][1] == res[2][1] != res[1][1]  # same N -> one batched call, one cache entry
    assert res[0][0].stress == pytest.approx(0.0, abs=1e-6)  # an equilateral triangle is exact
    assert ctx.cache.stats.misses == {"smacof": 2}
    adapters.smacof_batch(ctx, deltas, metric_type="ratio", max_iter=200, eps=1e-6, seed=1, desc="t")
    assert ctx.cache.stats.hits == {"smacof": 2}


def test_study_rules():
    assert [b3_neighbors(n, 15) for n in (3, 4, 10, 15, 60)] == [2, 3, 9, 15, 15]
    assert b5_perplexity(10) == 3.0
    assert variant_slug("geometric:0.9") == "geometric0p9"


def test_a3_paper_size_flag():
    from supviz.study.background.section import a3_size
    from supviz.study.config import PAPER_A3

    cfg = load_config().section("background")
    assert a3_size(cfg) == (60, 6, 16)
    cfg.a3_paper_size = True
    assert a3_size(cfg) == PAPER_A3


def test_panel_trust_is_pointwise_trust_or_nan_with_the_reason():
    """Each pictured panel's per-point trust (C2-C5, D3): pointwise_trust at the run's k, never shrunk; NaN at every
    point with the reason where k leaves no point outside, or the layout method saw the picture collapse."""
    from supviz.metrics.pointwise import pointwise_trust

    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(30, 5)), rng.normal(size=(30, 2))
    got = adapters.panel_trust(X, Y, k=4)
    want = pointwise_trust(X, Y, k=4)
    assert got.reason == ""
    for name, values in want.columns().items():
        np.testing.assert_array_equal(got.columns[name], values)
    assert got.hover()["trust"] is not None and list(got.hover())[0] == "trust"
    small = adapters.panel_trust(X[:5], Y[:5], k=4)
    assert small.reason == "k = 4 needs at least k + 2 = 6 points; got 5"
    assert all(np.isnan(v).all() and len(v) == 5 for v in small.columns.values())
    assert (
        small.hover()["trust"][0].startswith("undefined: k = 4 needs") and small.hover()["c (continuity)"][0] == "n/a"
    )
    flat = adapters.panel_trust(X, Y, k=4, collapsed=True)
    assert flat.reason.startswith("layout collapsed") and np.isnan(flat.columns["trust"]).all()
