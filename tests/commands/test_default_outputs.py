"""The subcommands' default output folders do not collide (issue 22, kind 6).

``supviz train``, ``sae`` and ``real`` write by default to ``results/train``, ``results/sae`` and
``results/real``; a plain ``supviz run`` then refused ``results`` as "a non-empty folder that is not a
``supviz run`` folder". Design: ``results/`` is the one place a user's results go, so the others keep
their documented defaults (moving them would strand earlier results and change README's paths), and
``supviz run`` accepts a folder that holds only those three outputs. A run removes only the files its
own manifest lists, so it leaves them alone.
"""

from __future__ import annotations

import json

import pytest

from supviz.cli import main
from supviz.core.outdir import SUBCOMMAND_OUTPUTS, default_out, is_study_folder_or_results
from supviz.errors import SupvizError

TINY = ["--n-features", "6", "--hidden", "2", "--probabilities", "0.5", "--steps", "4", "--batch-size", "8", "--quiet"]


def _fake_output(folder, command: str) -> None:
    folder.mkdir(parents=True)
    (folder / "metadata.json").write_text(json.dumps({"format": SUBCOMMAND_OUTPUTS[command]}))


def test_run_accepts_results_after_train_with_its_default(tmp_path, monkeypatch, capsys):
    from supviz.study.config import load_config
    from supviz.study.pipeline import check_study

    monkeypatch.chdir(tmp_path)
    assert main(["train", *TINY]) == 0
    assert (tmp_path / "results" / "train" / "weights.safetensors").is_file()
    _fake_output(tmp_path / "results" / "sae", "sae")
    _fake_output(tmp_path / "results" / "real", "real")
    before = sorted(p.name for p in (tmp_path / "results").rglob("*"))
    plan = check_study(load_config(), out="results")  # what `supviz run` checks first; it refused here
    assert plan.out.name == "results" and plan.previous_files == []
    assert sorted(p.name for p in (tmp_path / "results").rglob("*")) == before


@pytest.mark.parametrize(
    "extra",
    ["a file beside them", "a foreign folder", "a train folder that is no train output", "an sae output named train"],
)
def test_run_still_refuses_a_folder_with_anything_else(tmp_path, extra):
    from supviz.study.config import load_config
    from supviz.study.pipeline import check_study

    results = tmp_path / "results"
    if extra == "a file beside them":
        _fake_output(results / "sae", "sae")
        (results / "thesis.tex").write_text("mine")
    elif extra == "a foreign folder":
        _fake_output(results / "sae", "sae")
        (results / "photos").mkdir()
    elif extra == "a train folder that is no train output":
        (results / "train").mkdir(parents=True)
        (results / "train" / "notes.txt").write_text("mine")
    else:
        _fake_output(results / "train", "sae")
    assert not is_study_folder_or_results(results)
    with pytest.raises(SupvizError, match=r"`--out` .* is a non-empty folder that is not a `supviz run` folder"):
        check_study(load_config(), out=results)


def test_each_default_out_is_its_folder_under_results():
    from supviz.cli import build_parser

    parser = build_parser()
    for command in SUBCOMMAND_OUTPUTS:
        args = parser.parse_args([command, "x.npy"] if command == "sae" else [command])
        assert args.out == default_out(command) == f"results/{command}"
    assert parser.parse_args(["run"]).out == "results"
