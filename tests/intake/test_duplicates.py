"""The same hazard at the same place within 30 days: stored, linked, answered, not rewarded."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from services.common.clock import FrozenClock
from services.intake.duplicates import distance_m
from services.intake.runtime import IntakeRuntime
from tests import factories
from tests.intake.client import client_for
from tests.outbox import outbox_where


def hazard_at(**location: Any) -> dict[str, Any]:
    return factories.hazard(location={"village": "weicun-5", **location})


def submit(runtime: IntakeRuntime, body: dict[str, Any], key: str | None = None) -> Any:
    key = key or factories.agency_key(runtime)
    return client_for(runtime).post(
        "/v1/reports", json=body, headers={"Authorization": f"Bearer {key}"}
    )


def unique_address() -> str:
    return f"五组出租屋 {uuid.uuid4().hex[:8]}号"


def test_a_second_report_of_the_hazard_is_a_linked_duplicate(intake: IntakeRuntime) -> None:
    address = unique_address()
    first = submit(intake, hazard_at(address=address)).json
    key = factories.agency_key(intake)

    second = submit(intake, hazard_at(address=f"  {address} "), key).json

    assert first["status"] == "received"
    assert second["status"] == "duplicate"
    report: Any = (
        client_for(intake)
        .get(second["links"]["self"], headers={"Authorization": f"Bearer {key}"})
        .json
    )
    assert report["duplicate_of"] == first["tracking_code"]
    assert [e["event"] for e in report["timeline"]] == ["received", "marked_duplicate"]
    # No claim for rewards, but the reporter still gets an answer:
    [(task, sms)] = outbox_where(intake, "report_id", equals=second["id"])
    assert task == "notify.send_sms"
    assert sms["template"] == "report_duplicate"
    assert sms["params"]["original_code"] == first["tracking_code"]


def test_within_50_metres_is_the_same_place(intake: IntakeRuntime) -> None:
    lat, lon = 31.9 + uuid.uuid4().int % 1000 / 1e5, 119.9
    submit(intake, hazard_at(lat=lat, lon=lon))

    near = submit(intake, hazard_at(lat=lat + 0.0003, lon=lon)).json  # about 33 m north
    far = submit(intake, hazard_at(lat=lat + 0.0006, lon=lon)).json  # about 67 m north

    assert near["status"] == "duplicate"
    assert far["status"] == "received"


@pytest.mark.parametrize(
    "change",
    [
        {"hazard": {"category": "gas", "severity": "medium"}},  # another category
        {"location": {"village": "weicun-6"}},  # another village
    ],
)
def test_another_hazard_or_place_is_not_a_duplicate(
    intake: IntakeRuntime, change: dict[str, Any]
) -> None:
    address = unique_address()
    submit(intake, hazard_at(address=address))
    body = hazard_at(address=address)
    if "location" in change:
        body["location"] = {**change["location"], "address": address}
    else:
        body.update(change)

    assert submit(intake, body).json["status"] == "received"


def test_after_30_days_it_is_a_new_hazard(intake: IntakeRuntime, clock: FrozenClock) -> None:
    address = unique_address()
    submit(intake, hazard_at(address=address))
    clock.advance(intake.rules.duplicate_window + timedelta(minutes=1))

    assert submit(intake, hazard_at(address=address)).json["status"] == "received"


def test_no_address_and_no_coordinates_is_never_a_duplicate(intake: IntakeRuntime) -> None:
    submit(intake, hazard_at())
    assert submit(intake, hazard_at()).json["status"] == "received"


def test_distance_is_great_circle_metres() -> None:
    assert distance_m(32.0, 119.9, 32.0, 119.9) == 0
    assert distance_m(32.0, 119.9, 32.001, 119.9) == pytest.approx(111.2, abs=0.5)
