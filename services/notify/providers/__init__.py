"""SMS providers behind one small interface (`base.SmsProvider`), one module each."""

from __future__ import annotations

from environs import Env

from services.notify.providers.aliyun import AliyunConfig, AliyunProvider
from services.notify.providers.base import SmsProvider
from services.notify.providers.fake import FakeProvider
from services.notify.providers.log import LogProvider
from services.notify.providers.tencent import TencentConfig, TencentProvider

KNOWN = ("log", "aliyun", "tencent", "fake")


def provider_named(name: str, env: Env | None = None) -> SmsProvider:
    """The provider called `name`, configured from `env` (the process environment if None)."""
    if name == "log":
        return LogProvider()
    if name == "aliyun":
        return AliyunProvider(AliyunConfig.from_env(env or Env()))
    if name == "tencent":
        return TencentProvider(TencentConfig.from_env(env or Env()))
    if name == "fake":  # load tests only: sends nothing (providers/fake.py)
        return FakeProvider.from_env(env or Env())
    raise ValueError(f"unknown SMS provider {name!r}; known: {', '.join(KNOWN)}")
