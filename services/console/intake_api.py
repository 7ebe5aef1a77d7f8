"""Intake's public lookup (`POST /v1/lookup`) as the resident's /track page uses it.

One call over HTTP, with the console's timeout. The answer is read with a schema that
passes over fields it does not know (intake may add some), and an answer that does not
read becomes "lookups are unavailable": a page that says so, never a broken one. The
phone digits travel only in the request body, and nothing here logs the request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load

from services.common.clock import Clock
from services.console.mediation_api import ApiError

log = logging.getLogger(__name__)

# When a 429 names no wait that can be read, the resident is asked to wait this long.
DEFAULT_WAIT = timedelta(minutes=1)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    event: str
    text: str


@dataclass(frozen=True)
class NextStep:
    text: str
    due_at: datetime | None


@dataclass(frozen=True)
class Standing:
    """Where a report stands, as intake tells the resident."""

    tracking_code: str
    status: str
    status_text: str
    submitted_at: datetime
    updated_at: datetime
    timeline: list[TimelineEntry]
    next_step: NextStep | None


class NoSuchReport(Exception):
    """The code and the digits do not belong together (intake never says which is wrong)."""


@dataclass
class BadInput(Exception):
    """Intake refused the input's form (400 or 422): `fields` names each bad field."""

    fields: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class TooManyLookups(Exception):
    retry_after: timedelta


class LookupUnavailable(Exception):
    """Intake did not answer, or answered something this page cannot read."""


class _Tolerant(Schema):
    """Passes over fields intake adds later (as `contracts.Part` does for messages; that
    module is not imported here, since it brings the broker's client into the console)."""

    class Meta:
        unknown = EXCLUDE


class _TimelineEntrySchema(_Tolerant):
    at = fields.AwareDateTime(required=True)
    event = fields.String(required=True)
    text = fields.String(required=True)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> TimelineEntry:
        return TimelineEntry(**data)


class _NextStepSchema(_Tolerant):
    text = fields.String(required=True)
    due_at = fields.AwareDateTime(required=True, allow_none=True)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> NextStep:
        return NextStep(**data)


class _StandingSchema(_Tolerant):
    tracking_code = fields.String(required=True)
    status = fields.String(required=True)
    status_text = fields.String(required=True)
    submitted_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    timeline = fields.List(fields.Nested(_TimelineEntrySchema), required=True)
    next_step = fields.Nested(_NextStepSchema, required=True, allow_none=True)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Standing:
        return Standing(**data)


def retry_after(value: str | None, *, now: datetime) -> timedelta:
    """The wait a `Retry-After` header names: seconds, or an HTTP date (RFC 9110)."""
    if value is None:
        return DEFAULT_WAIT
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        until = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_WAIT
    if until.tzinfo is None:  # an HTTP date is GMT, whatever the parser made of it
        return DEFAULT_WAIT
    return max(until - now, timedelta(0))


class IntakeLookup:
    def __init__(self, client: httpx.Client, *, clock: Clock) -> None:
        self._client = client
        self._clock = clock

    def lookup(
        self, *, tracking_code: str, phone_last4: str, client_address: str | None
    ) -> Standing:
        """Where the report stands; raises one of this module's errors otherwise.

        `client_address` is the resident's address as the console determined it (its
        `trusted_proxies` setting): intake counts lookups per resident, not per console.
        """
        headers = {"X-Forwarded-For": client_address} if client_address else {}
        try:
            response = self._client.post(
                "/v1/lookup",
                json={"tracking_code": tracking_code, "phone_last4": phone_last4},
                headers=headers,
            )
        except httpx.HTTPError as error:
            log.warning("intake lookup did not answer: %s", type(error).__name__)
            raise LookupUnavailable from error
        status = response.status_code
        if status == 200:
            return self._standing(response)
        if status == 404:
            raise NoSuchReport
        if status in (400, 422):
            raise BadInput(ApiError(status, _json_object(response)).field_errors)
        if status == 429:
            wait = retry_after(response.headers.get("Retry-After"), now=self._clock.now())
            raise TooManyLookups(wait)
        log.warning("intake lookup answered %d", status)
        raise LookupUnavailable

    def _standing(self, response: httpx.Response) -> Standing:
        try:
            standing: Standing = _StandingSchema().load(_json_object(response))
        except ValidationError as error:
            # Names the fields only: the values are a resident's report.
            log.warning("intake lookup answer did not read: %s", sorted(error.messages_dict))
            raise LookupUnavailable from error
        return standing


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
