"""Failures every adapter can raise beyond the two of `base.py`."""

from __future__ import annotations

from services.notify.providers.base import TemporaryFailure


class AmbiguousFailure(TemporaryFailure):
    """The request may have reached the provider (a read timeout, a 5xx after sending).

    Sending again could deliver the message twice, so the message stays in `sending`
    until the provider is asked what became of it.
    """
