"""Tokens in, Principal out."""
