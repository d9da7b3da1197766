"""Sentences whose structure is known: a template corpus with labelled factors, or a user's texts and labels.

No text data set ships offline, so :func:`template_corpus` writes one. Each sentence is
``<determiner> <subject> <verb phrase> <object> <adverb>.``, for example "These chefs will not cook the
soup badly." Its slots carry five factors, each drawn independently and uniformly per sentence:

========== ===================================== ===================================================
factor     values                                where it shows
========== ===================================== ===================================================
topic      food, sports, music, science, travel  the subject, verb and object words
sentiment  positive, negative                    the adverb (beautifully / badly ...)
tense      past, present, future                 the verb form (cooked / cooks / will cook)
number     singular, plural                      the subject noun, determiner and verb agreement
negation   affirmative, negated                  "not" with do / did / will
control    a, b                                  nowhere: drawn like the others, never written
========== ===================================== ===================================================

``control`` is a negative control: no template varies with it, so no measure can find it above
chance (a linear probe's accuracy on it is at chance; the test says so). The words inside a slot
(which subject of the topic, which determiner, which object) are drawn too, so a factor is never
one fixed word. The corpus is a pure function of ``(n, seed)``: equal seeds give equal sentences.

:func:`read_texts` and :func:`read_labels` read a user's texts (UTF-8, one sentence a line) and
labels (CSV with a header row, one column per factor, one row per sentence).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from supviz.core.seeding import SeedLike, as_seed_sequence
from supviz.core.validation import check_int
from supviz.errors import SupvizError
from supviz.runtime.codecs import cacheable

#: Per topic: subjects (singular, plural), verbs (base, 3rd singular, past), objects.
TOPICS: dict[str, dict[str, list[Any]]] = {
    "food": {
        "subjects": [("chef", "chefs"), ("cook", "cooks"), ("baker", "bakers")],
        "verbs": [("cook", "cooks", "cooked"), ("bake", "bakes", "baked"), ("prepare", "prepares", "prepared")],
        "objects": ["the soup", "the bread", "the dinner", "a cake"],
    },
    "sports": {
        "subjects": [("player", "players"), ("athlete", "athletes"), ("coach", "coaches")],
        "verbs": [("play", "plays", "played"), ("win", "wins", "won"), ("handle", "handles", "handled")],
        "objects": ["the match", "the game", "the final", "the race"],
    },
    "music": {
        "subjects": [("singer", "singers"), ("pianist", "pianists"), ("drummer", "drummers")],
        "verbs": [("perform", "performs", "performed"), ("record", "records", "recorded"), ("sing", "sings", "sang")],
        "objects": ["the song", "the concert", "the album", "the melody"],
    },
    "science": {
        "subjects": [("researcher", "researchers"), ("chemist", "chemists"), ("physicist", "physicists")],
        "verbs": [("run", "runs", "ran"), ("analyze", "analyzes", "analyzed"), ("test", "tests", "tested")],
        "objects": ["the experiment", "the study", "the samples", "the hypothesis"],
    },
    "travel": {
        "subjects": [("pilot", "pilots"), ("tourist", "tourists"), ("driver", "drivers")],
        "verbs": [("plan", "plans", "planned"), ("manage", "manages", "managed"), ("book", "books", "booked")],
        "objects": ["the trip", "the journey", "the flight", "the tour"],
    },
}
ADVERBS = {
    "positive": ["beautifully", "brilliantly", "perfectly", "wonderfully"],
    "negative": ["badly", "terribly", "poorly", "miserably"],
}
DETERMINERS = {"singular": ["The", "This", "That", "Our"], "plural": ["The", "These", "Those", "Our"]}
#: Every factor and its values, in column order.
FACTORS: dict[str, tuple[str, ...]] = {
    "topic": tuple(TOPICS),
    "sentiment": ("positive", "negative"),
    "tense": ("past", "present", "future"),
    "number": ("singular", "plural"),
    "negation": ("affirmative", "negated"),
    "control": ("a", "b"),
}
#: The factor no template expresses (the negative control).
CONTROL = "control"


@cacheable
@dataclass(frozen=True)
class Corpus:
    """Sentences and their factors.

    Attributes
    ----------
    texts : list[str]
        ``N`` sentences.
    factors : pandas.DataFrame
        ``N`` rows, one column per factor (strings).
    source : str
        ``"templates (seed S)"`` or the files read.
    """

    texts: list[str]
    factors: Any
    source: str

    def __len__(self) -> int:
        return len(self.texts)


def _verb_phrase(verb: tuple[str, str, str], tense: str, number: str, negated: bool) -> str:
    base, third, past = verb
    if tense == "future":
        return f"will not {base}" if negated else f"will {base}"
    if tense == "past":
        return f"did not {base}" if negated else past
    if negated:
        return f"does not {base}" if number == "singular" else f"do not {base}"
    return third if number == "singular" else base


def template_corpus(n: int = 2000, *, seed: SeedLike = 0) -> Corpus:
    """``n`` template sentences with their factors (module docstring), deterministic from ``seed``.

    Parameters
    ----------
    n : int, default 2000
        Sentences (>= 1).
    seed : int, Generator, SeedSequence or None
        Equal seeds give equal corpora.

    Returns
    -------
    Corpus
    """
    import pandas as pd

    n = check_int("n", n, min_value=1)
    rng = np.random.default_rng(as_seed_sequence(seed))
    draws = {name: rng.integers(0, len(values), size=n) for name, values in FACTORS.items()}
    slots = rng.integers(0, 12, size=(n, 5))  # subject, verb, object, adverb, determiner (taken modulo each list)
    texts, rows = [], []
    for i in range(n):
        f = {name: FACTORS[name][draws[name][i]] for name in FACTORS}
        words = TOPICS[f["topic"]]
        subj = words["subjects"][slots[i, 0] % len(words["subjects"])][f["number"] == "plural"]
        verb = words["verbs"][slots[i, 1] % len(words["verbs"])]
        obj = words["objects"][slots[i, 2] % len(words["objects"])]
        adv = ADVERBS[f["sentiment"]][slots[i, 3] % len(ADVERBS[f["sentiment"]])]
        det = DETERMINERS[f["number"]][slots[i, 4] % len(DETERMINERS[f["number"]])]
        vp = _verb_phrase(verb, f["tense"], f["number"], f["negation"] == "negated")
        texts.append(f"{det} {subj} {vp} {obj} {adv}.")
        rows.append(f)
    return Corpus(texts, pd.DataFrame(rows, columns=list(FACTORS)), f"templates (seed {seed})")


def read_texts(path: str | Path, *, flag: str = "--texts") -> list[str]:
    """A user's sentences: a UTF-8 text file, one sentence a line (blank lines are refused, not skipped).

    Raises
    ------
    SupvizError
        No such file, not UTF-8, empty, or a blank line (its number given).
    """
    p = Path(path)
    if not p.is_file():
        raise SupvizError(f"`{flag}` must be an existing text file; got {str(path)!r}.")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SupvizError(f"`{flag}` {str(path)!r} is not UTF-8 text (byte {exc.start}).") from None
    lines = text.splitlines()
    if not lines or not any(line.strip() for line in lines):
        raise SupvizError(f"`{flag}` {str(path)!r} holds no sentence: it is empty.")
    blank = [i + 1 for i, line in enumerate(lines) if not line.strip()]
    if blank:
        raise SupvizError(f"`{flag}` {str(path)!r} has a blank line (line {blank[0]}); one sentence a line.")
    return lines


def read_labels(path: str | Path, n: int, *, flag: str = "--labels") -> Any:
    """A user's factors: CSV with a header row (the factor names), one row per sentence, read as strings.

    Raises
    ------
    SupvizError
        No such file, not UTF-8 / not CSV, no column, or not ``n`` rows.
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise SupvizError(f"`{flag}` must be an existing CSV file; got {str(path)!r}.")
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError:
        raise SupvizError(f"`{flag}` {str(path)!r} is not UTF-8 text.") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SupvizError(f"`{flag}` {str(path)!r} is not a CSV with a header row ({str(exc).strip()}).") from None
    if frame.shape[1] == 0:
        raise SupvizError(f"`{flag}` {str(path)!r} has no column.")
    if len(frame) != n:
        raise SupvizError(f"`{flag}` must hold one row per sentence of --texts ({n}); got {len(frame)}.")
    return frame


def user_corpus(texts: str | Path, labels: str | Path | None = None) -> Corpus:
    """:func:`read_texts` and (optionally) :func:`read_labels` as one :class:`Corpus`."""
    import pandas as pd

    lines = read_texts(texts)
    frame = read_labels(labels, len(lines)) if labels is not None else pd.DataFrame(index=range(len(lines)))
    return Corpus(lines, frame, str(texts) if labels is None else f"{texts} + {labels}")
