"""Issue 13 item 2: ``supviz sweep`` (config, the example end to end on a LocalCluster, resume, reuse)."""

import json
import tomllib

import numpy as np
import pandas as pd
import pytest

from supviz.cli import main
from supviz.errors import SupvizError
from supviz.sweep import COLUMNS, example_toml_text, load_sweep, run_sweep, sweep_cells, sweep_from_dict


def _has_sae() -> bool:
    try:
        import supviz.sae  # noqa: F401
    except ImportError:
        return False
    return True


def _small(**run) -> dict:
    """The shipped example, shrunk to a CI size (its tables and keys, smaller values)."""
    doc = tomllib.loads(example_toml_text())
    doc["grid"].update(n_features=[16], hidden=[3], probabilities=[1.0, 0.1], replicates=2)
    doc["train"].update(steps=60, batch_size=64)
    doc["features"].update(methods=["mds", "umap"], k=5)
    doc["datapoints"].update(points=[30], methods=["umap"], k=5)
    if _has_sae():
        doc["sae"].update(steps=40, n_eval=256)
    else:
        doc["sae"]["architectures"] = []
    doc["run"].update(run)
    return doc


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    cfg = sweep_from_dict(_small(scheduler="local:2", cache_dir=str(tmp / "cache")))
    res = run_sweep(cfg, tmp / "out", quiet=True)
    return tmp, cfg, res, pd.read_parquet(tmp / "out" / "sweep.parquet")


def test_the_example_sweep_runs_end_to_end_on_a_local_cluster(example_run):
    tmp, cfg, res, table = example_run
    assert tuple(table.columns) == COLUMNS and res.n_cells == 2 * 2 * 2 == len(sweep_cells(cfg))
    kinds = set(table["kind"])
    assert {"diagnostics", "features", "datapoints"} <= kinds and ("sae" in kinds) == _has_sae()
    per_cell = table.groupby(["importance", "n_hidden", "probability", "replicate"]).size()
    assert len(per_cell) == 8 and per_cell.nunique() == 1  # every cell measured alike
    assert set(table.loc[table.kind == "datapoints", "space"]) == {"x", "h"}
    assert set(table.loc[table.kind == "datapoints", "method"]) == {"exact", "umap"}
    nan = ~np.isfinite(table["value"])
    assert (table.loc[nan, "reason"] != "").all() and (table.loc[~nan, "reason"] == "").all()
    # the control x is one sample per (n, p, N): the same numbers in every cell at that p
    x = table[(table.space == "x") & (table.metric == "trustworthiness") & (table.method == "umap")]
    assert x.groupby("probability")["value"].nunique().eq(1).all()
    out = tmp / "out"
    assert (out / "summary.png").stat().st_size > 1000 and (out / "summary.svg").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "sweep" and manifest["complete"]
    assert load_sweep(out / "sweep.toml").to_dict() == cfg.to_dict()
    assert json.loads((out / "run.json").read_text())["where"]["dispatcher"] == "Dask"


def test_a_rerun_resumes_from_the_cache_and_a_larger_sweep_reuses_every_cell(example_run):
    tmp, cfg, _, table = example_run
    # the same sweep, now with local processes: nothing is computed, the same table comes back
    local = sweep_from_dict(_small(cache_dir=str(tmp / "cache"), n_jobs=1))
    again = run_sweep(local, tmp / "out", quiet=True)
    assert again.cache_misses == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp / "out" / "sweep.parquet"), table, check_exact=True)
    # one more hidden size: only its cells are trained and measured; the old cells' rows are unchanged
    doc = _small(cache_dir=str(tmp / "cache"), n_jobs=1)
    doc["grid"]["hidden"] = [3, 6]
    grown = run_sweep(sweep_from_dict(doc), tmp / "grown", quiet=True)
    big = pd.read_parquet(tmp / "grown" / "sweep.parquet")
    old = big[big.n_hidden == 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        old.sort_values(list(COLUMNS[:12])).reset_index(drop=True),
        table.sort_values(list(COLUMNS[:12])).reset_index(drop=True),
        check_exact=True,
    )
    meta = json.loads((tmp / "grown" / "run.json").read_text())["cache"]
    assert meta["misses"]["cell"] == 8 and meta["hits"]["cell"] == 8
    assert grown.n_cells == 16


