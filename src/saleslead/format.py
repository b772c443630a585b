"""How numbers read in words, tables and pages: one place, so every face says a number the same way.

Amounts are written in the engagement's currency (the ``currency`` setting). Which currency is in force is
a context variable: the seat sets it when it is opened or its settings change (:func:`use_currency`), and a
face that formats in another thread or task (a web request, an MCP tool call) holds it for the call with
:func:`currency_of`. Nothing else in the library formats money.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["amount", "count", "currency_of", "currency_symbol", "money", "money_range", "pct", "use_currency"]

#: symbols written before the amount; any other code is written as its code and a space ("CHF 1.20M")
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$"}

_CURRENCY: ContextVar[str] = ContextVar("saleslead_currency", default="USD")


def use_currency(code: str) -> None:
    """Write amounts in ``code`` from now on, in this context (the seat calls this with its settings)."""
    _CURRENCY.set(code)


@contextmanager
def currency_of(code: str) -> Iterator[None]:
    """Write amounts in ``code`` inside the block (a face's request), then as before."""
    token = _CURRENCY.set(code)
    try:
        yield
    finally:
        _CURRENCY.reset(token)


def currency_symbol(code: str | None = None) -> str:
    """The prefix of an amount: ``$`` for USD, ``CHF `` for a code without a symbol (default: the one in force)."""
    code = code or _CURRENCY.get()
    return SYMBOLS.get(code, f"{code} ")


def money(value: float | None) -> str:
    """$1.23M, €450k, CHF 980 (sign kept), in the currency in force; an em dash when there is no number."""
    if value is None:
        return "—"
    value = float(value)
    sign = "-" if value < 0 else ""
    symbol = currency_symbol()
    value = abs(value)
    if value >= 1e6:
        return f"{sign}{symbol}{value / 1e6:,.2f}M"
    if value >= 1e3:
        return f"{sign}{symbol}{value / 1e3:,.0f}k"
    return f"{sign}{symbol}{value:,.0f}"


def amount(value: float) -> str:
    """An amount in full, to the unit: $12,345 (sign kept), in the currency in force."""
    sign = "-" if value < 0 else ""
    return f"{sign}{currency_symbol()}{abs(value):,.0f}"


def money_range(low: float, high: float) -> str:
    """A P10–P90 range in one unit, in the currency in force: $6.4–11.2M, $491–775k."""
    symbol, top = currency_symbol(), max(abs(low), abs(high))
    if top >= 1e6:
        return f"{symbol}{low / 1e6:.1f}–{high / 1e6:.1f}M"
    if top >= 1e3:
        return f"{symbol}{low / 1e3:.0f}–{high / 1e3:.0f}k"
    return f"{symbol}{low:.0f}–{high:.0f}"


def pct(value: float | None, digits: int = 0) -> str:
    """A share as a percentage, or an em dash."""
    return "—" if value is None else f"{value:.{digits}%}"


def count(value: int | float | None) -> str:
    """A count with thousands separators, or an em dash."""
    return "—" if value is None else f"{value:,.0f}"
