"""Altcraft Platform API (v1.1) destinations: profile import and update."""
