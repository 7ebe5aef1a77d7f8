"""Callbacks never reach inside the station's network (unless it is allowed)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from services.intake.callbacks import destinations
from services.intake.runtime import IntakeRuntime
from tests import factories
from tests.intake.client import client_for

PRIVATE = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://10.0.0.5/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/hook",
    "http://0.0.0.0/hook",
]


@pytest.mark.parametrize("url", PRIVATE)
def test_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(destinations.ForbiddenDestination):
        destinations.check(url, allow_private=False)


def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(destinations.ForbiddenDestination, match="does not resolve"):
        destinations.check(f"https://{uuid.uuid4().hex}.invalid/hook", allow_private=False)


def test_a_public_address_is_allowed() -> None:
    destinations.check("https://8.8.8.8/hook", allow_private=False)  # resolves locally, no traffic


def test_allowing_private_addresses_skips_the_check() -> None:
    destinations.check("http://127.0.0.1/hook", allow_private=True)


def test_registering_a_private_url_is_422(intake: IntakeRuntime) -> None:
    strict = replace(intake, rules=replace(intake.rules, callbacks_allow_private=False))
    headers = {"Authorization": f"Bearer {factories.agency_key(strict)}"}

    answer: Any = client_for(strict).put(
        "/v1/callback", json={"url": "http://169.254.169.254/latest"}, headers=headers
    )

    assert answer.status_code == 422
    assert "non-public" in answer.json["errors"]["json"]["url"][0]
