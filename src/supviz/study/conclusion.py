"""The report's answer, computed once from the run's tables and findings: :func:`conclude`.

- :func:`answer_sentences`: the answer in words, a few sentences above the verdict grid (the verdicts counted);
- :func:`lead_sentences`: the first screen's detail under the grid (data points, feature directions, the ring);
- :func:`conclusion_claims`: the closing paragraphs (the loss split, the false neighbours, the ring
  control, the C3 collapse, the stars), each with the figures behind it; the data-point paragraphs quote
  section D's verdicts and the functions they come from, so the first screen follows from them.

Everything is a pure function of the tables (:mod:`supviz.study.tables`) and the findings of the
sections, so a test recomputes any number the report states; the pipeline calls :func:`conclude`
once and hands the :class:`~supviz.report.records.Conclusion` to the report, which only renders it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from supviz.core.text import fmt, pct, plural
from supviz.dr.base import METHOD_NAMES
from supviz.report.records import Claim, Conclusion
from supviz.study.datapoints.findings import (
    FAILS_ABOVE,
    HOLDS_BELOW,
    NEAR_CHANCE_CC,
    answer_effects,
    claim_effect,
    dropped_share,
    loss_split,
    loss_split_sentence,
    method_effect,
    part_share,
    pictured_under,
    ring_control_summary,
    ring_verdict,
    rule_disagreements,
    split_shares,
    without_p_most,
)
from supviz.study.embeddings.findings import MARGIN_WORDS
from supviz.study.sources import OWNERS, claim_owner, paper_of, source_for
from supviz.study.stats import NOT_ENOUGH
from supviz.study.verdicts import DISC_MIN, RULE_SHORT, RULE_TEXT, other_rule
from supviz.toy.importance import ordered_variants, variant_label, variant_slug

METHODS = tuple(METHOD_NAMES.values())  # MDS, UMAP, t-SNE: the grid's rows, in order
_METHOD_KEY = {name: key for key, name in METHOD_NAMES.items()}


#: The question the report answers (its first paragraph).
QUESTION = (
    "Toy models of superposition (Elhage et al. 2022) pack many features into few dimensions. Do the pictures "
    "people draw of latent spaces (MDS, UMAP, t-SNE) still show the data faithfully, or does superposition distort "
    'them? Hamblin (2022) pictured the feature directions and concluded that superposition "might not be as large '
    'a problem for latent space visualization". supviz measures it.'
)


def conclude(
    tables: dict[str, Any], findings: Sequence[Any], *, rule: str = "norm", figure_ids: set[str] | None = None
) -> Conclusion:
    """The report's answer: the question, the answer in words (the grid's verdicts counted), the first screen's
    detail, the closing paragraphs and the tally of the verdicts (without tables: no detail and no closing
    paragraphs)."""
    out = Conclusion(
        question=QUESTION,
        tally=tally(findings),
        changed=[f.key for f in findings if f.changes_with_rule()],
        rules=(RULE_TEXT[rule], RULE_TEXT[other_rule(rule)]),
        thresholds=GRID_THRESHOLDS,
    )
    out.answer = answer_sentences(findings)
    if tables:
        plain = plain_answer(tables, findings, rule=rule)
        # h's loss split is said once on the first screen: in the plain answer where there is one
        out.lead = lead_sentences(tables, findings, rule=rule, other_split=bool(plain))
        if plain:
            # the answer in words above the grid; the verdicts counted (what the grid itself shows) go under it, so
            # the first screen's paragraph stays short
            out.lead = out.answer + out.lead
            out.answer = [plain]
        out.claims = conclusion_claims(tables, findings, rule=rule, figure_ids=figure_ids)
    return out


#: The verdict grid's thresholds in words (feature directions, data points), each named as supviz's own: the study
#: names no number for either (review 7 item 6).
GRID_THRESHOLDS = (
    f"the whole 95% interval of that distance's correlation with sparsity within m lies within {MARGIN_WORDS}",
    f"holds below a {pct(HOLDS_BELOW)} relative loss, fails above {pct(FAILS_ABOVE)}: supviz's own bands, the study "
    "names no number",
)


#: How the first screen's answer names each view of the verdict grid.
VIEW_WORDS = {
    "data points": "For pictures of data points, where the model stores features in superposition",
    "feature directions": "For the pictures the study drew, of the feature directions (the rows of W)",
}


def plain_answer(tables: dict[str, Any], findings: Sequence[Any], *, rule: str = "norm") -> str:
    """The answer in one plain sentence, from the numbers the grid's data-point verdicts read: how much of the
    neighbours above chance the pictures of the codes of the represented features lose against the pictures of the
    inputs on those features where W has superposition (the range of the estimates over methods and importance
    variants, :func:`~supviz.study.datapoints.findings.claim_effect`), where their 95% intervals lie against the
    verdicts' bands, counted as the verdicts count them (:func:`band_count`), and how the code space h's own loss
    splits between the dropped features, superposition, plain linear compression and the dropped features' short rows
    per variant under both represented rules, each share with its jackknife interval over the p values
    (:func:`split_words`). '' without the tables or the data-point verdicts."""
    points, cells = tables.get("points"), tables.get("cells")
    if points is None or cells is None or not len(points) or not len(cells):
        return ""
    variants = ordered_variants([f.importance for f in findings if f.view == "data points"])
    keys = [_METHOD_KEY[m] for m in METHODS]
    # the headline figure draws the same effects (answer_effects: one home for the answer's numbers)
    named = [(v, k, e) for v in variants for k, e in answer_effects(points, cells, v, keys, rule=rule).items()]
    effects = [e for _, _, e in named]
    if not effects:
        return ""
    text = (
        "In short: where the model stores features in superposition, pictures of the codes of the represented "
        f"features lose {_loss_range(effects)} of the neighbours above chance that pictures of the same inputs on "
        f"those features keep. {band_count(effects)}"
    )
    near = near_chance_words(named)
    text += f". {near}" if near else ""
    # the same under the other represented rule, where the run pictured it (review 6: the verdicts alone hid that
    # the range moves with the rule)
    other = other_rule(rule)
    others = [
        e
        for v in variants
        for m in METHODS
        if pictured_under(points, v, _METHOD_KEY[m], other)
        for e in [claim_effect(points, cells, v, method=_METHOD_KEY[m], rule=other)]
        if e["n_cells"] and np.isfinite(e["estimate"])
    ]
    if others:
        text += f". With {RULE_SHORT[other]} as the represented rule they lose {_loss_range(others)}; " + band_count(
            others, bands=False
        )
    split = split_words(cells, variants, rule=rule, other_in_full=False)
    return text + (f". {split}" if split else "") + "."


def near_chance_words(named: Sequence[tuple[str, str, dict[str, Any]]]) -> str:
    """The methods whose ratio rests on a near-chance denominator, in one sentence: where the picture of the inputs
    (the ratio's reference) keeps, in chance-corrected recall (``ref_cc`` of
    :func:`~supviz.study.datapoints.findings.claim_effect`), less than
    :data:`~supviz.study.datapoints.findings.NEAR_CHANCE_CC` of what a perfect picture keeps beyond chance (supviz's
    floor; the study names none), its loss is a share of very little. ``named``: ``(variant, method key, effect)``
    triples; '' where every reference clears the floor."""
    low = [(v, k, e) for v, k, e in named if np.isfinite(e["ref_cc"]) and e["ref_cc"] < NEAR_CHANCE_CC]
    if not low:
        return ""
    methods = list(dict.fromkeys(METHOD_NAMES[k] for _, k, _ in low))
    parts = []
    for name in methods:
        rows = [(v, e) for v, k, e in low if METHOD_NAMES[k] == name]
        kept = list(dict.fromkeys(pct(e["ref_cc"]) for _, e in rows))  # "8%" once where both print alike
        parts.append(
            f"{name}'s "
            + ("ratio" if len(rows) == 1 else "ratios")
            + " ("
            + " and ".join(f"{pct(e['estimate'])} under {variant_label(v)}" for v, e in rows)
            + ") rest"
            + ("s" if len(rows) == 1 else "")
            + " on a near-chance denominator: its pictures of the inputs keep only "
            + " and ".join(kept)
            + " of what a perfect picture keeps beyond chance"
        )
    return (
        "Of these, "
        + "; ".join(parts)
        + f" (supviz's floor: {pct(NEAR_CHANCE_CC)}; the study names none), so they measure a loss of very little"
    )


#: How :func:`band_count` words each verdict of the banded loss rule (the interval against both bands).
BAND_WORDS = {
    "supported": "wholly below {lo}",
    "partly": "wholly between {lo} and {hi}",
    "not supported": "wholly above {hi}",
    NOT_ENOUGH: "across a band's edge (undecided)",
}


def _loss_range(effects: Sequence[dict[str, Any]]) -> str:
    """The range of the effects' estimated losses in percent ("7% to 20%", or one value)."""
    est = [e["estimate"] for e in effects]
    lo, hi = pct(min(est)), pct(max(est))
    return lo if lo == hi else f"{lo} to {hi}"


