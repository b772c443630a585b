"""The seat's web face: ``saleslead serve`` (FastAPI, Jinja2, Plotly served from the installed package)."""

from __future__ import annotations

from saleslead.web.app import create_app

__all__ = ["create_app"]
