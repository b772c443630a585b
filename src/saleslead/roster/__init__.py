"""Mandate 3 — build and manage the roster."""
