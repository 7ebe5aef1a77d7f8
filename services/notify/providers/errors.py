"""How an HTTP failure is told apart: surely not sent, or perhaps sent (`AmbiguousFailure`)."""

from __future__ import annotations

import httpx

# Here too for the adapters that raise it; it lives in `base`, which needs no HTTP client.
from services.notify.providers.base import AmbiguousFailure, TemporaryFailure

__all__ = ["AmbiguousFailure", "transport_failure"]

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
