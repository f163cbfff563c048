"""template.yaml: read as data (template.py); its per-endpoint parts and the docs' reference pages written from the
endpoint registry (generate.py)."""
