"""SMS providers behind one small interface (`base.SmsProvider`), one module each."""

from __future__ import annotations

from services.notify.providers.base import SmsProvider
from services.notify.providers.log import LogProvider


def provider_named(name: str) -> SmsProvider:
    """The configured provider."""
    providers: dict[str, type[SmsProvider]] = {"log": LogProvider}
    if name not in providers:
        raise ValueError(f"unknown SMS provider {name!r}; known: {', '.join(providers)}")
    return providers[name]()