def test_sweep_configs_are_checked_in_one_line(tmp_path, capsys):
    assert main(["sweep", "--example"]) == 0
    printed = capsys.readouterr().out
    assert tomllib.loads(printed) == tomllib.loads(example_toml_text())
    ex = tomllib.loads(example_toml_text())
    if not _has_sae():
        ex["sae"]["architectures"] = []
    assert ex["grid"]["n_features"] == [200] and max(ex["grid"]["hidden"]) == 40 and ex["grid"]["replicates"] == 3
    for change, msg in [
        ({"grid": {"hidden": [3, 0]}}, r"`grid.hidden\[1\]` must be an int >= 1"),
        ({"grid": {"replicates": 0}}, r"`grid.replicates` must be an int in \[1, 1000\]"),
        ({"grid": {"importances": ["geometric:1.5"]}}, "geometric parameter must be a number in"),
        ({"train": {"seed": 3}}, "`train` has no key 'seed'"),
        ({"train": {"steps": 0}}, "`train.steps` must be an int >= 1"),
        ({"features": {"methods": ["pca"]}}, r"`features.methods\[0\]` must be one of"),
        ({"datapoints": {"points": [5]}}, r"`datapoints.points\[0\]` must be an int >= 10"),
        ({"run": {"scheduler": "local:0"}}, "worker count"),
        ({"toy": {}}, "no table or key 'toy'"),
    ]:
        with pytest.raises(SupvizError, match=msg):
            sweep_from_dict({**ex, **{k: {**ex.get(k, {}), **v} for k, v in change.items()}})
    cfg = tmp_path / "k.toml"
    cfg.write_text(
        '[grid]\nn_features = [8]\nhidden = [2]\nprobabilities = [0.1]\nimportances = ["uniform"]\n[datapoints]\n'
        "points = [10]\nk = 9\n[sae]\narchitectures = []\n"
    )
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`datapoints.k` must be at most" in err and not (tmp_path / "o").exists()
    assert main(["sweep"]) == 2 and "`CONFIG` is missing" in capsys.readouterr().err


def test_the_summary_goes_into_the_report_when_a_sweep_is_named(example_run, tmp_path):
    from supviz.study.config import config_from_dict
    from supviz.study.pipeline import check_study, run_study
    from supviz.study.registry import get_section

    tmp, _, _, _ = example_run
    section = get_section("sweep")
    assert not section.active(config_from_dict({}))
    cfg = config_from_dict({"sweep": {"folder": str(tmp / "out")}, "figures": {"formats": ["png"], "dpi": 40}})
    res = run_study(cfg, tmp_path / "study", quiet=True, sections=[section])
    doc = (tmp_path / "study" / "report.html").read_text()
    assert "fig-S1_sweep_summary" in doc and (tmp_path / "study" / "figures" / "S1_sweep_summary.png").is_file()
    assert [o.key for o in res.sections] == ["sweep"]
    with pytest.raises(SupvizError, match="must be a finished `supviz sweep` folder"):
        check_study(config_from_dict({"sweep": {"folder": str(tmp_path)}}), sections=[section])
    # a finished sweep folder whose table is not a sweep's: refused before anything is written, in one line
    import shutil

    bad = tmp_path / "bad_sweep"
    shutil.copytree(tmp / "out", bad, ignore=shutil.ignore_patterns("cache"))
    (bad / "sweep.parquet").write_bytes(b"not parquet")
    with pytest.raises(SupvizError, match="sweep.parquet' is not a readable Parquet table"):
        check_study(config_from_dict({"sweep": {"folder": str(bad)}}), sections=[section])
    (bad / "sweep.parquet").unlink()
    pd.DataFrame({"n_features": [1]}).to_parquet(bad / "sweep.parquet")
    with pytest.raises(SupvizError, match="is not a sweep's table: no column 'n_hidden'"):
        check_study(config_from_dict({"sweep": {"folder": str(bad)}}), sections=[section])
