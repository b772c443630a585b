"""The dashboard's chart look: one layout and palette for every Plotly figure.

Figures are plain Plotly JSON (``{"data": [...], "layout": {...}}``) built from a seat result and handed
to the page in a ``data-figure`` attribute; ``static/saleslead.js`` draws them with the plotly.js the
installed ``plotly`` package ships (never a CDN).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["INK", "MUTED", "PALETTE", "RECOMMENDATION_COLOURS", "figure", "figure_json"]

INK = "#1f2933"
MUTED = "#7b8794"
GRID = "#e4e7eb"
PALETTE = ("#2563eb", "#0f9d8a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#65a30d", "#db2777")
RECOMMENDATION_COLOURS = {
    "pursue": "#0f9d8a",
    "maintain": "#2563eb",
    "deprioritise": "#f59e0b",
    "do-not-compete": "#dc2626",
    "insufficient-evidence": "#9aa5b1",
}


def figure(data: list[dict[str, Any]], *, height: int = 360, **layout: Any) -> dict[str, Any]:
    """A figure with the house layout; ``layout`` keys override it."""
    base: dict[str, Any] = {
        "height": height,
        "margin": {"l": 64, "r": 24, "t": 24, "b": 56},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "Inter, system-ui, -apple-system, Segoe UI, sans-serif", "size": 12, "color": INK},
        "colorway": list(PALETTE),
        "xaxis": {"gridcolor": GRID, "zerolinecolor": GRID, "automargin": True},
        "yaxis": {"gridcolor": GRID, "zerolinecolor": GRID, "automargin": True},
        "legend": {"orientation": "h", "y": -0.18, "x": 0},
        "hoverlabel": {"font": {"family": "Inter, system-ui, sans-serif"}},
    }
    for key, value in layout.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return {"data": data, "layout": base}


def figure_json(fig: dict[str, Any]) -> str:
    """The figure as compact JSON for a ``data-figure`` attribute (Jinja escapes it for the attribute)."""
    return json.dumps(fig, separators=(",", ":"), default=str)
