"""The whole experiment at a tiny size: tables, pictures, calibration, the conclusion, the cache codecs,
the figures; a user's activations."""

import math

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.real.config import RealConfig
from supviz.real.experiment import activations_report, digits_experiment
from supviz.real.measures import PICTURE_KEYS, SPACE_KEYS

TINY = dict(
    widths=[4, 8],
    autoencoder_widths=[4],
    replicates=2,
    picture_width=4,
    steps=30,
    sae_steps=30,
    sae_batch_size=64,
    methods=["mds"],
    sweep_methods=["mds"],
    calibration_hidden=[2, 3],
)


@pytest.fixture(scope="module")
def grid():
    from supviz.toy import TrainConfig, train_grid

    return train_grid(
        TrainConfig(
            n_features=8,
            hidden=(2, 3),
            probabilities=(0.5, 0.2, 0.1),
            importances=("uniform",),
            steps=100,
            batch_size=64,
            seed=0,
        ),
        progress=False,
    )


@pytest.fixture(scope="module")
def result(grid):
    return digits_experiment(RealConfig(**TINY), seed=3, grid=grid)


def test_tables_of_a_tiny_run(result):
    r = result
    assert len(r.models) == 6 and set(r.models["kind"]) == {"classifier", "autoencoder"}
    assert len(r.quality) == 3 and r.quality["d_sae"].tolist() == [8, 16, 8]
    # spaces: pixels + (hidden, codes) per layer; pictures: F1 rows + the sweep, deduplicated
    assert len(r.spaces) == 7 and set(SPACE_KEYS) <= set(r.spaces.columns)
    assert set(PICTURE_KEYS) <= set(r.pictures.columns)
    assert len(r.pictures) == len(r.pictures.drop_duplicates(["id", "method"])) == 7
    pix = r.spaces[r.spaces["space"] == "pixels"].iloc[0]
    # the pixels against themselves: 1 but for the exact ties of digit pixels (multiples of 1/16), which the
    # random-tie-order rule breaks independently in each space (tests/metrics/test_ties.py has exact values)
    for name in ("trustworthiness_pixels", "continuity_pixels"):
        assert 0.9999 < pix[name] <= 1.0, (name, pix[name])
    assert r.f1["rows"] == [
        "pixels",
        "classifier w=4 hidden",
        "classifier w=4 codes (relu_l1)",
        "autoencoder w=4 hidden",
        "autoencoder w=4 codes (relu_l1)",
    ]
    assert all(e.shape == (360, 2) for e in r.f1["embeddings"].values())
    # calibration on the 6 toy cells; readings for every layer and calibrated measure
    assert len(r.calibration) == 6 and {"mmcs", "n_represented"} <= set(r.calibration.columns)
    assert set(r.correlations["target"]) == {"mmcs", "n_represented"}
    assert len(r.readings) == 3 * 7
    bad = r.readings[r.readings["estimated_mmcs"].isna()]
    assert (bad["reason"] != "").all()
    assert set(r.timings) == {"models", "saes", "calibration", "layouts", "measures"}


def test_same_seed_same_result(result, grid):
    again = digits_experiment(RealConfig(**TINY), seed=3, grid=grid)
    for name in ("models", "quality", "spaces", "pictures", "calibration"):
        a, b = getattr(result, name), getattr(again, name)
        assert a.equals(b), name


