"""One catalogue of bad inputs, fed to every subcommand: exit status 2, one line on stderr, no
traceback, nothing created, nothing computed.

To cover a new subcommand, add a line to ``SLOTS``: where it takes a file and where it writes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from supviz.cli import main

# -- the catalogue ------------------------------------------------------------------------------


def _truncated_npz(tmp: Path) -> Path:
    import io

    buf = io.BytesIO()
    np.savez(buf, W=np.ones((3, 6, 2)))
    data = buf.getvalue()
    p = tmp / "truncated.npz"
    p.write_bytes(data[: len(data) // 2])
    return p


def _pickled_npy(tmp: Path) -> Path:
    p = tmp / "pickled.npy"
    np.save(p, np.array([{"W": 1}], dtype=object), allow_pickle=True)
    return p


def _nan_npz(tmp: Path) -> Path:
    p = tmp / "nan.npz"
    W = np.ones((2, 6, 2))
    W[0, 1, 1] = np.nan
    np.savez(p, W=W)
    return p


def _pt(tmp: Path) -> Path:
    import torch

    p = tmp / "weights.pt"
    torch.save({"W": torch.ones(6, 2)}, p)
    return p


def _loop(tmp: Path) -> Path:
    p = tmp / "loop.npz"
    p.symlink_to(p)
    return p


def _folder(tmp: Path) -> Path:
    p = tmp / "folder.npz"
    p.mkdir()
    (p / "x.txt").write_text("x")
    return p


def _ragged_study_npz(tmp: Path) -> Path:
    # the study's key rule with 6 probabilities for m = 3 and 5 for m = 5: not one grid (issue 9 follow-up, 8)
    p = tmp / "ragged.npz"
    rng = np.random.default_rng(0)
    np.savez(p, **{"60to3": rng.normal(size=(6, 60, 3)), "60to5": rng.normal(size=(5, 60, 5))})
    return p


def _text(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        p = tmp / name
        p.write_bytes(data)
        return p

    return make


#: Files no subcommand may accept, wherever it takes a file (config, weights, a path to inspect).
BAD_FILES: dict[str, Callable[[Path], Path]] = {
    "missing": lambda tmp: tmp / "absent.npz",
    "folder": _folder,
    "symlink-loop": _loop,
    "truncated-npz": _truncated_npz,
    "pickled-npy": _pickled_npy,
    "nan-npz": _nan_npz,
    "torch-pt": _pt,
    "not-utf8": _text("latin1.toml", "[toy]\nsteps = 5 # d\xe9j\xe0\n".encode("latin-1")),
    "not-toml": _text("broken.toml", b"[toy\nsteps = = 3\n"),
    "importance-geometric-1.5": _text("geo.toml", b'[toy]\nimportances = ["geometric:1.5"]\n'),
    "toy-steps-0": _text("steps.toml", b"[toy]\nsteps = 0\n"),
    "unknown-table": _text("nope.toml", b"[nope]\na = 1\n"),
    "recovery-architecture": _text("arch.toml", b'[recovery]\narchitectures = ["sparse_coding"]\n'),
    "recovery-steps-0": _text("sae-steps.toml", b"[recovery]\nsteps = 0\n"),
    # issue 9 follow-up (notes/break89.md): settings `supviz config` called valid and `run` failed on late
    "weights-file-int": _text("w5.toml", b"[weights]\nfile = 5\n"),
    "cache-dir-int": _text("c5.toml", b"[run]\ncache_dir = 5\n"),
    "device-not-here": _text("cuda.toml", b'[toy]\ndevice = "cuda:999"\nengine = "torch"\n'),
    "tsne-perplexity-above-limit": _text("perp.toml", b"[baselines]\ntsne_grid_perplexity = [100]\n"),
    "tsne-grid-n-too-small": _text("gridn.toml", b"[baselines]\ntsne_grid_n = 4\n"),
    "ragged-study-npz": _ragged_study_npz,
}


def _file(tmp: Path) -> Path:
    p = tmp / "a-file"
    p.write_text("x")
    return p


def _non_run_folder(tmp: Path) -> Path:
    p = tmp / "mine"
    p.mkdir()
    (p / "thesis.tex").write_text("my own work")
    return p


#: Output folders no subcommand may write to.
BAD_OUTS: dict[str, Callable[[Path], str | Path]] = {
    "a-file": _file,
    "under-a-file": lambda tmp: _file(tmp) / "run",
    "proc": lambda tmp: "/proc/supviz-test/run",
    "non-empty-non-run": _non_run_folder,
    "dangling-link": lambda tmp: _link(tmp, "gone"),
}


def _link(tmp: Path, target: str) -> Path:
    p = tmp / "link"
    p.symlink_to(tmp / target)
    return p


TRAIN_TINY = [
    "--n-features",
    "6",
    "--hidden",
    "2",
    "--probabilities",
    "0.5",
    "--steps",
    "4",
    "--batch-size",
    "8",
    "--quiet",
]

#: Per subcommand: how it takes a file ("{}" is the file) and how it takes an output folder ("{}");
#: "{ok}" is a valid [n, m] array file (weights, activations) beside either.
#: A new subcommand adds its line here.
SLOTS: dict[str, dict[str, list[list[str]]]] = {
    "run": {
        "file": [["--config", "{}", "--out", "out"], ["--weights", "{}", "--out", "out"]],
        "out": [["--out", "{}"]],
    },
    "train": {"file": [["--config", "{}", *TRAIN_TINY, "--out", "out"]], "out": [[*TRAIN_TINY, "--out", "{}"]]},
    "inspect": {"file": [["{}"]], "out": []},
    "config": {"file": [["{}"]], "out": []},
    "sae": {
        "file": [["{}", "--steps", "2", "--out", "out"], ["{}", "--weights", "--steps", "2", "--out", "out"]],
        "out": [["{ok}", "--weights", "--probability", "0.1", "--steps", "2", "--out", "{}"]],
    },
    "real": {
        "file": [
            ["--config", "{}", "--out", "out"],
            ["--activations", "{}", "--out", "out"],
            ["--toy", "{}", "--out", "out"],
            ["--activations", "{ok}", "--labels", "{}", "--out", "out"],
            ["--activations", "{ok}", "--reference", "{}", "--out", "out"],
            ["--model", "{}", "--sentences", "20", "--out", "out"],
            ["--model", "minilm", "--texts", "{}", "--out", "out"],
        ],
        "out": [
            ["--out", "{}"],
            ["--activations", "{ok}", "--out", "{}"],
            ["--model", "minilm", "--sentences", "20", "--out", "{}"],
        ],
    },
    "sweep": {"file": [["{}", "--out", "out", "--quiet"]], "out": [["{example}", "--out", "{}", "--quiet"]]},
}


def _example() -> str:
    from importlib import resources

    return str(resources.files("supviz.sweep").joinpath("example.toml"))


def _cases(kind: str, catalogue: dict) -> list:
    return [
        pytest.param(cmd, args, name, id=f"{cmd}-{i}-{name}")
        for cmd, slots in SLOTS.items()
        for i, args in enumerate(slots[kind])
        for name in catalogue
    ]


# -- the test ---------------------------------------------------------------------------------------


def _listing(folder: Path) -> list[str]:
    return sorted(
        str(p.relative_to(folder)) + ("/" if p.is_dir() and not p.is_symlink() else "") for p in folder.rglob("*")
    )


@pytest.fixture
def no_work(monkeypatch):
    """Any training or cached computation before the refusal fails the test at once."""
    import supviz.toy
    from supviz.runtime.cache import Cache

    def computed(*a, **k):
        raise AssertionError("computed before the input was checked")

    import supviz.sae.cells
    import supviz.sae.engine

    monkeypatch.setattr(supviz.toy, "train_grid", computed)
    monkeypatch.setattr(supviz.sae.engine, "train_saes", computed)
    monkeypatch.setattr(supviz.sae.cells, "train_cell_saes", computed)
    monkeypatch.setattr(Cache, "get_or_compute", computed)
    import supviz.real.experiment

    monkeypatch.setattr(supviz.real.experiment, "digits_experiment", computed)
    monkeypatch.setattr(supviz.real.experiment, "activations_report", computed)
    import supviz.real.text
    import supviz.real.transformer

    monkeypatch.setattr(supviz.real.text, "text_experiment", computed)
    monkeypatch.setattr(supviz.real.transformer, "load_encoder", computed)


def _refused(tmp_path, capsys, argv: list[str]) -> str:
    before = _listing(tmp_path)
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse's own refusals
        rc = exc.code
    err = capsys.readouterr().err
    after = _listing(tmp_path)
    assert rc == 2, (argv, err)
    assert err.count("\n") == 1 and err.startswith("supviz: error: "), err
    assert "Traceback" not in err
    assert after == before, f"created: {sorted(set(after) - set(before))}"
    assert not Path("/proc/supviz-test").exists()
    return err


@pytest.mark.parametrize(("cmd", "args", "name"), _cases("file", BAD_FILES))
def test_bad_file_is_refused(tmp_path, capsys, monkeypatch, no_work, cmd, args, name):
    monkeypatch.chdir(tmp_path)
    path = BAD_FILES[name](tmp_path)
    ok = _ok_input(tmp_path)
    _refused(tmp_path, capsys, [cmd, *[a.replace("{ok}", str(ok)).replace("{}", str(path)) for a in args]])


def _ok_input(tmp: Path) -> Path:
    """A valid [n, m] array (weights, activations), for commands that need one beside the bad input."""
    ok = tmp / "weights.npy"
    np.save(ok, np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32))
    return ok


@pytest.mark.parametrize(("cmd", "args", "name"), _cases("out", BAD_OUTS))
def test_bad_output_folder_is_refused(tmp_path, capsys, monkeypatch, no_work, cmd, args, name):
    monkeypatch.chdir(tmp_path)
    out = BAD_OUTS[name](tmp_path)
    ok = _ok_input(tmp_path)
    argv = [a.replace("{ok}", str(ok)).replace("{example}", _example()).replace("{}", str(out)) for a in args]
    err = _refused(tmp_path, capsys, [cmd, *argv])
    assert "`--out`" in err


#: Bad flag values: (subcommand, its arguments with "{example}" the shipped sweep, words of the error).
BAD_FLAGS: list[tuple[str, list[str], str]] = [
    ("run", ["--scheduler", "bad!", "--out", "out"], "`--scheduler` must be"),
    ("run", ["--scheduler", "local:0", "--out", "out"], "worker count N from 1 to 64"),
    ("run", ["--scheduler", "tcp://127.0.0.1:9", "--out", "out"], "no Dask scheduler answered"),
    ("sweep", ["{example}", "--scheduler", "bad!", "--out", "out"], "`--scheduler` must be"),
    ("sweep", ["{example}", "--scheduler", "local:65", "--out", "out"], "worker count N from 1 to 64"),
    ("sweep", ["{example}", "--scheduler", "tcp://127.0.0.1:9", "--out", "out"], "no Dask scheduler answered"),
    ("sweep", ["{example}", "--jobs", "0", "--out", "out"], "`--jobs` must be an int in [1, 64]"),
    ("sweep", ["{example}", "--steps", "0", "--out", "out"], "`--steps` must be an int >= 1"),
    ("sweep", ["{example}", "--steps", "x", "--out", "out"], "invalid int value"),
    ("sweep", ["--out", "out"], "`CONFIG` is missing"),
    ("run", ["--scheduler", "foo", "--out", "out"], "`--scheduler` must be"),  # no port: Dask would hang 40 s
    ("sweep", ["{example}", "--scheduler", "tcp://foo", "--out", "out"], "`--scheduler` must be"),
    ("sweep", ["{empty}", "--out", "out"], "has no [grid] table"),
    ("sweep", ["{hidden_only}", "--out", "out"], "[grid] must list n_features, probabilities, importances"),
    ("sweep", ["--example", "{example}"], "`--example` prints the example and takes no CONFIG"),
]


@pytest.mark.parametrize(("cmd", "args", "words"), BAD_FLAGS, ids=lambda v: v if isinstance(v, str) else None)
def test_bad_flag_is_refused(tmp_path, capsys, monkeypatch, no_work, cmd, args, words):
    from supviz.runtime import cluster

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)  # nothing listens on port 9: refused within a second
    (tmp_path / "in").mkdir()
    files = {
        "{example}": _example(),
        "{empty}": str(tmp_path / "in" / "empty.toml"),
        "{hidden_only}": str(tmp_path / "in" / "hidden.toml"),
    }
    (tmp_path / "in" / "empty.toml").write_text("seed = 0\n")
    (tmp_path / "in" / "hidden.toml").write_text("[grid]\nhidden = [2]\n")
    err = _refused(tmp_path, capsys, [cmd, *[files.get(a, a) for a in args], "--quiet"])
    assert words in err


def test_every_subcommand_has_a_line():
    from supviz.cli import COMMANDS, build_parser

    build_parser()
    assert set(SLOTS) >= {c for c in COMMANDS if _importable(c)}


def _importable(name: str) -> bool:
    import importlib

    try:
        importlib.import_module(f"supviz.commands.{name}")
    except ModuleNotFoundError:
        return False
    return True


def test_catalogue_files_are_what_they_claim(tmp_path):
    """Each bad file is bad for the reason named (so the refusals above are not all one refusal)."""
    made = {name: make(tmp_path) for name, make in BAD_FILES.items()}
    assert not made["missing"].exists() and made["folder"].is_dir()
    with pytest.raises(OSError):
        made["symlink-loop"].stat()
    assert made["pickled-npy"].read_bytes()[:6] == b"\x93NUMPY"
    with pytest.raises(ValueError, match="allow_pickle"):
        np.load(made["pickled-npy"])
    with np.load(made["nan-npz"]) as z:
        assert np.isnan(z["W"]).sum() == 1
    with pytest.raises(UnicodeDecodeError):
        made["not-utf8"].read_text(encoding="utf-8")
    assert os.path.getsize(made["truncated-npz"]) > 0


def test_run_refuses_weights_it_cannot_picture(tmp_path, capsys, monkeypatch, no_work):
    """Issue 9 follow-up, 3: any [k, n, m] file (feature probabilities unknown) used to compute for ~45 s,
    write the run folder, then stop in the data-point section, which samples its inputs at p."""
    monkeypatch.chdir(tmp_path)
    w = tmp_path / "w.npy"
    np.save(w, np.random.default_rng(0).normal(size=(3, 6, 2)))
    err = _refused(tmp_path, capsys, ["run", "--weights", str(w), "--out", "out"])
    assert "`--weights` holds no grid cell of known feature probability" in err
    cfg = tmp_path / "w.toml"
    cfg.write_text(f"[weights]\nfile = {str(w)!r}\n")
    err = _refused(tmp_path, capsys, ["config", str(cfg)])
    assert "`weights.file` holds no grid cell" in err


def test_rerun_refuses_a_run_folder_whose_figures_cannot_be_written(tmp_path, capsys, monkeypatch, no_work):
    """Issue 9 follow-up, 4: a rerun into a finished run whose figures/ could not be written (there:
    `chattr +i`) recomputed the whole study, then failed with a raw PermissionError and left the old
    manifest incomplete. Here figures/ is a link into /proc, which no one (root included) can write."""
    from supviz.core.outdir import read_manifest, write_manifest

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "config.toml").write_text("")
    write_manifest(out, ["config.toml"], command="run", complete=True)
    (out / "figures").symlink_to("/proc/self/fdinfo")
    err = _refused(tmp_path, capsys, ["run", "--out", str(out)])
    assert "`--out`" in err and "figures" in err and "not writable" in err
    assert read_manifest(out)["complete"] is True


# -- issue 22, kind 1: sizes beyond the machine ------------------------------------------------------

#: Sizes no machine has memory or time for, per subcommand: (subcommand, arguments, a file's text where
#: "{toml}" stands for it). Each is refused before anything is computed or written, naming the estimate.
_PIB_STEPS = "1000000000000000"


_WIDE_REAL = "[real]\nwidths = [4, 1000000000]\npicture_width = 4\n"


def _sweep(n: str = "20", m: str = "2", extra: str = "") -> str:
    return f'[grid]\nn_features = [{n}]\nhidden = [{m}]\nprobabilities = [0.1]\nimportances = ["uniform"]\n{extra}'


SIZES: list[tuple[str, list[str], str]] = [
    ("run", ["--steps", _PIB_STEPS, "--out", "out"], ""),
    ("run", ["--points", "100000000000", "--out", "out"], ""),
    ("run", ["--config", "{toml}", "--out", "out"], f"[toy]\nsteps = {_PIB_STEPS}\n"),
    ("run", ["--config", "{toml}", "--out", "out"], "[toy]\nbatch_size = 100000000000\n"),
    ("run", ["--config", "{toml}", "--out", "out"], "[toy]\nn_features = 100000000\n"),
    ("run", ["--config", "{toml}", "--out", "out"], "[toy]\nhidden = [1000000000]\n"),
    ("run", ["--config", "{toml}", "--out", "out"], "[datapoints]\npoints = 100000000000\n"),
    ("run", ["--config", "{toml}", "--out", "out"], "[recovery]\ndictionary_ratio = 100000000.0\n"),
    ("run", ["--config", "{toml}", "--out", "out"], "[recovery]\nbatch_size = 100000000000\n"),
    ("config", ["{toml}"], f"[toy]\nsteps = {_PIB_STEPS}\n"),
    ("config", ["{toml}"], _WIDE_REAL),
    ("config", ["{toml}"], "[recovery]\nn_eval = 1000000000000\n"),
    ("config", ["{toml}"], "[baselines]\numap_n = [1000000000]\n"),
    ("config", ["{toml}"], "[background]\na2_n_features = 100000000\n"),
    ("config", ["{toml}"], "[background]\na3_probability_count = 1000000000\n"),
    ("train", [*TRAIN_TINY, "--probabilities", "sweep:100000000", "--out", "out"], ""),
    ("run", ["--config", "{toml}", "--out", "out"], "[baselines]\ntsne_grid_n = 1000000000\n"),
    ("run", ["--config", "{toml}", "--out", "out"], _WIDE_REAL),
    ("real", ["--config", "{toml}", "--out", "out"], _WIDE_REAL),
    ("real", ["--model", "minilm", "--sentences", "1000000000000", "--out", "out"], ""),
    ("real", ["--config", "{toml}", "--out", "out"], "[real]\nsae_expansion = 100000000000.0\n"),
    ("real", ["--config", "{toml}", "--out", "out"], "[real]\nautoencoder_widths = [1000000000]\n"),
    ("config", ["{toml}"], "[datapoints]\npoints = 100000000000\n"),
    ("config", ["{toml}"], "[recovery]\ndictionary_ratio = 100000000.0\n"),
    ("train", [*TRAIN_TINY, "--steps", _PIB_STEPS, "--out", "out"], ""),
    ("train", [*TRAIN_TINY, "--batch-size", "100000000000", "--out", "out"], ""),
    ("train", [*TRAIN_TINY, "--n-features", "100000000", "--out", "out"], ""),
    ("train", [*TRAIN_TINY, "--n-features", "10", "--hidden", "1000000000", "--out", "out"], ""),
    ("train", ["--config", "{toml}", "--quiet", "--out", "out"], f"[toy]\nsteps = {_PIB_STEPS}\n"),
    ("sae", ["{ok}", "--d-sae", "1000000000000", "--out", "out"], ""),
    ("sae", ["{ok}", "--expansion-factor", "100000000000.0", "--out", "out"], ""),
    ("sae", ["{ok}", "--batch-size", "100000000000000", "--out", "out"], ""),
    ("sae", ["{ok}", "--steps", _PIB_STEPS, "--out", "out"], ""),
    ("sae", ["{ok}", "--weights", "--probability", "0.1", "--d-sae", "1000000000000", "--out", "out"], ""),
    ("sweep", ["{toml}", "--out", "out"], _sweep(extra=f"[train]\nsteps = {_PIB_STEPS}\n")),
    ("sweep", ["{toml}", "--out", "out"], _sweep(extra="[train]\nbatch_size = 100000000000\n")),
    ("sweep", ["{toml}", "--out", "out"], _sweep(n="100000000")),
    ("sweep", ["{toml}", "--out", "out"], _sweep(extra='[sae]\narchitectures = ["topk"]\nn_eval = 1000000000000\n')),
    ("sweep", ["{toml}", "--out", "out"], _sweep(m="1000000000")),
    ("sweep", ["{toml}", "--out", "out"], _sweep(extra="[datapoints]\npoints = [100000000000]\n")),
    # cells that fit one by one but not together: refused by the first chunk, after sweep.toml and manifest.json
    ("sweep", ["{toml}", "--out", "out"], _sweep(n="20000", m="5000", extra="replicates = 1000\n")),
    # counts of repeated work (seeds, replicates, random draws and starts): no floor counted them
    ("config", ["{toml}"], "[background]\na1_seeds = 1000000000000\n"),
    ("run", ["--config", "{toml}", "--out", "out"], "[background]\na1_seeds = 1000000000000\n"),
    ("config", ["{toml}"], "[real]\nreplicates = 1000000000\n"),
    ("run", ["--config", "{toml}", "--out", "out"], "[real]\nreplicates = 1000000000\n"),
    ("real", ["--config", "{toml}", "--out", "out"], "[real]\nreplicates = 1000000000\n"),
    ("config", ["{toml}"], "[real]\nsae_seeds = 1000000000\n"),
    ("config", ["{toml}"], "[recovery]\nchance_draws = 1000000000\n"),
    ("run", ["--config", "{toml}", "--out", "out"], "[recovery]\nchance_draws = 1000000000\n"),
    ("config", ["{toml}"], "[embeddings]\ncollapse_starts = 1000000000000\n"),
    ("run", ["--config", "{toml}", "--out", "out"], "[embeddings]\ncollapse_starts = 1000000000000\n"),
]


@pytest.mark.parametrize(("cmd", "args", "toml"), SIZES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(SIZES)])
def test_size_beyond_the_machine_is_refused(tmp_path, capsys, monkeypatch, no_work, cmd, args, toml):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    cfg = tmp_path / "in" / "sizes.toml"
    cfg.write_text(toml)
    ok = _ok_input(tmp_path)
    argv = [a.replace("{toml}", str(cfg)).replace("{ok}", str(ok)) for a in args]
    err = _refused(tmp_path, capsys, [cmd, *argv])
    assert "too large for this machine" in err and ("of memory" in err or "floating-point operations" in err), err


def test_every_size_flag_has_a_line():
    """Each size-like flag of run, train and sae appears in SIZES (a new size flag adds its line)."""
    flags = {a for _, args, _ in SIZES for a in args if a.startswith("--")}
    assert {"--steps", "--points"} <= flags
    assert {"--batch-size", "--n-features", "--hidden", "--d-sae", "--expansion-factor"} <= flags
    texts = "".join(t for _, _, t in SIZES)
    for key in (
        "steps",
        "batch_size",
        "n_features",
        "hidden",
        "points",
        "dictionary_ratio",
        "widths",
        "sae_expansion",
        "n_eval",
        "umap_n",
        "a2_n_features",
        "a1_seeds",
        "replicates",
        "sae_seeds",
        "chance_draws",
        "collapse_starts",
    ):
        assert f"{key} =" in texts, key


# -- issue 22, kind 2: every check that the config allows is made by `supviz config`, before any write --


def _numeric_keys() -> list[tuple[tuple[str, ...], object]]:
    """Every number or list of numbers of the default study config, by its path of TOML keys."""
    import tomllib

    from supviz.study.config import default_toml_text

    def walk(table: dict, path: tuple[str, ...]):
        for key, value in table.items():
            if isinstance(value, dict):
                yield from walk(value, (*path, key))
            elif isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value):
                yield (*path, key), value
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                yield (*path, key), value

    return list(walk(tomllib.loads(default_toml_text()), ()))


def _toml_with(path: tuple[str, ...], value: object) -> str:
    import tomli_w

    table: dict = {}
    cur = table
    for key in path[:-1]:
        cur = cur.setdefault(key, {})
    cur[path[-1]] = value
    return tomli_w.dumps(table)


#: Values no number of the config may take.
HOSTILE = {"-1": -1, "-0.1": -0.1, "nan": float("nan"), "inf": float("inf"), "text": "x", "bool": True}


def test_the_schema_walk_sees_every_table():
    tables = {path[0] for path, _ in _numeric_keys() if len(path) > 1}
    assert tables >= {"toy", "metrics", "figures", "run", "background", "baselines", "embeddings", "datapoints"}
    assert tables >= {"recovery", "real"} and len(_numeric_keys()) >= 60


@pytest.mark.parametrize("value", list(HOSTILE), ids=list(HOSTILE))
def test_config_refuses_a_hostile_number_anywhere(tmp_path, capsys, monkeypatch, no_work, value):
    """Each number of the config (a list's first element for a list) at each hostile value: `supviz config` refuses
    it in one line naming the key, before anything is computed or written."""
    monkeypatch.chdir(tmp_path)
    for path, default in _numeric_keys():
        bad = HOSTILE[value]
        cfg = tmp_path / "bad.toml"
        cfg.write_text(_toml_with(path, [bad, *default[1:]] if isinstance(default, list) else bad))
        err = _refused(tmp_path, capsys, ["config", str(cfg)])
        assert f"`{'.'.join(path)}" in err, (path, err)
        cfg.unlink()


#: Values `supviz config` accepted and the run refused late (after computing and writing), each a
#: study config; every one is now refused by `supviz config` and by `supviz run` before any write.
LATE: dict[str, tuple[str, str]] = {
    "n-features-1": ("[toy]\nn_features = 1\nsteps = 50\n", "`toy.n_features` must be at least 3"),
    "umap-grid-min-dist-negative": ("[baselines]\numap_grid_min_dist = [-0.1]\n", "`baselines.umap_grid_min_dist[0]`"),
    "umap-min-dist-above-spread": ("[baselines]\numap_min_dist = 2.0\n", "`baselines.umap_min_dist`"),
    "embeddings-min-dist-above-spread": ("[embeddings]\numap_min_dist = 1.5\n", "`embeddings.umap_min_dist`"),
    "perplexity-below-a-third": ("[baselines]\ntsne_grid_perplexity = [0.2]\n", "must be at least 1/3"),
    "probability-without-nonzero-rows": ("[toy]\nprobabilities = [1e-9]\n", "`toy.probabilities[0]` is too small"),
    # C6's reference weights were read only at C6, where a foreign file became a warning: the file named here is
    # this config itself (the test writes it as in/<name>.toml)
    "reference-weights-foreign": (
        '[embeddings]\nreference_weights = "in/reference-weights-foreign.toml"\n',
        "`embeddings.reference_weights` 'in/reference-weights-foreign.toml' is not the study's weights",
    ),
    "reference-weights-missing": (
        '[embeddings]\nreference_weights = "in/missing.npz"\n',
        "`embeddings.reference_weights` must be an existing weights file",
    ),
}


@pytest.mark.parametrize("cmd", ["config", "run"])
@pytest.mark.parametrize("name", list(LATE))
def test_late_check_is_made_up_front(tmp_path, capsys, monkeypatch, no_work, cmd, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    cfg = tmp_path / "in" / f"{name}.toml"
    text, words = LATE[name]
    cfg.write_text(text)
    err = _refused(
        tmp_path, capsys, [cmd, str(cfg)] if cmd == "config" else [cmd, "--config", str(cfg), "--out", "out"]
    )
    assert words in err, err


#: Probabilities that pass the range check (0, 1] but leave no row with an active feature: `supviz train`
#: ended in a ZeroDivisionError, the sweep likewise after writing manifest.json.
TINY_P: list[tuple[str, list[str], str]] = [
    ("train", [*TRAIN_TINY, "--probabilities", "1e-300", "--out", "out"], ""),
    ("train", ["--config", "{toml}", "--quiet", "--out", "out"], "[toy]\nprobabilities = [1e-300]\n"),
    ("sweep", ["{toml}", "--out", "out"], _sweep().replace("probabilities = [0.1]", "probabilities = [1e-300]")),
]


@pytest.mark.parametrize(("cmd", "args", "toml"), TINY_P, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(TINY_P)])
def test_probability_without_nonzero_rows_is_refused(tmp_path, capsys, monkeypatch, no_work, cmd, args, toml):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    cfg = tmp_path / "in" / "tiny.toml"
    cfg.write_text(toml)
    err = _refused(tmp_path, capsys, [cmd, *[a.replace("{toml}", str(cfg)) for a in args]])
    assert "is too small for non-zero inputs" in err, err


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """A tiny `supviz train` output (trained before `no_work` is in place: module scope)."""
    out = tmp_path_factory.mktemp("tiny") / "run"
    assert main(["train", *TRAIN_TINY, "--out", str(out)]) == 0
    return out


#: Sizes of `supviz sae` on a run folder: the memory floor used to be checked on the activations path only,
#: and these ended in allocation tracebacks (sae/sources.py, runtime/products.py).
SAE_RUN_SIZES = [
    ["--n-eval", "100000000000", "--steps", "10", "--out", "out"],
    ["--batch-size", "100000000000", "--steps", "10", "--out", "out"],
]


@pytest.mark.parametrize("args", SAE_RUN_SIZES, ids=["n-eval", "batch-size"])
def test_sae_on_a_run_folder_beyond_the_machine_is_refused(tmp_path, capsys, monkeypatch, tiny_run, no_work, args):
    monkeypatch.chdir(tmp_path)
    err = _refused(tmp_path, capsys, ["sae", str(tiny_run), *args])
    assert "too large for this machine" in err and "of memory" in err, err


#: Batches whose training floor fits a 16 GiB machine but whose products' first-call timing
#: (:func:`supviz.runtime.products.measure`, 8 instances of each operand) does not: they passed the check and
#: failed late (sae on a run folder: killed by the kernel after minutes on a 20 GiB machine).
TIMING_SIZES = [
    ("sae", ["{run}", "--batch-size", "50000000", "--steps", "10", "--out", "out"]),
    (
        "train",
        [
            "--n-features",
            "6",
            "--hidden",
            "2",
            "--probabilities",
            "0.5",
            "--steps",
            "10",
            "--batch-size",
            "100000000",
            "--out",
            "out",
        ],
    ),
]


@pytest.mark.parametrize(("cmd", "args"), TIMING_SIZES, ids=[c for c, _ in TIMING_SIZES])
def test_the_products_first_call_timing_counts_in_the_floor(
    tmp_path, capsys, monkeypatch, tiny_run, no_work, cmd, args
):
    import supviz.core.resources

    monkeypatch.setattr(supviz.core.resources, "available_memory", lambda: 16 * 2**30)
    monkeypatch.chdir(tmp_path)
    err = _refused(tmp_path, capsys, [cmd, *[a.replace("{run}", str(tiny_run)) for a in args]])
    assert "too large for this machine" in err and "timing the product" in err, err
