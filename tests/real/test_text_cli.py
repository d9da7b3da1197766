"""`supviz real --model`: a report folder with the tidy point table; bad input: one line, exit 2, nothing written."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd
import pytest

from supviz.cli import main

pytest.importorskip("transformers", reason="the text extra (pip install 'supviz[text]'); make venv installs it")


def _refused(capsys, argv: list[str], tmp_path: Path, words: str) -> None:
    before = sorted(tmp_path.rglob("*"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("supviz: error: ") and words in err, err
    assert sorted(tmp_path.rglob("*")) == before


@pytest.fixture
def inputs(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    lines = [f"Sentence number {i} is here." for i in range(14)]
    (d / "texts.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (d / "labels.csv").write_text("parity\n" + "\n".join("even" if i % 2 == 0 else "odd" for i in range(14)) + "\n")
    (d / "clash.csv").write_text("trust\n" + "\n".join("a" if i % 2 == 0 else "b" for i in range(14)) + "\n")
    (d / "short.csv").write_text("parity\n" + "\n".join(["even"] * 13) + "\n")
    (d / "empty.txt").write_text("")
    (d / "latin1.txt").write_bytes("d\xe9j\xe0 vu\n".encode("latin-1"))
    (d / "notmodel").mkdir()
    (d / "notmodel" / "weights.bin").write_bytes(b"\0" * 8)
    from supviz.real.transformer import minilm_path

    (d / "notok").mkdir()
    (d / "notok" / "config.json").write_bytes((minilm_path() / "config.json").read_bytes())
    (d / "notok" / "model.safetensors").symlink_to(minilm_path() / "model.safetensors")
    return d


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--model", "{in}/notmodel"], "is not a Hugging Face model folder: it has no config.json"),
        (["--model", "{in}/notok"], "has no tokenizer"),
        (["--model", "minilm", "--texts", "{in}/empty.txt"], "it is empty"),
        (["--model", "minilm", "--texts", "{in}/latin1.txt"], "is not UTF-8 text"),
        (["--model", "minilm", "--texts", "{in}/texts.txt", "--labels", "{in}/short.csv"], "one row per sentence"),
        (["--model", "minilm", "--labels", "{in}/labels.csv"], "`--labels` with --model needs --texts"),
        (
            ["--model", "minilm", "--texts", "{in}/texts.txt", "--color", "mood"],
            "`--color` must be 'trust' or a factor",
        ),
        (["--model", "minilm", "--sentences", "5"], "`--sentences` must be an int >= 12"),
        (["--texts", "{in}/texts.txt"], "`--texts` applies to --model only"),
        (
            ["--model", "minilm", "--texts", "{in}/texts.txt", "--labels", "{in}/clash.csv"],
            "must not name a column like the point table's own",
        ),
        (["--model", "minilm", "--layers", "0,x"], "`--layers` must be 'all' or comma-separated ints"),
        (["--model", "minilm", "--texts", "{in}/texts.txt", "--layers", "0,7"], "`--layers` must be in 0..6"),
        (["--layers", "all"], "`--layers` applies to --model only"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(inputs, tmp_path, capsys, args, words):
    argv = ["real", *[a.replace("{in}", str(inputs)) for a in args], "--out", str(tmp_path / "out")]
    _refused(capsys, argv, tmp_path, words)


def test_texts_and_labels_give_a_report_folder(inputs, tmp_path, capsys, monkeypatch):
    import supviz.real.text

    tiny = functools.partial(
        supviz.real.text.TextConfig, methods=["umap"], layers=[0, 6], code_pictures=False, sae_steps=10
    )
    monkeypatch.setattr(supviz.real.text, "TextConfig", tiny)
    out = tmp_path / "out"
    argv = ["real", "--model", "minilm", "--texts", str(inputs / "texts.txt"), "--labels", str(inputs / "labels.csv")]
    assert main([*argv, "--color", "trust", "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["format"] == "supviz.real.run" and meta["n"] == 14 and meta["factors"] == ["parity"]
    assert meta["model"]["layers"] == 6 and meta["color"] == "trust" and meta["layers"] == [0, 6]
    names = {p.name for p in out.iterdir()}
    assert {"points.parquet", "points.csv", "pictures_umap.png", "trust_umap.png", "pictures_umap.html"} <= names
    pts = pd.read_parquet(out / "points.parquet")
    assert list(pts.columns[:8]) == ["layer", "space", "method", "point", "text", "x", "y", "trust"]
    assert "parity" in pts and len(pts) == 14 * 2
    assert pts["text"].iloc[0] == "Sentence number 0 is here."
    html = (out / "pictures_umap.html").read_text()
    assert "Sentence number 3 is here." in html and "trust" in html  # the hover carries the sentence and its trust
    # plotly.js once beside the pages (offline), not inside each page
    assert "plotly.min.js" in names and 'src="plotly.min.js"' in html
    assert len(html) < 500_000 < (out / "plotly.min.js").stat().st_size
