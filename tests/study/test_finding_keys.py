"""Every finding of the study names its own key (issue 22, kind 10: two verdict rows had an empty ``key``).

Section F's two findings were made without ``key=``; the ``verdicts`` table's ``key`` column is how a
reader joins a verdict across runs, so each ``Finding(...)`` in the study states a stable key, not
one derived later from its words.
"""

from __future__ import annotations

import ast
from pathlib import Path

STUDY = Path(__file__).resolve().parents[2] / "src" / "supviz" / "study"


def findings_without_key(source: str) -> list[int]:
    """Line numbers of ``Finding(...)`` calls in ``source`` that pass no ``key=``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name == "Finding" and not any(k.arg == "key" for k in node.keywords):
                out.append(node.lineno)
    return out


def test_every_finding_of_the_study_has_a_key():
    files = sorted(STUDY.rglob("*.py"))
    calls = sum(p.read_text(encoding="utf-8").count("Finding(") for p in files)
    assert calls >= 20  # the walk sees the study's findings
    missing = {str(p.relative_to(STUDY)): lines for p in files if (lines := findings_without_key(p.read_text()))}
    assert not missing, missing


def test_the_check_sees_a_finding_without_a_key():
    assert findings_without_key('Finding("claim", "measured", "supported")\n') == [1]
    assert findings_without_key('Finding("claim", "measured", "supported", key="A1")\n') == []
