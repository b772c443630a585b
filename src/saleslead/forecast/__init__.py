"""Mandate 4 — forecast and call the number."""
