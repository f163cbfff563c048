"""Batching, sending and accounting, the same for every door and destination."""
