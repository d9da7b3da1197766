"""Does an interactive figure contain what its caption names? (the report's captions, checked)

A caption promises things a reader will look for; :func:`caption_promises` reads them from the
caption's text and :func:`missing` checks a plotly figure (its JSON, as the report embeds it) for
each:

- "Shepard plot": traces named ``"Shepard: pairs"`` (and ``"Shepard: disparities"`` when the caption
  names the red line / disparities);
- "Red lines: false neighbours" (also "Red lines, in the pictures of the codes only: false neighbours"): a trace
  named ``"false neighbours"`` with at least one segment;
- "Under each panel: R k-NN recall, T trustworthiness, ...": every layout panel's title carries each
  short name followed by its value (``R 0.93``), or ``n/a``; the short name is the first word, or
  all of the text before " = " ("SMACOF stress = the stress SMACOF minimised" names "SMACOF stress");
- "Hover a point ... for its feature index, importance, norm and whether it is represented": the
  layout traces' hover template names each;
- "Colour: the importance rank ...": a colour bar whose title shares the phrase's first words.

The names of traces are those :mod:`supviz.plot.interactive` gives them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_STRIP = ("its ", "the ", "whether it is ", "a ", "an ")


@dataclass(frozen=True)
class Promise:
    """One thing a caption says the figure shows."""

    kind: str
    """'shepard', 'disparities', 'false neighbours', 'measure', 'hover' or 'colour'."""
    value: str = ""
    """The measure's short name, the hover field, or the colour phrase."""


def _items(text: str) -> list[str]:
    parts = re.split(r",\s*(?:and\s+)?|\s+and\s+", text.strip().rstrip("."))
    return [p.strip() for p in parts if p.strip()]


def _strip(phrase: str) -> str:
    p = phrase.strip()
    changed = True
    while changed:
        changed = False
        for s in _STRIP:
            if p.lower().startswith(s):
                p, changed = p[len(s) :], True
    return p


def caption_promises(caption: str) -> list[Promise]:
    """What ``caption`` says its figure shows (see the module docstring)."""
    out: list[Promise] = []
    if re.search(r"Shepard plot", caption):
        out.append(Promise("shepard"))
        if re.search(r"red line[^.]*disparit|disparities", caption):
            out.append(Promise("disparities"))
    if re.search(r"[Rr]ed lines[^:.]*: false neighbours", caption):
        out.append(Promise("false neighbours"))
    m = re.search(r"Under each panel: ([^.]*(?:\.\d[^.]*)*)\.", caption)
    if m:
        for item in _items(m.group(1)):
            # "T = trustworthiness" names T; "SMACOF stress = ..." names the two words; else the first word
            token = item.split(" = ")[0].strip() if " = " in item else item.split()[0]
            if token.split()[0].lower() in ("the", "its", "all"):
                continue
            out.append(Promise("measure", token.rstrip(",")))
    m = re.search(r"[Hh]over a point[^.]*? for ([^.]*)\.", caption)
    if m:
        for item in _items(m.group(1)):
            word = _strip(item).split()[0] if _strip(item) else ""
            if word:
                out.append(Promise("hover", word.lower()))
    m = re.search(r"Colour: ([^.(;]*)", caption)
    if m:
        words = [w for w in _strip(m.group(1)).replace(",", " ").split() if w]
        if words:
            out.append(Promise("colour", words[0].lower()))
    return out


def _panel_titles(spec: dict[str, Any]) -> list[str]:
    return [
        a.get("text", "") for a in spec.get("layout", {}).get("annotations", []) or [] if "<br>" in a.get("text", "")
    ]


def missing(caption: str, figure: str | dict[str, Any]) -> list[str]:
    """The caption's promises that ``figure`` (plotly JSON or its parsed dict) does not keep; [] = all kept."""
    spec = json.loads(figure) if isinstance(figure, str) else figure
    traces = spec.get("data", []) or []
    names = [t.get("name", "") for t in traces]
    points = [t for t in traces if t.get("name") == "points"]
    problems = []
    for pr in caption_promises(caption):
        if pr.kind == "shepard" and "Shepard: pairs" not in names:
            problems.append("no Shepard plot")
        elif pr.kind == "disparities" and "Shepard: disparities" not in names:
            problems.append("no disparity line in the Shepard plots")
        elif pr.kind == "false neighbours":
            lines = [
                t
                for t in traces
                if t.get("name") == "false neighbours" and any(v is not None for v in (t.get("x") or []))
            ]
            if not lines:
                problems.append("no false-neighbour lines")
        elif pr.kind == "measure":
            titles = _panel_titles(spec)
            pat = re.compile(rf"(^|[\s>]){re.escape(pr.value)} (-?\d|n/a)")
            if not titles or not all(pat.search(t) for t in titles):
                problems.append(f"measure {pr.value!r} not under every panel")
        elif pr.kind == "hover":
            templates = " ".join(str(t.get("hovertemplate", "")) for t in points).lower()
            if not points or pr.value not in templates:
                problems.append(f"hover has no {pr.value!r}")
        elif pr.kind == "colour":
            bars = [
                str(((t.get("marker") or {}).get("colorbar") or {}).get("title", {}).get("text", ""))
                for t in traces
                if (t.get("marker") or {}).get("showscale")
            ]
            if not any(pr.value in b.lower() for b in bars):
                problems.append(f"no colour bar for {pr.value!r} (bars: {bars})")
    return problems
