"""A verdict is a small record: its evidence line names the comparison, estimate, interval, n, null and threshold."""

from supviz.report.records import Finding


def test_evidence_line_states_every_part_it_has():
    f = Finding(
        "claim",
        "measured",
        "partly",
        n_used=12,
        unit="cells",
        estimate=0.953,
        interval=(0.91, 0.97),
        null=0.985,
        threshold=0.9,
        comparison="median MMCS above chance vs 0.9",
    )
    assert f.evidence() == (
        "median MMCS above chance vs 0.9; estimate 0.953 [95% interval 0.91, 0.97]; n = 12 cells; "
        "chance / null level 0.985; threshold 0.9"
    )
    assert Finding("c", "m").evidence() == ""
    assert "estimate n/a" in Finding("c", "m", estimate=float("nan")).evidence()