def test_conclusion_and_section_rows(result):
    from supviz.study.real.findings import conclusion
    from supviz.study.real.section import _rows, _tables

    text, findings = conclusion(result)
    assert "Held-out accuracy of the classifier" in text and "effective feature count" in text
    assert "Does the SAE picture lie less?" in text
    from supviz.report.html import VERDICT_CLASS  # the report's vocabulary of verdicts

    assert {f.verdict for f in findings} <= set(VERDICT_CLASS)
    assert any("SAE codes" in f.claim for f in findings)
    from supviz.study.tables import build_table

    rows = _rows(result)
    assert {r["table"] for r in rows} == {"layers", "models", "saes", "coordinates"}  # one table per kind
    coords = build_table([r for r in rows if r["table"] == "coordinates"], kind="coordinates")
    n = len(result.f1["labels"])
    assert len(coords) == n * len(result.f1["trust"]) and set(coords["figure"]) == {"F1_pictures"}
    assert coords["trust"].between(0, 1).all()  # every F1 picture has enough points for k
    layers = build_table([r for r in rows if r["table"] == "layers"], kind="layers")
    models = build_table([r for r in rows if r["table"] == "models"], kind="models")
    saes = build_table([r for r in rows if r["table"] == "saes"], kind="saes")
    # 7 spaces measured as they are, 7 pictures of them
    assert (layers["method"] == "exact").sum() == 7 and (layers["method"] != "exact").sum() == 7
    # one row per trained configuration: 2 classifier widths, 1 autoencoder width
    assert models.groupby("kind").size().to_dict() == {"classifier": 2, "autoencoder": 1}
    clf = models[models["kind"] == "classifier"]
    assert (clf["test_accuracy_min"] <= clf["test_accuracy"]).all() and (clf["replicates"] == 2).all()
    # the layers' SAEs (2 classifier widths, 1 autoencoder width) and the 6 toy cells of the calibration
    assert saes.groupby(["experiment", "architecture"]).size().to_dict() == {
        ("F_calibration", "relu_l1"): 6,
        ("F_layer", "relu_l1"): 3,
    }
    sae = saes[saes["experiment"] == "F_layer"]
    assert all(reason for v, reason in zip(sae["effective_features"], sae["nan_reasons"]) if math.isnan(v))
    assert _tables(result)


def test_result_round_trips_through_the_cache_codecs(result, tmp_path):
    from supviz.runtime.codecs import read_value, write_value

    folder = tmp_path / "entry"
    folder.mkdir()
    write_value(result, folder)
    back = read_value(folder)
    assert type(back) is type(result)
    for name in ("models", "quality", "spaces", "pictures", "calibration", "correlations", "readings"):
        assert getattr(back, name).equals(getattr(result, name)), name
    assert np.array_equal(back.f1["labels"], result.f1["labels"])
    assert all(np.array_equal(back.f1["embeddings"][k], v) for k, v in result.f1["embeddings"].items())
    assert not list(tmp_path.rglob("*.pkl"))


def test_figures_draw(result):
    from supviz.real import plots
    from supviz.real.calibration import CALIBRATED

    f1 = plots.pictures_figure(result.f1, result.pictures)
    assert len(f1.axes) == 5
    f2 = plots.sweep_figure(
        result.models, result.quality, result.spaces, result.pictures, architecture="relu_l1", methods=["mds"]
    )
    assert len(f2.axes) == 6
    from supviz.study.real.findings import calibration_of

    ranking, count, _ = calibration_of(result, "relu_l1")
    f3 = plots.calibration_figure(
        result.calibration, ranking, result.quality, architecture="relu_l1", measures=CALIBRATED, count=count
    )
    assert "within m" in f3.axes[0].get_title() and "pooled over m" in f3.axes[0].get_title()
    assert sum(ax.get_visible() for ax in f3.axes) == len(CALIBRATED) + 1
    # y is MMCS above chance (review 5 item 7): each cell's point sits at mmcs - chance_mmcs, with the chance line at 0
    ax = f3.axes[0]
    assert ax.get_ylabel() == "true MMCS − chance (toy cells)"
    cal = result.calibration[result.calibration["architecture"] == "relu_l1"]
    ys = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])
    np.testing.assert_allclose(np.sort(ys), np.sort((cal["mmcs"] - cal["chance_mmcs"]).to_numpy()), rtol=1e-12)
    assert any(line.get_ydata()[0] == 0.0 and line.get_linestyle() == ":" for line in ax.get_lines())


