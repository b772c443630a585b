"""The briefing: the seat's weekly words, rendered from the numbers."""

from saleslead.briefing.render import pipeline_briefing

__all__ = ["pipeline_briefing"]