def band_count(effects: Sequence[dict[str, Any]], *, bands: bool = True) -> str:
    """Where the 95% intervals of ``effects`` (:func:`~supviz.study.datapoints.findings.claim_effect` results) lie
    against the verdicts' bands, counted by the verdicts themselves (so the count and the grid agree): below
    :data:`~supviz.study.datapoints.findings.HOLDS_BELOW`, between it and
    :data:`~supviz.study.datapoints.findings.FAILS_ABOVE`, above, or across an edge (an interval that straddles a
    threshold, or too few p values for one)."""
    lo, hi = pct(HOLDS_BELOW), pct(FAILS_ABOVE)
    counts = {v: sum(1 for e in effects if e["verdict"] == v) for v in BAND_WORDS}
    head = (
        f"The study names no number: supviz reads its conclusion as holding below a {lo} loss and failing above {hi}; "
        if bands
        else ""
    )
    whole = [v for v, c in counts.items() if c == len(effects)]
    if whole and len(effects) > 1:  # one class holds them all: said once, not with three "none"s
        return head + f"all {len(effects)} intervals (95%) lie {BAND_WORDS[whole[0]].format(lo=lo, hi=hi)}"
    parts = [f"{counts[v] or 'none'} {words.format(lo=lo, hi=hi)}" for v, words in BAND_WORDS.items()]
    return head + f"of the {len(effects)} intervals (95%), " + ", ".join(parts[:-1]) + f" and {parts[-1]}"


