"""Shared fixtures for the layout tests: one umap-learn warm-up per session.

umap-learn compiles its numba kernels on the first fit in a process (about 7 s on two cores).
``supviz.dr.umap_layout.enable_numba_cache`` stores them under ``NUMBA_CACHE_DIR`` (set to
``.cache/numba`` by ``tests/conftest.py``), so later sessions load them in a fraction of a second;
this fixture pays whatever is left once, outside the timed body of any single test.
"""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def umap_warm():
    """Run one tiny UMAP so that compilation / cache loading happens once per session."""
    from supviz.dr import umap_layout

    umap_layout(np.eye(12), n_neighbors=4, n_epochs=5, random_state=0)
    return True
