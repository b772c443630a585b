"""CLI commands for: Mandate 1 — own the sales strategy."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this package's commands to the app."""