def dropped_most(splits: Sequence[dict[str, Any]]) -> str:
    """Whether the dropped features take most of h's loss under every split given (one per represented rule), read
    by the 95% intervals of their share: ``"most"`` where every interval lies wholly above one half, ``"not"`` where
    one lies wholly at or below it, ``"undecided"`` otherwise (an interval across one half, or none)."""
    bounds = [s["share_dropped_interval"] for s in splits]
    if any(np.isfinite(hi) and hi <= 0.5 for _, hi in bounds):
        return "not"
    if all(np.isfinite(lo) and lo > 0.5 for lo, _ in bounds):
        return "most"
    return "undecided"


def split_words(cells: Any, variants: Sequence[str], *, rule: str = "norm", other_in_full: bool = True) -> str:
    """How the code space h's own loss splits between the features the model drops, superposition, plain linear
    compression and the dropped features' short rows, per variant and under both represented rules
    (:func:`~supviz.study.datapoints.findings.loss_split`), in one sentence of the first screen: each share with its
    95% jackknife interval over the p values (:func:`split_shares`; the verdicts' resampling unit), the shares adding
    up to 100%. The split moves with the rule, because a feature counts as dropped when its row of W falls below the
    rule's cutoff (stored weakly, not necessarily absent; :func:`disagreement_words` counts the cells where the
    rules disagree); 'most' only where the dropped share's whole interval lies above one half under both rules
    (:func:`dropped_most`). ``other_in_full=False`` (the first screen): the dropped and superposition shares under
    the report's rule and the other rule's dropped share, every part of both splits under the grid
    (:func:`lead_sentences`, :func:`other_rule_split`). '' without a split."""
    rules = (rule, other_rule(rule))
    splits = {(v, r): loss_split(cells, v, rule=r) for v in variants for r in rules}
    have = [v for v in variants if all(splits[v, r].get("n_cells") for r in rules)]
    have = [v for v in have if all(np.isfinite(splits[v, r]["share_dropped"]) for r in rules)]
    if not have:
        return ""
    most = {v: dropped_most([splits[v, r] for r in rules]) for v in have}
    kinds = set(most.values())

    def reaching(v: str) -> str:
        # which rule's dropped-share interval leaves 'most' open under v (review 7: 'an interval' read as both)
        return " and ".join(
            f"the interval with {RULE_SHORT[r]}, {dropped_share(splits[v, r])}, "
            + ("reaches 50%" if np.isfinite(splits[v, r]["share_dropped_interval"][0]) else "is undefined")
            for r in rules
            if dropped_most([splits[v, r]]) == "undecided"
        )

    if len(kinds) == 1:
        kind = kinds.pop()
        verdict = {
            "most": "the dropped features take most of it under both rules (every interval above 50%)",
            "not": "the dropped features do not take most of it under both rules",
            "undecided": "whether the dropped features take most of it under both rules is undecided: "
            + "; ".join(f"under {variant_label(v)} {reaching(v)}" for v in have),
        }[kind]
    else:

        def under(k: str) -> str:
            return " and ".join(variant_label(v) for v in have if most[v] == k)

        verdict = "; ".join(
            words
            for k, words in (
                (
                    "most",
                    f"the dropped features take most of it under both rules (every interval above 50%) only "
                    f"under {under('most')}",
                ),
                ("not", f"not under {under('not')}"),
                (
                    "undecided",
                    "; ".join(f"under {variant_label(v)} {reaching(v)}" for v in have if most[v] == "undecided"),
                ),
            )
            if k in most.values()
        )

    def per_rule(r: str, *, first: bool) -> str:
        return "; ".join(
            f"{variant_label(v)}: " + split_shares(splits[v, r], first=first and i == 0) for i, v in enumerate(have)
        )

    tail = f"By these intervals, {verdict}. A dropped feature is a row of W under the rule's cutoff: stored weakly, "
    tail += "not necessarily absent"
    if not other_in_full:  # the first screen: the two shares that answer the question, every part under the grid
        return (
            "Of the code space h's own loss (95% jackknife intervals over the p values), with "
            f"{RULE_SHORT[rules[0]]} as the represented rule the dropped features take "
            + " and ".join(f"{dropped_share(splits[v, rule])} under {variant_label(v)}" for v in have)
            + ", superposition "
            + " and ".join(part_share(splits[v, rule], "superposition") for v in have)
            + " (the rest: plain linear compression and the dropped features' short rows; every part with its interval "
            f"under the grid); with {RULE_SHORT[rules[1]]}, the dropped share is "
            + " and ".join(dropped_share(splits[v, rules[1]]) for v in have)
            + f". {tail}"
        )
    return (
        "Of the code space h's own loss (the parts add up to 100%; 95% jackknife intervals over the p values), "
        f"with {RULE_SHORT[rules[0]]} as the represented rule, {per_rule(rules[0], first=True)}; with "
        f"{RULE_SHORT[rules[1]]}, {per_rule(rules[1], first=False)}. {tail}"
    )


