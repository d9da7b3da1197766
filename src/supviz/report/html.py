"""The self-contained HTML report of a run.

One file that opens offline: the CSS is inline, static figures are PNG data URIs, plotly.js is
embedded once (from the installed plotly package) and every interactive figure's JSON sits in a
``<script type="application/json">`` block. A small script draws the interactive figures on
load and then writes ``rendered N of N interactive figures`` into ``#supviz-status`` (and sets
``data-plots-rendered`` on ``<body>``), which the browser test reads back.

Sections come in the order of the run's section list; each has its generated intro, a table of
the study's claims against this run's numbers, the figures with captions, and metric tables.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from supviz._io import atomic_write_text

VERDICT_CLASS = {"supported": "ok", "partly": "partly", "not supported": "no", "n/a": "na"}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d1d1f;background:#fafafa;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:24px 28px 80px;background:#fff}
h1{font-size:1.7em;margin:.2em 0}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:2.2em}
h3{margin-top:1.6em}figure{margin:1.2em 0 2em;padding:0}figcaption{font-size:.92em;color:#333;margin-top:.4em}
figure img{max-width:100%;height:auto;border:1px solid #eee}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0 1.2em}th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}
th{background:#f2f2f2}td.text,th.text{text-align:left}
table.findings td{text-align:left;vertical-align:top}table.findings{width:100%}
.ok{background:#e3f4e1}.partly{background:#fdf3d6}.no{background:#f9dede}.na{background:#eee}
.meta{font-size:.88em;color:#444}.meta td{text-align:left}.files a{margin-right:.8em;font-size:.85em}
.plot{width:100%;min-height:300px}details{margin:.4em 0}summary{cursor:pointer;color:#225}
#supviz-status{font-size:.8em;color:#666}.refs{font-size:.88em;color:#444}nav ol{columns:2;font-size:.92em}.note{font-size:.85em;color:#555}
"""

