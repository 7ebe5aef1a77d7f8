"""Months of a test's own, so budgets of different tests never meet in the shared database."""

from __future__ import annotations

import itertools
import random

_counter = itertools.count()
_base = random.randrange(2100, 9000)


def fresh_month() -> str:
    """A YYYY-MM no other test in this run uses."""
    n = next(_counter)
    return f"{_base + n // 12}-{n % 12 + 1:02d}"
