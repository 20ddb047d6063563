"""Redis connection and key naming, shared by the domains."""
