"""The tidy tables: one per kind of observation, id columns first, typed, Parquet and CSV that pandas reads back."""

import numpy as np
import pandas as pd
import pytest

from supviz.errors import SupvizError
from supviz.report.records import Finding, SectionOutput
from supviz.study.tables import ID_COLUMNS, build_table, build_tables, table_files, write_tables


def _outputs():
    rows = [
        {
            "experiment": "C2",
            "importance": "uniform",
            "m": 3,
            "p": 1.0,
            "method": "mds",
            "params": "{}",
            "n_points": 60,
            "panel": "3 : 1",
            "stress1": 0.2,
            "trustworthiness": 0.9,
            "collapsed": False,
        },
        {"experiment": "B1", "n_points": 3, "stress1": 0.0},
        # the same cell from two sections: merged into one row of `cells`
        {
            "table": "cells",
            "model": "grid",
            "importance": "uniform",
            "m": 3,
            "p": 1.0,
            "n_features": 60,
            "toy_dims_per_feature": 0.05,
        },
        {"table": "cells", "model": "grid", "importance": "uniform", "m": 3, "p": 1.0, "n_features": 60, "geo_cv": 0.1},
        {
            "table": "cells",
            "model": "A1",
            "importance": "uniform",
            "m": 1,
            "p": 0.1,
            "n_features": 2,
            "cosine_01": -1.0,
        },
        {
            "table": "points",
            "importance": "uniform",
            "m": 3,
            "p": 1.0,
            "space": "h",
            "method": "exact",
            "n_points": 200,
            "k": 10,
            "knn_recall": 0.4,
        },
    ]
    return [
        SectionOutput(
            key="s",
            title="S",
            rows=rows,
            findings=[
                Finding(
                    "claim",
                    "measured",
                    "partly",
                    key="k",
                    method="MDS",
                    importance="uniform",
                    view="data points",
                    verdict_other_rule="supported",
                    n_used=3,
                    n_left_out=1,
                    unit="p values",
                    left_out_unit="cells",
                ),
                Finding("claim 2", "measured", "not enough evidence", key="k2", verdict_other_rule="not computed"),
            ],
        )
    ]


def test_one_table_per_kind_without_mostly_empty_columns(tmp_path):
    tables = build_tables(_outputs())
    assert sorted(tables) == ["cells", "panels", "points", "verdicts"]
    for kind, frame in tables.items():
        assert tuple(frame.columns[: len(ID_COLUMNS[kind])]) == ID_COLUMNS[kind]
    cells = tables["cells"]
    assert len(cells) == 2  # the grid cell's two rows merged
    grid = cells[cells.model == "grid"].iloc[0]
    assert grid["toy_dims_per_feature"] == 0.05 and grid["geo_cv"] == 0.1
    panels = tables["panels"]
    assert str(panels["m"].dtype) == "Int64" and panels["stress1"].dtype == float and panels["collapsed"].dtype == bool
    assert panels.loc[1, "importance"] == "" and "toy_dims_per_feature" not in panels  # no other kind's columns
    v = tables["verdicts"].iloc[0]
    assert v["verdict"] == "partly" and bool(v["changes_with_rule"]) and v["n_left_out"] == 1
    # what is left out is counted in its own unit (review 5 item 9: the text column was coerced to NaN)
    assert (v["unit"], v["left_out_unit"]) == ("p values", "cells")
    # a rule-dependent verdict not computed under the other rule says so, and is no change
    v2 = tables["verdicts"].iloc[1]
    assert v2["verdict_other_rule"] == "not computed" and not bool(v2["changes_with_rule"])
    paths = write_tables(tables, tmp_path)
    assert sorted(paths) == sorted(table_files(tables))
    for kind, frame in tables.items():
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"{kind}.parquet"), frame)
        csv = pd.read_csv(tmp_path / f"{kind}.csv")
        assert list(csv.columns) == list(frame.columns) and len(csv) == len(frame)


def test_a_row_of_an_unknown_table_is_refused():
    with pytest.raises(SupvizError, match="a row's `table` must be one of"):
        build_tables([SectionOutput(key="s", title="S", rows=[{"table": "bogus"}])])
    frame = build_table([{"experiment": "B1", "stress1": None}])
    assert np.isnan(frame["stress1"].iloc[0]) and frame["nan_reasons"].iloc[0] == "stress1: not applicable to B1 rows"


