"""AppMetrica Post API destinations."""