def other_rule_split(cells: Any, variants: Sequence[str], *, rule: str = "norm") -> str:
    """The whole loss split of h under the other represented rule (:func:`split_shares`, every part with its
    interval), for the detail under the grid where the first screen gives that rule's dropped share alone; '' where
    a variant has no split under either rule (as :func:`split_words`)."""
    other = other_rule(rule)
    splits = {v: loss_split(cells, v, rule=other) for v in variants}

    def usable(split: dict[str, Any]) -> bool:
        return bool(split.get("n_cells")) and bool(np.isfinite(split["share_dropped"]))

    ours = {v: loss_split(cells, v, rule=rule) for v in variants}
    have = [v for v in variants if usable(splits[v]) and usable(ours[v])]
    if not have:
        return ""
    text = (
        f"With {RULE_SHORT[other]} as the represented rule, h's own loss splits as: "
        + "; ".join(f"{variant_label(v)}: {split_shares(splits[v], first=i == 0)}" for i, v in enumerate(have))
        + "."
    )
    moves = []
    for v in have:
        p, without = without_p_most(splits[v])
        if np.isfinite(p):
            moves.append(
                f"p = {p:.2g} under {variant_label(v)} ({dropped_share(splits[v]).split(' [')[0]} -> "
                f"{pct(without)} without it)"
            )
    if moves:
        # review 7: the split rests on one p value where the rule keeps nearly every feature; the jackknife's own
        # delete-one values say which
        text += " Leaving one p value out moves its dropped share most at " + " and at ".join(moves) + "."
    differ = [
        f"{splits[v]['n_cells']} cells against {ours[v]['n_cells']} under {variant_label(v)}"
        for v in have
        if splits[v]["n_cells"] != ours[v]["n_cells"]
    ]
    if differ:
        text += (
            f" The two rules' splits use different cells ({RULE_SHORT[other]} against {RULE_SHORT[rule]}: "
            + "; ".join(differ)
            + "): a cell with no represented feature under a rule has no split under it."
        )
    return text


