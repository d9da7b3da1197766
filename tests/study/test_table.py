"""The tidy table: id columns first, typed, Parquet and CSV that pandas reads back."""

import numpy as np
import pandas as pd

from supviz.study.table import ID_COLUMNS, build_table, write_table


def test_table_columns_types_and_files(tmp_path):
    rows = [
        {"experiment": "C2", "importance": "uniform", "m": 3, "p": 1.0, "method": "mds", "params": "{}", "n_points": 60,
         "panel": "3 : 1", "note": "", "stress1_ratio": 0.2, "trustworthiness": 0.9},
        {"experiment": "toy", "importance": "uniform", "m": 3, "p": 1.0, "n_points": 60, "toy_dims_per_feature": 0.05},
        {"experiment": "B1", "n_points": 3, "stress1_ratio": 0.0},
    ]
    frame = build_table(rows)
    assert tuple(frame.columns[: len(ID_COLUMNS)]) == ID_COLUMNS
    assert str(frame["m"].dtype) == "Int64" and frame["stress1_ratio"].dtype == float
    assert frame.loc[2, "importance"] == "" and np.isnan(frame.loc[1, "stress1_ratio"])
    paths = write_table(frame, tmp_path)
    back = pd.read_parquet(paths["parquet"])
    pd.testing.assert_frame_equal(back, frame)
    csv = pd.read_csv(paths["csv"])
    assert list(csv.columns) == list(frame.columns) and len(csv) == 3
