"""The demo company: a seeded, scalable synthetic B2B org written as Salesforce-shaped CSV exports."""

from saleslead.demo.company import DemoConfig, DemoSummary, Slump, generate

__all__ = ["DemoConfig", "DemoSummary", "Slump", "generate"]
