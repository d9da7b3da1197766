"""The shared foundations: validation messages, seeds that flow, atomic writes, CLI error path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from supviz import SupvizError
from supviz.core.io import atomic_dir, atomic_path, atomic_write_json, atomic_write_text
from supviz.core.seeding import as_seed_sequence, child, int_seed, numpy_rng, spawn, torch_generator
from supviz.core.validation import check_array, check_choice, check_float, check_int, check_probability

# --- validation -------------------------------------------------------------------------------


def test_check_int_message_shape() -> None:
    with pytest.raises(SupvizError, match=r"^`n_hidden` must be an int >= 1; got 0\.$"):
        check_int("n_hidden", 0, min_value=1)
    with pytest.raises(SupvizError, match="must be an int"):
        check_int("n", True)
    with pytest.raises(SupvizError, match="must be an int"):
        check_int("n", 2.0)
    assert check_int("n", np.int64(3), min_value=1) == 3


@pytest.mark.parametrize("value", [0.0, -0.1, 1.5, float("nan"), float("inf")])
def test_check_probability_rejects(value: float) -> None:
    with pytest.raises(SupvizError, match=r"`p` must be a finite number in \(0.0, 1.0\]"):
        check_probability("p", value)


def test_check_probability_accepts_one() -> None:
    assert check_probability("p", 1) == 1.0
    assert check_float("lr", 1e-3, min_value=0.0, min_inclusive=False) == 1e-3


def test_check_choice() -> None:
    with pytest.raises(SupvizError, match="`method` must be one of 'mds', 'umap'; got 'pca'"):
        check_choice("method", "pca", ("mds", "umap"))


def test_check_array_rank_and_finite() -> None:
    with pytest.raises(SupvizError, match=r"rank 2 or 3; got shape \(4,\)"):
        check_array("W", np.zeros(4), ndim=(2, 3))
    with pytest.raises(SupvizError, match="1 NaN/inf"):
        check_array("W", [[1.0, np.nan]], ndim=2)
    with pytest.raises(SupvizError, match="numeric array"):
        check_array("W", [["a", "b"]])


# --- seeding ----------------------------------------------------------------------------------


def test_equal_seeds_equal_streams() -> None:
    a = numpy_rng(7).standard_normal(5)
    b = numpy_rng(7).standard_normal(5)
    np.testing.assert_array_equal(a, b)
    assert int_seed(7) == int_seed(7) and int_seed(7) != int_seed(8)
    assert 0 <= int_seed(123) < 2**31


def test_child_is_independent_of_sibling_count() -> None:
    # child(s, 3) must be the fourth spawned child whatever the count.
    assert child(5, 3).generate_state(2).tolist() == spawn(5, 10)[3].generate_state(2).tolist()
    assert child(5, 1, 2).generate_state(1)[0] != child(5, 2, 1).generate_state(1)[0]


def test_torch_generator_is_local() -> None:
    import torch

    before = torch.random.get_rng_state().clone()
    g1, g2 = torch_generator(3), torch_generator(3)
    assert torch.equal(torch.rand(4, generator=g1), torch.rand(4, generator=g2))
    assert torch.equal(before, torch.random.get_rng_state())


def test_bad_seed() -> None:
    with pytest.raises(SupvizError, match="`seed` must be"):
        as_seed_sequence(-1)
    with pytest.raises(SupvizError, match="`seed` must be"):
        as_seed_sequence("7")  # type: ignore[arg-type]


# --- atomic IO --------------------------------------------------------------------------------


def test_atomic_path_leaves_nothing_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a" / "x.json"
    atomic_write_json(target, {"a": np.float32(1.5), "b": np.arange(2)})
    assert target.read_text().startswith("{")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"


def test_atomic_files_get_ordinary_permissions(tmp_path: Path) -> None:
    import stat

    atomic_write_text(tmp_path / "f.txt", "x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o666 & ~mask
    with atomic_dir(tmp_path / "d"):
        pass
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o777 & ~mask


def test_atomic_dir(tmp_path: Path) -> None:
    dest = tmp_path / "run"
    with pytest.raises(RuntimeError):
        with atomic_dir(dest) as tmp:
            (tmp / "w.npz").write_bytes(b"x")
            raise RuntimeError
    assert not dest.exists()
    with atomic_dir(dest) as tmp:
        (tmp / "w.npz").write_bytes(b"x")
    assert (dest / "w.npz").read_bytes() == b"x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


# --- CLI --------------------------------------------------------------------------------------


def test_cli_help_and_version() -> None:
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-m", "supviz", "--help"], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and "reproduces the whole study" in " ".join(out.stdout.split())
    out = subprocess.run([sys.executable, "-m", "supviz", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("supviz ")


def test_cli_turns_supviz_error_into_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from supviz import cli

    def boom(args: object) -> int:
        raise SupvizError("`x` must be positive; got -1.")

    parser = cli.build_parser()
    real_parse = parser.parse_args

    def parse(argv: object = None) -> object:
        ns = real_parse([])
        ns.func = boom
        return ns

    monkeypatch.setattr(
        cli,
        "build_parser",
        lambda: type("P", (), {"parse_args": staticmethod(parse), "print_help": parser.print_help})(),
    )
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err == "supviz: error: `x` must be positive; got -1.\n"


def test_check_array_takes_torch_tensors_and_refuses_complex() -> None:
    import torch

    from supviz.core.validation import as_real_array

    p = torch.nn.Parameter(torch.tensor([[1.0, 2.0]], dtype=torch.float64))
    assert np.array_equal(check_array("X", p), [[1.0, 2.0]])  # detached, not a RuntimeError
    b = torch.tensor([[0.1, 3.0]]).to(torch.bfloat16)
    assert np.array_equal(check_array("X", b), b.float().numpy().astype(np.float64))
    for bad in (np.ones(3) + 1j, [1j, 2.0], torch.ones(2, dtype=torch.complex64)):
        with pytest.raises(SupvizError, match=r"^`X` must be real; got complex values"):
            as_real_array("X", bad)


def test_unit_scaled_is_exact_and_keeps_ties() -> None:
    from supviz.core.validation import unit_scaled

    for scale in (1e-300, 1.0, 3.0, 1e300):
        x = np.array([0.0, 1.0, -1.0, 0.25]) * scale
        y, e = unit_scaled(x)
        assert 0.5 <= np.abs(y).max() < 1.0 and np.array_equal(np.ldexp(y, e), x)
        assert y[1] == -y[2]
    z, e = unit_scaled(np.zeros(3))
    assert e == 0 and not z.any()


def test_check_keywords_names_the_argument_and_the_valid_ones() -> None:
    from supviz.core.validation import check_keywords

    check_keywords("f", {"a": 1}, ("a", "b"))
    with pytest.raises(SupvizError, match=r"^`zz` is not an argument of f\(\); valid keyword arguments: a, b\.$"):
        check_keywords("f", {"zz": 1}, ("b", "a"))


def test_sweep_removes_only_dead_writers_temporaries(tmp_path: Path) -> None:
    import time

    from supviz.core.io import sweep_temporaries

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".metrics.csv.pid{int(dead.stdout)}.k2j4_x.tmp"
    stale.write_text("half")
    live = tmp_path / f".report.html.pid{os.getpid()}.aa11.tmp"
    live.write_text("being written")
    old_untagged = tmp_path / ".weights.abcd1234.tmp"
    old_untagged.write_text("old supviz")
    os.utime(old_untagged, (time.time() - 7200, time.time() - 7200))
    mine = tmp_path / "notes.tmp"
    mine.write_text("a user's file")
    assert sweep_temporaries(tmp_path, untagged=False) == [stale]
    assert live.exists() and old_untagged.exists() and mine.exists()
    assert sweep_temporaries(tmp_path) == [old_untagged] and live.exists() and mine.exists()


def test_pct_never_prints_a_negative_zero():
    """A share that rounds to 0 read '-0%' in the first screen's loss split (-0.2% of h's loss on the short rows)."""
    from supviz.core.text import pct

    assert [pct(v) for v in (-0.002, -0.0, 0.0, 0.004, -0.016, 0.41, 1.0)] == [
        "0%",
        "0%",
        "0%",
        "0%",
        "-2%",
        "41%",
        "100%",
    ]
    assert pct(float("nan")) == "n/a"


def test_pcts_adding_up_round_by_the_largest_remainder():
    """The first screen's loss split adds up to 100% in print, not only before rounding (review 6 item 4)."""
    from supviz.core.text import pct, pcts_adding_up

    # rounded one by one: 34 + 34 + 33 = 101%; by the largest remainder: the .8 and one .6 round up
    shares = (0.336, 0.336, 0.328)
    assert sum(int(pct(v)[:-1]) for v in shares) == 101
    assert pcts_adding_up(shares) == ["34%", "33%", "33%"]
    # a negative part (h's short rows: a gain): 101 + 1 - 1 one by one; floored 100 + 0 - 2, and the two largest
    # remainders (0.7, 0.7; -1.4's is 0.6) round up
    assert pcts_adding_up((1.007, 0.007, -0.014)) == ["101%", "1%", "-2%"]
    # where rounding each adds up already, the two agree (the default run's uniform split: 69 + 28 + 4 - 1)
    split = (0.6941, 0.2763, 0.0423, -0.0127)
    assert pcts_adding_up(split) == [pct(v) for v in split] == ["69%", "28%", "4%", "-1%"]
    assert pcts_adding_up((0.5, float("nan"))) == ["50%", "n/a"]