RENDER_JS = """
(function(){
  var status = document.getElementById('supviz-status');
  var blocks = document.querySelectorAll('script.figure-json');
  var total = blocks.length, done = 0, failed = 0, jobs = [];
  function report(){
    status.textContent = 'rendered ' + done + ' of ' + total + ' interactive figures' + (failed ? ' (' + failed + ' failed)' : '');
    document.body.setAttribute('data-plots-rendered', String(done));
    document.body.setAttribute('data-plots-total', String(total));
  }
  if (typeof Plotly === 'undefined') { status.textContent = 'plotly.js missing'; console.error('plotly.js missing'); return; }
  blocks.forEach(function(el){
    var id = el.getAttribute('data-target');
    try {
      var spec = JSON.parse(el.textContent);
      var p = Plotly.newPlot(document.getElementById(id), spec.data, spec.layout, {responsive: true, displaylogo: false})
        .then(function(gd){ if (gd && gd.querySelector('.main-svg')) { done += 1; } else { failed += 1; } })
        .catch(function(err){ failed += 1; console.error('figure ' + id + ': ' + err); });
      jobs.push(p);
    } catch (err) { failed += 1; console.error('figure ' + id + ': ' + err); }
  });
  Promise.all(jobs).then(report);
})();
"""


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{_esc(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


def _data_uri(path: Path, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _table_html(frame: Any) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            if math.isnan(v):
                return ""
            return f"{v:.4g}"
        return str(v)

    cols = list(frame.columns)
    head = "".join(f"<th class='text'>{_esc(c)}</th>" if frame[c].dtype == object else f"<th>{_esc(c)}</th>" for c in cols)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for c, v in zip(cols, row):
            cls = " class='text'" if isinstance(v, str) else ""
            cells.append(f"<td{cls}>{_esc(fmt(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _findings_html(findings: Sequence[Any]) -> str:
    if not findings:
        return ""
    rows = "".join(
        f"<tr><td>{_esc(f.claim)}</td><td>{_esc(f.measured)}</td>"
        f"<td class='{VERDICT_CLASS.get(f.verdict, 'na')}'>{_esc(f.verdict)}</td></tr>"
        for f in findings
    )
    return (
        "<table class='findings'><thead><tr><th class='text'>The study says</th><th class='text'>This run measured</th>"
        f"<th class='text'>Verdict</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _figure_html(fig: Any, out_dir: Path) -> str:
    links = " ".join(
        f"<a href='{_esc(rel)}'>{_esc(fmt.upper())}</a>" for fmt, rel in fig.files.items()
    )
    png = out_dir / fig.files["png"]
    img = f"<img alt='{_esc(fig.title)}' src='{_data_uri(png)}'>"
    parts = [f"<figure id='fig-{_esc(fig.id)}'><h3>{_esc(fig.title)}</h3>"]
    if fig.interactive:
        div = f"plot-{fig.id}"
        payload = fig.interactive.replace("</", "<\\/")
        parts.append(f"<div class='plot' id='{_esc(div)}'></div>")
        parts.append(f"<script type='application/json' class='figure-json' data-target='{_esc(div)}'>{payload}</script>")
        parts.append(f"<details><summary>Static figure (PNG)</summary>{img}</details>")
    else:
        parts.append(img)
    parts.append(f"<figcaption><b>{_esc(fig.id)}.</b> {_esc(fig.caption)} <span class='files'>Files: {links}</span></figcaption>")
    parts.append("</figure>")
    return "".join(parts)


def _meta_html(meta: dict[str, Any]) -> str:
    cfg = meta.get("config", {})
    toy = cfg.get("toy", {})
    weights = meta.get("weights_file")
    source = f"supplied weights: {weights}" if weights else (
        f"trained here: n = {toy.get('n_features')}, m in {toy.get('hidden')}, {len(toy.get('probabilities') or [])} probabilities, "
        f"importance {toy.get('importances')}, {toy.get('steps')} AdamW steps (lr {toy.get('lr')}, batch {toy.get('batch_size')})"
    )
    stages = meta.get("stages", [])
    stage_rows = "".join(
        f"<tr><td>{_esc(s['name'])}</td><td>{s['seconds']:.1f} s</td><td>{s['misses']} computed, {s['hits']} cached</td></tr>"
        for s in stages
    )
    v = meta.get("versions", {})
    plat = meta.get("platform", {})
    return (
        "<table class='meta'>"
        f"<tr><td>Section-2 weights</td><td colspan='2'>{_esc(source)}</td></tr>"
        f"<tr><td>Seed</td><td colspan='2'>{_esc(meta.get('seed'))}</td></tr>"
        f"<tr><td>Started</td><td colspan='2'>{_esc(meta.get('started'))}</td></tr>"
        f"<tr><td>Software</td><td colspan='2'>{_esc(', '.join(f'{k} {x}' for k, x in v.items()))}</td></tr>"
        f"<tr><td>Machine</td><td colspan='2'>{_esc(plat.get('system'))}, {_esc(plat.get('cpus'))} CPUs</td></tr>"
        f"{stage_rows}<tr><td><b>total</b> (up to the report)</td><td>{float(meta.get('total_seconds') or 0):.1f} s</td>"
        "<td></td></tr></table>"
    )


METRICS_HELP = (
    ("stress1_ratio", "Kruskal's stress-1 of the layout's distances against the points' distances after the optimal scale factor (0 = distances kept up to scale)."),
    ("smacof_stress", "MDS panels: the stress-1 SMACOF itself minimised, against the disparities of its own metric type (interval for W: a + b x distance), as R's smacof reports it; at most stress1_ratio, which allows the scale factor only."),
    ("shepard_rho", "Spearman correlation between original and layout distances (NaN when all original distances are equal, as in diag(N))."),
    ("trustworthiness / continuity", "whether the layout's k nearest neighbours were neighbours in the data / whether the data's neighbours stay neighbours (1 = perfect)."),
    ("knn_recall", "share of each point's k nearest neighbours in the data that are also its k nearest in the layout."),
    ("knn_recall_true", "the same against the ground-truth features. For feature directions these are the identity rows, all equidistant: undefined (NaN), since every tie-free layout would score k / (N - 1)."),
    ("NaN / nan_reasons", "a measure undefined for its panel: a collapsed layout (all points at one spot), a space whose distances all tie (diag(N): every layout would be 'trustworthy'), or a panel with fewer than k + 2 points. The nan_reasons column says which; summaries and verdicts leave such panels out and say how many."),
    ("procrustes_baseline", "Procrustes distance (after optimally matching points) to the ratio-MDS layout of diag(N) with the same N: 0 = the undistorted picture of section 1."),
    ("ring_cv / core_ratio", "spread of the represented features' distances from their centre (0 = a ring) / the dropped features' median distance from the centre relative to the represented ones'."),
)


def _metrics_help_html() -> str:
    items = "".join(f"<li><b>{_esc(k)}</b>: {_esc(v)}</li>" for k, v in METRICS_HELP)
    return f"<details><summary>What the numbers mean</summary><ul class='note'>{items}</ul></details>"


def _claims_html(claims: Sequence[Any]) -> str:
    out = []
    for c in claims:
        refs = ", ".join(f"<a href='#fig-{_esc(i)}'>{_esc(i)}</a>" for i in c.figures)
        out.append(f"<p>{_esc(c.text)}" + (f" <span class='refs'>Figures: {refs}.</span>" if refs else "") + "</p>")
    return "".join(out)


def _conclusion_html(outputs: Sequence[Any], table: Any) -> str:
    """The closing section: the study's question answered from this run's numbers.

    With the data-point section (issue 5) it leads with whether and when the study's conclusion holds
    for pictures of data, per method, and why the represented features lie on a ring
    (:mod:`supviz.report.conclusion`); then the feature-direction measures and the claim table.
    """
    from supviz.report.conclusion import conclusion_claims

    findings = [f for o in outputs for f in o.findings]
    counts = {k: sum(1 for f in findings if f.verdict == k) for k in VERDICT_CLASS}
    ids = {f.id for o in outputs for f in o.figures}
    claims = conclusion_claims(table, figure_ids=ids) if table is not None and len(table) else []
    parts = []
    if claims:
        parts.append(
            "<h3>Is superposition a problem for latent-space pictures?</h3><p>The study answered by eye, from pictures "
            "of the feature directions (section 2), that superposition \"might not be as large a problem for latent space "
            "visualization\". What practitioners picture is data: the latent codes h = W\u1d40x of inputs x. Section 3 "
            "pictures both and measures how much of the inputs' neighbourhoods each picture keeps; the picture of x is "
            "the control for what any 2-D picture loses.</p>" + _claims_html(claims)
        )
    text = [
        f"Of the study's {len(findings)} checkable claims, this run's numbers support {counts['supported']}, partly "
        f"support {counts['partly']} and do not support {counts['not supported']}"
        + (f"; {counts['n/a']} cannot be tested here (the measure is undefined for every panel it needs, e.g. "
           "collapsed pictures; the claim says how many were left out)" if counts.get("n/a") else "") + "."
    ]
    if table is not None and len(table):
        c = table[table["experiment"].isin(["C2", "C3", "C4", "C5"])]
        b1 = table[table["experiment"] == "B1"]
        if len(c):
            sub_parts = []
            for exp in ("C2", "C3", "C4", "C5"):
                sub = c[c["experiment"] == exp]
                if len(sub) and "trustworthiness" in sub:
                    # medians skip undefined (NaN) panels; say how many
                    gone = int(sub[["trustworthiness", "continuity", "procrustes_baseline"]].isna().any(axis=1).sum())
                    sub_parts.append(
                        f"{exp}: median trustworthiness {sub['trustworthiness'].median():.3g}, continuity "
                        f"{sub['continuity'].median():.3g}, Procrustes distance to the orthogonal baseline "
                        f"{sub['procrustes_baseline'].median():.3g}"
                        + (f" ({gone} of {len(sub)} panels with an undefined measure left out)" if gone else "")
                    )
            text.append(
                "Feature directions (section 2), measured over every panel: " + "; ".join(sub_parts) + "."
            )
        if len(b1):
            text.append(
                f"For reference, the orthogonal baselines (B1, ratio MDS of diag(N)) have stress-1 between "
                f"{b1['stress1_ratio'].min():.3g} and {b1['stress1_ratio'].max():.3g}."
            )
    head = "<h3>Every claim of the study against this run</h3>" if claims else ""
    return "".join(parts) + head + "".join(f"<p>{_esc(t)}</p>" for t in text) + _findings_html(findings)


def build_report(outputs: Sequence[Any], path: str | Path, *, meta: dict[str, Any], table: Any = None) -> Path:
    """Write the report for the rendered sections ``outputs`` to ``path`` (atomically).

    Parameters
    ----------
    outputs
        :class:`supviz.study.sections.SectionOutput` objects, in report order.
    path
        The HTML file; figure paths in ``outputs`` are relative to its folder.
    meta
        The run record (config, versions, platform, stage timings).
    table
        The tidy metrics table (for the closing summary), optional.
    """
    from supviz.figures.interactive import plotlyjs_source

    path = Path(path)
    out_dir = path.parent
    nav = "".join(f"<li><a href='#sec-{_esc(o.key)}'>{_esc(o.title)}</a></li>" for o in outputs)
    body = []
    for o in outputs:
        part = [f"<section id='sec-{_esc(o.key)}'><h2>{_esc(o.title)}</h2>", _paragraphs(o.intro)]
        if o.findings:
            part.append("<h3>The study's claims against this run</h3>" + _findings_html(o.findings))
        part.extend(_figure_html(f, out_dir) for f in o.figures)
        if o.tables:
            part.append("<h3>Metric tables</h3>")
            for t in o.tables:
                part.append(f"<details><summary>{_esc(t.caption)}</summary>{_table_html(t.frame)}</details>")
        if o.notes:
            part.append("<div class='note'><b>Notes:</b><ul>" + "".join(f"<li>{_esc(n)}</li>" for n in o.notes) + "</ul></div>")
        part.append("</section>")
        body.append("".join(part))
    has_plots = any(f.interactive for o in outputs for f in o.figures)
    figure_index = "".join(f"<li><a href='#fig-{_esc(f.id)}'>{_esc(f.id)}</a>: {_esc(f.title)}</li>" for o in outputs for f in o.figures)
    doc = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>supviz report: effects of superposition on latent-space visualisation</title>"
        f"<style>{CSS}</style>"
        + (f"<script>{plotlyjs_source()}</script>" if has_plots else "")
        + "</head><body><main>"
        "<h1>Effects of superposition on latent-space visualisation</h1>"
        "<p>A reproduction and measurement of Hamblin (2022), built on Elhage et al. (2022), <i>Toy Models of "
        "Superposition</i>, by <code>supviz run</code>. Every figure below was regenerated in this run; every number "
        f"comes from its metrics table (<a href='metrics.csv'>metrics.csv</a>, <a href='metrics.parquet'>metrics.parquet</a>).</p>"
        f"<p id='supviz-status'>{'interactive figures not rendered (JavaScript off?)' if has_plots else 'no interactive figures'}</p>"
        f"{_meta_html(meta)}<nav><h2>Contents</h2><ol>{nav}<li><a href='#sec-conclusions'>Conclusions</a></li></ol>"
        f"<details><summary>Figure index</summary><ul>{figure_index}</ul></details>{_metrics_help_html()}</nav>"
        + "".join(body)
        + f"<section id='sec-conclusions'><h2>Conclusions: the study against this run's numbers</h2>{_conclusion_html(outputs, table)}</section>"
        "</main>"
        + (f"<script>{RENDER_JS}</script>" if has_plots else "")
        + "</body></html>"
    )
    atomic_write_text(path, doc)
    return path