def test_every_nan_of_every_table_has_a_reason():
    # issue 8 follow-up, finding 13: data-point rows had knn_recall_true / procrustes_baseline NaN with an
    # empty nan_reasons, B/C panels false_neighbour_rate NaN without one. Each NaN now names its column:
    # the row's own reason kept, "not applicable to <kind> rows" for a column of other kinds of rows,
    # "undefined (no reason recorded)" for a section's bug (which a test would then catch).
    rows = [
        {
            "experiment": "C2",
            "n_points": 60,
            "stress1": 0.2,
            "false_neighbour_rate": float("nan"),
            "nan_reasons": "false_neighbour_rate: no false neighbour possible",
        },
        {"experiment": "B1", "n_points": 3, "stress1": 0.0},
        {"experiment": "B1", "n_points": 5, "stress1": float("nan")},
        {"experiment": "B1", "n_points": 2, "stress1": float("nan"), "note": "fewer than 3 points"},
        {
            "table": "points",
            "space": "h",
            "method": "exact",
            "m": 3,
            "p": 1.0,
            "knn_recall": 0.4,
            "procrustes": float("nan"),
            "nan_reasons": "procrustes: no picture of the code space itself",
        },
        {"table": "points", "space": "x", "method": "mds", "m": 3, "p": 1.0, "knn_recall": 0.5, "procrustes": 0.1},
        {"table": "cells", "model": "A1", "importance": "uniform", "m": 1, "p": 0.1, "cosine_01": -1.0},
        {"table": "cells", "model": "grid", "importance": "uniform", "m": 3, "p": 1.0, "geo_cv": 0.1},
    ]
    tables = build_tables([SectionOutput(key="s", title="S", rows=rows)])
    for kind in ("panels", "points", "cells"):
        frame = tables[kind]
        for _, row in frame.iterrows():
            for col in frame.columns:
                if isinstance(row[col], float) and np.isnan(row[col]) and col != "p":
                    assert f"{col}: " in row["nan_reasons"], (kind, col, row["nan_reasons"])
    panels = tables["panels"]
    assert panels.loc[0, "nan_reasons"] == "false_neighbour_rate: no false neighbour possible"
    assert panels.loc[1, "nan_reasons"] == "false_neighbour_rate: not applicable to B1 rows"
    assert "stress1: undefined (no reason recorded)" in panels.loc[2, "nan_reasons"]
    assert "stress1: fewer than 3 points" in panels.loc[3, "nan_reasons"]
    assert tables["points"].loc[0, "nan_reasons"] == "procrustes: no picture of the code space itself"
    assert tables["cells"].set_index("model").loc["grid", "nan_reasons"] == "cosine_01: not applicable to grid rows"


def test_cells_without_a_feature_probability_are_kept_apart():
    """A trained model with no feature probability (p undefined: weights of an unknown sparsity) is a cells
    row like any other: rows merge only when (model, importance, m, p) agree, an undefined p included."""
    from supviz.study.tables import build_table

    rows = [
        {"model": "A1", "m": 4, "p": None, "test_accuracy": 0.8},
        {"model": "A1", "m": 8, "p": None, "test_accuracy": 0.9},
        {"model": "A1", "m": 8, "p": None, "final_loss": 0.1},
    ]
    cells = build_table(rows, kind="cells")
    assert len(cells) == 2 and cells["p"].isna().all()
    assert cells.loc[cells["m"] == 8, ["test_accuracy", "final_loss"]].iloc[0].tolist() == [0.9, 0.1]


def test_rows_of_one_model_that_disagree_are_refused_not_merged():
    """Rows of `cells` for one model merge (sections C and D measure the same cell); where two give one
    column different values, nothing says which is right: the table refuses them."""
    import pytest

    from supviz.errors import SupvizError
    from supviz.study.tables import build_table

    rows = [
        {"model": "grid", "importance": "uniform", "m": 3, "p": 1.0, "final_loss": 0.5, "h_recall": 0.9},
        {"model": "grid", "importance": "uniform", "m": 3, "p": 1.0, "final_loss": 0.5, "ring_cv": 0.1},
    ]
    merged = build_table(rows, kind="cells")
    assert len(merged) == 1 and merged.loc[0, ["h_recall", "ring_cv"]].tolist() == [0.9, 0.1]
    rows[1]["final_loss"] = 0.6
    with pytest.raises(SupvizError, match=r"two rows of `cells` for one model .* disagree on 'final_loss'"):
        build_table(rows, kind="cells")


def test_two_findings_with_one_key_are_refused():
    import pytest

    from supviz.errors import SupvizError
    from supviz.report.records import Finding, SectionOutput
    from supviz.study.tables import build_tables

    out = SectionOutput(key="s", title="S", findings=[Finding("a", "x", key="k"), Finding("b", "y", key="k")])
    with pytest.raises(SupvizError, match="two findings share the key 'k'"):
        build_tables([out])
    # a finding without a key gets one from its claim's words
    assert Finding("Rings are round.", "x").key == "Rings-are-round"


def test_per_seed_lists_of_a1_stay_text():
    from supviz.study.tables import build_table

    t = build_table(
        [
            {
                "table": "cells",
                "model": "A1",
                "importance": "uniform",
                "m": 1,
                "p": 0.1,
                "cosine_by_seed": "1.00 -1.00",
                "loss_by_seed": "0.0294 0.0033",
                "seeds": 2,
            }
        ],
        kind="cells",
    )
    assert t["cosine_by_seed"].iloc[0] == "1.00 -1.00" and t["loss_by_seed"].iloc[0] == "0.0294 0.0033"