def disagreement_words(cells: Any, variants: Sequence[str]) -> str:
    """The cells where the two represented rules disagree on which features are dropped
    (:func:`~supviz.study.datapoints.findings.rule_disagreements`), counted per variant, in one sentence; '' where
    they agree everywhere."""
    disagree = [f"{plural(n, 'cell')} of {variant_label(v)}" for v in variants if (n := rule_disagreements(cells, v))]
    if not disagree:
        return ""
    return (
        f"The two represented rules disagree on which features are dropped in {' and '.join(disagree)}: where W "
        "stores features weakly, one rule drops what the other keeps, so h's loss split moves with the rule."
    )


def answer_sentences(findings: Sequence[Any]) -> list[str]:
    """The answer in words, a few sentences above the verdict grid: per view of the grid (data points first, then
    feature directions, then any other), in how many of its pictures (method x importance variant) the study's
    conclusion holds, holds partly, fails, or is undecided; the verdicts counted, nothing else (the numbers behind
    them follow the grid)."""
    grid = [f for f in findings if f.view and f.verdict != "n/a"]
    views = [v for v in VIEW_WORDS if any(f.view == v for f in grid)]
    views += [v for v in dict.fromkeys(f.view for f in grid) if v not in views]
    out = []
    for i, view in enumerate(views):
        fs = [f for f in grid if f.view == view]
        c = {k: sum(1 for f in fs if f.verdict == k) for k in ("supported", "partly", "not supported", NOT_ENOUGH)}
        what = (
            "the study's conclusion that superposition is no large problem for latent-space pictures" if not i else "it"
        )
        text = (
            f"{VIEW_WORDS.get(view, f'For {view}')}, {what} holds in {c['supported']} of the {len(fs)} pictures "
            f"measured (method x importance variant), partly in {c['partly']} and fails in "
            f"{c['not supported'] or 'none'}"
        )
        if c[NOT_ENOUGH]:
            text += f"; {c[NOT_ENOUGH]} {'is' if c[NOT_ENOUGH] == 1 else 'are'} undecided" + (
                " (too little evidence: too few cells, or a 95% interval that crosses the rule's threshold)"
                if not any(o.endswith("undecided.") or "undecided (" in o for o in out)
                else ""
            )
        out.append(text + ".")
    if grid:
        against = sum(1 for f in grid if f.verdict == "not supported")
        out.append(
            "No picture's verdict contradicts the study's conclusion outright; an undecided one is no evidence for it "
            "either (each cell of the grid says what its interval shows)."
            if not against and c_undecided(grid)
            else "No picture contradicts the study's conclusion."
            if not against
            else f"{against} of the {len(grid)} pictures contradict{'s' if against == 1 else ''} it."
        )
    return out


def c_undecided(findings: Sequence[Any]) -> int:
    """How many of ``findings`` are 'not enough evidence'."""
    return sum(1 for f in findings if f.verdict == NOT_ENOUGH)


