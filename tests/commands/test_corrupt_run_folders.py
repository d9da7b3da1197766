"""Issue 22 kind 4: a run folder whose ``metadata.json`` supviz wrote and something later damaged is refused
by every reader (``supviz inspect``, ``sae``, ``run --weights``, ``real --toy``, ``load_grid``) in one
line on stderr, exit 2, nothing written; before, ``format_version`` "abc", null or a list,
``instances`` as a dict and ``training`` as a list were tracebacks, and ``probability: 5.0`` was
accepted silently."""

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from supviz.cli import main
from supviz.errors import SupvizError


def _set(**fields) -> Callable[[dict], None]:
    return lambda meta: meta.update(fields)


def _instance(**fields) -> Callable[[dict], None]:
    return lambda meta: meta["instances"][0].update(fields)


CASES: dict[str, tuple[Callable[[dict], None], str]] = {
    "format_version 'abc'": (_set(format_version="abc"), "`format_version` must be an int >= 1; got 'abc'"),
    "format_version null": (_set(format_version=None), "`format_version` must be an int >= 1; got None"),
    "format_version a list": (_set(format_version=[1]), "`format_version` must be an int >= 1; got [1]"),
    "format_version true": (_set(format_version=True), "`format_version` must be an int >= 1; got True"),
    "format_version from the future": (_set(format_version=99), "has format version 99; this supviz reads up to"),
    "instances a dict": (_set(instances={"0": {}}), "`instances` must be a list of tables"),
    "an instance a list": (lambda m: m["instances"].__setitem__(0, [1, 2]), "instance 0: must be a table"),
    "training a list": (_set(training=[1, 2]), "`training` must be a table; got [1, 2]"),
    "config a list": (_set(config=[1]), "`config` must be a table or null"),
    "config out of range": (lambda m: m["config"].update(steps=-1), "`steps` must be an int >= 1; got -1"),
    "n_instances wrong": (_set(n_instances=7), "`n_instances` is 7 but 4 instances are listed"),
    "probability 5.0": (_instance(probability=5.0), "instance 0: `probability` must be a finite number in (0.0, 1.0]"),
    "probability negative": (_instance(probability=-0.1), "`probability` must be a finite number in"),
    "probability a string": (_instance(probability="0.5"), "`probability` must be a finite number in"),
    "n_hidden a string": (_instance(n_hidden="2"), "instance 0: `n_hidden` must be an int >= 1; got '2'"),
    "n_features zero": (_instance(n_features=0), "instance 0: `n_features` must be an int >= 1; got 0"),
    "seed a float": (_instance(seed=1.5), "instance 0: `seed` must be an int >= 0; got 1.5"),
    "importance a number": (_instance(importance=3), "instance 0: `importance` must be a list of"),
    "importance too short": (_instance(importance=[1.0]), "`importance` must have one entry per feature (6); got 1"),
    "importance_name missing": (lambda m: m["instances"][0].pop("importance_name"), "has no 'importance_name'"),
    "label a list": (_instance(label=[1]), "instance 0: `label` must be a string"),
    "not an object": (lambda m: m.clear(), "is not supviz grid metadata"),
}
RAW = {
    "empty file": (b"", "could not read .* as JSON"),
    "not JSON": (b"{not json", "could not read .* as JSON"),
    "a JSON list": (b"[1, 2]", "must hold a JSON object"),
    "not UTF-8": (b"\xff\xfe\x00", "could not read .* as JSON"),
    "nested too deep": (b"[" * 100_000 + b"]" * 100_000, "could not read .* as JSON .*recursion"),
}


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    from supviz.toy import TrainConfig, save_grid, train_grid

    grid = train_grid(TrainConfig(n_features=6, hidden=(2,), probabilities=(0.5, 0.1), steps=20, threads=1))
    folder = tmp_path_factory.mktemp("base") / "run"
    save_grid(grid, folder)
    return folder


def _damaged(run_folder: Path, tmp: Path, name: str) -> Path:
    folder = tmp / "damaged"
    shutil.copytree(run_folder, folder)
    meta_path = folder / "metadata.json"
    if name in RAW:
        meta_path.write_bytes(RAW[name][0])
    else:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        CASES[name][0](meta)
        meta_path.write_text(json.dumps(meta), encoding="utf-8")
    return folder


def _words(name: str) -> str:
    import re

    return RAW[name][1] if name in RAW else re.escape(CASES[name][1])


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


