"""The self-contained HTML report of a run.

Layout, in reading order:

1. **The first screen**: the question, the answer in a few sentences, the verdict grid (methods x importance
   variant x view, the study's 0.9^i first; :func:`supviz.report.grid.verdict_grid`), the one figure that carries
   the answer (the figure a section marks ``lead``), then the numbers behind the answer.
2. The sections, in the run's order: generated intro, the study's claims against this run's numbers
   (each verdict appears here and only here; the grid links to it), figures with captions, tables.
3. The conclusion: the paragraphs that need several sections' numbers.
4. Appendix: provenance (config, seeds, versions, platform, timings), the settings behind each section
   and how to rerun it otherwise (each section's ``settings``: the one place for config keys, command-line
   options and run times), what the numbers mean, the figure index.

Everything before the appendix speaks of the study only: :func:`implementation_details` finds what does not
belong there (config keys, command-line options, run times, file paths, issue numbers), and a test holds a
rendered report's body to none.

One file that opens offline: the CSS is inline; every figure is its PNG as a data URI, shown
whether or not JavaScript runs. Figures with an interactive version carry their plotly JSON in a
``<script type="application/json">`` block and a "hover" toggle; plotly.js is embedded once,
gzip-compressed, and inflated (``DecompressionStream``) only when a reader first opens an
interactive version, so the page itself renders without it. ``report.html?render=all`` opens and
draws every interactive version on load (the browser test uses it); the script then writes
``rendered N of N interactive figures`` into the body's ``data-plots-status`` and sets ``data-plots-rendered``
on ``<body>``; it also opens every table and records the widest one against the text column
(``data-widest-table``, ``data-column-width``), so a test can see that no table scrolls sideways.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from supviz.core.io import atomic_write_text
from supviz.report.records import OTHER_RULE_NOT_COMPUTED, Conclusion, counted

VERDICT_CLASS = {"supported": "ok", "partly": "partly", "not supported": "no", "not enough evidence": "na", "n/a": "na"}
_HOVER_WORDS = ("hover", "Hover")

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d1d1f;\
background:#fafafa;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:20px 28px 80px;background:#fff;box-sizing:border-box}
h1{font-size:1.6em;margin:.1em 0 .2em}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:2.2em}
h3{margin-top:1.4em}figure{margin:1em 0 2em;padding:0}figcaption{font-size:.92em;color:#333;margin-top:.4em}
figure img{max-width:100%;height:auto;border:1px solid #eee;display:block}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0 1.2em;max-width:100%}\
th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}
th{background:#f2f2f2}td.text,th.text{text-align:left}
table.findings td{text-align:left;vertical-align:top}table.findings{width:100%;table-layout:fixed}
table.findings col.c1{width:27%}table.findings col.c3{width:10%}table.findings col.c4{width:14%}
.ok{background:#e3f4e1}.partly{background:#fdf3d6}.no{background:#f9dede}.na{background:#eee}
table.grid{width:100%;table-layout:fixed;font-size:.9em}\
table.grid td{text-align:left;vertical-align:top;padding:6px 8px}
table.grid th{text-align:center}table.grid td a{color:inherit;text-decoration:none;display:block}
table.grid .v{font-weight:600}table.grid .s{font-size:.88em;color:#333}table.grid .r{font-size:.82em;color:#555}
.question{font-size:1.12em;margin:.3em 0 .6em}.lead p{margin:.5em 0}.lead{font-size:1.02em}
.meta{font-size:.88em;color:#444}.meta td{text-align:left}.files a{margin-right:.8em;font-size:.85em}
.plot{width:100%;min-height:200px}details{margin:.4em 0}summary{cursor:pointer;color:#225}
#supviz-status{font-size:.8em;color:#666}.refs{font-size:.88em;color:#444}nav ol{columns:2;font-size:.92em}\
.note{font-size:.85em;color:#555}
tr:target{outline:2px solid #4a7}
"""