def tally(findings: Sequence[Any]) -> str:
    """How the verdicts came out, counted separately for the study's claims, the claims of other papers and supviz's
    own questions (by each finding's ``source``, :func:`supviz.study.sources.claim_owner`); findings with nothing to
    test ('n/a') are left out of the counts and only their number is said; then how many verdicts change with the
    other represented rule.

    One sentence of the study is tested once per picture method and importance variant it speaks to, so verdicts are
    not claims: the study's group says how many of its quoted passages (distinct sources) its verdicts test, the other
    papers' group names the papers, and a note says how many verdicts are tested with no correction for multiple
    comparisons."""
    kinds = ("supported", "partly", "not supported", "not enough evidence")
    tested = [f for f in findings if f.verdict != "n/a"]
    groups: dict[str, list[Any]] = {k: [] for k in OWNERS}
    sources: dict[str, list[str]] = {k: [] for k in OWNERS}
    for f in tested:
        src = f.source or source_for(f.key)
        owner = claim_owner(src)
        groups[owner].append(f)
        if src not in sources[owner]:
            sources[owner].append(src)
    parts = []
    for owner, fs in groups.items():
        if not fs:
            continue
        c = {k: sum(1 for f in fs if f.verdict == k) for k in kinds}
        n_src = len(sources[owner])
        what = plural(len(fs), "verdict")
        if owner == "study":
            what += f" on {plural(n_src, 'quoted passage')}"
        elif owner == "cited":
            papers = list(dict.fromkeys(paper_of(s) for s in sources[owner]))
            what += f" from {plural(len(papers), 'paper')}: {'; '.join(papers)}"
        text = (
            f"{OWNERS[owner][0].upper()}{OWNERS[owner][1:]} ({what}): this run's numbers support {c['supported']}, "
            f"partly support {c['partly']} and do not support {c['not supported']}"
        )
        if c["not enough evidence"]:
            k = c["not enough evidence"]
            text += f"; {k} {'has' if k == 1 else 'have'} too little evidence to decide"
        parts.append(text + ".")
    if any(len(groups[o]) > len(sources[o]) for o in ("study", "cited")):
        parts.append(
            "A passage is tested once for each picture method and importance variant it speaks to, so its verdicts "
            "share its data and are not independent claims."
        )
    if len(tested) > 1:
        parts.append(
            f"Each verdict reads its own 95% interval, and the {len(tested)} verdicts are not corrected for multiple "
            "comparisons: a few of the decided ones may be decided by chance."
        )
    if any(f.verdict == "not enough evidence" for f in tested):
        parts.append(
            "Too little evidence: too few cells, seeds or architectures, or an interval that straddles the rule's "
            "threshold."
        )
    n_na = len(findings) - len(tested)
    if n_na:
        parts.append(
            f"{n_na} further row{'s' if n_na != 1 else ''} test{'' if n_na != 1 else 's'} nothing here (nothing "
            "measured, or the measure is undefined for every panel it needs) and "
            f"{'are' if n_na != 1 else 'is'} not counted."
        )
    changes = sum(1 for f in tested if f.changes_with_rule())
    return " ".join([*parts, f"{changes} change when the other represented rule is used"])


def lead_sentences(
    tables: dict[str, Any], findings: Sequence[Any], *, rule: str = "norm", other_split: bool = False
) -> list[str]:
    """The first screen's detail, under the verdict grid: data points (ending with h's loss split, every part with its
    interval, :func:`split_shares`), feature directions, the ring. ``other_split``: the other represented rule's
    whole split too (:func:`other_rule_split`; where the plain answer gives its dropped share alone)."""
    points, cells = tables.get("points"), tables.get("cells")
    out = []
    variants = ordered_variants([f.importance for f in findings if f.view])
    lead = variants[0] if variants else ""
    if points is not None and len(points) and lead:
        out.append(_data_point_sentence(points, cells, lead, variants, rule=rule))
        if cells is not None and len(cells):
            # the plain answer gives the other rule's dropped share alone: its whole split here
            out += [w for w in [disagreement_words(cells, variants)] if w]
            out += [w for w in [other_rule_split(cells, variants, rule=rule)] if w and other_split]
    # every variant and method, each in its own words (an undecided verdict whose interval shows a trend is not
    # worded like one whose interval shows none)
    fd = [f for f in findings if f.view == "feature directions" and f.verdict != "n/a"]
    if fd:
        per_variant = []
        for v in ordered_variants([f.importance for f in fd]):
            said = ", ".join(
                f"{f.method} {f.verdict}" + (f" ({f.summary})" if f.summary else "") for f in fd if f.importance == v
            )
            per_variant.append(f"{variant_label(v)}: {said}")
        out.append(
            "On the feature directions the study pictured (the rows of W, not data), its claim that the pictures show "
            "no signature of superposition (a picture's distance to the orthogonal baseline, beyond what the same "
            f"picture of as many random directions scores, does not follow sparsity within m) comes out: "
            f"{'; '.join(per_variant)}."
        )
    if cells is not None and len(cells) and variants:
        ring = ring_sentence(cells, variants, rule=rule)
        if ring:
            out.append(ring)
    return out


#: What makes the ring, per :func:`~supviz.study.datapoints.findings.ring_control_summary`'s explanation.
RING_CAUSE = {
    "origin cluster": "by the cluster of dropped features at the origin, as the study conjectured (without it the "
    "represented points are a disc, as even exactly equidistant rows are)",
    "near-equidistance": "by near-equidistance of the represented features, not by the cluster at the origin",
}


