"""CLI commands for: The seat in the fleet: lanes, handoffs, the weekly cadence."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this package's commands to the app."""
