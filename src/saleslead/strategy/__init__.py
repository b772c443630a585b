"""Mandate 1 — own the sales strategy."""
