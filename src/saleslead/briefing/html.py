"""The weekly briefing as one self-contained HTML page: the Markdown text plus charts that work offline.

plotly's JavaScript is read from the installed package and inlined once, so the page needs no network.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re

import plotly.graph_objects as go
from markdown_it import MarkdownIt
from plotly.offline import get_plotlyjs

from saleslead.briefing.weekly import WeeklyBriefing, briefing_markdown

__all__ = ["briefing_html", "page_policy"]

_SCRIPT = re.compile(r"<script[^>]*>(.*?)</script>", re.DOTALL)

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;
color:#1d2733;line-height:1.45}
table{border-collapse:collapse;margin:.5rem 0}th,td{border-bottom:1px solid #d9dee5;padding:.25rem .6rem}
td{text-align:right}td:first-child{text-align:left}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.6rem}
code{background:#f2f4f7;padding:0 .2rem}.charts{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
"""


def _figure(fig: go.Figure, div_id: str) -> str:
    fig.update_layout(margin={"l": 40, "r": 10, "t": 40, "b": 40}, height=320, template="plotly_white")
    return str(fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id))


def _charts(b: WeeklyBriefing) -> list[str]:
    charts = []
    if b.pipeline_by_stage:
        fig = go.Figure(go.Bar(x=[s.name for s in b.pipeline_by_stage], y=[s.amount for s in b.pipeline_by_stage]))
        fig.update_layout(title="Open pipeline by stage ($)")
        charts.append(_figure(fig, "pipeline-by-stage"))
    judged = [x for x in b.leaks if x.conversion is not None]
    if judged:
        values = [x.conversion or 0.0 for x in judged]
        fig = go.Figure(
            go.Bar(
                x=[x.stage for x in judged],
                y=values,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [(x.high or v) - v for x, v in zip(judged, values, strict=True)],
                    "arrayminus": [v - (x.low or v) for x, v in zip(judged, values, strict=True)],
                },
            )
        )
        fig.update_layout(title="Stage conversion (with interval)", yaxis={"tickformat": ".0%", "range": [0, 1]})
        charts.append(_figure(fig, "stage-conversion"))
    roster = next((x for x in b.sections if x.id == "roster_plan" and x.available), None)
    if roster is not None and roster.data.get("segments"):
        segs = roster.data["segments"]
        names = [str(x["segment"]) for x in segs]
        fig = go.Figure(
            [
                go.Bar(name="goal", x=names, y=[x["goal"] for x in segs]),
                go.Bar(name="capacity now", x=names, y=[x["base_capacity"] for x in segs]),
                go.Bar(name="capacity with hires", x=names, y=[x["capacity"] for x in segs]),
            ]
        )
        fig.update_layout(title=f"Staffing {roster.data.get('period')}: capacity against the goal ($)", barmode="group")
        charts.append(_figure(fig, "staffing"))
    if b.call is not None and b.call.low is not None and b.call.high is not None:
        c = b.call
        above, below = b.call.high - c.call, c.call - b.call.low
        fig = go.Figure(
            go.Scatter(
                x=[c.call],
                y=[c.period],
                mode="markers",
                marker={"size": 14},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [above],
                    "arrayminus": [below],
                },
            )
        )
        fig.update_layout(title="The call and its range ($)")
        charts.append(_figure(fig, "the-call"))
    return charts


def page_policy(page: str) -> str:
    """A Content-Security-Policy for a standalone page: its own inline scripts (by hash) and nothing else."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _SCRIPT.findall(page)
    )
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src {hashes}" if hashes else "script-src 'none'",
            "style-src 'unsafe-inline'",  # the page's own style block and plotly's element styles
            "img-src data:",
            "font-src data:",
            "base-uri 'none'",
            "form-action 'none'",
            "object-src 'none'",
        )
    )


def briefing_html(b: WeeklyBriefing) -> str:
    """A standalone page: no CDN, no external file; data is escaped (raw HTML in the text is shown, never run)
    and a Content-Security-Policy lets only the page's own scripts run."""
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(briefing_markdown(b))
    charts = "".join(f"<div>{c}</div>" for c in _charts(b))
    title = html.escape(f"Sales-lead briefing {b.as_of} ({b.period})")
    content = f"<script>{get_plotlyjs()}</script></head><body>\n" + (
        f'<section class="charts">{charts}</section>\n{body}</body></html>\n'
    )
    policy = html.escape(page_policy(content), quote=True)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        f"<title>{title}</title><style>{_STYLE}</style>" + content
    )
