"""TrainConfig: the study's defaults, one checked place for every parameter, TOML, seeds per cell."""

import math

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.toy import TrainConfig, feature_probabilities, importance_curve
from supviz.toy.config import field_docs


def test_defaults_are_the_study_grid():
    c = TrainConfig()
    assert c.n_features == 60
    assert c.hidden == (3, 5, 10, 20, 30, 40)
    np.testing.assert_allclose(
        c.probabilities, [1, 0.5492802716530588, 0.30170881682725814, 0.1657227008669993, 0.091028210151304, 0.05]
    )
    assert c.importances == ("uniform", "geometric:0.9")
    assert (c.steps, c.batch_size, c.lr, c.weight_decay, c.schedule) == (10_000, 1024, 1e-3, 0.01, "constant")
    assert c.n_instances == 72 and len(c.instances()) == 72


def test_instances_order_names_and_seeds():
    c = TrainConfig(n_features=4, hidden=[1, 2], probabilities=[1.0, 0.1], importances=["uniform", [1, 2, 3, 4]])
    specs = c.instances()
    assert [(s.importance_name, s.n_hidden, s.probability) for s in specs][:3] == [
        ("uniform", 1, 1.0),
        ("uniform", 1, 0.1),
        ("uniform", 2, 1.0),
    ]
    assert specs[-1].importance_name == "explicit:1"
    np.testing.assert_array_equal(specs[-1].importance, [1, 2, 3, 4])
    assert len({s.seed for s in specs}) == len(specs)
    # a cell's seed depends on its place in the grid, not on the grid's size
    bigger = TrainConfig(n_features=4, hidden=[1, 2, 3], probabilities=[1.0, 0.1, 0.01], importances=["uniform"])
    assert bigger.instances()[0].seed == specs[0].seed
    assert TrainConfig(seed=1).instances()[0].seed != TrainConfig(seed=0).instances()[0].seed


def test_hidden_at_least_features_is_valid():
    c = TrainConfig(n_features=5, hidden=[5, 8])
    assert c.hidden == (5, 8)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hidden": [0]}, r"`hidden\[0\]` must be an int >= 1; got 0\."),
        ({"hidden": []}, r"`hidden` must be a non-empty list"),
        ({"hidden": [3, 3]}, r"`hidden` must not repeat a value; got 3 twice"),
        ({"probabilities": [0.0]}, r"`probabilities\[0\]` must be a finite number in \(0.0, 1.0\]; got 0.0"),
        ({"probabilities": [1.5]}, r"`probabilities\[0\]` must be a finite number in \(0.0, 1.0\]; got 1.5"),
        ({"probabilities": [float("nan")]}, r"`probabilities\[0\]` must be a finite number"),
        ({"importances": [[1.0] * 59 + [-0.5]]}, r"`importances\[0\]` must be non-negative; got -0.5 at feature 59"),
        ({"importances": [[1.0] * 59 + [math.nan]]}, r"`importances\[0\]` must hold only finite values"),
        ({"importances": [[1.0, 2.0]]}, r"one entry per feature \(n_features = 60\); got 2"),
        ({"importances": ["geometric:1.5"]}, r"geometric parameter must be a number in \(0, 1\]"),
        (
            {"importances": ["zipf"]},
            r"`importances\[0\]` must be one of uniform, geometric:<r>, power:<k> or a list of numbers; got 'zipf'\.",
        ),
        ({"lr": float("nan")}, r"`lr` must be a finite number"),
        ({"steps": 0}, r"`steps` must be an int >= 1; got 0\."),
        ({"schedule": "step"}, r"`schedule` must be one of 'constant', 'linear', 'cosine'; got 'step'\."),
        ({"init": "kaiming"}, r"`init` must be one of 'xavier', 'reference'"),
        ({"device": "tpu"}, r"`device` must be 'cpu' or 'cuda\[:N\]'; got 'tpu'\."),
        ({"warmup_steps": 20, "steps": 10}, r"`warmup_steps` must be <= `steps`; got warmup_steps=20, steps=10\."),
        ({"engine": "numba", "device": "cuda"}, r"runs on the CPU only"),
        ({"betas": [0.9]}, r"`betas` must be two numbers"),
        ({"seed": -1}, r"`seed` must be an int >= 0"),
    ],
)
def test_bad_values_raise_one_line(kwargs, match):
    with pytest.raises(SupvizError, match=match) as info:
        TrainConfig(**kwargs)
    assert "\n" not in str(info.value)


