"""Turning what a door receives (a file, a message, a request body) into records."""