READERS = {
    "inspect": lambda f, out: ["inspect", str(f)],
    "sae": lambda f, out: ["sae", str(f), "--out", str(out)],
    "run --weights": lambda f, out: ["run", "--weights", str(f), "--out", str(out)],
    "real --toy": lambda f, out: ["real", "--toy", str(f), "--out", str(out)],
}


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("name", [*CASES, *RAW])
def test_a_damaged_run_folder_is_one_line_exit_2_nothing_written(
    run_folder, tmp_path, capsys, monkeypatch, reader, name
):
    monkeypatch.chdir(tmp_path)
    folder = _damaged(run_folder, tmp_path, name)
    before = _listing(tmp_path)
    try:
        rc = main(READERS[reader](folder, tmp_path / "out"))
    except SystemExit as exc:
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1 and err.startswith("supviz: error: "), err
    assert "Traceback" not in err
    import re

    assert re.search(_words(name), err), err
    assert _listing(tmp_path) == before


@pytest.mark.parametrize("name", [*CASES, *RAW])
def test_load_grid_refuses_a_damaged_run_folder_in_one_line(run_folder, tmp_path, name):
    from supviz.toy import load_grid

    folder = _damaged(run_folder, tmp_path, name)
    with pytest.raises(SupvizError, match=_words(name)) as info:
        load_grid(folder)
    assert "\n" not in str(info.value)


def test_the_undamaged_folder_reads(run_folder):
    from supviz.toy import load_grid

    assert len(load_grid(run_folder)) == 4


@pytest.mark.parametrize("command", ["sae", "real"])
@pytest.mark.parametrize("content", [b"", b"[1, 2]", b"{not json", b"\xff\xfe"])
def test_an_output_folder_whose_metadata_is_damaged_is_refused_not_replaced(
    run_folder, tmp_path, capsys, monkeypatch, command, content
):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "metadata.json").write_bytes(content)
    (out / "scores.csv").write_text("kept\n", encoding="utf-8")
    before = _listing(tmp_path)
    argv = ["sae", str(run_folder)] if command == "sae" else ["real", "--toy", str(run_folder)]
    rc = main([*argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "not" in err and "Traceback" not in err, err
    assert _listing(tmp_path) == before


#: Damage to a run folder's weights.safetensors, each refused by every reader naming the tensor (issue 22 follow-up:
#: a truncated `losses` was reshaped to fit, or ended in a reshape traceback).
ARRAY_CASES: dict[str, tuple[Callable[[dict], None], str]] = {
    "losses truncated": (lambda a: a.update(losses=a["losses"][:3, :1].copy()), "tensor 'losses' has shape [3, 1]"),
    "losses fewer curves": (lambda a: a.update(losses=a["losses"][:1].copy()), "tensor 'losses' has shape [1, "),
    "losses and steps cut alike": (
        lambda a: a.update(losses=a["losses"][:, :0].copy(), loss_steps=a["loss_steps"][:0].copy()),
        "tensor 'losses' has shape [4, 0]; metadata.json needs [4, ",
    ),
    "losses flat": (lambda a: a.update(losses=a["losses"].ravel().copy()), "tensor 'losses' has shape ["),
    "losses integer": (lambda a: a.update(losses=a["losses"].astype("int32")), "'losses' must be floating-point"),
    "loss_steps zero": (
        lambda a: a.update(loss_steps=a["loss_steps"] * 0),
        "'loss_steps' must count steps upwards from 1",
    ),
    "losses missing": (lambda a: a.pop("losses"), "has no tensor 'losses'"),
    "weights transposed": (lambda a: a.update({"weights.0": a["weights.0"].T.copy()}), "'weights.0' has shape [2, 6]"),
    "bias cut": (lambda a: a.update({"biases.1": a["biases.1"][:2].copy()}), "'biases.1' has shape [2]"),
}


def _damaged_arrays(run_folder: Path, tmp: Path, name: str) -> Path:
    from safetensors.numpy import load_file, save_file

    folder = tmp / "damaged"
    shutil.copytree(run_folder, folder)
    arrays = load_file(str(folder / "weights.safetensors"))
    ARRAY_CASES[name][0](arrays)
    save_file(arrays, str(folder / "weights.safetensors"))
    return folder


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("name", list(ARRAY_CASES))
def test_damaged_run_arrays_are_one_line_exit_2_nothing_written(
    run_folder, tmp_path, capsys, monkeypatch, reader, name
):
    monkeypatch.chdir(tmp_path)
    folder = _damaged_arrays(run_folder, tmp_path, name)
    before = _listing(tmp_path)
    try:
        rc = main(READERS[reader](folder, tmp_path / "out"))
    except SystemExit as exc:
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and err.startswith("supviz: error: "), err
    assert ARRAY_CASES[name][1] in err, err
    assert _listing(tmp_path) == before


@pytest.mark.parametrize("name", list(ARRAY_CASES))
def test_load_grid_refuses_damaged_run_arrays_by_name(run_folder, tmp_path, name):
    from supviz.toy import load_grid

    with pytest.raises(SupvizError, match="weights.safetensors") as info:
        load_grid(_damaged_arrays(run_folder, tmp_path, name))
    assert ARRAY_CASES[name][1] in str(info.value)
