"""The courier command line: send a file, replay dead letters, check and put mappings, a stack's status."""
