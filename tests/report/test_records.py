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


def test_counts_name_their_unit_in_the_singular_for_one():
    from supviz.report.records import Finding, counted

    assert counted(1, "panels") == "panel" and counted(2, "panels") == "panels" and counted(0, "cells") == "cells"
    assert counted(1, "p values (one model each)") == "p value (one model each)"
    assert counted(1, "seeds per p") == "seed per p" and counted(1, "layers (kind, width)") == "layer (kind, width)"
    f = Finding(
        claim="c", measured="m", verdict="supported", n_used=1, unit="panels", n_left_out=1, left_out_unit="cells"
    )
    assert f.used_words() == "1 panel used" and "1 cell left out" in f.evidence() and "n = 1 panel" in f.evidence()
