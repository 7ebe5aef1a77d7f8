"""Faults proven, not assumed: `python -m chaos` breaks the system, then reads its history."""
