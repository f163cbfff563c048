"""Benchmarks: `make bench`. Courier's paths against baselines measured in the same run, on this machine."""
