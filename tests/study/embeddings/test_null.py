"""The random-direction null of C3 / C5 (supviz.study.embeddings.null): what N structureless rows score."""

import numpy as np

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