def test_toml_round_trip_and_train_table(tmp_path):
    c = TrainConfig(n_features=8, hidden=[2], probabilities=[0.5], importances=["power:20", [1.0] * 8], steps=7)
    import tomli_w

    f = tmp_path / "c.toml"
    f.write_text(tomli_w.dumps(c.to_dict()))
    assert TrainConfig.from_toml(f) == c
    g = tmp_path / "g.toml"
    g.write_text("[train]\nsteps = 5\nhidden = [1, 2]\n")
    assert TrainConfig.from_toml(g).hidden == (1, 2)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("steps = ", r"could not read .* as TOML"),
        ("stepz = 3", r"has no key 'stepz'"),
        ("steps = 'many'", r"`steps` must be an int"),
        ("[train]\nsteps = 3\n[other]\nx = 1", r"put every setting in the \[train\] table"),
    ],
)
def test_bad_toml(tmp_path, text, match):
    f = tmp_path / "c.toml"
    f.write_text(text)
    with pytest.raises(SupvizError, match=match):
        TrainConfig.from_toml(f)


def test_missing_toml(tmp_path):
    with pytest.raises(SupvizError, match=r"`--config` must be an existing TOML file"):
        TrainConfig.from_toml(tmp_path / "nope.toml")


def test_every_field_has_a_docstring():
    import dataclasses

    docs = field_docs(TrainConfig)
    assert {f.name for f in dataclasses.fields(TrainConfig)} == set(docs)
    assert all(len(d) > 10 for d in docs.values())


def test_importance_curves():
    np.testing.assert_array_equal(importance_curve("uniform", 3), [1, 1, 1])
    np.testing.assert_allclose(importance_curve("geometric:0.9", 4), 0.9 ** np.arange(4))
    np.testing.assert_allclose(importance_curve("power:20", 60), 20 ** -np.linspace(0, 1, 60))
    assert importance_curve("power:20", 60)[-1] == pytest.approx(1 / 20)
    np.testing.assert_array_equal(importance_curve([3, 2, 1], 3), [3, 2, 1])
    with pytest.raises(SupvizError, match="non-negative"):
        importance_curve([1, -1], 2)


def test_the_study_variant_label_is_short_and_its_note_says_both_its_code_and_its_text():
    from supviz.toy.importance import variant_label, variant_note

    # the study's code used 0.9^i (0.9^59 = 0.002); its text says "between 1 and 1/20, spaced exponentially" (power:20,
    # about 0.95^i over 60 features): the reader is told both, once; the label is short (it is repeated in every
    # caption) and the explanation is variant_note

    assert variant_label("geometric:0.9") == "importance 0.9^i"
    note = variant_note("geometric:0.9")
    assert "study's code" in note and "1 to 1/20" in note and variant_note("uniform") == ""
    assert 0.9**59 < 0.003 and importance_curve("power:20", 60)[1] == pytest.approx(0.95, abs=0.002)
    assert variant_label("uniform") == "uniform importance"
    # every named curve in the reader's words, never its config spelling (the A2 caption said "geometric:0.7")
    assert variant_label("geometric:0.7") == "importance 0.7^i"
    assert variant_label("power:20") == "importance from 1 to 1/20, spaced exponentially"
    assert [variant_label(v, short=True) for v in ("geometric:0.9", "uniform", "geometric:0.7", "power:20")] == [
        "0.9^i",
        "uniform",
        "0.7^i",
        "power:20",
    ]


def test_feature_probabilities():
    np.testing.assert_allclose(feature_probabilities(), [1, 0.549280, 0.301709, 0.165723, 0.091028, 0.05], rtol=1e-5)
    np.testing.assert_array_equal(feature_probabilities(1), [1.0])
    with pytest.raises(SupvizError, match=r"`count` must be an int >= 1; got 0"):
        feature_probabilities(0)
