"""How numbers read in words, tables and pages: one place, so every face says a number the same way."""

from __future__ import annotations

__all__ = ["count", "money", "money_or_dash", "pct"]


def money(value: float) -> str:
    """$1.23M, $450k, $980 (sign kept)."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1e6:
        return f"{sign}${value / 1e6:,.2f}M"
    if value >= 1e3:
        return f"{sign}${value / 1e3:,.0f}k"
    return f"{sign}${value:,.0f}"


def money_or_dash(value: float | None) -> str:
    """:func:`money`, or an em dash when there is no number."""
    return "—" if value is None else money(float(value))


def pct(value: float | None, digits: int = 0) -> str:
    """A share as a percentage, or an em dash."""
    return "—" if value is None else f"{value:.{digits}%}"


def count(value: int | float | None) -> str:
    """A count with thousands separators, or an em dash."""
    return "—" if value is None else f"{value:,.0f}"
