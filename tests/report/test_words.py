"""The report's words for the run's machine names (issue 19): one mapping, used by every body table."""

import numpy as np
import pandas as pd
import pytest

from supviz.report.words import COLUMN_WORDS, join_reasons, reader_table, reader_words, split_reasons


def test_a_reason_may_hold_a_semicolon_and_measures_that_share_one_are_named_together():
    text = (
        "shepard_rho: all pairwise distances of X tie: nothing is nearer than anything else; trustworthiness: k = 10 "
        "needs at least k + 2 = 12 points; got 3; knn_recall: k = 10 needs at least k + 2 = 12 points; got 3"
    )
    parts = split_reasons(text)
    assert parts == {
        "shepard_rho": "all pairwise distances of X tie: nothing is nearer than anything else",
        "trustworthiness": "k = 10 needs at least k + 2 = 12 points; got 3",
        "knn_recall": "k = 10 needs at least k + 2 = 12 points; got 3",
    }
    assert join_reasons(parts) == (
        "Shepard rho (Spearman): all pairwise distances of X tie: nothing is nearer than anything else; "
        "trustworthiness, k-NN recall: k = 10 needs at least k + 2 = 12 points; got 3"
    )
    assert join_reasons(split_reasons("knn_recall_true: no X_true given")) == (
        "k-NN recall against the true inputs: no true inputs behind these points"
    )


def test_machine_names_become_words_in_cells_and_sentences_but_not_inside_other_words():
    assert reader_words("relu_l1") == "ReLU + L1" and reader_words("relu_l1_decnorm") == "ReLU + decoder-norm L1"
    assert reader_words("batchtopk") == "BatchTopK" and reader_words("mds") == "MDS"
    assert reader_words("geometric:0.9") == "0.9^i" and reader_words("uniform") == "uniform"
    assert reader_words("codes (relu_l1) beside topk") == "codes (ReLU + L1) beside TopK"
    # figure ids and words that merely contain a name stay as they are
    assert reader_words("D1_knn_recall_uniform and topkx") == "D1_knn_recall_uniform and topkx"
    assert all(w and w != k for k, w in COLUMN_WORDS.items() if "_" in k)  # every snake_case name has words


def test_what_every_row_shares_is_said_once_under_the_table():
    frame = pd.DataFrame(
        {
            "panel": ["a", "b", "c"],
            "collapsed": np.array([True, False, False]),
            "stress1_ratio": [0.1, np.nan, 0.3],
            "procrustes_baseline": [np.nan] * 3,
            "reason": ["fewer than 3 seeds"] * 3,
            "nan_reasons": [
                "procrustes_baseline: no baseline given; stress1_ratio: layout collapsed: all points at one spot",
                "procrustes_baseline: no baseline given",
                "procrustes_baseline: no baseline given",
            ],
        }
    )
    t = reader_table(frame)
    assert t.header == ["panel", "collapsed", "stress-1 (after scaling)", "undefined, and why"]
    assert t.numeric == [False, False, True, False]
    assert [r[1] for r in t.rows] == ["yes", "no", "no"] and [r[2] for r in t.rows] == ["0.1", "", "0.3"]
    assert [r[3] for r in t.rows] == ["stress-1 (after scaling): layout collapsed: all points at one spot", "", ""]
    assert t.notes == [
        "Reason, in every row: fewer than 3 seeds.",
        "Procrustes distance to diag(N): undefined in every row (no picture of diag(N) to compare with).",
    ]
    # one row: nothing is "every row" of a table of one; its cells stay
    one = reader_table(frame.iloc[:1])
    assert "reason" in one.header and "Procrustes distance to diag(N)" in one.header and not one.notes
    assert one.rows[0][-1] == (
        "Procrustes distance to diag(N): no picture of diag(N) to compare with; stress-1 (after scaling): layout "
        "collapsed: all points at one spot"
    )


def test_each_pictured_space_has_one_reader_name_and_its_key_is_defined_once():
    """The report said h_rep, x_rep and f(h_rep) some 400 times (the fresh reviewer's finding): every sentence, table
    and panel title names a space through space_words, the data keep their keys, the appendix pairs the two once."""
    from supviz.datapoints.spaces import SPACE_NAMES, SPACES
    from supviz.report.words import machine_names, space_definitions, space_words

    assert space_words("h_rep") == "the codes of the represented features"
    assert space_words("x_rep", the=False) == "inputs on the represented features"
    assert space_words("codes_rep") == "the SAE codes of the represented features"
    assert set(SPACE_NAMES) == set(SPACES)  # every space of the data-point experiment has its name
    with pytest.raises(KeyError):
        space_words("codes_of_something_new")
    # a key left in a sentence or a cell becomes its words, and the body check finds it
    assert reader_words("x_rep") == "inputs on the represented features"
    assert [m.group(0) for m in machine_names().finditer("pictures of f(h_rep) and x_rep; x_rep_recall_norm")] == [
        "h_rep",
        "x_rep",
    ]
    defs = dict(space_definitions())
    assert defs["codes of the represented features (h_rep)"].startswith("the inputs on the represented features")
    assert "SAE codes of the represented features (codes_rep)" in defs


def test_a_measure_has_one_name_in_the_tables_the_figures_and_section_f():
    """Three lists named the measures (the report's table words, the data-point figures' titles, section F's panels)
    and said 'Shepard ρ' in one, 'Shepard rho (Spearman)' in another: one home now, supviz.core.names."""
    from supviz.core.names import MEASURE_NAMES
    from supviz.datapoints.plots import METRIC_TITLE
    from supviz.real.plots import MEASURE_NAMES as REAL_NAMES

    assert METRIC_TITLE is MEASURE_NAMES and REAL_NAMES is MEASURE_NAMES
    assert all(COLUMN_WORDS[k] == v for k, v in MEASURE_NAMES.items())
    assert MEASURE_NAMES["shepard_rho"] == "Shepard rho (Spearman)"


def test_the_baselines_table_headers_are_words():
    """The B tables printed radius_cv_mds and spread as headers (review 5 item 9)."""
    from supviz.report.words import column_words

    assert column_words("radius_cv_mds") == "MDS's radius CV (same N)"
    assert column_words("spread") == "extent (the picture's own units)"


def test_section_c_s_table_titles_name_their_measures_in_words():
    """Two table titles of section C read 'C4 procrustes_mds per (m, p) cell' (review 6 item 6): a column name in the
    body, where the rest of section C says 'Procrustes distance ... to MDS's picture of the same rows'."""
    from supviz.study.embeddings.section import CELL_TABLES

    for exp, metric in CELL_TABLES:
        title = reader_words(f"{exp} {metric} per (m, p) cell (uniform importance)")
        assert "_" not in title and title == f"{exp} {COLUMN_WORDS[metric]} per (m, p) cell (uniform importance)"
    assert reader_words("C4 procrustes_mds per (m, p) cell") == (
        "C4 Procrustes distance to MDS's picture of the same rows per (m, p) cell"
    )


def test_the_represented_count_is_said_in_words_and_its_code_name_is_flagged_in_the_body():
    """Review 7 item 7: the calibration table's last row printed the code name 'n_represented'."""
    from supviz.report.html import METRICS_HELP, implementation_details

    assert reader_words("n_represented") == "represented features (count)"
    assert implementation_details("target n_represented") == ["column name: 'n_represented'"]
    # the appendix's k-NN recall states its tie rule, as supviz.metrics computes it
    knn = dict(METRICS_HELP)["knn_recall"]
    assert "expectation over uniformly random tie orders (supviz.metrics.ranks)" in knn and "(k - L) / E" in knn
