"""The pipeline trains the grid in a thread of its own while the sections that need no grid compute (issue 18:
the training keeps about 1.7 of 2 cores busy); results are those of computing one after another."""

import threading

import numpy as np
import pandas as pd

from supviz.study.config import config_from_dict
from supviz.study.pipeline import run_study
from supviz.study.registry import get_section

TINY = {
    "seed": 5,
    "toy": {"n_features": 8, "hidden": [2], "probabilities": [1.0, 0.1], "steps": 60, "batch_size": 32},
    "run": {"n_jobs": 1},
    "figures": {"dpi": 30, "formats": ["png"], "interactive": False},
    "background": {
        "a1_probabilities": [1.0, 0.1],
        "a1_seeds": 2,
        "a2_n_features": 5,
        "a2_hidden": 2,
        "a2_probabilities": [1.0, 0.1],
        "a2_seeds": 2,
        "a3_n_features": 6,
        "a3_hidden": 2,
        "a3_probability_count": 3,
    },
    "embeddings": {"max_iter": 50, "min_points": 3, "collapse_starts": 2, "null_draws": 1, "reference_weights": "none"},
}


def test_background_computes_while_the_grid_trains(tmp_path, monkeypatch):
    from supviz.study.background.section import BackgroundSection

    seen: list[set[str]] = []
    compute = BackgroundSection.compute

    def spy(self, ctx):
        seen.append({t.name for t in threading.enumerate()})
        return compute(self, ctx)

    monkeypatch.setattr(BackgroundSection, "compute", spy)
    from supviz.runtime.products import _threadpools

    def blas_threads():
        return [i["num_threads"] for i in _threadpools().info() if i["user_api"] == "blas"]

    blas_before = blas_threads()
    cfg = config_from_dict(TINY)
    sections = [get_section(k) for k in ("background", "embeddings")]
    res = run_study(cfg, tmp_path / "a", quiet=True, use_cache=False, sections=sections)
    # the process's BLAS limit is back as it was (two threads that each saved and restored it left it at 1)
    assert blas_threads() == blas_before
    assert seen and "supviz-train-grid" in seen[0]  # the grid's training thread was alive while A computed
    assert "supviz-train-grid" not in {t.name for t in threading.enumerate()}  # and is joined before the rest
    names = [s.name for s in res.stages]
    assert "train toy models" in names and "compute background" in names and "compute embeddings" in names
    # the same numbers as each part alone: the background section by itself (no grid, so no overlap), and the grid
    alone = run_study(cfg, tmp_path / "b", quiet=True, use_cache=False, sections=[get_section("background")])
    assert "train toy models" not in [s.name for s in alone.stages]
    rows_a, rows_b = (pd.DataFrame(_section(r, "background").rows) for r in (res, alone))
    pd.testing.assert_frame_equal(rows_a, rows_b)  # bit for bit: each instance trains to the same bits beside any
    from supviz.toy.storage import load_grid
    from supviz.toy.train import train_grid

    trained, ref = load_grid(tmp_path / "a"), train_grid(cfg.train_config(), progress=False)
    assert len(trained.weights) == len(ref.weights) == 4  # m = 2, two p, two importance variants
    assert all(np.array_equal(x, y) for x, y in zip(trained.weights, ref.weights))


def _section(res, key):
    return next(o for o in res.sections if o.key == key)
