"""The words a reader of the field uses for the run's machine names: the one home of the report's table words.

The tables on disk (``panels.csv``, ``saes.csv``, ...) keep their machine names (``knn_recall``,
``procrustes_baseline``, ``relu_l1``); the report shows its readers the names the papers use (k-NN recall,
trustworthiness and continuity after Venna & Kaski 2001, MMCS after Sharkey et al. 2022, MCC, the SAE
architectures as their papers write them). :func:`reader_table` turns a section's table into what the report
shows: header words, cell words, booleans as yes / no, reasons as readable text, and a note under the table for
what is the same in every row (a column undefined for one reason, a measure undefined everywhere), said once
instead of per cell. Sections hand the report their tables as they are; only the report renders them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from supviz.core.names import MEASURE_NAMES

#: Machine column name -> the header words of the report's tables: the measures by their papers' names
#: (:data:`supviz.core.names.MEASURE_NAMES`, their one home, which the figures read too), and the other columns.
COLUMN_WORDS: dict[str, str] = {
    **MEASURE_NAMES,
    "n_points": "points",
    # section 1 (the orthogonal baselines)
    "radius_cv_mds": "MDS's radius CV (same N)",
    "spread": "extent (the picture's own units)",
    "nan_reasons": "undefined, and why",
    # section 1 (the two-feature toy models)
    "final_loss": "final loss",
    "cosine_by_seed": "cosine, per seed",
    "loss_by_seed": "final loss, per seed",
    # the SAEs and the digits network
    "d_sae": "dictionary size",
    "accuracy_min": "worst replicate's accuracy",
    "dim": "dimensions",
    # statistics
    "p_value": "p value",
    "n_cells": "cells",
    "n_groups": "groups",
    "rho": "Spearman rho",
    "rho_within": "within m: Spearman rho",
    "within_low": "within m: 95% interval, low",
    "within_high": "within m: 95% interval, high",
    "n_within": "cells within m",
    "n_strata": "hidden sizes m",
    "rho_variant": "within m and importance: Spearman rho",
    "variant_low": "within m and importance: 95% interval, low",
    "variant_high": "within m and importance: 95% interval, high",
    "n_variant_strata": "(m, importance) strata",
    "over_capacity": "more represented features than SAE latents",
    "mmcs_low": "MMCS: 95% interval, low",
    "mmcs_high": "MMCS: 95% interval, high",
    "m_used": "toy cells' m",
}

#: The reasons a measure is undefined (:mod:`supviz.metrics.undefined`) as a reader reads them.
REASON_WORDS: dict[str, str] = {
    "no X_true given": "no true inputs behind these points",
    "no baseline given": "no picture of diag(N) to compare with",
    "skipped: all_pairs=False (a metric over all pairs)": "not computed (a measure over all pairs)",
}

#: Columns that hold reasons: undefined measures and why (``name: reason; name: reason``), or a free reason.
REASON_COLUMNS = ("nan_reasons", "reason", "notes")


#: Section E's space beside section D's (:data:`supviz.datapoints.spaces.SPACE_NAMES`): the SAE's codes of the codes
#: of the represented features (the ``codes_rep`` rows of the points table), by name and by meaning.
SAE_SPACE_NAMES = {"codes_rep": "SAE codes of the represented features"}
SAE_SPACE_MEANINGS = {
    "codes_rep": "the SAE (trained on h) applied to the codes of the represented features",
}


@cache
def space_names() -> dict[str, str]:
    """Every pictured space's machine name -> its reader's name, without an article (:data:`SAE_SPACE_NAMES` beside
    :data:`supviz.datapoints.spaces.SPACE_NAMES`)."""
    from supviz.datapoints.spaces import SPACE_NAMES

    return {**SPACE_NAMES, **SAE_SPACE_NAMES}


def space_words(space: str, *, the: bool = True) -> str:
    """The reader's name of a pictured space, e.g. ``space_words("h_rep")`` -> ``"the codes of the represented
    features"``; ``the=False`` leaves the article out (panel titles, table cells). Every sentence, table and figure of
    the report names a space through this function; the data's keys (``h_rep``) stay in the tables on disk, and
    :func:`space_definitions` gives each name with its key once, in the appendix. Raises ``KeyError`` for a space
    that has no name (a new space must be named here first)."""
    name = space_names()[space]
    return f"the {name}" if the else name


def space_definitions() -> list[tuple[str, str]]:
    """(the reader's name with its key, what it means) per named space: the appendix's definitions, e.g.
    ``("codes of the represented features (h_rep)", "the inputs on the represented features sent through ...")``."""
    from supviz.datapoints.spaces import SPACE_MEANINGS

    meanings = {**SPACE_MEANINGS, **SAE_SPACE_MEANINGS}
    return [(f"{name} ({key})", meanings[key]) for key, name in space_names().items() if key in meanings]


@cache
def value_words() -> dict[str, str]:
    """Machine values a cell may hold -> words: the SAE architectures as their papers write them
    (:data:`supviz.sae.config.ARCHITECTURE_NAMES`), the picture methods (:data:`supviz.dr.base.METHOD_NAMES`),
    the importance variants' short labels (:func:`supviz.toy.importance.variant_label`), the pictured spaces whose
    key is not a reader's symbol (``x_rep``, ``h_rep``, ``codes_rep``: :func:`space_names`; ``x`` and ``h`` are)."""
    from supviz.dr.base import METHOD_NAMES
    from supviz.sae.config import ARCHITECTURE_NAMES
    from supviz.toy.importance import VARIANT_ORDER, variant_label

    return {
        **ARCHITECTURE_NAMES,
        **METHOD_NAMES,
        **{v: variant_label(v, short=True) for v in VARIANT_ORDER},
        **{k: v for k, v in space_names().items() if "_" in k},
    }


def column_words(name: str) -> str:
    """The header words of column ``name`` (:data:`COLUMN_WORDS`; any other name as it is)."""
    return COLUMN_WORDS.get(str(name), str(name))


@cache
def machine_names() -> re.Pattern[str]:
    """The machine names a reader must not meet in the report's body (architectures, snake_case measures), as
    whole words: what :func:`reader_words` replaces, and what :func:`supviz.report.html.implementation_details`
    finds."""
    names = [n for n in (*value_words(), *COLUMN_WORDS) if "_" in n or n in _arch_names()]
    return re.compile(r"(?<!\w)(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")(?!\w)")


def _arch_names() -> tuple[str, ...]:
    from supviz.sae.config import ARCHITECTURE_NAMES

    return tuple(ARCHITECTURE_NAMES)


def reader_words(text: str) -> str:
    """``text`` with every machine name in it (an architecture, a snake_case measure) replaced by its words, e.g.
    ``"codes (relu_l1)"`` -> ``"codes (ReLU + L1)"``; a whole cell that is a machine value (``"mds"``) -> its
    words (``"MDS"``)."""
    whole = value_words().get(text) or COLUMN_WORDS.get(text)
    if whole is not None:
        return whole
    return machine_names().sub(lambda m: value_words().get(m.group(1)) or COLUMN_WORDS[m.group(1)], text)


def reason_words(reason: str) -> str:
    """One reason a measure is undefined, as a reader reads it (:data:`REASON_WORDS`, machine names replaced)."""
    reason = reason.strip()
    return reader_words(REASON_WORDS.get(reason, reason))


def split_reasons(text: str) -> dict[str, str]:
    """A ``nan_reasons`` cell (``"shepard_rho: why; knn_recall: why"``, :func:`supviz.metrics.layout_metrics`) as
    measure -> reason. A reason may hold ``;`` itself (``"needs 12 points; got 3"``): an entry starts only where a
    measure's name and ``:`` follow."""
    out: dict[str, str] = {}
    for part in re.split(r";\s*(?=[a-z][a-z0-9_]*: )", text.strip()):
        name, sep, reason = part.partition(": ")
        if sep and re.fullmatch(r"[a-z][a-z0-9_]*", name):
            out[name] = reason.strip()
        elif part.strip():
            out[""] = part.strip()
    return out


def join_reasons(reasons: dict[str, str]) -> str:
    """measure -> reason as one readable line, measures that share a reason named together:
    ``"Shepard rho (Spearman), trustworthiness: all pairwise distances of X tie"``."""
    by_reason: dict[str, list[str]] = {}
    for name, reason in reasons.items():
        by_reason.setdefault(reason_words(reason), []).append(column_words(name) if name else "")
    return "; ".join(
        (", ".join(n for n in names if n) + ": " if any(names) else "") + reason for reason, names in by_reason.items()
    )


@dataclass
class ReaderTable:
    """A table as the report shows it: header words, cells as text, and the notes said once under it."""

    header: list[str]
    numeric: list[bool]
    """Per column: numbers (right-aligned) or text."""
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)


