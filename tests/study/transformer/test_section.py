"""The transformer section's config: off by default, its keys checked by `supviz config` before anything is written."""

import subprocess
import sys

import pytest

from supviz.errors import SupvizError
from supviz.study.config import config_from_dict, load_config
from supviz.study.pipeline import check_study
from supviz.study.registry import get_section


def test_off_by_default_so_the_default_run_does_not_grow():
    cfg = load_config()
    section = get_section("transformer")
    assert section.config_key == "transformer" and not section.needs_grid
    assert cfg.section("transformer").enabled is False and not section.active(cfg)
    assert section.active(config_from_dict({"transformer": {"enabled": True}}))


def test_text_config_carries_the_table():
    t = config_from_dict({"transformer": {"sentences": 30, "layers": [1], "methods": ["mds"], "k": 4}})
    tc = t.section("transformer").text_config()
    assert (tc.n_sentences, tc.layers, tc.methods, tc.k) == (30, [1], ["mds"], 4)
    assert config_from_dict({}).section("transformer").text_config().layers is None  # [] = 0, L // 2, L


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"enabled": "yes"}, r"`transformer.enabled` must be true or false; got 'yes'"),
        ({"sentences": 3}, r"`transformer.sentences` must be an int >= 8; got 3"),
        ({"sentences": 10, "k": 10}, r"`transformer.sentences` must be an int >= 12; got 10"),
        ({"methods": ["pca"]}, r"`transformer.methods\[0\]` must be one of"),
        ({"methods": ["mds", "mds"]}, r"`transformer.methods` must be a non-empty list without repeats"),
        ({"layers": "some"}, r"`transformer.layers` must be a list of ints, \[\] or 'all'; got 'some'"),
        ({"layers": [-1]}, r"`transformer.layers\[0\]` must be an int >= 0; got -1"),
        ({"architecture": "nope"}, r"`transformer.architecture` must be one of"),
        ({"folds": 1}, r"`transformer.folds` must be an int >= 2; got 1"),
        ({"sae_expansion": 0}, r"`transformer.sae_expansion` must be"),
        ({"nope": 1}, r"`transformer` has no key 'nope'"),
    ],
)
def test_bad_values_are_one_line_errors(table, message):
    with pytest.raises(SupvizError, match=message):
        config_from_dict({"transformer": table})


def test_check_refuses_a_model_folder_and_layers_before_anything_is_written(tmp_path):
    folder = tmp_path / "notamodel"
    folder.mkdir()
    cfg = config_from_dict({"transformer": {"enabled": True, "model": str(folder)}})
    with pytest.raises(SupvizError, match=r"`transformer.model` .* is not a Hugging Face model folder"):
        check_study(cfg, out=tmp_path / "out", sections=[get_section("transformer")])
    deep = config_from_dict({"transformer": {"enabled": True, "layers": [0, 99]}})
    with pytest.raises(SupvizError, match=r"`transformer.layers` must be in 0\.\.6 for this model; got 99"):
        check_study(deep, out=tmp_path / "out", sections=[get_section("transformer")])
    big = config_from_dict({"transformer": {"enabled": True, "sentences": 10**8}})
    with pytest.raises(SupvizError, match=r"`transformer.sentences`"):
        check_study(big, out=tmp_path / "out", sections=[get_section("transformer")])
    assert not (tmp_path / "out").exists()


def test_supviz_config_refuses_a_bad_value_in_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[transformer]\nenabled = true\nmethods = ['pca']\n")
    proc = subprocess.run(
        [sys.executable, "-m", "supviz", "config", str(bad)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "`transformer.methods[0]` must be one of" in proc.stderr
