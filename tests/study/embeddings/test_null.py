"""The random-direction null of C3 / C5 (supviz.study.embeddings.null): what N structureless rows score."""

import numpy as np
import pytest

from supviz import dr
from supviz.study.adapters import pairwise
from supviz.study.embeddings.null import null_distance

N = 20
MDS = {"metric_type": "ratio", "max_iter": 300, "eps": 1e-6}


def _base(n):
    return np.asarray(dr.smacof(pairwise(np.eye(n))[None], metric_type="ratio", random_state=0).embedding[0])


def test_equal_seeds_give_equal_nulls_and_the_value_is_a_procrustes_distance():
    base = _base(N)
    a = null_distance(3, N, method="mds", baseline=base, draws=2, seeds=[1, 2, 3], params=MDS)
    b = null_distance(3, N, method="mds", baseline=base, draws=2, seeds=[1, 2, 3], params=MDS)
    c = null_distance(3, N, method="mds", baseline=base, draws=2, seeds=[4, 5, 6], params=MDS)
    assert a == b and a != c and 0.0 < a < 1.0
    u = null_distance(3, N, method="umap", baseline=base, draws=1, seeds=[1, 2], params={"n_neighbors": 5})
    assert 0.0 < u < 1.0


def test_random_directions_in_many_dimensions_are_nearly_the_orthogonal_baseline():
    """In R^1000, N random unit directions are nearly orthogonal: their picture is close to diag(N)'s. In the plane
    they lie on a circle with uneven gaps: far from it. The null depends on m, as it does on N."""
    base = _base(N)
    kw = {"method": "mds", "baseline": base, "draws": 3, "seeds": list(range(6)), "params": MDS}
    wide, flat = null_distance(1000, N, **kw), null_distance(2, N, **kw)
    assert wide < 0.2 and flat > wide + 0.15


def test_the_run_computes_each_null_once_on_its_workers_and_caches_it(tmp_path):
    """procrustes_nulls runs its (m, N) on the run's dispatcher (worker processes): each value is null_distance of
    the same seeds (UMAP and SMACOF are supviz's seeded single-thread paths: the same numbers in a worker, up to the
    last bits of the Procrustes SVD on another BLAS thread count), and a second call reads the cache."""
    from supviz.runtime.cache import Cache
    from supviz.study.config import config_from_dict
    from supviz.study.context import RunContext
    from supviz.study.embeddings.null import procrustes_nulls

    cfg = config_from_dict({"run": {"n_jobs": 2}})
    ctx = RunContext(config=cfg, out=tmp_path, cache=Cache(tmp_path / "c"))
    base = {n: _base(n) for n in (8, 12)}
    pairs = {(3, 8), (3, 12), (5, 12), (4, 99)}  # N = 99 has no baseline: NaN
    params = {"n_neighbors": 5}
    got = procrustes_nulls(ctx, pairs, method="umap", base=base, draws=2, params_for=lambda n: params)
    assert np.isnan(got.pop((4, 99)))
    for (m, n), v in got.items():
        seeds = [ctx.seed("C-null", "umap", m, n, i) for i in range(4)]
        want = null_distance(m, n, method="umap", baseline=base[n], draws=2, seeds=seeds, params=params)
        assert v == pytest.approx(want, rel=1e-9, abs=1e-12)
    assert ctx.cache.stats.misses.get("procrustes_null") == 3
    again = procrustes_nulls(ctx, pairs - {(4, 99)}, method="umap", base=base, draws=2, params_for=lambda n: params)
    assert again == got and ctx.cache.stats.hits.get("procrustes_null") == 3
