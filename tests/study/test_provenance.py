"""The run records the source it ran from: a git commit, or that it was not a git checkout."""

from pathlib import Path

from supviz.study.pipeline import source_commit


def test_source_commit_of_a_checkout_and_of_a_plain_folder(tmp_path):
    here = source_commit()
    assert here.startswith("git commit ") or here == "not a git checkout"
    if (Path(__file__).resolve().parents[2] / ".git").exists():
        assert here.startswith("git commit ") and len(here.split()[2]) == 40
    assert source_commit(tmp_path) == "not a git checkout"
