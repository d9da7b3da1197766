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
