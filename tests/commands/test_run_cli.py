"""`supviz run` end to end as a user runs it: a subprocess on a tiny study.

Checks every figure file, the tidy table (expected rows, finite metrics), the report (names every
figure, renders in a real browser), the cache (a second run computes nothing; a run killed after
training resumes and gives the same table), and supplied weights (the study's own npz).
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.browser import check_report, find_browser

pytestmark = pytest.mark.slow

HAMBLIN = Path("/work/shared/data/hamblin2022_weights.npz")
ROOT = Path(__file__).resolve().parents[2]

TINY = """
seed = 3
[toy]
n_features = 12
hidden = [2, 3]
probabilities = [1.0, 0.05]
steps = 150
batch_size = 64
log_every = 50
[run]
n_jobs = {n_jobs}
cache_dir = "{cache}"
[figures]
dpi = 40
formats = {formats}
interactive = {interactive}
[background]
a1_probabilities = [1.0, 0.05]
a2_n_features = 6
a2_hidden = 2
a2_probabilities = [1.0, 0.1]
a3_n_features = 8
a3_hidden = 2
a3_probability_count = 3
[baselines]
mds_n = [3, 6]
umap_grid_n = 10
umap_grid_n_neighbors = [2, 5]
umap_grid_min_dist = [0.1]
umap_n = [4, 8]
tsne_grid_n = 10
tsne_grid_perplexity = [1, 3]
tsne_n = [6, 10]
tsne_seeds = 2
max_iter = 100
[embeddings]
max_iter = 100
min_points = 3
[datapoints]
points = 40
examples = [[2, 0.05]]
grid_methods = ["umap"]
[recovery]
steps = 100
n_eval = 256
[real]
widths = [4, 8]
autoencoder_widths = [4]
replicates = 1
picture_width = 4
steps = 30
sae_steps = 30
sae_batch_size = 64
methods = ["mds"]
sweep_methods = ["mds"]
calibration_hidden = [2, 3]
"""

VARIANTS = ("uniform", "geometric0p9")
DATAPOINT_FIGURES = [f"D1_{m}_{v}" for v in VARIANTS for m in ("knn_recall", "trustworthiness", "false_neighbour_rate")]
DATAPOINT_FIGURES += [f"D2_umap_{v}" for v in VARIANTS] + [f"D3_m2_p0p05_{v}" for v in VARIANTS]
DATAPOINT_FIGURES += ["D4_ring_control", "headline"]
STATIC = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "B5"] + [f"C{i}_{v}" for v in VARIANTS for i in range(1, 6)]
STATIC += DATAPOINT_FIGURES + ["F1_pictures", "F2_width_sweep", "F3_calibration"]
INTERACTIVE = ["B1"] + [f"C{i}_{v}" for v in VARIANTS for i in range(2, 6)]
INTERACTIVE += [f"D3_m2_p0p05_{v}" for v in VARIANTS] + ["F1_pictures"]
# interactive versions on pages of their own, linked from the report (its 8 MB budget): D3's and F1's
LINKED = [f"D3_m2_p0p05_{v}" for v in VARIANTS] + ["F1_pictures"]
# one table per kind of observation: panels (pictures; C3/C5 under both represented rules; B4x/B5x exact
# t-SNE), cells (trained models), points (section D: 8 cells x (exact + 3 pictures) for x, x_rep, h and h_rep)
# section F: 7 pictures (5 spaces at w = 4, the h and codes of w = 8; MDS) and 7 spaces measured as they are;
# its models per (kind, width), their layers' SAEs, and the 8 toy cells of its calibration
EXPECTED_PANELS = {
    "B1": 2,
    "B2": 2,
    "B3": 2,
    "B4": 2 * 2,  # two perplexities from tsne_seeds = 2 random starts each
    "B4x": 1,
    "B5": 1 + 2,  # N = 6 (a polygon, below RING_MIN_POINTS: never read) from one start, N = 10 from tsne_seeds = 2
    "B5x": 2,
    "C2": 8,
    "C3": 16,
    "C4": 8,
    "C5": 16,
}
EXPECTED_CELLS = {"A1": 2, "A2": 2, "A3": 3, "grid": 8}
EXPECTED_MODELS = {"classifier": 2, "autoencoder": 1}
EXPECTED_LAYERS = {"exact": 7, "mds": 7}
EXPECTED_SAES = {("E1", "jumprelu"): 8, ("E1", "topk"): 4, ("F_calibration", "relu_l1"): 8, ("F_layer", "relu_l1"): 3}
# section E: JumpReLU SAEs on the 8 cells and TopK on the 4 sparse ones (E1), pairs pictured where a cell has two
# represented features (E2), the JumpReLU codes of D's inputs measured like x and h (points, space "codes")
EXPECTED_POINTS = {
    ("x", ""): 32,
    ("h", ""): 32,
    ("x_rep", "norm"): 32,
    ("h_rep", "norm"): 32,
    # the other represented rule's pictures of x_rep and h_rep (3 methods x 8 cells; their exact measures are the
    # cells table's x_rep_recall_mean_abs / h_rep_recall_mean_abs)
    ("x_rep", "mean_abs"): 24,
    ("h_rep", "mean_abs"): 24,
    ("codes", ""): 8,
    ("codes_rep", ""): 32,
}  # f(h) measured, f(h_rep) pictured


def _cmd(*args):
    exe = ROOT / ".venv" / "bin" / "supviz"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "supviz"], list(args)


def _env():
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba"))
    return env


def _write_config(folder: Path, *, n_jobs=2, cache="", full_figures=True) -> Path:
    """The tiny study; ``full_figures=False`` draws PNGs only (the table does not depend on figures)."""
    path = folder / "tiny.toml"
    formats = '["png", "svg"]' if full_figures else '["png"]'
    path.write_text(TINY.format(n_jobs=n_jobs, cache=cache, formats=formats, interactive=str(full_figures).lower()))
    return path


def supviz_run(*args, timeout=300):
    exe, rest = _cmd(*args)
    return subprocess.run(exe + ["run", *rest], capture_output=True, text=True, timeout=timeout, env=_env())


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run1")
    cfg = _write_config(folder, n_jobs=2)
    t0 = time.perf_counter()
    proc = supviz_run("--config", str(cfg), "--out", str(folder / "out"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return folder, proc, time.perf_counter() - t0


def test_every_figure_table_row_and_report_entry(first_run):
    folder, proc, _ = first_run
    out = folder / "out"
    assert proc.stdout.strip().splitlines()[-1] == f"report: {out / 'report.html'}"
    for stage in (
        "train toy models",
        "compute background",
        "compute baselines",
        "compute embeddings",
        "compute datapoints",
        "report",
    ):
        assert f"[supviz] {stage}" in proc.stderr
    for fid in STATIC:
        for ext in ("png", "svg"):
            f = out / "figures" / f"{fid}.{ext}"
            assert f.stat().st_size > (1000 if ext == "png" else 2000), f  # PNGs are palette-quantised
        assert (out / "figures" / f"{fid}.png").read_bytes()[:4] == b"\x89PNG"
    for fid in INTERACTIVE:
        assert "Plotly.newPlot" in (out / "figures" / f"{fid}.html").read_text()
    assert (out / "figures" / "plotly.min.js").stat().st_size > 1_000_000
    # each variant's figure carries its own colour scale (figures are drawn later than they are declared): the
    # norm under uniform importance (a rank would be arbitrary), the importance rank under 0.9^i
    assert "norm of the feature" in (out / "figures" / "C2_uniform.html").read_text()
    assert "importance rank" not in (out / "figures" / "C2_uniform.html").read_text()
    assert "importance rank (0 = most important)" in (out / "figures" / "C2_geometric0p9.html").read_text()

    table = pd.read_parquet(out / "panels.parquet")
    counts = table.groupby("experiment").size().to_dict()
    assert {k: counts.get(k) for k in EXPECTED_PANELS} == EXPECTED_PANELS
    assert set(counts) <= {*EXPECTED_PANELS, "C6", "E2"} and counts.get("E2", 0) <= 8
    cells = pd.read_parquet(out / "cells.parquet")
    assert cells.groupby("model").size().to_dict() == EXPECTED_CELLS
    assert pd.read_parquet(out / "models.parquet").groupby("kind").size().to_dict() == EXPECTED_MODELS
    assert pd.read_parquet(out / "layers.parquet").groupby("method").size().to_dict() == EXPECTED_LAYERS
    saes = pd.read_parquet(out / "saes.parquet")
    assert saes.groupby(["experiment", "architecture"]).size().to_dict() == EXPECTED_SAES
    points = pd.read_parquet(out / "points.parquet")
    assert points.groupby(["space", "rule"]).size().to_dict() == EXPECTED_POINTS
    verdicts = pd.read_parquet(out / "verdicts.parquet")
    from supviz.report.html import VERDICT_CLASS  # the report's vocabulary of verdicts

    assert verdicts["key"].is_unique and set(verdicts["verdict"]) <= set(VERDICT_CLASS)
    csv = pd.read_csv(out / "panels.csv")
    assert list(csv.columns) == list(table.columns) and len(csv) == len(table)
    np.testing.assert_allclose(
        csv["stress1_ratio"].to_numpy(float), table["stress1_ratio"].to_numpy(float), rtol=1e-9, equal_nan=True
    )
    drawn = table[
        table["experiment"].isin(["B2", "B3", "B4", "B5", "C2", "C4"])
        | (table["note"] == "") & table["experiment"].isin(["C3", "C5"])
    ]
    for col in ("stress1_ratio", "trustworthiness", "continuity", "knn_recall", "procrustes_baseline"):
        # a NaN is an undefined measure (issue 8) and says why; never a silent gap
        gaps = drawn[~np.isfinite(drawn[col])]
        assert gaps["nan_reasons"].str.contains(f"{col}: ").all(), col
    # diag(N) ties every distance: its neighbourhood metrics are undefined, never "perfect"
    assert table.loc[table.experiment.isin(["B2", "B3", "B4", "B5"]), "trustworthiness"].isna().all()
    c = table[table["experiment"].isin(["C2", "C3", "C4", "C5"]) & (table["note"] == "")]
    assert np.isfinite(c["stress1_ratio"]).all()
    # neighbourhoods need k + 2 points: a represented-only panel of fewer is NaN with its reason (checked above)
    full = c[c["n_points"] >= c["k"] + 2]
    assert len(full) >= 16 and np.isfinite(full[["trustworthiness", "continuity", "knn_recall"]]).all().all()
    assert (
        c["knn_recall_true"].isna().all() and np.isfinite(full["shepard_rho"]).all()
    )  # X_true = identity rows: all tied
    # diag(N) has one distance value: no rank correlation exists (NaN by definition, not by failure)
    assert table.loc[table.experiment.isin(["B2", "B3"]), "shepard_rho"].isna().all()
    assert (
        (
            (full[["trustworthiness", "continuity", "knn_recall"]] >= 0)
            & (full[["trustworthiness", "continuity", "knn_recall"]] <= 1)
        )
        .all()
        .all()
    )
    assert set(table.loc[table.experiment == "C2", "importance"]) == {"uniform", "geometric:0.9"}
    assert set(table.loc[table.experiment == "C3", "represented_rule"]) == {"norm", "mean_abs"}
    toy = cells[cells.model == "grid"]
    assert toy["n_represented_norm"].between(0, 12).all() and np.isfinite(toy["final_loss"]).all()

    html = (out / "report.html").read_text()
    for fid in STATIC:
        assert f"id='fig-{fid}'" in html
    assert html.count("class='figure-gz'") == len(INTERACTIVE) - len(LINKED)
    for fig in LINKED:
        assert f"href='figures/{fig}.html'>its page</a>" in html, fig
    assert "<a href='figures/F1_pictures.html'>" in html
    meta = json.loads((out / "run.json").read_text())
    # the background grids (A1's seeds, A2's and A3, one cache entry each, trained in one job), and the section-2 grid
    # as 8 cells of their own
    bg = meta["config"]["background"]
    assert bg["a1_seeds"] > 1 and bg["a2_seeds"] > 1  # A1 and A2 picture the lowest-loss of several trainings
    assert meta["config"]["toy"]["steps"] == 150
    assert meta["cache"]["misses"]["train"] == 3
    assert meta["cache"]["misses"]["cell"] == 8
    assert "150 AdamW steps" in html

    # issue 9 item 6: stderr is a pipe, so no progress bars: one line per stage
    assert "\r" not in proc.stderr and all(line.startswith("[supviz] ") for line in proc.stderr.splitlines())
    # item 7: the manifest lists exactly what the run wrote (the cache is the cache)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["command"] == "run"
    assert manifest["files"] == sorted(_files(out))


def _files(folder: Path) -> list[str]:
    return [
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).parts[0] != "cache"
    ]


def test_results_hold_the_grid_as_a_train_run(first_run, tmp_path, capsys):
    """Issue 9 item 8: `supviz inspect OUT` and load_grid(OUT) read the study's grid, and `supviz train
    --config` on the study's config trains the same weights, bit for bit."""
    from supviz.cli import main
    from supviz.toy import load_grid

    folder, _, _ = first_run
    out = folder / "out"
    grid = load_grid(out)
    assert len(grid) == 8 and {s.n_hidden for s in grid.specs} == {2, 3} and grid.config.steps == 150
    assert main(["inspect", str(out), "--format", "csv"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 9
    assert main(["train", "--config", str(folder / "tiny.toml"), "--out", str(tmp_path / "t"), "--quiet"]) == 0
    trained = load_grid(tmp_path / "t")
    assert trained.specs == grid.specs and trained.config == grid.config
    for a, b in zip(trained.weights + trained.biases, grid.weights + grid.biases):
        np.testing.assert_array_equal(a, b)


@pytest.mark.browser
@pytest.mark.skipif(find_browser() is None, reason="no chromium on PATH (install Debian's chromium; .ci/run does)")
def test_report_renders_in_a_browser(first_run):
    folder, _, _ = first_run
    res = check_report(folder / "out" / "report.html", budget_ms=30000, render_all=True)
    assert res.console == []
    embedded = len(INTERACTIVE) - len(LINKED)
    assert (res.rendered, res.total) == (embedded, embedded)


def test_second_run_is_a_cache_hit(first_run):
    folder, _, cold = first_run
    out = folder / "out"
    before = pd.read_parquet(out / "panels.parquet")
    t0 = time.perf_counter()
    proc = supviz_run("--config", str(folder / "tiny.toml"), "--out", str(out), "--quiet")
    warm = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == ""  # --quiet: no stage lines, no bars
    meta = json.loads((out / "run.json").read_text())
    assert meta["cache"]["misses"] == {}
    assert sum(meta["cache"]["hits"].values()) > 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "panels.parquet"), before)
    assert warm < cold


def _session(sid: int) -> list[tuple[int, str]]:
    """Live (non-zombie) processes of session ``sid``: (pid, command line)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            out.append((int(d.name), cmd))
    return out


def test_killed_run_leaves_no_process_and_resumes_to_the_same_table(first_run, tmp_path):
    """Issue 9 item 5: `kill -9` while the worker pool is busy; no process of the run outlives it by
    more than a few seconds (loky workers used to live 5-10 minutes), and the next run sweeps the
    killed run's temporaries and resumes to the same table."""
    folder, _, _ = first_run
    cfg = _write_config(tmp_path, n_jobs=2, full_figures=False)
    out = tmp_path / "out"
    exe, rest = _cmd("--config", str(cfg), "--out", str(out), "--quiet")
    proc = subprocess.Popen(
        exe + ["run", *rest], env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        # busy (issue 9 follow-up, 9: the test used to kill 1 s after the workers appeared, maybe
        # still importing): wait until the pool has finished a layout, so it is working on the next
        deadline = time.time() + 240
        while time.time() < deadline and not (
            len([c for _, c in _session(proc.pid) if "loky" in c and "popen" in c]) >= 2
            and any((out / "cache" / "layout").glob("*/*/value.json"))
        ):
            assert proc.poll() is None, "the run ended before its worker pool finished a layout"
            time.sleep(0.05)
        workers = [p for p, c in _session(proc.pid) if "loky" in c and "popen" in c]
        assert len(workers) >= 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.time() + 5.0
        while _session(proc.pid) and time.time() < deadline:
            time.sleep(0.1)
        survivors = _session(proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGKILL) if _session(proc.pid) else None
    assert survivors == [], f"outlived the killed run by 5 s: {survivors}"
    assert not (out / "report.html").exists()
    assert json.loads((out / "manifest.json").read_text())["complete"] is False
    resumed = supviz_run("--config", str(cfg), "--out", str(out))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert not [p for p in out.rglob("*.tmp")], "temporaries of the killed run were not swept"
    meta = json.loads((out / "run.json").read_text())
    hits, misses = meta["cache"]["hits"], meta["cache"]["misses"]
    assert hits.get("train", 0) + hits.get("cell", 0) >= 1  # models trained before the kill were reused
    # the kill fell inside the pool's layouts: some were finished (reused now), some not (computed now)
    assert hits.get("layout", 0) >= 1 and misses.get("layout", 0) >= 1, meta["cache"]
    a = pd.read_parquet(folder / "out" / "panels.parquet")
    b = pd.read_parquet(out / "panels.parquet")
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a.select_dtypes(exclude="number"), b.select_dtypes(exclude="number"))
    num = a.select_dtypes("number").columns
    np.testing.assert_allclose(a[num].to_numpy(float), b[num].to_numpy(float), rtol=1e-5, atol=1e-6, equal_nan=True)


@pytest.fixture(scope="module")
def rerun(first_run, tmp_path_factory):
    """A copy of the first run's folder (cache included) with crafted pickles planted where an older
    cache kept values and where the arrays of value entries live, user files beside the run's own,
    rerun under other settings (PNG only, no interactive pages)."""
    import pickle
    import shutil

    folder, _, _ = first_run
    tmp = tmp_path_factory.mktemp("rerun")
    out = tmp / "out"
    shutil.copytree(folder / "out", out)
    marker = tmp / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    payload = pickle.dumps(Exploit())
    planted = []
    for entry in sorted((out / "cache").glob("*/*/*/value.json"))[::3]:
        legacy = entry.parent.with_suffix(".pkl")  # <kind>/<xx>/<key>.pkl: where values used to be pickled
        legacy.write_bytes(payload)
        planted.append(legacy)
    arrays = next((out / "cache" / "section").glob("*/*/arrays.npz"))
    arrays.write_bytes(payload)  # the arrays of a section's cached result replaced by a pickle
    (out / "evil.pkl").write_bytes(payload)
    (out / "notes.txt").write_text("mine")
    (out / "figures" / "mine.svg").write_text("<svg/>")
    before = sorted(_files(out))
    cfg = _write_config(tmp, n_jobs=2, full_figures=False)
    proc = supviz_run("--config", str(cfg), "--out", str(out))
    return out, proc, marker, planted, before


def test_a_planted_pickle_is_never_loaded(rerun):
    """Issue 9 item 4: crafted pickles (unpickling one would create a marker file) in the cache and the
    run folder are never executed; the run works, and recomputes the entry whose arrays were replaced."""
    out, proc, marker, planted, _ = rerun
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(planted) > 10 and not marker.exists()
    meta = json.loads((out / "run.json").read_text())
    assert meta["cache"]["misses"].get("section") == 1  # the entry whose arrays were a pickle, recomputed


def test_a_rerun_leaves_one_runs_files(rerun):
    """Issue 9 item 7: files of the previous run this one does not write (SVGs, HTML pages) are removed;
    the user's files stay; the manifest lists exactly this run's files."""
    out, proc, _, _, before = rerun
    assert proc.returncode == 0, proc.stderr[-3000:]
    after = sorted(_files(out))
    removed = sorted(set(before) - set(after))
    assert removed and all(f.endswith((".svg", ".html", ".js")) for f in removed)
    assert {"notes.txt", "evil.pkl", "figures/mine.svg"} <= set(after)
    assert not [f for f in after if f.endswith(".html") and f.startswith("figures/")]
    assert [f for f in after if f.endswith(".svg")] == ["figures/mine.svg"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and sorted(manifest["removed"]) == removed
    assert set(manifest["files"]) == set(after) - {"notes.txt", "evil.pkl", "figures/mine.svg"}


@pytest.mark.skipif(not HAMBLIN.exists(), reason="the study's weights are not in ../shared/data")
def test_supplied_weights_of_the_study(first_run, tmp_path):
    folder, _, _ = first_run
    cfg = _write_config(tmp_path, n_jobs=1, cache=str(folder / "out" / "cache"), full_figures=False)
    proc = supviz_run("--config", str(cfg), "--out", str(tmp_path / "out"), "--weights", str(HAMBLIN), "--quiet")
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_parquet(tmp_path / "out" / "panels.parquet")
    c2 = table[table.experiment == "C2"]
    # the study's key rule: 60to{m} = uniform, 60to{m}_withimportance = 0.9^i; [2, 3] -> m = 3 only is in the file
    assert set(c2["importance"]) == {"uniform", "geometric:0.9"}
    assert set(c2["m"]) == {3} and len(c2) == 12 and (c2["n_points"] == 60).all()
    assert np.isfinite(c2["stress1_ratio"]).all()
    html = (tmp_path / "out" / "report.html").read_text()
    assert str(HAMBLIN) in html
    meta = json.loads((tmp_path / "out" / "run.json").read_text())
    assert "train" not in meta["cache"]["misses"]  # nothing of section 2 was trained


def test_bad_config_is_one_line_on_stderr(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[toy]\nsteps = 0\n")
    proc = supviz_run("--config", str(bad), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == "supviz: error: `toy.steps` must be an int >= 1; got 0."


def test_changed_parameter_recomputes_only_what_depends_on_it(first_run, tmp_path):
    folder, _, _ = first_run
    text = (folder / "tiny.toml").read_text().replace("[toy]", "[metrics]\nk = 4\n[toy]")
    text = text.replace('cache_dir = ""', f'cache_dir = "{folder / "out" / "cache"}"')
    cfg = tmp_path / "k4.toml"
    cfg.write_text(text)
    proc = supviz_run("--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet")
    assert proc.returncode == 0, proc.stderr[-3000:]
    misses = json.loads((tmp_path / "out" / "run.json").read_text())["cache"]["misses"]
    # the neighbourhood size touches the metrics (and the figures that print them), not training or layouts
    assert misses.get("metrics", 0) > 0
    assert not {"train", "layout", "smacof"} & set(misses)
    table = pd.read_parquet(tmp_path / "out" / "panels.parquet")
    assert (table.loc[table.experiment == "C2", "k"] == 4).all()


def test_points_scales_the_datapoint_section_only(first_run, tmp_path):
    folder, _, _ = first_run
    text = (folder / "tiny.toml").read_text().replace('cache_dir = ""', f'cache_dir = "{folder / "out" / "cache"}"')
    cfg = tmp_path / "shared.toml"
    cfg.write_text(text)
    proc = supviz_run("--config", str(cfg), "--out", str(tmp_path / "out"), "--points", "25", "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    # stderr is a pipe here: one line per stage and "done/total tasks" lines, no progress bar (bars only
    # on a terminal)
    import re

    assert "\r" not in proc.stderr
    assert all(line.startswith("[supviz] ") for line in proc.stderr.splitlines())
    tasks = [line for line in proc.stderr.splitlines() if "data-point layouts" in line]
    assert tasks and all(re.fullmatch(r"\[supviz\]   data-point layouts: \d+/\d+ tasks", t) for t in tasks)
    meta = json.loads((tmp_path / "out" / "run.json").read_text())
    assert meta["config"]["datapoints"]["points"] == 25
    misses = meta["cache"]["misses"]
    # the data-point jobs run again at the new size; no toy model, layout of W or metric of section 2 does
    assert misses.get("datapoint-job", 0) > 0 and not {"train", "cell", "layout", "smacof", "metrics"} & set(misses)
    table = pd.read_parquet(tmp_path / "out" / "points.parquet")
    assert (table.loc[table.space.isin(["x", "h"]), "n_points"] == 25).all()


def _hover_trust(html: str, panel_title: str) -> list[str]:
    """The hover's trust text of every point of the panel titled ``panel_title`` in a figure page's plotly spec."""
    spec = json.loads(re.search(r"var spec = (\{.*?\});Plotly", html, flags=re.S).group(1))
    for trace in spec["data"]:
        template = trace.get("hovertemplate", "")
        if f"<extra>{panel_title}</extra>" in template and trace.get("customdata"):
            names = re.findall(r"(?:^|<br>)([^:<]+): %\{customdata\[(\d+)\]\}", template)
            col = next(int(i) for name, i in names if name == "trust")
            return [row[col] for row in trace["customdata"]]
    raise AssertionError(f"no panel {panel_title!r} with hover in the figure")


def test_every_pictured_point_carries_its_trust_in_the_hover_and_the_coordinates_table(first_run):
    """Issue 21 item 4: the study's own interactive pictures (C2-C5, D3, F1) show each point's trust in the hover,
    computed once per panel, equal to pointwise_trust of that picture, and exported with its coordinates."""
    from supviz.metrics.pointwise import pointwise_trust
    from supviz.toy import load_grid

    folder, _, _ = first_run
    out = folder / "out"
    coords = pd.read_parquet(out / "coordinates.parquet")
    assert set(coords["figure"]) >= {f"C{i}_{v}" for v in VARIANTS for i in range(2, 6)} | {
        f"D3_m2_p0p05_{v}" for v in VARIANTS
    } | {"F1_pictures"}
    # every undefined trust says why; every defined one is a share in [0, 1]
    nan = coords[coords["trust"].isna()]
    assert (nan["nan_reasons"].str.contains("trust: ")).all()
    assert coords.loc[coords["trust"].notna(), "trust"].between(0, 1).all()
    # C2 of one cell: the table's trust is pointwise_trust of the rows of W against their picture
    grid = load_grid(out / "weights.safetensors")
    i = next(
        j
        for j, s in enumerate(grid.specs)
        if s.n_hidden == 3 and s.probability == 1.0 and s.importance_name == "uniform"
    )
    panel = coords[(coords["figure"] == "C2_uniform") & (coords["panel"] == "3 : 1")].sort_values("point")
    W = np.asarray(grid.weights[i], dtype=np.float64)
    expect = pointwise_trust(W, panel[["x", "y"]].to_numpy(), k=10)
    np.testing.assert_allclose(panel["trust"].to_numpy(), expect.trust, rtol=0, atol=1e-12)
    np.testing.assert_allclose(panel["false_neighbours"].to_numpy(), expect.false_neighbours, atol=1e-12)
    # ... and the hover of that point says the same (3 significant digits)
    hover = _hover_trust((out / "figures" / "C2_uniform.html").read_text(), "3 : 1")
    assert hover == [f"{v:.3g}" for v in expect.trust]
    # a panel too small for k = 10 neighbours: the hover says why, never a number
    small = coords[(coords["figure"] == "C3_uniform") & coords["trust"].isna()]
    if len(small):
        title = small["panel"].iloc[0]
        said = _hover_trust((out / "figures" / "C3_uniform.html").read_text(), title)
        assert all(s.startswith("undefined: k = 10 needs at least k + 2 = 12 points") for s in said)
    # D3's and F1's hovers carry the table's numbers, panel by panel
    for fig in ("D3_m2_p0p05_uniform", "F1_pictures"):
        rows = coords[coords["figure"] == fig]
        assert rows["trust"].notna().any()
        page = (out / "figures" / f"{fig}.html").read_text()
        for title, g in rows.groupby("panel"):
            said = _hover_trust(page, title)
            want = [f"{v:.3g}" for v in g.sort_values("point")["trust"]]
            assert said == want if g["trust"].notna().all() else said[0].startswith("undefined: "), (fig, title)
    html = (out / "report.html").read_text()
    assert "G. A real transformer" not in html  # the transformer section is opt-in


def test_the_transformer_section_joins_the_report_only_when_enabled(first_run, tmp_path):
    """Issue 21 item 5: `[transformer] enabled = true` adds the section (a tiny corpus, one layer); the other sections
    come from the shared cache."""
    pytest.importorskip("transformers")
    folder, _, _ = first_run
    text = (folder / "tiny.toml").read_text().replace('cache_dir = ""', f'cache_dir = "{folder / "out" / "cache"}"')
    text += (
        "[transformer]\nenabled = true\nsentences = 40\nlayers = [1]\nmethods = ['mds']\nk = 5\nfolds = 2\n"
        "sae_steps = 20\n"
    )
    cfg = tmp_path / "tf.toml"
    cfg.write_text(text)
    out = tmp_path / "out"
    proc = supviz_run("--config", str(cfg), "--out", str(out), "--quiet", timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (out / "report.html").read_text()
    assert "G. A real transformer" in html and "toy-cell calibration" in html
    for fid in ("G1_measures", "G2_mds_factor", "G2_mds_trust"):
        assert (out / "figures" / f"{fid}.png").stat().st_size > 1000
    assert "Plotly.newPlot" in (out / "figures" / "G2_mds_factor.html").read_text()
    verdicts = pd.read_parquet(out / "verdicts.parquet").set_index("key")
    for key in ("T-probe", "T-kept-mds", "T-codes"):
        v = verdicts.loc[key]
        assert v["study_source"] == "supviz's own question" and v["unit"] == "factors"
        assert v["n_used"] + v["n_left_out"] == 5  # the five varied factors; the control is never counted
        assert v["threshold"] in (0.0, 0.5) and (np.isfinite(v["estimate"]) or v["verdict"] == "n/a")
    texts = pd.read_parquet(out / "texts.parquet")
    assert set(texts["factor"]) == {"topic", "sentiment", "tense", "number", "negation", "control"}
    assert set(texts["layer"]) == {1} and set(texts["method"]) == {"exact", "mds"}
    coords = pd.read_parquet(out / "coordinates.parquet")
    tf = coords[coords["section"] == "transformer"].sort_values(["space", "point"])
    assert len(tf) == 2 * 40 and tf["label"].str.endswith(".").all() and "topic" in tf.columns
    # the hover of G2 shows each sentence's trust, the table's number
    hover = _hover_trust((out / "figures" / "G2_mds_factor.html").read_text(), "layer 1")
    layer = tf[tf["space"] == "layer"]
    assert hover == [f"{v:.3g}" for v in layer["trust"]]


def test_readme_names_every_column_of_every_table(first_run):
    """README's table of tables names every table a run writes and every column of each (a backticked name, or
    a pattern such as `geo_*` or `ring_<rows>_<cluster or alone>_<rule>`)."""
    folder, _, _ = first_run
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(\w+)` \|.*$", readme, flags=re.M)}
    for path in sorted((folder / "out").glob("*.parquet")):
        kind = path.stem
        assert kind in rows, f"README has no row for the table {kind!r}"
        names = re.findall(r"`([^`]+)`", rows[kind])
        patterns = [re.compile("^" + re.sub(r"<[^>]+>|\\\*", ".+", re.escape(n)) + "$") for n in names]
        undocumented = [c for c in pd.read_parquet(path).columns if not any(p.match(c) for p in patterns)]
        assert not undocumented, f"README's row of {kind!r} does not name {undocumented}"
