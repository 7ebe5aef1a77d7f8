"""Failures every adapter can raise beyond the two of `base.py`."""

from __future__ import annotations

import httpx

from services.notify.providers.base import TemporaryFailure


class AmbiguousFailure(TemporaryFailure):
    """The request may have reached the provider (a read timeout, a 5xx after sending).

    Sending again could deliver the message twice, so the message stays in `sending`
    until the provider is asked what became of it.
    """


# Raised before a single byte of the request reached the provider.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)


def transport_failure(provider: str, exc: httpx.TransportError) -> TemporaryFailure:
    """TemporaryFailure if the request surely never left, AmbiguousFailure if it may have."""
    if isinstance(exc, _NOT_SENT):
        return TemporaryFailure(f"{provider} unreachable: {type(exc).__name__}")
    return AmbiguousFailure(f"{provider} did not answer: {type(exc).__name__}")
