"""CLI commands for: Mandate 3 — build and manage the roster."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this package's commands to the app."""
