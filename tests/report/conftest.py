"""A tiny real study (sections 1-3) shared by the report tests: every kind of interactive figure."""

import pytest

TINY = {
    "seed": 3,
    "toy": {
        "n_features": 12,
        "hidden": [2, 3],
        "probabilities": [1.0, 0.05],
        "steps": 150,
        "batch_size": 64,
        "log_every": 50,
    },
    "run": {"n_jobs": 2},
    "figures": {"dpi": 60, "formats": ["png"]},
    "embeddings": {"max_iter": 100, "min_points": 3, "collapse_starts": 3},
    "datapoints": {"points": 40, "examples": [[2, 0.05]]},
    "baselines": {
        "mds_n": [3, 8],
        "umap_grid_n_neighbors": [2, 5],
        "umap_grid_min_dist": [0.1],
        "umap_n": [4, 10],
        "tsne_grid_perplexity": [1, 3],
        "tsne_n": [4, 10],
        "umap_grid_n": 12,
        "tsne_grid_n": 12,
    },
}


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """(config, run folder, RunResult) of the tiny study with the baselines, embeddings and data points."""
    from supviz.study.config import config_from_dict
    from supviz.study.pipeline import run_study
    from supviz.study.registry import get_section

    out = tmp_path_factory.mktemp("tiny-report")
    cfg = config_from_dict(TINY)
    res = run_study(cfg, out, quiet=True, sections=[get_section(k) for k in ("baselines", "embeddings", "datapoints")])
    return cfg, out, res
