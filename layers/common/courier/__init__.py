"""Courier's shared layer: doors → records → validate → batch → send → outcomes → report."""
