"""The tally of the verdicts: the study's claims, the claims it repeats and supviz's own questions apart, n/a apart."""

from supviz.report.records import Finding
from supviz.study.conclusion import tally
from supviz.study.sources import OWN, QUOTES, SHARKEY


def _f(key, verdict, source, other=""):
    return Finding(key, "x", verdict, key=key, source=source, verdict_other_rule=other)


def test_tally_counts_the_study_s_claims_apart_from_supviz_s_own_questions_and_leaves_n_a_out():
    findings = [
        _f("C3-a", "supported", QUOTES["C3"], other="not supported"),
        _f("C5-a", "not supported", QUOTES["C5"]),
        _f("B4", "not enough evidence", QUOTES["B4"]),
        _f("A3-sticky", "not supported", QUOTES["A3"]),  # Elhage et al.'s claim, repeated by the study
        _f("D-star", "supported", OWN),
        _f("E-x", "partly", SHARKEY),  # Sharkey et al.'s claim, tested on the study's cells
        _f("C-tsne-uniform", "n/a", OWN),
        _f("C-tsne-geometric", "n/a", OWN),
    ]
    text = tally(findings)
    assert (
        "Claims the study made (3 verdicts on 3 quoted passages): this run's numbers support 1, partly support 0 and "
        "do not support 1; 1 has too little evidence to decide." in text
    )
    assert (
        "Claims of other papers (2 verdicts from 2 papers: Elhage et al. (2022); Sharkey, Braun & Millidge (2022)): "
        "this run's numbers support 0, partly support 1 and do not support 1." in text
    )
    assert (
        "Questions of supviz's own, which the study did not ask (1 verdict): this run's numbers support 1, partly "
        "support 0 and do not support 0." in text
    )
    assert "the 6 verdicts are not corrected for multiple comparisons" in text
    assert "2 further rows test nothing here" in text and "are not counted" in text
    assert text.endswith("1 change when the other represented rule is used")
    # the n/a rows are in no count: the groups add up to the 6 tested findings
    assert text.index("Claims the study made") < text.index("other papers") < text.index("Questions")


def test_tally_reads_the_source_of_a_finding_that_has_none_from_its_key():
    text = tally([_f("C3-signature-uniform", "supported", ""), _f("D-star-uniform", "supported", "")])
    assert (
        "Claims the study made (1 verdict on 1 quoted passage):" in text
        and "Questions of supviz's own, which the study did not ask (1 verdict):" in text
    )


def test_one_sentence_tested_eight_ways_is_one_passage_with_eight_verdicts():
    """The study's C3 sentence, tested for 4 methods x 2 importance variants, is one passage: the tally counts 8
    verdicts on 1 quoted passage and says they are neither independent nor corrected for multiple comparisons."""
    findings = [
        _f(f"C3-signature-{m}-{v}", "supported", QUOTES["C3"])
        for m in ("mds", "umap", "tsne", "exact")
        for v in ("uniform", "geometric:0.9")
    ]
    text = tally(findings)
    assert "Claims the study made (8 verdicts on 1 quoted passage)" in text
    assert "are not independent claims" in text and "the 8 verdicts are not corrected for multiple comparisons" in text
    one = tally(findings[:1])
    assert "not independent" not in one and "the 1 verdicts" not in one
