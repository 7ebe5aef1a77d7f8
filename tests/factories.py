"""Valid inputs for tests, each varied only where a test says so."""

from __future__ import annotations

import secrets
from typing import Any

from services.intake.auth import issue_key
from services.intake.runtime import IntakeRuntime
from services.intake.service import create_agency


def agency_key(runtime: IntakeRuntime, kind: str = "grid") -> str:
    """A new agency with one key; returns the key."""
    with runtime.db.transaction() as session:
        now = runtime.clock.now()
        agency = create_agency(session, name=f"agency-{secrets.token_hex(4)}", kind=kind, now=now)
        return issue_key(session, agency=agency, now=now)


def fresh_number() -> str:
    """A mobile number no other test uses, so per-number SMS limits do not cross tests."""
    return f"+86138{secrets.randbelow(10**8):08d}"


def dispute(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "dispute",
        "summary": "Brothers disagree over the boundary of a shared plot",
        "details": "Both claim the ditch.",
        "occurred_at": "2026-11-20T09:30:00+08:00",
        "location": {"village": "weicun-3", "address": "三组田间", "lat": 32.0, "lon": 119.9},
        "reporter": {"name": "陈先生", "phone": "+86 138-0013-8000"},
        "parties": [
            {"name": "陈大哥", "phone": "13900139000", "role": "claimant"},
            {"name": "陈二弟", "phone": "13700137000", "role": "respondent"},
        ],
    }
    body.update(overrides)
    return body


def hazard(**overrides: Any) -> dict[str, Any]:
    """A hazard at an address of its own, so that it is nobody's duplicate by chance."""
    body: dict[str, Any] = {
        "kind": "hazard",
        "summary": "Sagging wires in a rental house",
        "occurred_at": "2026-11-27T20:00:00+08:00",
        "location": {"village": "weicun-5", "address": f"五组出租屋 {secrets.token_hex(4)}号"},
        "reporter": {"phone": "13700137003"},
        "hazard": {"category": "wiring", "severity": "medium"},
    }
    body.update(overrides)
    return body


def nomination(kind: str = "brave_act", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "summary": "Pulled a child out of the river",
        "occurred_at": "2026-11-23T16:30:00+08:00",
        "location": {"village": "weicun-7"},
        "reporter": {"name": "王师傅", "phone": "13500135005"},
        "nominee": {"name": "张先生", "phone": "13500135006"},
    }
    body.update(overrides)
    return body