def ring_sentence(cells: Any, variants: Sequence[str], *, rule: str = "norm") -> str:
    """What makes the ring the MDS pictures of the feature directions show, per importance variant, from
    :func:`~supviz.study.datapoints.findings.ring_control_summary` and its verdict
    (:func:`~supviz.study.datapoints.findings.ring_verdict`): the cause where the intervals decide it, else
    'undecided' with the number that does not decide (the median radius spread without the cluster, its 95%
    interval, against the disc's threshold :data:`~supviz.study.verdicts.DISC_MIN`); '' where no variant has a cell
    to read."""
    parts = []
    for v in variants:
        s = ring_control_summary(cells, v, rule=rule)
        n = s.get("n_cells")
        if not n:
            continue
        med, iv = s["median"], s["interval"]
        alone = f"{fmt(med['trained_alone'], 2)} [{fmt(iv['trained_alone'][0], 2)}, {fmt(iv['trained_alone'][1], 2)}]"
        counts = (
            f"with the cluster the trained represented points are a ring in {s['n_ring']['trained_cluster']} of {n} "
            f"cells (median radius spread {fmt(med['trained_cluster'], 2)}; random directions "
            f"{fmt(med['random_cluster'], 2)}, a ring in {s['n_ring']['random_cluster']}; diag(N) "
            f"{fmt(med['orthogonal_cluster'], 2)}; 0 = ring, 0.35 = disc), without it a disc in "
            f"{s['n_disc']['trained_alone']} of {n}"
        )
        cause = RING_CAUSE.get(s["explanation"]) if ring_verdict(s) != NOT_ENOUGH else None
        if cause:
            parts.append(f"under {variant_label(v)} it is made {cause}: {counts} ({alone})")
        else:
            parts.append(
                f"under {variant_label(v)} what makes it is undecided: without the cluster the represented points' "
                f"median radius spread, {alone}, does not clear the disc's {DISC_MIN:g}; {counts}"
            )
    if not parts:
        return ""
    return "The ring the pictures of the feature directions show: " + "; ".join(parts) + "."


def _data_point_sentence(
    points: Any, cells: Any, lead: str, variants: Sequence[str], *, rule: str, split: bool = True
) -> str:
    """The first screen's data-point sentence, from the same functions as section D's verdicts: the study's claim
    for every importance variant (the codes of the represented features, h_rep, against the inputs restricted to
    them, x_rep, where W has superposition: in the code space and in each method's pictures), then supviz's own
    question (pictures of h against pictures of x) and, with ``split``, where h's loss goes (every part's share with
    its interval, :func:`split_shares`)."""
    have_cells = cells is not None and len(cells)
    eff = {m: method_effect(points, lead, _METHOD_KEY[m]) for m in METHODS if _METHOD_KEY[m] in set(points["method"])}
    chance = next((e["chance"] for e in eff.values() if np.isfinite(e["chance"])), float("nan"))
    parts = ", ".join(
        f"{m} {pct(e['relative_loss'])} [{pct(e['interval'][0])}, {pct(e['interval'][1])}]" for m, e in eff.items()
    )
    text = "In detail, for pictures of data points: "
    said = []
    for v in variants if have_cells else ():
        c = claim_effect(points, cells, v, rule=rule)
        pics = {
            m: claim_effect(points, cells, v, method=_METHOD_KEY[m], rule=rule)
            for m in METHODS
            if _pictured(points, _METHOD_KEY[m], "h_rep") and _pictured(points, _METHOD_KEY[m], "x_rep")
        }
        bits = [
            f"{m} {pct(e['estimate'])} [{pct(e['interval'][0])}, {pct(e['interval'][1])}], "
            f"{_verdict_words(e['verdict'])}"
            for m, e in pics.items()
            if e["n_cells"]
        ]
        if c["n_cells"]:
            bits.append(
                f"in the code space before any picture {pct(c['estimate'])} [{pct(c['interval'][0])}, "
                f"{pct(c['interval'][1])}], {_verdict_words(c['verdict'])}"
            )
        if bits:
            said.append(f"under {variant_label(v)}: " + "; ".join(bits))
    if said:
        text += (
            "where W stores features in superposition, the study's conclusion that superposition is no large problem "
            "is read as the loss of nearest neighbours (above chance, within m; 95% intervals over p values) of the "
            "codes of the features the model keeps against the same inputs restricted to those features, which "
            f"holds below a {pct(HOLDS_BELOW)} loss and fails above {pct(FAILS_ABOVE)}. It comes out "
            + " — ".join(said)
            + ". "
        )
    text += (
        f"Against the same method's picture of the inputs x, pictures of h lose {parts} of the neighbours it keeps "
        f"above chance under {variant_label(lead)} (a random picture keeps {fmt(chance, 2)}; supviz's own question)"
    )
    shares = []
    for v in variants if split and have_cells else ():
        s = loss_split(cells, v, rule=rule)
        if s.get("n_cells"):
            shares.append(f"{variant_label(v)}: {split_shares(s, first=not shares)}")
    if not shares:
        return text + "."
    return (
        text
        + f". Of h's own loss (represented: {RULE_TEXT[rule]}; shares add up to 100%, 95% jackknife intervals over "
        "the p values), " + "; ".join(shares) + "."
    )