RENDER_JS = """
(function(){
  var status = document.getElementById('supviz-status');
  var boxes = Array.prototype.slice.call(document.querySelectorAll('details.interactive'));
  var total = boxes.length, done = 0, failed = 0, loading = null;
  function report(){
    // the count is for checks (a data attribute), not for the reader; a reader sees only a failure
    document.body.setAttribute('data-plots-status', 'rendered ' + done + ' of ' + total + ' interactive figures' +\
 (failed ? ' (' + failed + ' failed)' : ''));
    if (failed) { status.textContent = failed + ' interactive figure(s) could not be drawn in this browser'; }
    document.body.setAttribute('data-plots-rendered', String(done));
    document.body.setAttribute('data-plots-total', String(total));
  }
  function inflate(b64){
    if (typeof DecompressionStream === 'undefined') {
      return Promise.reject(new Error('this browser cannot inflate the embedded figures (no DecompressionStream)'));
    }
    var bytes = Uint8Array.from(atob(b64.trim()), function(c){ return c.charCodeAt(0); });
    return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).text();
  }
  function plotly(){
    if (window.Plotly) { return Promise.resolve(window.Plotly); }
    if (!loading) {
      loading = inflate(document.getElementById('plotly-gz').textContent).then(function(code){
        var s = document.createElement('script'); s.text = code; document.head.appendChild(s); return window.Plotly;
      });
    }
    return loading;
  }
  function draw(box){
    if (box.getAttribute('data-drawn')) { return Promise.resolve(); }
    box.setAttribute('data-drawn', '1');
    var div = box.querySelector('.plot');
    var spec;
    return inflate(box.querySelector('script.figure-gz').textContent)
      .then(function(text){ spec = JSON.parse(text); return plotly(); })
      .then(function(P){ return P.newPlot(div, spec.data, spec.layout, {responsive: true, displaylogo: false}); })
      .then(function(gd){ if (gd && gd.querySelector('.main-svg')) { done += 1; } else { failed += 1; } })
      .catch(function(err){ failed += 1; console.error('figure ' + div.id + ': ' + err); })
      .then(report);
  }
  boxes.forEach(function(box){ box.addEventListener('toggle', function(){ if (box.open) { draw(box); } }); });
  function widths(){
    var main = document.querySelector('main'), inner = main.clientWidth - 56, widest = 0;
    document.querySelectorAll('main table').forEach(function(t){ widest = Math.max(widest, t.scrollWidth); });
    document.body.setAttribute('data-widest-table', String(widest));
    document.body.setAttribute('data-column-width', String(inner));
  }
  report();
  if (/[?&]render=all\\b/.test(window.location.search)) {
    document.querySelectorAll('details').forEach(function(d){ d.open = true; });
    widths();
    Promise.all(boxes.map(function(box){ box.open = true; return draw(box); })).then(report);
  }
})();
"""


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _say(text: Any) -> str:
    """Body text as the reader reads it: machine names in the field's words (:func:`supviz.report.words.reader_words`),
    escaped."""
    from supviz.report.words import reader_words

    return _esc(reader_words(str(text)))


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{_say(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


def _data_uri(path: Path, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _table_html(frame: Any) -> str:
    """A section's table as the reader sees it (:func:`supviz.report.words.reader_table`: the field's words for the
    machine names, yes / no, readable reasons, what every row shares said once in a note under it)."""
    from supviz.report.words import reader_table

    t = reader_table(frame)
    head = "".join(
        f"<th>{_esc(h)}</th>" if num else f"<th class='text'>{_esc(h)}</th>" for h, num in zip(t.header, t.numeric)
    )
    body = [
        "<tr>"
        + "".join(f"<td>{_esc(v)}</td>" if num else f"<td class=text>{_esc(v)}</td>" for v, num in zip(row, t.numeric))
        + "</tr>"
        for row in t.rows
    ]
    notes = "".join(f"<p class='note'>{_esc(n)}</p>" for n in t.notes)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{notes}"


def _anchor(f: Any) -> str:
    return "v-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in (f.key or f.claim[:40]))


def _rule_text(f: Any) -> str:
    if not f.verdict_other_rule:
        return "does not depend on it"
    if f.verdict_other_rule == OTHER_RULE_NOT_COMPUTED:
        return "depends on it; not computed with the other rule (pictures drawn under this run's rule only)"
    if f.verdict_other_rule == f.verdict:
        return "same verdict with the other rule"
    return f"changes: '{f.verdict_other_rule}' with the other rule"


def _findings_html(findings: Sequence[Any]) -> str:
    if not findings:
        return ""

    def label(f: Any) -> str:
        text = ", ".join(x for x in (_variant(f.importance) if f.importance else "", f.method) if x)
        return f" <span class='note'>({_esc(text)})</span>" if text else ""

    def source(f: Any) -> str:
        return f"<br><span class='note'>{_esc(f.source)}</span>" if f.source else ""

    def evidence(f: Any) -> str:
        e = f.evidence()
        return f"<br><span class='note'>Evidence: {_say(e)}.</span>" if e else ""

    rows = "".join(
        f"<tr id='{_esc(_anchor(f))}'><td>{_say(f.claim)}{label(f)}{source(f)}"
        + f"</td><td>{_say(f.measured)}{evidence(f)}</td>"
        f"<td class='{VERDICT_CLASS.get(f.verdict, 'na')}'>{_esc(f.verdict)}</td>"
        f"<td class='note'>{_esc(_rule_text(f))}</td></tr>"
        for f in findings
    )
    return (
        "<table class='findings'><colgroup><col class='c1'><col><col class='c3'><col class='c4'></colgroup>"
        "<thead><tr><th class='text'>The study says</th><th class='text'>This run measured</th>"
        f"<th class='text'>Verdict</th><th class='text'>Represented rule</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _variant(name: str) -> str:
    from supviz.toy.importance import variant_label

    return variant_label(name)


def _img(fig: Any, out_dir: Path) -> str:
    return f"<img alt='{_esc(fig.title)}' src='{_data_uri(out_dir / fig.files['png'])}'>"


def gzip_base64(text: str) -> str:
    """``text`` gzip-compressed (level 9, no timestamp) and base64-encoded: how the report embeds
    plotly.js and each figure's JSON (inflated in the browser only when a figure is opened)."""
    import gzip

    return base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")


def figure_specs(doc: str) -> dict[str, str]:
    """Figure id -> plotly JSON of every interactive figure embedded in a report's HTML."""
    import gzip
    import re

    out = {}
    for m in re.finditer(r"class='figure-gz' data-target='plot-([^']+)'>([^<]+)</script>", doc):
        out[html.unescape(m.group(1))] = gzip.decompress(base64.b64decode(m.group(2))).decode("utf-8")
    return out


def _hover_phrase(caption: str) -> str:
    for sentence in caption.split(". "):
        if any(w in sentence for w in _HOVER_WORDS):
            return sentence.strip().rstrip(".")
    return "hover for details"


def _figure_html(fig: Any, out_dir: Path) -> str:
    links = " ".join(f"<a href='{_esc(rel)}'>{_esc(fmt.upper())}</a>" for fmt, rel in fig.files.items())
    shown = (
        _img(fig, out_dir)
        if fig.inline
        else (
            f"<p class='note'>A close-up, not embedded to keep this report within its size budget: "
            f"open its <a href='{_esc(fig.files.get('png', ''))}'>PNG</a> in the run folder's figures/.</p>"
        )
    )
    parts = [f"<figure id='fig-{_esc(fig.id)}'><h3>{_say(fig.title)}</h3>", shown]
    if fig.interactive and not getattr(fig, "embed_interactive", True):
        page = fig.files.get("html", "")
        parts.append(
            f"<p class='note'>Interactive version ({_esc(_hover_phrase(fig.caption))}): open "
            f"<a href='{_esc(page)}'>its page</a>, a page of its own beside this report (in the run folder's "
            "figures).</p>"
        )
    elif fig.interactive:
        div = f"plot-{fig.id}"
        parts.append(
            f"<details class='interactive'><summary>Interactive version ({_esc(_hover_phrase(fig.caption))})"
            f"</summary><div class='plot' id='{_esc(div)}'></div>"
            f"<script type='application/octet-stream' class='figure-gz' data-target='{_esc(div)}'>"
            f"{gzip_base64(fig.interactive)}</script></details>"
        )
    # the caption opens with what the figure shows; its id (a file stem) stays in the anchor and the file names
    parts.append(f"<figcaption>{_say(fig.caption)} <span class='files'>Files: {links}</span></figcaption>")
    parts.append("</figure>")
    return "".join(parts)


def _grid_html(
    findings: Sequence[Any], rules: tuple[str, str] = ("", ""), thresholds: tuple[str, str] = ("", "")
) -> str:
    from supviz.report.grid import verdict_grid

    g = verdict_grid(findings)
    if not g.columns:
        return ""
    variants = list(dict.fromkeys(imp for imp, _ in g.columns))
    head1 = "".join(
        f"<th colspan='{sum(1 for i, _ in g.columns if i == v)}'>{_esc(_variant(v))}</th>" for v in variants
    )
    head2 = "".join(f"<th>{_esc(view)}</th>" for _, view in g.columns)
    not_computed = any(f.verdict_other_rule == OTHER_RULE_NOT_COMPUTED for f in g.cells.values())
    body = []
    for method in g.methods:
        cells = []
        for imp, view in g.columns:
            f = g.cells.get((method, imp, view))
            if f is None:
                cells.append("<td class='na'>not measured</td>")
                continue
            rule = (
                ""
                if not f.verdict_other_rule
                else " · not computed under the other rule for represented features"
                if f.verdict_other_rule == OTHER_RULE_NOT_COMPUTED
                else " · the same under the other rule for represented features"
                if f.verdict_other_rule == f.verdict
                else f" · under the other rule for represented features: {f.verdict_other_rule}"
            )
            out_unit = counted(f.n_left_out, f.left_out_words())
            counts = (f.used_words() if f.n_used is not None else "") + (
                f", {f.n_left_out} {out_unit + ' ' if out_unit else ''}left out" if f.n_left_out else ""
            )
            cells.append(
                f"<td class='{VERDICT_CLASS.get(f.verdict, 'na')}'><a href='#{_esc(_anchor(f))}'>"
                f"<span class='v'>{_esc(f.verdict)}</span><br><span class='s'>{_esc(f.summary)}</span>"
                f"<br><span class='r'>{_esc(counts + rule)}</span>"
                "</a></td>"
            )
        body.append(f"<tr><th>{_esc(method)}</th>{''.join(cells)}</tr>")
    return (
        f"<table class='grid'><thead><tr><th rowspan='2'>method</th>{head1}</tr><tr>{head2}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
        "<p class='note'>Each cell: the study's conclusion (superposition \"might not be as large a problem for latent "
        'space visualization") for that method, importance variant and view, as this run measures it; click for the '
        "numbers. 'feature directions': pictures of the rows of W (what the study drew; no signature when the "
        "picture's distance to the orthogonal baseline does not follow sparsity"
        + (f": {thresholds[0]}" if thresholds[0] else "")
        + "). 'data points': where W has "
        "superposition, each method's pictures of the codes of the represented features (the inputs on those features "
        "sent through W's rows of them) against its pictures of the inputs on the represented features (every other "
        "feature set to 0), k-NN recall above chance, within m ("
        + (thresholds[1] or "holds below a 10% relative loss, fails above 30%")
        + ")."
        + (
            f" A feature counts as represented when its row of W has {rules[0]}; a cell's last line says whether its "
            f"verdict changes under the other rule, {rules[1]}"
            + (
                ", or that it was not computed under it (a data-point table without the other rule's pictures of the "
                "represented features; the data-point section states the code space's verdict under both)."
                if not_computed
                else " (the data points: that rule's pictures of the represented features, new ones only in the cells "
                "where the two rules keep different features)."
            )
            if all(rules)
            else " A cell's last line says whether its verdict changes under the other rule for represented features"
            + (", or that it was not computed under it." if not_computed else ".")
        )
        + "".join(f" {_esc(_upper(n))}." for n in _variant_notes(variants))
        + "</p>"
    )


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _variant_notes(variants: Sequence[str]) -> list[str]:
    """What the reader must be told once about the importance variants (:func:`supviz.toy.importance.variant_note`),
    said where the report introduces them (the grid) and in the appendix, never beside each use."""
    from supviz.toy.importance import variant_note

    return [n for v in variants if (n := variant_note(v))]


def _meta_html(meta: dict[str, Any]) -> str:
    cfg = meta.get("config", {})
    from supviz.toy.importance import variant_label

    toy = cfg.get("toy", {})
    weights = meta.get("weights_file")
    source = (
        f"supplied weights: {weights}"
        if weights
        else (
            f"trained here: n = {toy.get('n_features')}, m in {toy.get('hidden')}, "
            f"{len(toy.get('probabilities') or [])} probabilities, "
            f"{', '.join(variant_label(str(v)) for v in toy.get('importances') or [])}, "
            f"{toy.get('steps')} AdamW steps (lr {toy.get('lr')}, batch {toy.get('batch_size')})"
        )
    )
    stage_rows = "".join(
        f"<tr><td>{_esc(s['name'])}</td><td>{s['seconds']:.1f} s</td>"
        f"<td>{s['misses']} computed, {s['hits']} cached</td></tr>"
        for s in meta.get("stages", [])
    )
    v = meta.get("versions", {})
    plat = meta.get("platform", {})
    rep = cfg.get("represented", {})
    return (
        "<table class='meta'>"
        f"<tr><td>Section-2 weights</td><td colspan='2'>{_esc(source)}</td></tr>"
        f"<tr><td>Represented rule</td><td colspan='2'>{_esc(rep.get('rule'))}, "
        f"threshold {_esc(rep.get('threshold'))}</td></tr>"
        f"<tr><td>Seed</td><td colspan='2'>{_esc(meta.get('seed'))}</td></tr>"
        f"<tr><td>Source</td><td colspan='2'>{_esc(meta.get('source', 'not recorded'))}</td></tr>"
        f"<tr><td>Started</td><td colspan='2'>{_esc(meta.get('started'))}</td></tr>"
        f"<tr><td>Finished</td><td colspan='2'>{_esc(meta.get('finished', 'not recorded'))}</td></tr>"
        f"<tr><td>Software</td><td colspan='2'>{_esc(', '.join(f'{k} {x}' for k, x in v.items()))}</td></tr>"
        f"<tr><td>Machine</td><td colspan='2'>{_esc(plat.get('system'))}, {_esc(plat.get('cpus'))} CPUs</td></tr>"
        f"{stage_rows}<tr><td><b>total</b> (up to the report)</td>"
        f"<td>{float(meta.get('total_seconds') or 0):.1f} s</td><td></td></tr></table>"
    )


METRICS_HELP = (
    (
        "stress1_ratio",
        "Kruskal's stress-1 of the layout's distances against the points' distances after the optimal scale factor (0 "
        "= distances kept up to scale).",
    ),
    (
        "smacof_stress",
        "MDS panels: the stress-1 SMACOF itself minimised, against the disparities of its own metric type (interval "
        "for W: a + b x distance), as R's smacof reports it; at most stress1_ratio, which allows the scale factor "
        "only.",
    ),
    (
        "shepard_rho",
        "Spearman correlation between original and layout distances (NaN when all original distances are equal, as in "
        "diag(N)).",
    ),
    (
        "trustworthiness / continuity",
        "whether the layout's k nearest neighbours were neighbours in the data / whether the data's neighbours stay "
        "neighbours (1 = perfect).",
    ),
    (
        "knn_recall",
        "share of each point's k nearest neighbours in the data that are also its k nearest in the layout. Ties (the "
        "norm here: at small p many inputs on the represented features are all zero, and coincide) count at their "
        "expectation over uniformly random tie orders (supviz.metrics.ranks): a point tied with the k-th nearest in "
        "the data belongs to the neighbourhood with weight (k - L) / E (L points strictly nearer, E tied), and one "
        "tied in the layout is kept with the probability that a random order of its tied block puts it inside the k; "
        "so relabelling the points never changes the score.",
    ),
    (
        "false_neighbour_rate",
        "share of picture-neighbour pairs that share no active input feature; possible only where some pairs of inputs "
        "share none (false_neighbour_chance > 0).",
    ),
    (
        "NaN / nan_reasons",
        "a measure undefined for its panel: a collapsed layout, a space whose distances all tie (diag(N)), or a panel "
        "with fewer than k + 2 points. The column 'undefined, and why' (nan_reasons in the tables) says which, and a "
        "reason that every row of a table shares is said once, under it; verdicts leave such panels out and say how "
        "many.",
    ),
    (
        "procrustes_baseline",
        "Procrustes distance (after optimally matching points) to the ratio-MDS layout of diag(N) with the same N: 0 = "
        "the undistorted picture of section 1.",
    ),
    (
        "ring_cv / radius CV",
        "spread of the represented features' distances from their centre (0 = a ring, 0.354 = a uniform disc).",
    ),
    (
        "tables",
        "cells.csv (one row per trained toy model), models.csv (one per digits model configuration), saes.csv (one per "
        "trained SAE), panels.csv (one per picture), points.csv (one per data-point measure), layers.csv (one per "
        "measure of a digits layer, as it is or pictured), verdicts.csv (one per claim); README shows how to read them "
        "with pandas.",
    ),
)


#: Kinds of implementation detail that the text about the study (everything before the appendix) must not hold, as
#: regular expressions: a config key written as TOML or as section.key, a command-line option, a run time, a file
#: path, an issue number. Algorithm parameters the study itself names (n_neighbors = 15, perplexity 5) are not keys.
IMPLEMENTATION_PATTERNS: dict[str, str] = {
    "config key": r"\[[a-z_]+\]\s*[a-z_]+\s*=|\b[a-z]+(?:_[a-z0-9]+)+\s*=\s*(?:[\"'\[]|true\b|false\b)"
    r"|\b[a-z]+\.[a-z0-9]+_[a-z0-9_]+\b",
    "command-line option": r"(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*\b",
    "run time": r"\b\d+(?:\.\d+)?\s?s\b|\b\d+[- ]minutes?\b|\bseconds\b|\bon \d+ cores\b",
    "file path": r"\b[\w-]+/[\w./-]+\.(?:py|md|toml|json|csv|parquet|html)\b|\b[\w-]+\.(?:py|md|toml)\b",
    "issue number": r"\b[Ii]ssues?\s*#?\d+",
    # a config spelling of an importance variant (geometric:0.9); the reader's words are 0.9^i
    "importance spec": r"\b(?:geometric|power):\d",
}


#: A Python boolean in the text (a table cell's True / False); the field's terms that start a sentence with the same
#: word (false neighbours, false positives) are not one.
PYTHON_BOOLEAN = r"\b(?:True|False)\b(?!(?:\s+|-)(?:neighbou?r\w*|positives?|negatives?)\b)"
#: Explanations said once, where the report introduces what they explain (the importance variants: the study's
#: code against its text); every later match is a repeat. A regular expression.
SAID_ONCE = r"\bthe (?:study's )?text says\b"


def implementation_details(text: str) -> list[str]:
    """Every match of :data:`IMPLEMENTATION_PATTERNS` in ``text``, as ``"kind: 'match'"`` (empty: clean); and what
    belongs to the data, not to the reader: a table's machine column name or value (``knn_recall``, ``relu_l1``:
    the keys of :mod:`supviz.report.words`), a Python boolean (``True``), an explanation said more than once
    (:data:`SAID_ONCE`)."""
    from supviz.report.words import machine_names

    found = [f"{kind}: {m.group(0)!r}" for kind, pat in IMPLEMENTATION_PATTERNS.items() for m in re.finditer(pat, text)]
    found += [f"column name: {m.group(0)!r}" for m in machine_names().finditer(text)]
    found += [f"Python boolean: {m.group(0)!r}" for m in re.finditer(PYTHON_BOOLEAN, text)]
    found += [f"repeated explanation: {m.group(0)!r}" for m in list(re.finditer(SAID_ONCE, text))[1:]]
    return found


def reader_text(doc: str) -> str:
    """The text a reader reads before the appendix of a report ``doc`` (HTML): scripts and tags dropped, entities
    decoded."""
    body = doc.split("<section id='sec-appendix'>")[0]
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    body = re.sub(r"<style.*?</style>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def _help_name(name: str) -> str:
    """A measure of "What the numbers mean" by the name the body's tables give it, with its column in the run's
    tables: ``"k-NN recall (knn_recall)"``."""
    from supviz.report.words import column_words

    words = column_words(name)
    return name if words == name else f"{words} ({name})"


def _settings_html(outputs: Sequence[Any]) -> str:
    rows = "".join(
        f"<li><b>{_esc(o.title)}</b>: {_esc(t)}</li>" for o in outputs for t in getattr(o, "settings", None) or []
    )
    return f"<h3>Settings behind the sections, and how to rerun them</h3><ul class='note'>{rows}</ul>" if rows else ""


def _appendix_html(meta: dict[str, Any], outputs: Sequence[Any], tables: Sequence[str]) -> str:
    from supviz.report.words import space_definitions
    from supviz.toy.importance import VARIANT_ORDER

    variants = [("importance variants", n) for n in _variant_notes(VARIANT_ORDER)]
    items = "".join(f"<li><b>{_esc(_help_name(k))}</b>: {_esc(v)}</li>" for k, v in (*METRICS_HELP, *variants))
    # each pictured space by the name the body gives it, with its key in the tables (space, *_recall_* columns)
    items += "".join(f"<li><b>{_esc(name)}</b>: {_esc(v)}</li>" for name, v in space_definitions())
    index = "".join(
        f"<li><a href='#fig-{_esc(f.id)}'>{_esc(f.id)}</a>: {_esc(f.title)}</li>" for o in outputs for f in o.figures
    )
    links = " ".join(f"<a href='{k}.csv'>{k}.csv</a>" for k in tables)
    return (
        f"<section id='sec-appendix'><h2>Appendix: provenance and definitions</h2>"
        f"<h3>How this run was made</h3>{_meta_html(meta)}{_settings_html(outputs)}"
        f"<h3>Tables</h3><p>{links} (and .parquet).</p>"
        f"<h3>What the numbers mean</h3><ul class='note'>{items}</ul>"
        f"<details><summary>Figure index</summary><ul>{index}</ul></details></section>"
    )


def _figure_label(title: str) -> str:
    """A figure's label as its title opens ("D4. Why a ring? ..." -> "D4"; a title without one: the title)."""
    head = title.split(". ", 1)[0]
    return head if head != title and len(head) <= 8 else title


def _claims_html(claims: Sequence[Any], titles: dict[str, str] | None = None) -> str:
    """The conclusion's paragraphs, each with links to its figures named by their titles' labels ("D4"; ``titles``:
    figure id -> title), not by their ids (``D4_ring_control``, a file stem); by their whole titles where two of a
    paragraph's figures share a label."""
    titles = titles or {}
    out = []
    for c in claims:
        full = [titles.get(i, i) for i in c.figures]
        labels = [_figure_label(t) for t in full]
        # a label two of the paragraph's figures share (D1 of each measure) would not tell them apart: their titles
        names = [t if labels.count(lab) > 1 else lab for t, lab in zip(full, labels)]
        refs = ", ".join(f"<a href='#fig-{_esc(i)}'>{_say(n)}</a>" for i, n in zip(c.figures, names))
        out.append(f"<p>{_say(c.text)}" + (f" <span class='refs'>Figures: {refs}.</span>" if refs else "") + "</p>")
    return "".join(out)


def _first_screen(outputs: Sequence[Any], conclusion: Conclusion, out_dir: Path) -> str:
    findings = [f for o in outputs for f in o.findings]
    lead = next((f for o in outputs for f in o.figures if getattr(f, "lead", False)), None)
    parts = ["<section id='first'>"]
    if conclusion.question:
        parts.append(f"<p class='question'><b>The question.</b> {_esc(conclusion.question)}</p>")
    if conclusion.answer:  # the answer in words, a few sentences above the grid of verdicts
        parts.append(
            "<div class='lead answer'><p><b>The answer.</b> "
            + " ".join(_say(s) for s in conclusion.answer)
            + " <a href='#sec-conclusions'>Every verdict, counted</a>.</p></div>"
        )
    parts.append(_grid_html(findings, conclusion.rules, conclusion.thresholds))
    if lead is not None:
        parts.append(
            f"<figure id='fig-{_esc(lead.id)}' class='lead'>{_img(lead, out_dir)}"
            f"<figcaption><b>{_esc(lead.title)}.</b> "
            f"{_say(lead.caption)}</figcaption></figure>"
        )
    if conclusion.lead:  # the numbers behind the answer, below it
        parts.append("<div class='lead'>" + "".join(f"<p>{_say(s)}</p>" for s in conclusion.lead) + "</div>")
    parts.append("</section>")
    return "".join(parts)


def _conclusion_html(outputs: Sequence[Any], conclusion: Conclusion) -> str:
    by_key = {f.key: f for o in outputs for f in o.findings}
    links = ", ".join(
        # the claim in the reader's words links to its row; the finding's key is a machine name (C2-centre-uniform)
        f"<a href='#{_esc(_anchor(f))}'>{_say(f.claim.rstrip('.'))}</a> ({_esc(f.verdict)} -&gt; "
        f"{_esc(f.verdict_other_rule)})"
        for f in (by_key[k] for k in conclusion.changed if k in by_key)
    )
    tally = f"<p>{_esc(conclusion.tally)}{': ' + links if links else ''}.</p>" if conclusion.tally else ""
    titles = {f.id: f.title for o in outputs for f in o.figures}
    return _claims_html(conclusion.claims, titles) + tally


def build_report(
    outputs: Sequence[Any],
    path: str | Path,
    *,
    meta: dict[str, Any],
    conclusion: Conclusion | None = None,
    tables: Sequence[str] = (),
) -> Path:
    """Write the report for the rendered sections ``outputs`` to ``path`` (atomically).

    Parameters
    ----------
    outputs
        :class:`supviz.report.records.SectionOutput` objects, in report order.
    path
        The HTML file; figure paths in ``outputs`` are relative to its folder.
    meta
        The run record (config, versions, platform, stage timings).
    conclusion
        The first screen's sentences and the closing paragraphs (:func:`supviz.study.conclusion.conclude`);
        none: the report has neither.
    tables
        The names of the run's tables (``cells``, ``panels``, ...), linked from the appendix as CSV.
    """
    from supviz.plot.pages import plotlyjs_gzip_base64

    conclusion = conclusion or Conclusion()
    path = Path(path)
    out_dir = path.parent
    nav = "".join(f"<li><a href='#sec-{_esc(o.key)}'>{_esc(o.title)}</a></li>" for o in outputs)
    body = []
    for o in outputs:
        part = [f"<section id='sec-{_esc(o.key)}'><h2>{_esc(o.title)}</h2>", _paragraphs(o.intro)]
        if o.findings:
            part.append("<h3>The study's claims against this run</h3>" + _findings_html(o.findings))
        part.extend(_figure_html(f, out_dir) for f in o.figures if not getattr(f, "lead", False))
        if o.tables:
            part.append("<h3>Tables</h3>")
            part.extend(
                f"<details><summary>{_say(t.caption)}</summary>{_table_html(t.frame)}</details>" for t in o.tables
            )
        if o.notes:
            part.append(
                "<div class='note'><b>Notes:</b><ul>" + "".join(f"<li>{_say(n)}</li>" for n in o.notes) + "</ul></div>"
            )
        part.append("</section>")
        body.append("".join(part))
    has_plots = any(f.interactive for o in outputs for f in o.figures)
    doc = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>supviz report: effects of superposition on latent-space visualisation</title>"
        f"<style>{CSS}</style></head><body><main>"
        "<h1>Does superposition distort latent-space pictures?</h1>"
        "<p class='note'>A reproduction and measurement of Hamblin (2022), <i>Effects of superposition on latent space "
        "visualization</i>, by <code>supviz run</code>. Every figure was drawn in this run and every number comes from "
        "its tables; provenance is in the <a href='#sec-appendix'>appendix</a>.</p>"
        + _first_screen(outputs, conclusion, out_dir)
        + f"<nav><h2>Contents</h2><ol>{nav}<li><a href='#sec-conclusions'>Conclusions</a></li>"
        "<li><a href='#sec-appendix'>Appendix: provenance and definitions</a></li></ol>"
        "<p id='supviz-status'>"
        f"{'interactive versions: open one to draw it (needs JavaScript)' if has_plots else 'no interactive figures'}"
        "</p></nav>"
        + "".join(body)
        + f"<section id='sec-conclusions'><h2>Conclusions</h2>{_conclusion_html(outputs, conclusion)}</section>"
        + _appendix_html(meta, outputs, tables)
        + "</main>"
        + (
            f"<script type='application/octet-stream' id='plotly-gz'>{plotlyjs_gzip_base64()}</script>"
            f"<script>{RENDER_JS}</script>"
            if has_plots
            else ""
        )
        + "</body></html>"
    )
    atomic_write_text(path, doc)
    return path
