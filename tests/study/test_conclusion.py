"""The tally of the verdicts: the study's claims, the claims it repeats and supviz's own questions apart, n/a apart."""

from supviz.report.records import Finding
from supviz.study.conclusion import tally
from supviz.study.sources import OWN, QUOTES


def _f(key, verdict, source, other=""):
    return Finding(key, "x", verdict, key=key, source=source, verdict_other_rule=other)


def test_tally_counts_the_study_s_claims_apart_from_supviz_s_own_questions_and_leaves_n_a_out():
    findings = [
        _f("C3-a", "supported", QUOTES["C3"], other="not supported"),
        _f("C5-a", "not supported", QUOTES["C5"]),
        _f("B4", "not enough evidence", QUOTES["B4"]),
        _f("A3-sticky", "not supported", QUOTES["A3"]),  # Elhage et al.'s claim, repeated by the study
        _f("D-star", "supported", OWN),
        _f("E-x", "partly", "Sharkey et al. (2022), not the study: supviz's own question about the study's cells"),
        _f("C-tsne-uniform", "n/a", OWN),
        _f("C-tsne-geometric", "n/a", OWN),
    ]
    text = tally(findings)
    assert (
        "Claims the study made (3): this run's numbers support 1, partly support 0 and do not support 1; 1 has too "
        "little evidence to decide." in text
    )
    assert (
        "Claims of the papers the study builds on (1): this run's numbers support 0, partly support 0 and do not "
        "support 1." in text
    )
    assert (
        "Questions of supviz's own, which the study did not ask (2): this run's numbers support 1, partly support 1 "
        "and do not support 0." in text
    )
    assert "2 further rows test nothing here" in text and "are not counted" in text
    assert text.endswith("1 change when the other represented rule is used")
    # the n/a rows are in no count: the groups add up to the 6 tested findings
    assert text.index("Claims the study made") < text.index("papers the study builds on") < text.index("Questions")


def test_tally_reads_the_source_of_a_finding_that_has_none_from_its_key():
    text = tally([_f("C3-signature-uniform", "supported", ""), _f("D-star-uniform", "supported", "")])
    assert (
        "Claims the study made (1):" in text and "Questions of supviz's own, which the study did not ask (1):" in text
    )
