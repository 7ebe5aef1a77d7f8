"""Tencent Cloud SMS: `SendSms` and `PullSmsSendStatusByPhoneNumber`, API version 2021-01-11.

Requests are JSON POSTs signed with TC3-HMAC-SHA256. Tencent templates take positional
parameters, so each local template maps to a TemplateId and the ordered names of its
parameters. Receipts and replies arrive as callbacks (JSON) configured in the console.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from environs import Env
from marshmallow.validate import Length

from services.common import json_input
from services.common.clock import Clock
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

API_VERSION = "2021-01-11"
ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "sms"
DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"
DEFAULT_REGION = "ap-guangzhou"
CONTENT_TYPE = "application/json; charset=utf-8"

# Refusals of this message as it is: the number (or its owner's opt-out), the template
# or its parameters, the text.
PERMANENT_CODES = frozenset(
    {
        "InvalidParameter",
        "MissingParameter",
        "InvalidParameterValue.IncorrectPhoneNumber",
        "InvalidParameterValue.TemplateParameterFormatError",
        "InvalidParameterValue.TemplateParameterLengthLimit",
        "InvalidParameterValue.ContentLengthLimit",
        "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
        "FailedOperation.PhoneNumberInBlacklist",
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "FailedOperation.SignatureIncorrectOrUnapproved",
        "FailedOperation.ContainSensitiveWord",
        "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
    }
)
# Limits, balance, outages and our account's configuration (keys, SDK app, IP allow-list):
# nothing wrong with the message, so it is retried and failover can move traffic away.
TEMPORARY_CODES = frozenset(
    {
        "FailedOperation.InsufficientBalanceInSmsPackage",
        "InvalidParameterValue.SdkAppIdNotExist",
        "RequestLimitExceeded",
        "LimitExceeded",
        "InternalError",
    }
)
TEMPORARY_PREFIXES = (
    "AuthFailure.",
    "UnauthorizedOperation.",
    "LimitExceeded.",
    "RequestLimitExceeded.",
    "InternalError.",
)
# "请求下发短信超时": Tencent itself timed out handing the message on, so it may go out.
AMBIGUOUS_CODES = frozenset({"InternalError.Timeout"})


@dataclass(frozen=True)
class TencentTemplate:
    id: str  # TemplateId
    params: tuple[str, ...] = ()  # local parameter names, in the template's {1}, {2}… order


@dataclass(frozen=True)
class TencentConfig:
    secret_id: str
    secret_key: str = field(repr=False)
    sdk_app_id: str
    sign_name: str = ""  # empty: the message's own signature without 【】
    region: str = DEFAULT_REGION
    endpoint: str = DEFAULT_ENDPOINT
    templates: Mapping[str, TencentTemplate] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Env) -> TencentConfig:
        """The configuration from TENCENT_* variables; ValueError naming what is wrong."""
        return cls(
            secret_id=env.str("TENCENT_SECRET_ID", validate=_SET),
            secret_key=env.str("TENCENT_SECRET_KEY", validate=_SET),
            sdk_app_id=env.str("TENCENT_SMS_APP_ID", validate=_SET),
            sign_name=env.str("TENCENT_SMS_SIGN_NAME", ""),
            region=env.str("TENCENT_SMS_REGION", "") or DEFAULT_REGION,
            endpoint=env.str("TENCENT_SMS_ENDPOINT", "") or DEFAULT_ENDPOINT,
            templates=parse_templates(env.json("TENCENT_SMS_TEMPLATES")),
        )


def parse_templates(raw: object) -> dict[str, TencentTemplate]:
    """{"name": {"id": "123", "params": ["a", "b"]}} → templates; ValueError otherwise."""
    shape = 'TENCENT_SMS_TEMPLATES must be {"name": {"id": "…", "params": ["…"]}}'
    if not isinstance(raw, dict):
        raise ValueError(shape)
    templates = {}
    for name, spec in raw.items():
        ok = isinstance(spec, dict) and isinstance(spec.get("id"), str | int)
        params = spec.get("params", []) if ok else None
        if not ok or not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise ValueError(f"{shape} (see {name!r})")
        templates[str(name)] = TencentTemplate(id=str(spec["id"]), params=tuple(params))
    return templates


# --- The TC3 signature -------------------------------------------------------------------


def canonical_request(
    method: str, query: str, headers: Mapping[str, str], payload: bytes
) -> tuple[str, str]:
    """The canonical request and its signed-header list (keys and values lowercased)."""
    lowered = {k.lower(): v.strip().lower() for k, v in headers.items()}
    names = sorted(lowered)
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in names)
    signed = ";".join(names)
    parts = [method, "/", query, canonical_headers, signed, _sha256(payload)]
    return "\n".join(parts), signed


def credential_scope(timestamp: int, service: str) -> str:
    """The scope "<UTC date of the timestamp>/<service>/tc3_request"."""
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    return f"{day}/{service}/tc3_request"


def string_to_sign(timestamp: int, service: str, request: str) -> str:
    """Algorithm, timestamp, scope and hex(sha256(canonical request)), one to a line."""
    hashed = _sha256(request.encode())
    return f"{ALGORITHM}\n{timestamp}\n{credential_scope(timestamp, service)}\n{hashed}"


def signature(secret_key: str, timestamp: int, service: str, request: str) -> str:
    """Hex HMAC of the string to sign with the key derived TC3+secret → date → service."""
    day = credential_scope(timestamp, service).split("/")[0]
    key = _hmac(f"TC3{secret_key}".encode(), day)
    key = _hmac(_hmac(key, service), "tc3_request")
    to_sign = string_to_sign(timestamp, service, request)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def signed_headers(
    config: TencentConfig, *, host: str, action: str, payload: bytes, timestamp: int
) -> dict[str, str]:
    """Every header of one call, Authorization included."""
    signed_part = {"content-type": CONTENT_TYPE, "host": host, "x-tc-action": action}
    request, signed = canonical_request("POST", "", signed_part, payload)
    scope = credential_scope(timestamp, SERVICE)
    sig = signature(config.secret_key, timestamp, SERVICE, request)
    return {
        "Content-Type": CONTENT_TYPE,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Version": API_VERSION,
        "X-TC-Region": config.region,
        "Authorization": (
            f"{ALGORITHM} Credential={config.secret_id}/{scope}, "
            f"SignedHeaders={signed}, Signature={sig}"
        ),
    }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


# --- Answers -----------------------------------------------------------------------------


def failure_for(code: str, message: str) -> TemporaryFailure | PermanentFailure:
    """The exception for a Tencent error code (top-level or per number)."""
    text = f"tencent {code}: {message}"[:200]
    if code in AMBIGUOUS_CODES:
        return AmbiguousFailure(text)
    if code in PERMANENT_CODES:
        return PermanentFailure(text)
    if code not in TEMPORARY_CODES and not code.startswith(TEMPORARY_PREFIXES):
        # An unknown code is treated as temporary: a wrong "temporary" costs a retry (and
        # failover tries the other provider), a wrong "permanent" silently drops a message
        # a resident needed. Logged so that someone classifies it.
        log.warning("unclassified Tencent error code %s, treated as temporary", code)
    return TemporaryFailure(text)


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The "Response" object of a successful call; raises the failure anything else means."""
    if response.status_code >= 500:
        raise AmbiguousFailure(f"tencent HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = None
    answer = body.get("Response") if isinstance(body, dict) else None
    if not isinstance(answer, dict):
        if response.is_success:
            raise AmbiguousFailure(f"tencent HTTP {response.status_code} with an unreadable body")
        raise TemporaryFailure(f"tencent HTTP {response.status_code}")
    error = answer.get("Error")
    if isinstance(error, dict):
        raise failure_for(str(error.get("Code", "")), str(error.get("Message", "")))
    return answer


# --- The provider ------------------------------------------------------------------------


class TencentProvider(HttpSmsProvider):
    name = "tencent"

    def __init__(
        self,
        config: TencentConfig,
        *,
        client: httpx.Client | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(config.endpoint, client=client, clock=clock)
        self.config = config

    def send(self, sms: OutgoingSms) -> Accepted:
        """SendSms: Accepted(SerialNo), or the failure Tencent's answer means."""
        answer = _answer(self._call("SendSms", self._send_params(sms)))
        statuses = answer.get("SendStatusSet")
        status = statuses[0] if isinstance(statuses, list) and statuses else None
        if not isinstance(status, dict):
            raise AmbiguousFailure("tencent answered without a SendStatusSet")
        if status.get("Code") != "Ok":
            raise failure_for(str(status.get("Code", "")), str(status.get("Message", "")))
        serial = status.get("SerialNo")
        if not isinstance(serial, str) or not serial:
            raise AmbiguousFailure("tencent answered Ok without a SerialNo")
        log.info("tencent took SMS %s to %s as %s", sms.id, mask_phone(sms.recipient), serial)
        return Accepted(provider_ref=serial)

    def lookup(self, sms: OutgoingSms, *, sent_after: datetime) -> Lookup:
        """PullSmsSendStatusByPhoneNumber, matched by SessionContext.

        Never "not_found": the answer lists only messages a carrier has already reported
        on, and carries SessionContext only once Tencent has enabled it for the account
        (it is empty by default). A missing entry therefore proves nothing.
        """
        params = {
            "BeginTime": int(sent_after.timestamp()),
            "Offset": 0,  # documented as fixed at 0
            "Limit": 100,
            "PhoneNumber": sms.recipient,
            "SmsSdkAppId": self.config.sdk_app_id,
        }
        try:
            answer = _answer(self._call("PullSmsSendStatusByPhoneNumber", params))
        except (TemporaryFailure, PermanentFailure) as exc:
            log.warning("tencent lookup of SMS %s inconclusive: %s", sms.id, exc)
            return Lookup("unknown")
        statuses = answer.get("PullSmsSendStatusSet")
        for status in statuses if isinstance(statuses, list) else []:
            if isinstance(status, dict) and status.get("SessionContext") == str(sms.id):
                serial = status.get("SerialNo")
                return Lookup("accepted", serial if isinstance(serial, str) else None)
        return Lookup("unknown")

    def parse_receipts(self, body: bytes, headers: Mapping[str, str]) -> list[Receipt]:
        """Receipts from a status callback; ValueError if the body is not one."""
        items = json_input.loads(body)
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ValueError("a Tencent status callback is a JSON array of objects")
        return [_receipt(item) for item in items]

    def parse_inbound(self, body: bytes, headers: Mapping[str, str]) -> list[InboundSms]:
        """The reply of a reply callback (one JSON object); ValueError if it is not one."""
        item = json_input.loads(body)
        items = item if isinstance(item, list) else [item]
        if not all(isinstance(i, dict) for i in items):
            raise ValueError("a Tencent reply callback is a JSON object")
        return [_inbound(i) for i in items]

    def webhook_answer(self) -> tuple[dict[str, Any], int]:
        """What Tencent's callbacks expect back."""
        return {"result": 0, "errmsg": "OK"}, 200

    def _send_params(self, sms: OutgoingSms) -> dict[str, Any]:
        template = self.config.templates.get(sms.template)
        if template is None:
            raise PermanentFailure(f"no Tencent TemplateId for template {sms.template!r}")
        missing = [p for p in template.params if p not in sms.params]
        if missing:
            raise PermanentFailure(f"template {sms.template!r} needs {', '.join(missing)}")
        return {
            "PhoneNumberSet": [sms.recipient],
            "SmsSdkAppId": self.config.sdk_app_id,
            "SignName": self.config.sign_name or sms.signature.strip("【】"),
            "TemplateId": template.id,
            "TemplateParamSet": [sms.params[p] for p in template.params],
            "SessionContext": str(sms.id),
        }

    def _call(self, action: str, params: Mapping[str, Any]) -> httpx.Response:
        payload = json.dumps(params, ensure_ascii=False).encode()
        timestamp = int(self.clock.now().timestamp())
        headers = signed_headers(
            self.config, host=self._host, action=action, payload=payload, timestamp=timestamp
        )
        try:
            return self.client.post(f"{self._base}/", headers=headers, content=payload)
        except httpx.TransportError as exc:
            raise transport_failure("tencent", exc) from exc


# --- Parsing -----------------------------------------------------------------------------

_DIGITS = re.compile(r"\d+")


def _receipt(item: Mapping[str, Any]) -> Receipt:
    status = fields.text(item, "report_status")
    if status not in ("SUCCESS", "FAIL"):
        raise ValueError("report_status must be SUCCESS or FAIL")
    delivered = status == "SUCCESS"
    error = None
    if not delivered:
        code, description = item.get("errmsg") or "", item.get("description") or ""
        error = f"{code}: {description}" if description else str(code) or "not delivered"
    return Receipt(
        delivered=delivered,
        provider_ref=fields.text(item, "sid"),
        error=error,
        at=fields.station_time(fields.text(item, "user_receive_time")),
    )


def _inbound(item: Mapping[str, Any]) -> InboundSms:
    nationcode, mobile = fields.text(item, "nationcode"), fields.text(item, "mobile")
    if not _DIGITS.fullmatch(nationcode) or not _DIGITS.fullmatch(mobile):
        raise ValueError("nationcode and mobile must be digits")
    sent = item.get("time")
    if not isinstance(sent, int) or isinstance(sent, bool):
        raise ValueError("'time' must be unix seconds")
    try:
        at = datetime.fromtimestamp(sent, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError("'time' is out of range") from exc
    return InboundSms(sender=f"+{nationcode}{mobile}", text=fields.text(item, "text"), at=at)
