"""Altcraft Platform API (v1.1) destinations: profile import, profile update, and import + trigger campaign launch;
each one `Method` (methods.py) read by the shared preparer, batches and client."""
