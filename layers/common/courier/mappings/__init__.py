"""Mappings: a small YAML document per source shape that turns the user's records (CSV columns, JSON webhooks) into
the destination's fields, compiled once and applied in front of the destination's own validation.

This module is light (the doors import it at their start); YAML and JMESPath load with `rules`, when a mapping is
named."""

from __future__ import annotations

import re

NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")  # a mapping's name: a file name, never a path


class MappingUnavailableError(Exception):
    """The mapping a file, message or call names cannot be used now: missing, invalid, or S3 did not answer. The
    message is safe to show (names and lines, never a record's value); the file or message comes back later."""


class MappingUnreadableError(MappingUnavailableError):
    """S3 did not answer for the mapping now: it may be fine (an HTTPS caller is told to try again, 503)."""


def check_name(name: str) -> str:
    """The name, when it can name a mapping file (no '/', no '..'); ValueError otherwise."""
    if not NAME.fullmatch(name) or ".." in name:
        raise ValueError("a mapping's name is letters, digits, '_', '-' and '.', at most 100, never '/' or '..'")
    return name
