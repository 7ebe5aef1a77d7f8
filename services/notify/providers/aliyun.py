"""Aliyun (Alibaba Cloud) SMS: `SendSms` and `QuerySendDetails`, API version 2017-05-25.

Requests are signed with Alibaba Cloud's V3 signature (ACS3-HMAC-SHA256) in the RPC style:
a POST to "/" with every parameter in the query string and an empty body. Receipts
("SmsReport") and replies ("SmsUp") arrive as HTTP pushes of JSON arrays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from environs import Env
from marshmallow.validate import Length

from services.common import json_input
from services.common.clock import STATION_TZ, Clock
from services.common.phones import mask_phone
from services.notify.providers import fields
from services.notify.providers.base import (
    Accepted,
    InboundSms,
    Lookup,
    OutgoingSms,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
)
from services.notify.providers.errors import AmbiguousFailure, transport_failure
from services.notify.providers.http import HttpSmsProvider

log = logging.getLogger(__name__)

_SET = Length(min=1)  # docker compose passes unset variables on as empty strings

API_VERSION = "2017-05-25"
ALGORITHM = "ACS3-HMAC-SHA256"
DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com"
PAGE_SIZE = 50
MAX_PAGES = 10  # 500 messages to one number in a day: far beyond Aliyun's own per-number limits
HISTORY_DAYS = 30  # QuerySendDetails only knows the last 30 days

# Refusals of this message as it is: the number, the template or its parameters, the text.
PERMANENT_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.INVALID_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
        "isv.SMS_CONTENT_ILLEGAL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
    }
)
# Limits, balance, outages and our account's configuration (credentials, RAM permissions,
# the source IP's region): nothing wrong with the message, so it is retried and failover
# can move traffic to the other provider while someone fixes the account.
TEMPORARY_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "isv.MONTH_LIMIT_CONTROL",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.OUT_OF_SERVICE",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.ACCOUNT_ABNORMAL",
        "isv.PRODUCT_UN_SUBSCRIPT",
        "isv.PRODUCT_UNSUBSCRIBE",
        "isv.DENY_IP_RANGE",
        "isp.SYSTEM_ERROR",
        "isp.RAM_PERMISSION_DENY",
        "SignatureDoesNotMatch",
        "SignatureNonceUsed",
        "InvalidTimeStamp.Expired",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "Forbidden.RAM",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "ServiceUnavailable",
        "InternalError",
    }
)
_CN_MOBILE = re.compile(r"\+86(1[3-9]\d{9})")


@dataclass(frozen=True)
class AliyunConfig:
    access_key_id: str
    access_key_secret: str = field(repr=False)
    endpoint: str = DEFAULT_ENDPOINT
    sign_name: str = ""  # empty: the message's own signature without 【】
    templates: Mapping[str, str] = field(default_factory=dict)  # local name → TemplateCode

    @classmethod
    def from_env(cls, env: Env) -> AliyunConfig:
        """The configuration from ALIYUN_* variables; ValueError naming what is wrong."""
        templates = env.json("ALIYUN_SMS_TEMPLATES")
        if not isinstance(templates, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in templates.items()
        ):
            raise ValueError('ALIYUN_SMS_TEMPLATES must be a JSON object {"name": "SMS_…"}')
        return cls(
            access_key_id=env.str("ALIYUN_ACCESS_KEY_ID", validate=_SET),
            access_key_secret=env.str("ALIYUN_ACCESS_KEY_SECRET", validate=_SET),
            endpoint=env.str("ALIYUN_SMS_ENDPOINT", "") or DEFAULT_ENDPOINT,
            sign_name=env.str("ALIYUN_SMS_SIGN_NAME", ""),
            templates=templates,
        )


# --- The V3 signature --------------------------------------------------------------------


def percent_encode(value: str) -> str:
    """RFC 3986 as Alibaba specifies: UTF-8 bytes, only A-Z a-z 0-9 - _ . ~ left as they are."""
    return quote(value, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    """Parameters sorted by name, names and values percent-encoded, joined with &."""
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def canonical_request(
    method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], payload: bytes
) -> tuple[str, str]:
    """The canonical request and its signed-header list, for the headers given."""
    lowered = {k.lower(): v.strip() for k, v in headers.items()}
    names = sorted(lowered)
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in names)
    signed = ";".join(names)
    parts = [method, path, canonical_query(query), canonical_headers, signed, _sha256(payload)]
    return "\n".join(parts), signed


def signature(access_key_secret: str, request: str) -> str:
    """Hex HMAC-SHA256 of "ACS3-HMAC-SHA256\\n" + hex(sha256(canonical request))."""
    string_to_sign = f"{ALGORITHM}\n{_sha256(request.encode())}"
    key = access_key_secret.encode()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def signed_headers(
    config: AliyunConfig,
    *,
    host: str,
    action: str,
    query: Mapping[str, str],
    now: datetime,
    nonce: str,
) -> dict[str, str]:
    """Every header of one call, Authorization included (RPC style: empty body)."""
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": API_VERSION,
        "x-acs-date": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce,
        "x-acs-content-sha256": _sha256(b""),
    }
    request, signed = canonical_request("POST", "/", query, headers, b"")
    headers["authorization"] = (
        f"{ALGORITHM} Credential={config.access_key_id},SignedHeaders={signed},"
        f"Signature={signature(config.access_key_secret, request)}"
    )
    return headers


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Answers -----------------------------------------------------------------------------


def failure_for(code: str, message: str) -> TemporaryFailure | PermanentFailure:
    """The exception for an Aliyun error code."""
    text = f"aliyun {code}: {message}"[:200]
    if code in PERMANENT_CODES:
        return PermanentFailure(text)
    if code not in TEMPORARY_CODES:
        # An unknown code is treated as temporary: a wrong "temporary" costs a retry (and
        # failover tries the other provider), a wrong "permanent" silently drops a message
        # a resident needed. Logged so that someone classifies it.
        log.warning("unclassified Aliyun error code %s, treated as temporary", code)
    return TemporaryFailure(text)


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The body of an "OK" answer; raises the failure any other answer means."""
    if response.status_code >= 500:
        # The gateway may have passed the request on before failing: never certain.
        raise AmbiguousFailure(f"aliyun HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("Code"), str):
        if response.is_success:
            raise AmbiguousFailure(f"aliyun HTTP {response.status_code} with an unreadable body")
        raise TemporaryFailure(f"aliyun HTTP {response.status_code}")
    if body["Code"] != "OK":
        raise failure_for(body["Code"], str(body.get("Message", "")))
    return body


# --- The provider ------------------------------------------------------------------------


class AliyunProvider(HttpSmsProvider):
    name = "aliyun"

    def __init__(
        self,
        config: AliyunConfig,
        *,
        client: httpx.Client | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(config.endpoint, client=client, clock=clock)
        self.config = config

    def send(self, sms: OutgoingSms) -> Accepted:
        """SendSms: Accepted(BizId), or the failure Aliyun's answer means."""
        body = _answer(self._call("SendSms", self._send_params(sms)))
        biz_id = body.get("BizId")
        if not isinstance(biz_id, str) or not biz_id:
            raise AmbiguousFailure("aliyun answered OK without a BizId")
        log.info("aliyun took SMS %s to %s as %s", sms.id, mask_phone(sms.recipient), biz_id)
        return Accepted(provider_ref=biz_id)

    def lookup(self, sms: OutgoingSms, *, sent_after: datetime) -> Lookup:
        """QuerySendDetails for each day since `sent_after`, matched by OutId.

        A detail carries no BizId, so a found message comes back without a provider_ref.
        """
        try:
            phone = _national(sms.recipient)
            for day in _days(sent_after, self.clock.now()):
                if self._sent_on(day, phone, str(sms.id)):
                    return Lookup("accepted")
        except (TemporaryFailure, PermanentFailure, ValueError) as exc:
            log.warning("aliyun lookup of SMS %s inconclusive: %s", sms.id, exc)
            return Lookup("unknown")
        return Lookup("not_found")

    def parse_receipts(self, body: bytes, headers: Mapping[str, str]) -> list[Receipt]:
        """Receipts from an "SmsReport" push; ValueError if the body is not one."""
        return [_receipt(item) for item in _json_array(body)]

    def parse_inbound(self, body: bytes, headers: Mapping[str, str]) -> list[InboundSms]:
        """Replies from an "SmsUp" push; ValueError if the body is not one."""
        return [
            InboundSms(
                sender=fields.text(item, "phone_number"),
                text=fields.text(item, "content"),
                at=fields.station_time(fields.text(item, "send_time")),
            )
            for item in _json_array(body)
        ]

    def webhook_answer(self) -> tuple[dict[str, Any], int]:
        """What Aliyun's push expects back, or it pushes again."""
        return {"code": 0, "msg": "成功"}, 200

    def _send_params(self, sms: OutgoingSms) -> dict[str, str]:
        code = self.config.templates.get(sms.template)
        if code is None:
            raise PermanentFailure(f"no Aliyun TemplateCode for template {sms.template!r}")
        return {
            "PhoneNumbers": _national(sms.recipient),
            "SignName": self.config.sign_name or sms.signature.strip("【】"),
            "TemplateCode": code,
            "TemplateParam": json.dumps(dict(sms.params), ensure_ascii=False),
            "OutId": str(sms.id),
        }

    def _sent_on(self, day: date, phone: str, out_id: str) -> bool:
        """Whether a detail of `day` carries `out_id`; ValueError if it cannot tell."""
        for page in range(1, MAX_PAGES + 1):
            params = {
                "PhoneNumber": phone,
                "SendDate": day.strftime("%Y%m%d"),
                "PageSize": str(PAGE_SIZE),
                "CurrentPage": str(page),
            }
            details, total = _details(_answer(self._call("QuerySendDetails", params)))
            if any(d.get("OutId") == out_id for d in details):
                return True
            if page * PAGE_SIZE >= total or not details:
                return False
        raise ValueError(f"more than {MAX_PAGES * PAGE_SIZE} messages to one number in a day")

    def _call(self, action: str, params: Mapping[str, str]) -> httpx.Response:
        headers = signed_headers(
            self.config,
            host=self._host,
            action=action,
            query=params,
            now=self.clock.now(),
            nonce=secrets.token_hex(16),  # a fresh nonce per call: Aliyun refuses replays
        )
        try:
            return self.client.post(
                f"{self._base}/?{canonical_query(params)}", headers=headers, content=b""
            )
        except httpx.TransportError as exc:
            raise transport_failure("aliyun", exc) from exc


# --- Parsing -----------------------------------------------------------------------------


def _national(recipient: str) -> str:
    """The 11-digit number Aliyun wants for a +86 mobile."""
    match = _CN_MOBILE.fullmatch(recipient)
    if match is None:
        raise PermanentFailure(f"aliyun sends to Chinese mobiles only, not {mask_phone(recipient)}")
    return match.group(1)


def _days(since: datetime, now: datetime) -> list[date]:
    """The station-local dates from `since` to `now`; ValueError beyond Aliyun's history."""
    first, last = since.astimezone(STATION_TZ).date(), now.astimezone(STATION_TZ).date()
    if (last - first).days >= HISTORY_DAYS:
        raise ValueError("older than the 30 days QuerySendDetails knows")
    return [first + timedelta(days=n) for n in range(max((last - first).days, 0) + 1)]


def _details(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The details and the total count of a QuerySendDetails answer."""
    holder = body.get("SmsSendDetailDTOs") or {}
    details = holder.get("SmsSendDetailDTO", []) if isinstance(holder, dict) else None
    if not isinstance(details, list) or not all(isinstance(d, dict) for d in details):
        raise ValueError("QuerySendDetails answered without SmsSendDetailDTOs")
    return details, int(body.get("TotalCount") or 0)  # the API documents it as a string


def _receipt(item: Mapping[str, Any]) -> Receipt:
    success = item.get("success")
    if not isinstance(success, bool):
        raise ValueError("an SmsReport item needs a boolean 'success'")
    error = None
    if not success:
        code, message = item.get("err_code") or "", item.get("err_msg") or ""
        error = f"{code}: {message}" if message else str(code) or "not delivered"
    return Receipt(
        delivered=success,
        provider_ref=fields.text(item, "biz_id"),
        message_id=_uuid_or_none(item.get("out_id")),
        error=error,
        at=fields.station_time(fields.text(item, "report_time")),
    )


def _json_array(body: bytes) -> list[dict[str, Any]]:
    """A JSON array of objects; ValueError for anything else."""
    items = json_input.loads(body)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ValueError("expected a JSON array of objects")
    return items


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None  # an OutId some other sender on the account set
