"""The funnel core shared by every mandate: point-in-time state, conversion, durations."""

from saleslead.funnel.state import STATE_COLUMNS, end_of, history_until, state_as_of

__all__ = ["STATE_COLUMNS", "end_of", "history_until", "state_as_of"]
