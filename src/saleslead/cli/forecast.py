"""CLI commands for: Mandate 4 — forecast and call the number."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this package's commands to the app."""
