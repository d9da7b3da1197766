"""The data-point experiment: known answers, controls, determinism across n_jobs, the tidy table."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from supviz.datapoints import (
    METRIC_COLUMNS,
    datapoint_cell,
    datapoint_grid,
    sample_inputs,
    superposition_effect,
)
from supviz.errors import SupvizError


@dataclass
class _Spec:
    n_features: int
    n_hidden: int
    probability: float
    importance_name: str
    importance: np.ndarray
    seed: int = 0


@dataclass
class _Grid:
    """The fields of supviz.toy.TrainedGrid that the experiment reads."""

    specs: list
    weights: list
    biases: list


def _superposed(n, m, rng):
    W = rng.normal(size=(n, m))
    return W / np.linalg.norm(W, axis=1, keepdims=True)


def test_orthogonal_cell_is_exact_and_controls_agree():
    # W = identity columns with m >= n: h keeps x exactly, so every exact measure is 1, and with
    # every feature represented x_rep is x.
    n = 12
    res = datapoint_cell(
        np.eye(n, 16), probability=0.3, n_points=300, methods=(), random_state=0, represented=np.ones(n, bool)
    )
    exact = res.metrics[("h", "exact")]
    assert exact["knn_recall"] == 1.0 and exact["trustworthiness"] == 1.0 and exact["continuity"] == 1.0
    assert exact["shepard_rho"] == pytest.approx(1.0, abs=1e-12)
    assert exact["false_neighbour_rate"] == res.metrics[("x", "exact")]["false_neighbour_rate"]
    assert res.metrics[("x_rep", "exact")] == res.metrics[("x", "exact")]
    # every feature represented: the codes of the represented features are h itself
    assert res.metrics[("h_rep", "exact")] == res.metrics[("h", "exact")]
    assert res.n_points == 300 and res.x.shape == (300, n) and res.h.shape == (300, 16)
    t = res.table()
    assert set(t["space"]) == {"x", "x_rep", "h", "h_rep"} and set(t["method"]) == {"exact"}


def test_superposition_costs_more_than_dropping():
    rng = np.random.default_rng(0)
    n, m = 30, 5
    W = _superposed(n, m, rng)
    res = datapoint_cell(
        W, probability=0.1, n_points=400, methods=(), random_state=1, represented=np.ones(n, bool), include_output=True
    )
    h = res.metrics[("h", "exact")]
    assert h["knn_recall"] < 0.6 and h["false_neighbour_rate"] > res.metrics[("x", "exact")]["false_neighbour_rate"]
    assert ("xhat", "exact") in res.metrics and res.xhat.shape == (400, n)
    # Dropping features only (orthogonal, first 5 kept) is the x_rep control of that model.
    res2 = datapoint_cell(
        np.eye(n, m),
        probability=0.1,
        n_points=400,
        methods=(),
        random_state=1,
        represented=np.r_[np.ones(m, bool), np.zeros(n - m, bool)],
    )
    np.testing.assert_array_equal(res2.x, res.x)  # same seed, same sample
    assert res2.metrics[("h", "exact")] == res2.metrics[("x_rep", "exact")]


def test_cell_errors():
    with pytest.raises(SupvizError, match="`methods` must be one of"):
        datapoint_cell(np.eye(4), probability=0.5, n_points=20, methods=("pca",))
    with pytest.raises(SupvizError, match="`represented` must be a bool mask of 4 entries"):
        datapoint_cell(np.eye(4), probability=0.5, n_points=20, methods=(), represented=np.ones(3, bool))
    with pytest.raises(SupvizError, match="`sample` has 5 features but `W` has 4 rows"):
        datapoint_cell(np.eye(4), probability=0.5, methods=(), sample=np.ones((10, 5)))
    res = datapoint_cell(
        np.eye(4),
        probability=0.5,
        methods=(),
        represented=np.ones(4, bool),
        sample=np.r_[np.zeros((2, 4)), np.random.default_rng(0).random((20, 4))],
    )
    assert res.n_dropped == 2 and res.n_points == 20


def _grid(rng, ms=(2, 6), ps=(1.0, 0.2)):
    specs, weights, biases = [], [], []
    for imp_name, imp in (("uniform", np.ones(8)), ("geometric:0.9", 0.9 ** np.arange(8))):
        for m in ms:
            for p in ps:
                specs.append(_Spec(8, m, p, imp_name, imp))
                W = _superposed(8, m, rng)
                W[-2:] *= 0.01  # two dropped features
                weights.append(W.astype(np.float32))
                biases.append(np.zeros(8, np.float32))
    return _Grid(specs, weights, biases)


def test_grid_table_is_tidy_and_deterministic_across_n_jobs():
    grid = _grid(np.random.default_rng(0))
    kw = dict(
        n_points=120,
        methods=("mds",),
        k=5,
        random_state=11,
        progress=False,
        mds_max_points=60,
        layout_spaces=("x", "x_rep", "h"),
        n_landmarks=40,
    )
    a = datapoint_grid(grid, n_jobs=1, **kw)
    b = datapoint_grid(grid, n_jobs=2, **kw)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.geometry, b.geometry)
    for ca, cb in zip(a.cells, b.cells):
        for key, lay in ca.layouts.items():
            np.testing.assert_array_equal(lay.embedding, cb.layouts[key].embedding)
    t = a.table
    assert len(t) == 8 * 3 * 2 + 8  # 8 cells x 3 pictured spaces x (exact, mds), and h_rep's exact measure
    assert t.groupby(["importance", "m", "p", "method", "space"]).size().max() == 1
    vals = t[[c for c in METRIC_COLUMNS if c != "false_neighbour_pairs"]].to_numpy()
    assert np.isfinite(vals).all() and (vals >= -1e-12).all() and (vals <= 1 + 1e-12).all()
    # Cells with the same p share their sample and the x control.
    x_rows = t[(t["space"] == "x") & (t["method"] == "mds")]
    assert x_rows.groupby("p")["knn_recall"].nunique().max() == 1
    np.testing.assert_array_equal(a.cell("uniform", 2, 0.2).x, a.cell("geometric:0.9", 6, 0.2).x)
    eff = superposition_effect(t)
    assert {"dropped", "superposition", "total"} <= set(eff.columns)
    row = eff[(eff["metric"] == "knn_recall") & (eff["method"] == "exact")].iloc[0]
    assert row["total"] == pytest.approx(row["dropped"] + row["superposition"])
    c = datapoint_grid(grid, n_jobs=1, **{**kw, "random_state": 12})
    assert not c.table["knn_recall"].equals(a.table["knn_recall"])


def test_sample_is_the_cell_distribution():
    s = sample_inputs(60, probability=0.05, n_points=500, random_state=0)
    res = datapoint_cell(np.eye(60, 3), probability=0.05, sample=s, methods=(), represented=np.ones(60, bool))
    assert res.n_dropped == s.n_dropped and res.n_drawn == s.n_drawn
    np.testing.assert_array_equal(res.labels.n_active, (s.x > 0).sum(axis=1))


def test_umap_and_tsne_cells_are_deterministic_across_n_jobs():
    rng = np.random.default_rng(3)
    W = _superposed(10, 3, rng)
    kw = dict(
        probability=0.3,
        n_points=80,
        methods=("umap", "tsne"),
        k=5,
        random_state=5,
        represented=np.ones(10, bool),
        layout_spaces=("x", "h"),
    )
    a = datapoint_cell(W, n_jobs=1, **kw)
    b = datapoint_cell(W, n_jobs=2, **kw)
    assert set(a.layouts) == {(s, m) for s in ("x", "h") for m in ("umap", "tsne")}
    assert ("x_rep", "umap") not in a.metrics and ("x_rep", "exact") in a.metrics
    for key, lay in a.layouts.items():
        np.testing.assert_array_equal(lay.embedding, b.layouts[key].embedding)
    pd.testing.assert_frame_equal(a.table(), b.table())
    # t-SNE's perplexity 30 is clamped to (N - 1) / 3 for 80 points, and says so.
    assert a.layouts[("h", "tsne")].params["perplexity"] == pytest.approx(79 / 3)


def test_represented_default_uses_the_strongest_of_the_most_important():
    # Uniform importance and a dropped row 0: the study's rule against row 0 would keep every
    # feature; against the strongest row it keeps the ones the model uses.
    W = np.zeros((6, 3))
    W[1:4] = np.eye(3)
    W[0] = W[4] = W[5] = 1e-3
    res = datapoint_cell(W, probability=0.5, n_points=40, methods=(), random_state=0)
    np.testing.assert_array_equal(res.represented, [False, True, True, True, False, False])
    imp = 0.9 ** np.arange(6)  # geometric: row 0 is the reference, as in the study
    res = datapoint_cell(W, probability=0.5, n_points=40, methods=(), random_state=0, importance=imp)
    assert res.represented.all()


def test_grid_instances_one_rule_for_a_cell_selection():
    # a repeated instance was taken (the same cell twice in the table): refused by name now, as every
    # cell selection is (core.validation.check_indices)
    grid = _grid(np.random.default_rng(0))
    for bad, match in (
        ([0, 3, 0], r"`instances` must name each instance once; got 0 more than once"),
        ([], r"`instances` must name at least one instance; got none"),
        ([99], r"`instances\[\]` must be an int in \[0, 7\]; got 99"),
    ):
        with pytest.raises(SupvizError, match=match):
            datapoint_grid(grid, instances=bad, n_points=50, methods=("mds",), progress=False)


def test_picture_seeds_add_runs_and_leave_the_first_one_unchanged():
    rng = np.random.default_rng(0)
    grid = _grid(rng, ms=(2,), ps=(0.2,))
    kw = dict(n_points=60, methods=("umap",), k=5, random_state=3, progress=False, n_jobs=1)
    one = datapoint_grid(grid, **kw)
    three = datapoint_grid(grid, picture_seeds=3, **kw)
    again = datapoint_grid(grid, picture_seeds=3, **kw)
    pd.testing.assert_frame_equal(three.table, again.table)  # equal seeds, equal runs
    # the first run is the same picture, measured the same, whatever the number of runs
    cols = list(METRIC_COLUMNS)
    pd.testing.assert_frame_equal(one.table[cols], three.table[cols])
    for a, b in zip(one.cells, three.cells):
        np.testing.assert_array_equal(a.layouts[("h", "umap")].embedding, b.layouts[("h", "umap")].embedding)
    pic = three.table[three.table["method"] == "umap"]
    assert (pic["picture_seeds"] == 3).all() and (
        three.table[three.table["method"] == "exact"]["picture_seeds"] == 1
    ).all()
    cell = three.cells[0]
    runs = cell.seed_recalls[("h", "umap")]
    assert runs.shape == (3,) and runs[0] == cell.metrics[("h", "umap")]["knn_recall"]
    assert len(set(runs.tolist())) > 1  # independent runs differ
    row = pic[(pic["space"] == "h") & (pic["importance"] == "uniform")].iloc[0]
    assert row["knn_recall_seed_mean"] == pytest.approx(runs.mean())
    assert row["knn_recall_seed_sd"] == pytest.approx(runs.std(ddof=1))
    # one run: no spread to state
    assert one.table["knn_recall_seed_sd"].isna().all()
    np.testing.assert_array_equal(one.table["knn_recall_seed_mean"], one.table["knn_recall"])
    with pytest.raises(SupvizError, match=r"`picture_seeds` must be an int >= 1; got 0"):
        datapoint_grid(grid, picture_seeds=0, **kw)


def test_rep_pictured_draws_x_rep_and_h_rep_only_in_the_cells_named():
    """x_rep and h_rep get pictures only in ``rep_pictured`` (the study: cells with superposition); the other cells
    keep their exact measures, and every picture drawn is the one the full grid draws (same seeds, same numbers)."""
    grid = _grid(np.random.default_rng(0), ms=(2,), ps=(1.0, 0.2))
    kw = dict(
        n_points=60,
        methods=("mds",),
        k=5,
        random_state=4,
        progress=False,
        n_jobs=1,
        layout_spaces=("x", "x_rep", "h", "h_rep"),
    )
    full = datapoint_grid(grid, **kw)
    some = datapoint_grid(grid, rep_pictured=[1, 3], **kw)
    pic = some.table[some.table["method"] == "mds"]
    rep = pic[pic["space"].isin(["x_rep", "h_rep"])]
    assert sorted(set(rep["instance"])) == [1, 3] and set(pic["space"]) == {"x", "x_rep", "h", "h_rep"}
    exact = some.table[some.table["method"] == "exact"]
    assert set(exact[exact["space"] == "h_rep"]["instance"]) == {0, 1, 2, 3}  # measured everywhere
    key = ["instance", "space", "method"]
    merged = some.table.merge(full.table, on=key, suffixes=("", "_full"))
    assert len(merged) == len(some.table)
    np.testing.assert_array_equal(merged["knn_recall"], merged["knn_recall_full"])
    with pytest.raises(SupvizError, match=r"`rep_pictured\[\]` must be an int in \[0, 3\]; got 9"):
        datapoint_grid(grid, rep_pictured=[9], **kw)


def test_rep_pictured_refuses_what_it_cannot_read_and_takes_none():
    grid = _grid(np.random.default_rng(0), ms=(2,), ps=(1.0, 0.2))
    kw = dict(n_points=40, methods=("mds",), k=5, random_state=4, progress=False, n_jobs=1)
    for bad, match in (
        (1, r"`rep_pictured` must be a sequence of instance indices; got 1"),
        ([3], r"`rep_pictured` must name instances that are pictured \(`instances`\); got \[3\]"),
    ):
        with pytest.raises(SupvizError, match=match):
            datapoint_grid(grid, instances=[0, 1], rep_pictured=bad, **kw)
    none = datapoint_grid(grid, rep_pictured=[], layout_spaces=("x", "x_rep", "h", "h_rep"), **kw)
    pic = none.table[none.table["method"] == "mds"]
    assert set(pic["space"]) == {"x", "h"}  # no cell draws x_rep or h_rep; their exact measures stay
    assert set(none.table[none.table["method"] == "exact"]["space"]) >= {"x_rep", "h_rep"}


def _two_rule_grid():
    """Two cells of one p (so one sample): in ``agree`` both rules keep features 0-5 (rows 6, 7 near 0); in
    ``differ`` row 6 has norm 0.3, below the norm rule's 0.5 but a mean |w| far above 1/20 of the strongest row's,
    so the norm rule keeps 0-5 and the study's rule 0-6."""
    rng = np.random.default_rng(5)
    agree, differ = _superposed(8, 3, rng), _superposed(8, 3, rng)
    agree[-2:] *= 0.001
    differ[-2] *= 0.3
    differ[-1] *= 0.001
    specs = [_Spec(8, 3, 0.2, "uniform", np.ones(8)), _Spec(8, 3, 0.2, "geometric:0.9", np.ones(8))]
    return _Grid(specs, [agree, differ], [np.zeros(8), np.zeros(8)])


