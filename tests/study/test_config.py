"""The study config: the shipped default, partial overlays, validation messages, round trips."""

import tomllib

import pytest

from supviz.cli import main
from supviz.errors import SupvizError
from supviz.study.config import StudyConfig, config_from_dict, default_toml_text, dump_config, load_config


def test_default_is_the_spec_study():
    cfg = load_config()
    assert cfg.toy.n_features == 60 and cfg.toy.hidden == (3, 5, 10, 20, 30, 40)
    assert [round(p, 3) for p in cfg.toy.probabilities] == [1.0, 0.549, 0.302, 0.166, 0.091, 0.05]
    assert cfg.toy.importances == ("uniform", "geometric:0.9")
    assert (cfg.toy.steps, cfg.toy.batch_size, cfg.toy.lr) == (10000, 1024, 1e-3)
    assert (cfg.represented.rule, cfg.represented.threshold) == ("norm", 0.5)
    # the study's rule stays an option, at its own default threshold
    from supviz.study.config import config_from_dict

    study = config_from_dict({"represented": {"rule": "mean_abs"}}).represented
    assert (study.rule, study.threshold) == ("mean_abs", 0.05) and study.other().rule == "norm"
    b = cfg.section("baselines")
    assert b.mds_n == [3, 4, 8, 20, 40, 60] and b.tsne_grid_perplexity == [float(i) for i in range(1, 16)]
    assert b.umap_n == [3, 4, 6, 10, 15, 20, 40, 60, 100, 200] and b.tsne_seeds == 5
    e = cfg.section("embeddings")
    assert (e.mds_type, e.umap_n_neighbors, e.umap_min_dist) == ("interval", 15, 1e-4)
    # the dataclass defaults and the shipped TOML agree
    assert StudyConfig().to_dict() == cfg.to_dict()
    # [toy] is a TrainConfig: its defaults are TrainConfig's (the study's recipe), bit for bit
    from supviz.toy import TrainConfig

    assert cfg.toy == TrainConfig()
    assert cfg.train_config() == TrainConfig(seed=cfg.derived_seed("toy-grid"))


def test_partial_file_overlays_the_default(tmp_path):
    f = tmp_path / "my.toml"
    f.write_text("seed = 7\n[toy]\nsteps = 50\nhidden = [3, 5]\n[baselines]\nmds_n = [3, 8]\n")
    cfg = load_config(f)
    assert (cfg.seed, cfg.toy.steps, cfg.toy.hidden) == (7, 50, (3, 5))
    assert cfg.toy.batch_size == 1024 and cfg.section("baselines").mds_n == [3, 8]


def test_dump_round_trips():
    cfg = load_config()
    cfg.toy = cfg.toy.replace(steps=123, schedule="cosine")
    again = config_from_dict(tomllib.loads(dump_config(cfg)))
    assert again.to_dict() == cfg.to_dict()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[toy]\nstepz = 3\n", r"`toy` has no key 'stepz'"),
        ("[nope]\na = 1\n", r"no table or key 'nope'"),
        ("[toy]\nsteps = 0\n", r"`toy.steps` must be an int >= 1; got 0"),
        (
            "[toy]\nimportances = ['heavy']\n",
            r"`toy.importances\[0\]` must be one of uniform, geometric:<r>, power:<k>",
        ),
        (
            "[toy]\nimportances = ['geometric:1.5']\n",
            r"`toy.importances\[0\]` geometric parameter must be a number in \(0, 1\]",
        ),
        ("[toy]\nseed = 3\n", r"`toy` has no key 'seed': the toy models' seed derives from the root `seed`"),
        ("[toy]\nwarmup_steps = 20\nsteps = 10\n", r"`toy.warmup_steps` must be <= `steps`"),
        (
            "[background]\na2_importance = 'power:0.5'\n",
            r"`background.a2_importance` power parameter must be a number >= 1",
        ),
        ("[represented]\nrule = 'max'\n", r"`represented.rule` must be one of 'mean_abs', 'norm'"),
        ("[embeddings]\nmds_type = 'spline'\n", r"`embeddings.mds_type` must be one of"),
        ("[baselines]\nmds_n = [2]\n", r"`baselines.mds_n\[0\]` must be an int >= 3; got 2"),
        ("[baselines]\ntsne_seeds = 0\n", r"`baselines.tsne_seeds` must be an int >= 1; got 0"),
        ("[figures]\nformats = ['gif']\n", r"`figures.formats\[0\]` must be one of"),
        ("seed = -1\n", r"`seed` must be an int >= 0"),
    ],
)
def test_bad_values_fail_with_one_line_messages(tmp_path, text, message):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(SupvizError, match=message):
        load_config(f)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(SupvizError, match="must be an existing TOML file"):
        load_config(tmp_path / "absent.toml")
    f = tmp_path / "broken.toml"
    f.write_text("[toy\n")
    with pytest.raises(SupvizError, match="is not valid TOML"):
        load_config(f)


def test_cli_config_default_prints_the_shipped_file(capsys, tmp_path):
    assert main(["config", "--default"]) == 0
    out = capsys.readouterr().out
    assert out == default_toml_text()
    f = tmp_path / "copy.toml"
    f.write_text(out)
    assert main(["config", str(f)]) == 0
    assert tomllib.loads(capsys.readouterr().out)["toy"]["steps"] == 10000
    f.write_text("[toy]\nsteps = -3\n")
    assert main(["config", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`toy.steps` must be an int >= 1" in err
