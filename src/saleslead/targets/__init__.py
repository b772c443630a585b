"""Mandate 2 — set and defend pipeline targets."""
