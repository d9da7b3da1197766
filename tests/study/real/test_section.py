"""Section F in the study: its [real] table is validated with the study config, and check_study refuses a
calibration without toy cells before anything runs."""

import pytest

from supviz.errors import SupvizError
from supviz.study.config import config_from_dict, load_config
from supviz.study.pipeline import check_study
from supviz.study.registry import get_section


def test_registered_with_its_table():
    section = get_section("real")
    assert section.config_key == "real" and section.needs_grid
    cfg = load_config()
    assert cfg.section("real").picture_width == 16 and "real" in cfg.to_dict()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"widths": [0]}, r"`real.widths\[0\]` must be an int >= 1; got 0"),
        ({"sweep_methods": ["pca"]}, r"`real.sweep_methods\[0\]` must be one of"),
        ({"nope": 1}, r"`real` has no key 'nope'"),
    ],
)
def test_bad_real_values_are_one_line_errors(table, message):
    with pytest.raises(SupvizError, match=message):
        config_from_dict({"real": table})


def test_a_calibration_table_that_misses_the_grid_is_no_error(tmp_path):
    """A user who changes `toy.hidden` keeps `real.calibration_hidden`'s default: the run is not refused, the
    calibration then uses every cell and says so (tests/real/test_experiment.py)."""
    check_study(
        config_from_dict({"toy": {"hidden": [2, 3]}, "real": {"calibration_hidden": [5, 10, 20]}}), out=tmp_path / "out"
    )
    assert not (tmp_path / "out").exists()
