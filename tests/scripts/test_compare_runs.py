"""scripts/compare_runs.py: two runs of one seed compared value for value, a 0.1 folder mapped to 0.2's tables."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

NAN = float("nan")


@pytest.fixture(scope="module")
def cr():
    path = Path(__file__).resolve().parents[2] / "scripts" / "compare_runs.py"
    spec = importlib.util.spec_from_file_location("supviz_compare_runs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _old_run(folder: Path, *, mmcs: float = 0.9) -> Path:
    """A 0.1-style folder: section F's models and SAEs in cells, E1 and F pictures in panels."""
    folder.mkdir()
    cells = pd.DataFrame(
        [
            {
                "model": "grid",
                "importance": "uniform",
                "m": 3,
                "p": 1.0,
                "n_features": 60,
                "final_loss": 0.5,
                "nan_reasons": "",
                "test_accuracy": NAN,
            },
            {
                "model": "F_classifier",
                "importance": "",
                "m": 4,
                "p": NAN,
                "n_features": 64,
                "final_loss": 0.1,
                "nan_reasons": "",
                "test_accuracy": 0.93,
            },
            {
                "model": "F_sae_classifier_relu_l1",
                "importance": "",
                "m": 4,
                "p": NAN,
                "n_features": NAN,
                "final_loss": NAN,
                "nan_reasons": "final_loss: not applicable to F_sae_classifier_relu_l1 rows",
                "test_accuracy": NAN,
            },
        ]
    )
    panels = pd.DataFrame(
        [
            {
                "experiment": "B1",
                "importance": "",
                "m": NAN,
                "p": NAN,
                "method": "mds",
                "params": "{}",
                "n_points": 3,
                "panel": "N = 3",
                "note": "",
                "collapsed": False,
                "nan_reasons": "",
                "mmcs": NAN,
                "knn_accuracy": NAN,
            },
            {
                "experiment": "E1",
                "importance": "uniform",
                "m": 3,
                "p": 1.0,
                "method": "topk",
                "params": '{"k": 1}',
                "n_points": 256,
                "panel": "3 : 1",
                "note": "",
                "collapsed": False,
                "nan_reasons": "",
                "mmcs": mmcs,
                "knn_accuracy": NAN,
            },
            {
                "experiment": "F_space",
                "importance": "",
                "m": 4,
                "p": NAN,
                "method": "exact",
                "params": json.dumps({"kind": "classifier", "space": "hidden", "architecture": "", "dim": 4}),
                "n_points": 10,
                "panel": "classifier w=4 hidden",
                "note": "",
                "collapsed": False,
                "nan_reasons": "",
                "mmcs": NAN,
                "knn_accuracy": 0.8,
            },
        ]
    )
    cells.to_parquet(folder / "cells.parquet")
    panels.to_parquet(folder / "panels.parquet")
    pd.DataFrame([{"key": "B1-disc", "verdict": "supported", "measured": "x"}]).to_parquet(folder / "verdicts.parquet")
    (folder / "figures").mkdir()
    (folder / "report.html").write_text("<html><body><p>The question.</p></body></html>")
    return folder


def test_a_0_1_folder_is_mapped_to_the_tables_of_each_kind(cr, tmp_path):
    t = cr.as_new_tables(_old_run(tmp_path / "old"))
    assert set(t) == {"cells", "panels", "verdicts", "models", "saes", "layers"}
    assert t["cells"]["model"].tolist() == ["grid"] and t["panels"]["experiment"].tolist() == ["B1"]
    model = t["models"].to_dict("records")[0]
    assert {"kind": "classifier", "width": 4, "n_inputs": 64, "test_accuracy": 0.93}.items() <= model.items()
    saes = t["saes"].set_index("experiment")
    assert saes.loc["E1", "architecture"] == "topk" and saes.loc["E1", "mmcs"] == 0.9
    assert saes.loc["F_layer", "kind"] == "classifier" and saes.loc["F_layer", "architecture"] == "relu_l1"
    layer = t["layers"].iloc[0]
    assert (layer["kind"], layer["space"], layer["method"], layer["dim"], layer["knn_accuracy"]) == (
        "classifier",
        "hidden",
        "exact",
        4,
        0.8,
    )


def test_the_same_run_is_the_same_and_a_changed_number_is_found(cr, tmp_path):
    old = _old_run(tmp_path / "old")
    assert cr.compare(old, old) == []
    changed = _old_run(tmp_path / "new", mmcs=0.9 + 1e-12)
    found = cr.compare(old, changed)
    assert len(found) == 1 and "saes" in found[0] and "mmcs" in found[0]


def test_a_changed_figure_is_found_pixel_by_pixel(cr, tmp_path):
    from PIL import Image

    old, new = _old_run(tmp_path / "old"), _old_run(tmp_path / "new")
    img = np.zeros((4, 4, 3), dtype=np.uint8)
    Image.fromarray(img).save(old / "figures" / "A1.png")
    img[1, 2] = 255
    Image.fromarray(img).save(new / "figures" / "A1.png")
    assert cr.compare(old, new) == ["figure A1.png: 1 pixels differ"]


def test_what_is_not_a_run_folder_is_one_line_and_exit_2(cr, tmp_path, capsys):
    run = _old_run(tmp_path / "run")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "report.html").write_text("<p>x</p>")
    for other, why in (
        (tmp_path / "nope", "is not a folder"),
        (run / "report.html", "is not a folder"),
        (tmp_path / "empty", "holds no tables"),
    ):
        assert cr.main([str(run), str(other)]) == 2
        err = capsys.readouterr().err
        assert why in err and len(err.strip().splitlines()) == 1


def test_wall_times_and_cache_traffic_are_provenance_not_differences(cr, tmp_path):
    old, new = _old_run(tmp_path / "old"), _old_run(tmp_path / "new")
    (old / "report.html").write_text("<p>trained in one job (1 s with scoring)</p><td>8 computed, 0 cached</td>")
    (new / "report.html").write_text("<p>trained in one job (0.57 s with scoring)</p><td>0 computed, 8 cached</td>")
    assert cr.compare(old, new) == []
