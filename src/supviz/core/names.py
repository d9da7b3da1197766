"""The measures by the names their papers give them: one home for every table header, panel title and colour bar.

The tables on disk keep the machine names (``knn_recall``, ``shepard_rho``); what a reader sees is
:data:`MEASURE_NAMES` (k-NN recall, trustworthiness and continuity after Venna & Kaski 2001, MMCS after Sharkey et al.
2022, ...). The report's tables read it through :data:`supviz.report.words.COLUMN_WORDS`, the figures of the engines
(:mod:`supviz.datapoints.plots`, :mod:`supviz.real.plots`) directly. A leaf module: it imports nothing of supviz.
"""

from __future__ import annotations

__all__ = ["MEASURE_NAMES"]

#: Machine name of a measure -> its reader's name.
MEASURE_NAMES: dict[str, str] = {
    # the layout measures (supviz.metrics)
    "stress1_ratio": "stress-1 (after scaling)",
    "smacof_stress": "SMACOF stress-1",
    "shepard_rho": "Shepard rho (Spearman)",
    "knn_recall": "k-NN recall",
    "knn_recall_true": "k-NN recall against the true inputs",
    "trustworthiness": "trustworthiness",
    "continuity": "continuity",
    "false_neighbour_rate": "false-neighbour rate",
    "false_neighbour_chance": "false-neighbour rate by chance",
    "procrustes_baseline": "Procrustes distance to diag(N)",
    # C4: UMAP's picture of the rows of W against MDS's picture of the same rows (C2), as section C's verdict says it
    "procrustes_mds": "Procrustes distance to MDS's picture of the same rows",
    "procrustes_null": "Procrustes distance of random directions",
    "radius_cv": "radius CV",
    # the SAE scores (supviz.sae.scores)
    "mmcs": "MMCS",
    "mmcs_chance": "MMCS by chance",
    "feature_mcc": "MCC",
    "feature_mcc_chance": "MCC by chance",
    "recovery_rate": "recovery rate",
    "recovery_rate_chance": "recovery rate by chance",
    "dead_fraction": "dead fraction",
    "l0_ratio": "L0 / true L0",
    "fvu": "FVU",
    "test_fvu": "test FVU",
    "l0": "L0",
    "stability_seeds": "stability across seeds",
    "stability_larger": "stability vs a larger dictionary",
    "effective_features": "effective features F",
    # a count, not a score: the features a toy model represents (its rule's count), read against the measures above
    "n_represented": "represented features (count)",
    "superposition_ratio": "superposition ratio F / d",
    "codes_knn_recall": "k-NN recall, picture of the codes",
    "h_knn_recall": "k-NN recall, picture of h",
    # the digits network
    "test_accuracy": "test accuracy",
    "knn_accuracy": "k-NN accuracy",
    "trustworthiness_pixels": "trustworthiness against the pixels",
    "continuity_pixels": "continuity against the pixels",
}