def _pictured(points: Any, method: str, space: str) -> bool:
    """Whether ``points`` holds ``method``'s pictures of ``space`` (``datapoints.layout_spaces``)."""
    return bool(((points["method"] == method) & (points["space"] == space)).any())


def _verdict_words(verdict: str) -> str:
    return {
        "supported": "supported",
        "partly": "partly supported",
        "not supported": "not supported",
        NOT_ENOUGH: "undecided, not enough evidence: the interval crosses a threshold",
    }.get(verdict, "untested")


def conclusion_claims(
    tables: dict[str, Any], findings: Sequence[Any], *, rule: str = "norm", figure_ids: set[str] | None = None
) -> list[Claim]:
    """The closing paragraphs (each states its numbers and cites its figures)."""
    points, cells = tables.get("points"), tables.get("cells")

    def figs(*ids: str) -> list[str]:
        return [i for i in ids if figure_ids is None or i in figure_ids]

    claims: list[Claim] = []
    variants = ordered_variants([f.importance for f in findings if f.importance])
    if cells is not None and len(cells):
        text = " ".join(t for v in variants if (t := loss_split_sentence(cells, v, rule=rule)))
        if text:
            claims.append(
                Claim(
                    "Where the neighbourhoods go. " + text,
                    figs(*[f"D1_knn_recall_{variant_slug(v)}" for v in variants]),
                )
            )
    if points is not None and len(points):
        parts = []
        for v in variants:
            for m in METHODS:
                key = _METHOD_KEY[m]
                if key not in set(points["method"]):
                    continue
                e = method_effect(points, v, key)
                if e["fn_cells"]:
                    parts.append(
                        f"{variant_label(v)}, {m}: {fmt(e['fn_x'], 2)} -> {fmt(e['fn_h'], 2)} over {e['fn_cells']} "
                        f"cells (chance {fmt(e['fn_chance'], 2)}, largest increase {fmt(e['fn_increase_max'], 2)})"
                    )
        if parts:
            claims.append(
                Claim(
                    "False neighbours (pairs close in the picture that share no active feature) are possible only "
                    "where some pairs of inputs share no feature: not at p >= 0.3 here, where every pair shares one "
                    "and the rate is 0 whatever the picture. Over the cells where they are possible, the median rate "
                    "of the picture of x against that of h: " + "; ".join(parts) + ".",
                    figs(*[f"D1_false_neighbour_rate_{variant_slug(v)}" for v in variants]),
                )
            )
    ring = [f for f in findings if f.key.startswith("D-ring-")]
    if ring:
        claims.append(
            Claim(
                "Why the ring. " + " ".join(f"{variant_label(f.importance).capitalize()}: {f.measured}" for f in ring),
                figs("D4_ring_control"),
            )
        )
    coll = [f for f in findings if f.key == "C6-collapse"]
    if coll:
        claims.append(Claim("The 40 : 0.55 collapse of C3. " + coll[0].measured, figs(*coll[0].figures)))
    stars = [f for f in findings if f.key.startswith("D-star-") and f.verdict != "n/a"]
    if stars:
        claims.append(
            Claim(
                "Stars, which the study did not picture (supviz's own question): MDS pictures of data points at low m "
                "and sparse p, spokes along the few represented features' directions made of the inputs with one "
                "represented feature active. "
                + " ".join(f"{variant_label(f.importance).capitalize()} ({f.verdict}): {f.measured}" for f in stars),
                figs(*[f"D2_mds_{variant_slug(f.importance)}" for f in stars]),
            )
        )
    return claims
