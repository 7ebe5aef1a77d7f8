"""Benchmarks of the running system against bare baselines: `python -m bench`."""