def test_no_grid_no_calibration_and_a_table_that_misses_the_grid(grid):
    cfg = RealConfig(**{**TINY, "widths": [4], "autoencoder_widths": [4], "replicates": 1})
    r = digits_experiment(cfg, seed=0)
    assert r.calibration.empty and r.readings.empty
    assert any("no toy grid" in n for n in r.notes)
    cfg = RealConfig(**{**TINY, "widths": [4], "autoencoder_widths": [4], "replicates": 1, "calibration_hidden": [7]})
    r = digits_experiment(cfg, seed=0, grid=grid)
    assert len(r.calibration) == len(grid) == 6
    assert any("no toy cell has m in `real.calibration_hidden` [7]" in n for n in r.notes)


def test_activations_report_with_and_without_labels():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 20)
    H = (rng.normal(size=(60, 5)) + 3.0 * y[:, None]).astype(np.float32)
    cfg = RealConfig(methods=["mds"], sae_steps=30, sae_batch_size=32)
    rep = activations_report(H, y, reference=np.c_[H, H], config=cfg, seed=0)
    assert len(rep.quality) == 1 and "in-sample" in rep.quality["notes"][0]
    assert list(rep.spaces["space"]) == ["reference", "activations", "codes (relu_l1)"]
    assert rep.spaces.set_index("space").loc["activations", "knn_accuracy"] > 0.9  # three separated blobs
    assert set(rep.layouts) == {"reference|mds", "activations|mds", "codes (relu_l1)|mds"}
    bare = activations_report(H, config=cfg, seed=0)
    row = bare.pictures.iloc[0]
    assert math.isnan(row["knn_accuracy"]) and "no labels given" in row["notes"]
    assert not math.isnan(row["trustworthiness"])
    with pytest.raises(SupvizError, match="N >= 4"):
        activations_report(H[:3], config=cfg)
    with pytest.raises(SupvizError, match="one label per row"):
        activations_report(H, y[:-1], config=cfg)
    with pytest.raises(SupvizError, match="one row per activation row"):
        activations_report(H, reference=H[:-1], config=cfg)


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        ({"widths": []}, r"`real.widths` must be a non-empty list"),
        ({"widths": [4, 4]}, r"`real.widths` must not repeat"),
        ({"picture_width": 5}, r"`real.picture_width` must be one of `real.widths`"),
        ({"architectures": ["gated"]}, r"`real.architectures\[0\]` must be one of"),
        ({"methods": ["pca"]}, r"`real.methods\[0\]` must be one of"),
        ({"sae_seeds": 1}, r"`real.sae_seeds` must be an int >= 2"),
        ({"test_fraction": 0.9}, r"`real.test_fraction`"),
        ({"full": "yes"}, r"`real.full` must be true or false"),
        ({"architectures": ["topk"], "sae_options": {"topk": {"k": 9}}}, r"fewer than topk's k = 9"),
        ({"sae_options": {"relu_l1": {"k": 2}}}, r"`real.sae_options.relu_l1`: `k` applies to topk"),
        ({"sae_options": {"nope": {}}}, r"`real.sae_options key` must be one of"),
    ],
)
def test_config_refuses_bad_values(kw, msg):
    with pytest.raises(SupvizError, match=msg):
        RealConfig(**kw)


def test_full_sweep_resolves():
    full = RealConfig(full=True).resolved()
    assert full.widths[0] == 4 and full.widths[-1] == 64 and len(full.architectures) == 5
    assert full.sweep_methods == ["mds", "umap", "tsne"] and full.calibration_hidden == []
    assert RealConfig().resolved() == RealConfig()


def test_models_and_calibration_side_by_side_equal_one_after_another(grid, result):
    # with a dispatcher of two or more workers in force (the study's), the models-and-SAEs part and
    # the calibration part run as two tasks side by side: the same tables, bit for bit
    import pandas as pd

    from supviz.runtime.dispatch import LocalDispatcher, use

    with use(LocalDispatcher(2)):
        again = digits_experiment(RealConfig(**TINY), seed=3, grid=grid)
    for name in ("models", "quality", "spaces", "pictures", "calibration", "correlations", "readings"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(result, name), check_exact=True)
    assert set(again.timings) == set(result.timings)


