"""SMS providers behind one small interface (`base.SmsProvider`), one module each.

A provider's module is imported only when that provider is configured: Aliyun's and
Tencent's bring an HTTP client (httpx), which a station sending through neither has no use
for in its notify processes (docs/capacity.md, memory).
"""

from __future__ import annotations

from environs import Env

from services.notify.providers.base import SmsProvider
from services.notify.providers.fake import FakeProvider
from services.notify.providers.log import LogProvider

KNOWN = ("log", "aliyun", "tencent", "fake")


def provider_named(name: str, env: Env | None = None) -> SmsProvider:
    """The provider called `name`, configured from `env` (the process environment if None)."""
    if name == "log":
        return LogProvider()
    if name == "aliyun":
        from services.notify.providers.aliyun import AliyunConfig, AliyunProvider

        return AliyunProvider(AliyunConfig.from_env(env or Env()))
    if name == "tencent":
        from services.notify.providers.tencent import TencentConfig, TencentProvider

        return TencentProvider(TencentConfig.from_env(env or Env()))
    if name == "fake":  # load tests only: sends nothing (providers/fake.py)
        return FakeProvider.from_env(env or Env())
    raise ValueError(f"unknown SMS provider {name!r}; known: {', '.join(KNOWN)}")
