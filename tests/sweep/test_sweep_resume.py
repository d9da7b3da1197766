"""Issue 22 kind 8: a ``supviz sweep`` killed during training keeps the cells it finished; its rerun
trains only the rest. (Before, a group's cells were stored when the whole group ended: a sweep
killed after 135 s of training had stored none.)"""

import json
import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from supviz.sweep import example_toml_text, run_sweep, sweep_from_dict
from supviz.toy import TrainConfig
from supviz.toy.cells import MAX_CHUNKS, MIN_PER_THREAD, chunks

SRC = Path(__file__).resolve().parents[2] / "src"


def _doc(cache: Path) -> dict:
    doc = tomllib.loads(example_toml_text())
    doc["grid"].update(n_features=[30], hidden=[3, 5], probabilities=[1.0, 0.1, 0.03], replicates=2)
    doc["grid"]["importances"] = ["uniform"]
    # one thread: chunks of MIN_PER_THREAD cells, about a second or two each here
    doc["train"].update(steps=6000, batch_size=256, threads=1)
    doc["features"].update(methods=["mds"], k=5)
    doc["datapoints"].update(points=[30], methods=["umap"], k=5)
    doc["sae"]["architectures"] = []
    doc["run"].update(n_jobs=1, cache_dir=str(cache))
    return doc


def _toml(doc: dict) -> str:
    lines = [f"seed = {doc['seed']}"]
    for table, values in doc.items():
        if isinstance(values, dict):
            lines.append(f"[{table}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def _stored(cache: Path) -> int:
    return len(list((cache / "cell").glob("*/*/value.json")))


def test_chunks_cover_every_cell_once_in_at_most_max_chunks():
    specs = TrainConfig(n_features=20, hidden=(2, 4, 8), probabilities=(1.0, 0.3, 0.1, 0.01)).instances()
    for threads in (1, 2, 16):
        parts = chunks(specs, threads)
        assert sorted(i for p in parts for i in p) == list(range(len(specs)))
        assert len(parts) <= MAX_CHUNKS
        assert all(len(p) >= min(MIN_PER_THREAD * threads, len(specs)) for p in parts[:-1])
    n = len(specs)
    assert n > MIN_PER_THREAD * MAX_CHUNKS  # so at one thread the count cap decides
    assert len(chunks(specs, 1)) == MAX_CHUNKS and len(chunks(specs, n)) == 1
    assert chunks(specs[:1], 4) == [[0]] and chunks([], 1) == []


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_sweep_killed_mid_training_resumes_with_only_the_unfinished_cells(tmp_path):
    cache = tmp_path / "cache"
    doc = _doc(cache)
    n_cells = 2 * 3 * 2
    config = tmp_path / "sweep.toml"
    config.write_text(_toml(doc), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "supviz", "-v", "sweep", str(config), "--out", str(tmp_path / "out")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # the log says when the first chunk of cells is stored; the kill lands while the next ones train
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if "trained chunk 1 of" in line:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert any("trained chunk 1 of" in line for line in seen), "".join(seen[-5:])
    kept = _stored(cache)
    assert 0 < kept < n_cells, f"{kept} of {n_cells} cells stored when the sweep was killed"
    res = run_sweep(sweep_from_dict(doc), tmp_path / "out", quiet=True)
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["cache"]["hits"].get("cell", 0) == kept
    assert run["cache"]["misses"].get("cell", 0) == n_cells - kept
    assert res.n_cells == n_cells and _stored(cache) == n_cells
    # and a cell gives the same bits whichever chunk trained it: the resumed sweep equals a fresh one
    fresh = run_sweep(sweep_from_dict(_doc(tmp_path / "cache2")), tmp_path / "fresh", quiet=True)
    import pandas as pd

    a, b = pd.read_parquet(res.table), pd.read_parquet(fresh.table)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert np.isfinite(a["value"]).any()