def _cell(v: Any) -> str:
    import numpy as np

    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (float, np.floating)):
        return "" if math.isnan(float(v)) else f"{float(v):.4g}"
    if isinstance(v, str):
        return reader_words(v)
    return str(v)


def _numeric(col: Any) -> bool:
    """A column of numbers (not booleans, not text): right-aligned, and left out when undefined in every row."""
    import pandas as pd

    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _texts(col: Any) -> list[str] | None:
    """The column's values as text when it holds text (missing values as ""), else None."""
    if not any(isinstance(v, str) for v in col):
        return None
    if any(not isinstance(v, str) and v is not None and v == v for v in col):
        return None
    return [v if isinstance(v, str) else "" for v in col]


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def reader_table(frame: Any) -> ReaderTable:
    """What the report shows of ``frame`` (a pandas DataFrame, machine names kept on disk).

    - header: :func:`column_words`; cells: :func:`reader_words`, booleans as yes / no, floats to 4 significant
      digits, NaN blank;
    - a reason column (:data:`REASON_COLUMNS`): each entry readable (:func:`join_reasons`); a measure undefined for
      the same reason in every row is said once, in a note, and left out of the cells; a reason column that says
      the same in every row becomes that note;
    - a numeric column undefined (NaN) in every row is dropped and said once in a note (with its reason, where a
      reason column gives one reason for it in every row).

    "In every row" needs at least two rows: a table of one row keeps its cells as they are.
    """
    frame = frame.reset_index(drop=True)
    notes: list[str] = []
    shown = dict.fromkeys(frame.columns)
    cells: dict[Any, list[str]] = {}
    common: dict[str, str] = {}
    for c in frame.columns:
        texts = _texts(frame[c]) if c in REASON_COLUMNS else None
        if texts is None:
            continue
        if c == "nan_reasons":
            parsed = [split_reasons(t) for t in texts]
            many = len(parsed) > 1  # "in every row" says something only of a table of several rows
            same = {k: r for k, r in (parsed[0].items() if many else ()) if all(p.get(k) == r for p in parsed)}
            common.update(same)
            cells[c] = [join_reasons({k: r for k, r in p.items() if k not in same}) for p in parsed]
        else:
            cells[c] = [reason_words(t) for t in texts]
        if len(frame) > 1 and len(set(cells[c])) == 1:
            if cells[c][0]:
                notes.append(f"{_upper(column_words(c))}, in every row: {cells[c][0]}.")
            del shown[c]
    for c in frame.columns:
        if c in shown and len(frame) > 1 and _numeric(frame[c]) and bool(frame[c].isna().all()):
            del shown[c]
            why = common.pop(c, "")
            notes.append(
                f"{_upper(column_words(c))}: undefined in every row" + (f" ({reason_words(why)})." if why else ".")
            )
    if common:
        notes.append("In every row, undefined: " + join_reasons(common) + ".")
    cols = [c for c in frame.columns if c in shown]
    rows = [[cells[c][i] if c in cells else _cell(frame[c].iloc[i]) for c in cols] for i in range(len(frame))]
    numeric = [_numeric(frame[c]) for c in cols]
    return ReaderTable([column_words(c) for c in cols], numeric, rows, notes)
