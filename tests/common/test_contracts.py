"""Contracts change by addition: unknown fields are ignored, a newer version is refused."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from marshmallow import ValidationError

from services.common.contracts import OPEN_CASE, SEND_SMS, NewerVersion
from tests import factories, messages
from tests.conftest import NOW


def sent(payload: dict[str, Any], version: int = 1) -> dict[str, Any]:
    """A report as a producer of `version` puts it on the wire (JSON types)."""
    envelope = {"message_id": uuid.uuid4(), "version": version, "sent_at": NOW}
    return OPEN_CASE.dump({**envelope, **payload})


def test_fields_a_newer_producer_added_are_ignored_at_every_level() -> None:
    wire = sent(messages.report(factories.dispute()))
    wire["priority_hint"] = "high"  # added by a newer intake during a rolling deploy
    wire["location"]["building"] = "3号楼"
    wire["reporter"]["wechat"] = "chen-dage"
    wire["parties"][0]["age"] = 41

    loaded = OPEN_CASE.load(wire)

    assert "priority_hint" not in loaded
    assert "building" not in loaded["location"]
    assert "wechat" not in loaded["reporter"]
    assert "age" not in loaded["parties"][0]
    assert loaded["summary"] == wire["summary"]


def test_a_newer_major_version_is_refused_before_its_fields_are_read() -> None:
    wire = sent(messages.report(factories.dispute()))
    wire["version"] = 2
    del wire["summary"]  # version 2 may have renamed it: not a reason to guess

    with pytest.raises(NewerVersion) as refused:
        OPEN_CASE.load(wire)

    assert isinstance(refused.value, ValidationError)  # parked like any contract failure
    assert refused.value.messages == {"version": ["version 2 is newer than 1, the newest known"]}


def test_the_known_version_still_validates_its_fields() -> None:
    wire = SEND_SMS.dump(
        {
            "message_id": uuid.uuid4(),
            "version": 1,
            "sent_at": NOW,
            "idempotency_key": "k",
            "recipient": "13800138000",
            "template": "report_received",
        }
    )
    wire["priority"] = "whenever"

    with pytest.raises(ValidationError) as refused:
        SEND_SMS.load(wire)

    assert not isinstance(refused.value, NewerVersion)
    assert "priority" in refused.value.messages
