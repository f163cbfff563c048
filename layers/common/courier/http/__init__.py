"""HTTP delivery shared by every destination: one pooled session, bounded retries, a request-rate cap."""
