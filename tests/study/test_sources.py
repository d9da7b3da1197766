"""Every "The study says" cell names where the study says it, or whose claim it is, or that the study did not ask it."""

from supviz.study.sources import OWN, QUOTES, SHARKEY, claim_owner, paper_of, source_for


def test_the_study_claims_quote_the_study_and_the_others_are_labelled_its_own():
    assert source_for("C3-signature-uniform") == QUOTES["C3"]
    assert source_for("C2-ring-geometric:0.9") == QUOTES["C2-ring"]
    assert "emerges only because of the presence of all the points at the origin" in source_for("D-ring-uniform")
    for key in ("D-star-uniform", "E-won-back-mds", "F-narrower-lies-more", "C-tsne-uniform"):
        assert source_for(key) == OWN
    # each quote says where it stands and quotes the study's words
    assert all(q.startswith(("Hamblin (2022), '", "Elhage et al. (2022), '")) and '"' in q for q in QUOTES.values())


def test_a_claim_the_study_only_repeats_is_labelled_with_its_author():
    # A3's falling dimensions and sticky fractions are Elhage et al.'s; the study's words there are only that "many
    # different geometries can emerge as optimal (again from their paper)"
    for key in ("A3-dims", "A3-sticky"):
        src = source_for(key)
        assert src.startswith("Elhage et al. (2022)") and "not the study's" in src
        assert claim_owner(src) == "cited"
    assert claim_owner(source_for("A1-antipodal")) == claim_owner(source_for("B5-tsne-across-n")) == "study"
    assert claim_owner(OWN) == claim_owner("") == "own"
    # Sharkey et al.'s claim that SAEs recover sparse features is theirs, tested on the study's cells: a paper's, not
    # supviz's own question, as Elhage et al.'s are
    assert claim_owner(SHARKEY) == "cited" and paper_of(SHARKEY) == "Sharkey, Braun & Millidge (2022)"
    assert paper_of(source_for("A3-dims")) == "Elhage et al. (2022)"


def test_data_point_verdicts_name_their_source():
    # the study's conclusion is tested by h against x_rep; pictures of h against pictures of x are supviz's own
    assert "might not be as large a problem" in source_for("D-claim-exact-uniform")
    assert "might not be as large a problem" in source_for("D-claim-umap-geometric:0.9")
    for key in ("D-mds-uniform", "D-umap-uniform", "D-tsne-geometric:0.9"):
        assert source_for(key) == OWN
