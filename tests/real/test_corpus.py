"""The template corpus (supviz.real.corpus): deterministic, its factors visible in the words, the control invisible."""

from __future__ import annotations

import numpy as np
import pytest

from supviz.errors import SupvizError
from supviz.real.corpus import CONTROL, FACTORS, TOPICS, read_labels, read_texts, template_corpus

PLURAL_NOUNS = {pl for words in TOPICS.values() for _sg, pl in words["subjects"]}


def test_same_seed_same_corpus_other_seed_other_corpus():
    a, b, c = template_corpus(200, seed=5), template_corpus(200, seed=5), template_corpus(200, seed=6)
    assert a.texts == b.texts and a.factors.equals(b.factors)
    assert a.texts != c.texts
    assert list(a.factors.columns) == list(FACTORS)


def test_factors_show_in_the_words_and_the_control_does_not():
    c = template_corpus(400, seed=0)
    f = c.factors
    for text, neg, tense, number in zip(c.texts, f["negation"], f["tense"], f["number"]):
        assert (" not " in text) == (neg == "negated")
        assert (" will " in text) == (tense == "future")
        assert (text.split()[1] in PLURAL_NOUNS) == (number == "plural")
    # the control is drawn, but two sentences differing only in it cannot exist: the text fixes every other factor
    key = {t: tuple(r) for t, r in zip(c.texts, f.drop(columns=CONTROL).itertuples(index=False))}
    for t, r in zip(c.texts, f.drop(columns=CONTROL).itertuples(index=False)):
        assert key[t] == tuple(r)
    assert set(f[CONTROL]) == set(FACTORS[CONTROL])


def test_every_value_of_every_factor_occurs():
    f = template_corpus(300, seed=1).factors
    for name, values in FACTORS.items():
        assert set(f[name]) == set(values), name


def test_user_files(tmp_path):
    t = tmp_path / "t.txt"
    t.write_text("one\ntwo\nthree\n", encoding="utf-8")
    assert read_texts(t) == ["one", "two", "three"]
    lab = tmp_path / "l.csv"
    lab.write_text("mood\nhappy\nsad\nhappy\n", encoding="utf-8")
    assert read_labels(lab, 3)["mood"].tolist() == ["happy", "sad", "happy"]
    with pytest.raises(SupvizError, match=r"one row per sentence of --texts \(4\); got 3"):
        read_labels(lab, 4)
    (tmp_path / "e.txt").write_text("")
    with pytest.raises(SupvizError, match="it is empty"):
        read_texts(tmp_path / "e.txt")
    (tmp_path / "b.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(SupvizError, match="is not UTF-8 text"):
        read_texts(tmp_path / "b.txt")
    (tmp_path / "g.txt").write_text("a\n\nb\n")
    with pytest.raises(SupvizError, match="blank line \\(line 2\\)"):
        read_texts(tmp_path / "g.txt")
    assert np.array_equal(template_corpus(3, seed=0).factors.index, np.arange(3))
