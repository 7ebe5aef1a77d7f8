"""Fakes of both providers on 127.0.0.1, and HTTP clients that never use a proxy."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.notify.providers.fakes import FakeAliyun, FakeTencent

ALIYUN_KEY_ID = "LTAI5tFakeKeyForTests"
ALIYUN_SECRET = "fake-aliyun-secret-for-tests"
TENCENT_SECRET_ID = "AKIDFakeSecretIdForTests"
TENCENT_SECRET_KEY = "fake-tencent-secret-key-for-tests"
TENCENT_APP_ID = "1400000001"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0), trust_env=False) as c:
        yield c


@pytest.fixture
def impatient_client() -> Iterator[httpx.Client]:
    """Gives up reading after 0.2 s, so that a slow fake answer is a read timeout."""
    with httpx.Client(timeout=httpx.Timeout(2.0, read=0.2), trust_env=False) as c:
        yield c


@pytest.fixture
def fake_aliyun() -> Iterator[FakeAliyun]:
    fake = FakeAliyun(ALIYUN_KEY_ID, ALIYUN_SECRET)
    yield fake
    fake.close()


@pytest.fixture
def fake_tencent() -> Iterator[FakeTencent]:
    fake = FakeTencent(TENCENT_SECRET_ID, TENCENT_SECRET_KEY, TENCENT_APP_ID)
    yield fake
    fake.close()
