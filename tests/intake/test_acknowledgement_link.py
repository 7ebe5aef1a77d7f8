"""The acknowledgement SMS links the tracking page where the station has a public address."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from services.intake.models import OutboxMessage
from services.intake.rules import public_base_url
from services.intake.runtime import IntakeRuntime
from services.notify.templates import render
from tests import factories
from tests.intake.client import client_for
from tests.intake.residents import submit

SIGNATURE = "【魏村派出所】"


def acknowledgement(runtime: IntakeRuntime, report_id: str) -> dict[str, Any]:
    with runtime.db.sessions() as session:
        row = session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.task == "notify.send_sms",
                OutboxMessage.payload["report_id"].as_string() == report_id,
            )
        )
    assert row is not None
    return row.payload


def rendered(payload: dict[str, Any]) -> tuple[str, int]:
    """The SMS as notify renders it: its text and how many parts it is sent in."""
    sms = render(signature=SIGNATURE, template_name=payload["template"], params=payload["params"])
    return sms.text, sms.segments


def test_without_a_public_address_the_sms_has_no_link(intake: IntakeRuntime) -> None:
    assert intake.rules.public_base_url is None
    report = submit(intake)

    text, segments = rendered(acknowledgement(intake, report.id))

    assert text == (
        f"{SIGNATURE}您反映的情况已受理，查询码{report.tracking_code}。我们将尽快处理并告知结果。"
    )
    assert "http" not in text
    assert (len(text), segments) == (44, 1)


def test_with_a_public_address_the_sms_links_the_tracking_page(intake: IntakeRuntime) -> None:
    runtime = replace(
        intake, rules=replace(intake.rules, public_base_url=public_base_url("https://wc.cn/"))
    )
    report = submit(runtime)

    payload = acknowledgement(runtime, report.id)
    text, segments = rendered(payload)

    link = f"https://wc.cn/track?code={report.tracking_code}"
    assert payload["template"] == "report_received_link"
    assert payload["params"] == {"tracking_code": report.tracking_code, "track_url": link}
    assert text.endswith(f"办理进度可查：{link}")
    assert (len(text), segments) == (73, 2)  # over 70: two parts of up to 67


def test_a_duplicate_hazard_links_its_own_tracking_page(intake: IntakeRuntime) -> None:
    runtime = replace(
        intake, rules=replace(intake.rules, public_base_url=public_base_url("http://10.0.0.5:5000"))
    )
    key = factories.agency_key(runtime)
    hazard = factories.hazard()
    client = client_for(runtime)
    first: Any = client.post("/v1/reports", json=hazard, headers={"Authorization": f"Bearer {key}"})
    again: Any = client.post("/v1/reports", json=hazard, headers={"Authorization": f"Bearer {key}"})

    payload = acknowledgement(runtime, again.json["id"])
    text, segments = rendered(payload)

    assert payload["template"] == "report_duplicate_link"
    code = again.json["tracking_code"]
    assert f"查询码{first.json['tracking_code']}" in text
    assert text.endswith(f"进度可查：http://10.0.0.5:5000/track?code={code}")
    assert segments == 2 == -(-len(text) // 67)


@pytest.mark.parametrize("raw", ["wc.cn", "ftp://wc.cn", "https://", "https://wc.cn/?a=1"])
def test_a_public_address_that_is_not_one_is_refused_at_start(raw: str) -> None:
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        public_base_url(raw)