def test_other_rule_pictures_are_new_only_where_the_represented_sets_differ(monkeypatch, tmp_path):
    import supviz.datapoints.experiment as ex
    from supviz.datapoints.storage import load_result, save_result

    calls = []
    real = ex.datapoint_layout

    def counted(points, method, **kw):
        calls.append((points.shape, method))
        return real(points, method, **kw)

    monkeypatch.setattr(ex, "datapoint_layout", counted)
    grid = _two_rule_grid()
    kw = dict(
        n_points=60,
        methods=("mds",),
        k=5,
        random_state=8,
        progress=False,
        n_jobs=1,
        layout_spaces=("x", "x_rep", "h", "h_rep"),
        represented_rule="norm",
        represented_threshold=0.5,
    )
    one = datapoint_grid(grid, **kw)
    n_one = len(calls)
    both = datapoint_grid(grid, other_rule=("mean_abs", 0.05), **kw)
    n_both = len(calls) - n_one
    # per method: x (shared), x_rep of 0-5 (shared by both cells, both rules where they keep 0-5), h and h_rep of
    # each cell; the study's rule adds x_rep of 0-6 and h_rep of 0-6 in `differ` only: 2 layouts
    assert n_one == 1 + 1 + 2 + 2
    assert n_both - n_one == 2
    agree, differ = both.cells
    np.testing.assert_array_equal(agree.other_represented, agree.represented)
    assert differ.represented.sum() == 6 and differ.other_represented.sum() == 7
    t = both.table
    cols = [c for c in t.columns if c != "rule"]
    for imp, same in (("uniform", True), ("geometric:0.9", False)):
        for space in ("x_rep", "h_rep"):
            for mth in ("mds",):
                rows = t[(t["importance"] == imp) & (t["space"] == space) & (t["method"] == mth)]
                assert sorted(rows["rule"]) == ["mean_abs", "norm"]
                a = rows[rows["rule"] == "norm"][cols].reset_index(drop=True)
                b = rows[rows["rule"] == "mean_abs"][cols].reset_index(drop=True)
                cell = agree if same else differ
                la, lb = cell.layouts[(space, mth)], cell.layouts[(ex.under_rule(space, "mean_abs"), mth)]
                if same:  # the same set: the same picture, reused (the same object), the same row
                    pd.testing.assert_frame_equal(a, b)
                    assert la is lb
                else:
                    assert int(b["n_represented"].iloc[0]) == 7 and not np.array_equal(la.embedding, lb.embedding)
    # the second rule's pictures only: no exact rows under it (its exact measures are the run's cells columns)
    assert (t[t["rule"] == "mean_abs"]["method"] != "exact").all()
    # the run's own rows are unchanged by the second rule, bit for bit
    pd.testing.assert_frame_equal(both.rule_table(), one.table)
    assert both.rule_table("mean_abs")["n_represented"].max() == 7 and set(one.table["rule"]) == {"", "norm"}
    with pytest.raises(SupvizError, match=r"`table` holds x_rep rows of two represented rules"):
        superposition_effect(t)
    superposition_effect(both.rule_table())
    # the cache folder keeps the second rule
    save_result(both, tmp_path)
    back = load_result(tmp_path)
    assert (back.rule, back.other_rule) == ("norm", "mean_abs")
    np.testing.assert_array_equal(back.cells[1].other_represented, differ.other_represented)
    assert back.cells[1].other_rule == "mean_abs"
    with pytest.raises(SupvizError, match=r"`other_rule` must name a rule other than `represented_rule`"):
        datapoint_grid(grid, other_rule=("norm", 0.5), **kw)
    with pytest.raises(SupvizError, match=r"`other_rule` must be a \(rule, threshold\) pair; got 'mean_abs'"):
        datapoint_grid(grid, other_rule="mean_abs", **kw)