def test_psi_of_a_signed_layer_is_judged_against_its_plus_minus_pairs():
    """An SAE on the autoencoder's signed h needs a +/- latent pair per direction: psi up to 2 with no superposition."""
    import pandas as pd

    from supviz.real.measures import SIGNED_PAIR
    from supviz.study.real.findings import above_psi_bound

    q = pd.DataFrame(
        {
            "kind": ["autoencoder", "autoencoder", "classifier", "classifier"],
            "width": [4, 8, 4, 8],
            "superposition_ratio": [1.8, SIGNED_PAIR + 0.3, 1.2, 0.9],
        }
    )
    above = above_psi_bound(q)
    assert list(zip(above["kind"], above["width"])) == [("autoencoder", 8), ("classifier", 4)]


def test_f1_pictures_hover_each_digits_trust():
    """F1's interactive version: each point's hover carries its trust, pointwise_trust of the picture against the
    space it pictures (the same numbers the coordinates table exports); undefined trust says why."""
    import pandas as pd

    from supviz.dr import mds_layout
    from supviz.metrics.pointwise import pointwise_trust
    from supviz.real import plots
    from supviz.real.experiment import _point_trust

    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 6))
    lay = mds_layout(X, random_state=0)
    f1 = {
        "labels": rng.integers(0, 3, size=40),
        "rows": ["a"],
        "titles": ["space a"],
        "embeddings": {"a|mds": lay.embedding},
        "trust": {"a|mds": _point_trust(X, lay, 5)},
        "methods": ["mds"],
    }
    pictures = pd.DataFrame(columns=["id", "method", "knn_accuracy", "trustworthiness", "continuity"])
    want = pointwise_trust(X, lay, k=5).trust
    (panel,) = plots.pictures_panels(f1, pictures)
    np.testing.assert_array_equal(panel.hover["trust"], want)
    fig = plots.pictures_interactive(f1, pictures)
    trace = next(t for t in fig.data if t.customdata is not None and "trust" in t.hovertemplate)
    assert [row[2] for row in trace.customdata] == [f"{v:.3g}" for v in want]
    small = _point_trust(X[:6], lay.embedding[:6], 5)
    assert (
        small["reason"] == "k = 5 needs at least k + 2 = 7 points; got 6" and np.isnan(small["columns"]["trust"]).all()
    )


def test_section_f_captions_and_labels_say_what_psi_can_and_cannot_show(result):
    """F2 used to caption F above the dotted line as 'more features than dimensions (superposition)' while the text
    said a signed layer reaches psi = 2 with none, and labelled its SAE 'relu_l1'; F3 ranked by the pooled rho."""
    from types import SimpleNamespace

    from supviz.study.real.section import RealSection

    figures = {}

    def figure(fig_id, **kw):
        figures[fig_id] = kw
        return SimpleNamespace(id=fig_id)

    out = RealSection().render(SimpleNamespace(figure=figure), result)
    f2 = figures["F2_width_sweep"]["caption"]
    assert "(superposition)" not in f2 and "with no superposition at all" in f2 and "cannot show" in f2
    fig = figures["F2_width_sweep"]["static"]()
    panel_b = fig.axes[1]
    words = [panel_b.get_title()] + [t.get_text() for t in panel_b.get_legend().get_texts()]
    words += [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert not any("relu_l1" in w for w in words) and "(ReLU + L1 SAE)" in panel_b.get_title()
    assert any(w.startswith("F = 2 w") for w in words)  # the signed layer's bound, drawn
    f3 = figures["F3_calibration"]["caption"]
    assert "inside each hidden size m" in f3 and "within each m" in f3
    # 3 toy cells per m here: too few for a rank correlation inside any m, so no measure is named best (the pooled
    # rho over 6 cells would have named one)
    calib = out.intro.split("Which no-ground-truth")[1]
    assert "no measure has a defined rank correlation with the true MMCS inside any hidden size m" in calib
    assert "best" not in calib and "p = " not in calib
