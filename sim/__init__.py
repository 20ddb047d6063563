"""Simulated bank back-office services. Never imported by `bff/`."""
