"""Local stand-ins for Aliyun's and Tencent's SMS APIs, over real HTTP on 127.0.0.1.

Each fake re-derives the request's signature from the raw request (its own canonical
form, written from the providers' documentation, not the adapter's code) and answers a bad
one as the provider does. A good request gets the next scripted answer, or by default
what the provider would answer: the message is taken and remembered, so lookups find it.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from services.notify.providers.base import OutgoingSms

BEIJING = ZoneInfo("Asia/Shanghai")
Now = Callable[[], datetime]


def system_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lowercased
    body: bytes
    signature_ok: bool = False

    @property
    def action(self) -> str:
        return self.headers.get("x-acs-action") or self.headers.get("x-tc-action", "")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    """What the fake sends back: a status and body, after a delay, or a dropped connection."""

    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    delay: float = 0.0
    drop: bool = False  # close the connection without answering


class FakeServer:
    """A threaded HTTP server on a free port of 127.0.0.1 that records what it is sent."""

    def __init__(self, now: Now = system_now) -> None:
        self.now = now
        self.requests: list[Recorded] = []
        self.script: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a delayed answer must not hold up close()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def then(self, *answers: Answer) -> None:
        """Answer the next good requests with these, in order."""
        self.script.extend(answers)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def respond(self, request: Recorded) -> Answer:
        """The answer to one request: a signature error, the script, or the default."""
        with self._lock:
            refusal = self.refuse(request)
            request.signature_ok = refusal is None
            self.requests.append(request)
            if refusal is not None:
                return refusal
            if self.script:
                return self.script.popleft()
            return self.default(request)

    def refuse(self, request: Recorded) -> Answer | None:
        """The provider's answer to a badly signed request; None if the signature holds."""
        raise NotImplementedError

    def default(self, request: Recorded) -> Answer:
        """What the provider answers a good request when nothing is scripted."""
        raise NotImplementedError


def _handler_for(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            split = urlsplit(self.path)
            request = Recorded(
                method="POST",
                path=split.path,
                query=_parse_query(split.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            self._send(fake.respond(request))

        def _send(self, answer: Answer) -> None:
            time.sleep(answer.delay)
            if answer.drop:
                self.close_connection = True
                return
            raw = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body)
            data = raw if isinstance(raw, bytes) else raw.encode()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                self.close_connection = True  # the client gave up waiting

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read `requests`, not the server's log."""

    return Handler


def _parse_query(query: str) -> dict[str, str]:
    """Percent-decoded parameters; "+" is a plus sign here, not a space (RFC 3986)."""
    pairs = (part.partition("=") for part in query.split("&") if part)
    return {unquote(k): unquote(v) for k, _, v in pairs}


def _hex_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rfc3986(text: str) -> str:
    """Byte-wise: unreserved characters kept, every other byte as %XX (upper case)."""
    unreserved = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
    return "".join(chr(b) if b in unreserved else f"%{b:02X}" for b in text.encode())


# --- Aliyun ------------------------------------------------------------------------------

ACS3 = re.compile(
    r"ACS3-HMAC-SHA256 Credential=(?P<key>[^,]+),"
    r"SignedHeaders=(?P<signed>[^,]+),Signature=(?P<sig>[0-9a-f]{64})"
)
ACS3_REQUIRED = {
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
}


def aliyun_error(code: str, message: str = "error", *, status: int = 200) -> Answer:
    """An Aliyun error answer as the API (status 200) or its gateway (4xx/5xx) gives it."""
    body: dict[str, Any] = {"RequestId": _rid().upper(), "Code": code, "Message": message}
    if status != 200:
        body["HostId"] = "dysmsapi.aliyuncs.com"
        body["Recommend"] = f"https://api.aliyun.com/troubleshoot?q={code}&product=Dysmsapi"
    return Answer(status=status, body=body)


@dataclass
class AliyunSent:
    phone: str
    out_id: str
    biz_id: str
    template_code: str
    send_date: str  # yyyyMMdd, Beijing time


class FakeAliyun(FakeServer):
    """Dysmsapi 2017-05-25 behind the V3 signature: SendSms and QuerySendDetails."""

    def __init__(self, access_key_id: str, access_key_secret: str, now: Now = system_now) -> None:
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sent: list[AliyunSent] = []
        self.nonces: set[str] = set()
        self._biz = itertools.count(900619746936498440)
        super().__init__(now)

    def refuse(self, request: Recorded) -> Answer | None:
        match = ACS3.fullmatch(request.headers.get("authorization", ""))
        if match is None:
            return aliyun_error("MissingAuthorization", "Authorization is mandatory.", status=400)
        if match["key"] != self.access_key_id:
            return aliyun_error(
                "InvalidAccessKeyId.NotFound", "Specified access key is not found.", status=404
            )
        signed = match["signed"].split(";")
        if not set(signed) >= ACS3_REQUIRED or self._signature(request, signed) != match["sig"]:
            return aliyun_error(
                "SignatureDoesNotMatch",
                "Specified signature does not match our calculation.",
                status=400,
            )
        return self._replay_or_stale(request)

    def _replay_or_stale(self, request: Recorded) -> Answer | None:
        nonce = request.headers["x-acs-signature-nonce"]
        if nonce in self.nonces:
            return aliyun_error(
                "SignatureNonceUsed", "Specified signature nonce was used already.", status=400
            )
        self.nonces.add(nonce)
        sent_at = datetime.strptime(request.headers["x-acs-date"], "%Y-%m-%dT%H:%M:%S%z")
        if abs(self.now() - sent_at) > timedelta(minutes=15):
            expired = "Specified time stamp or date value is expired."
            return aliyun_error("InvalidTimeStamp.Expired", expired, status=400)
        return None

    def _signature(self, request: Recorded, signed: list[str]) -> str:
        """The signature as the documentation defines it, from the request received."""
        if signed != sorted(signed) or _hex_sha256(request.body) != request.headers.get(
            "x-acs-content-sha256"
        ):
            return ""
        query = "&".join(f"{_rfc3986(k)}={_rfc3986(v)}" for k, v in sorted(request.query.items()))
        headers = "".join(f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed)
        parts = [request.method, request.path, query, headers, ";".join(signed)]
        canonical = "\n".join([*parts, _hex_sha256(request.body)])
        to_sign = "ACS3-HMAC-SHA256\n" + _hex_sha256(canonical.encode())
        secret = self.access_key_secret.encode()
        return hmac.new(secret, to_sign.encode(), hashlib.sha256).hexdigest()

    def default(self, request: Recorded) -> Answer:
        if request.headers.get("x-acs-version") != "2017-05-25":
            return aliyun_error(
                "InvalidVersion", "Specified parameter Version is not valid.", status=400
            )
        if request.action == "SendSms":
            return self._send_sms(request.query)
        if request.action == "QuerySendDetails":
            return self._query_send_details(request.query)
        return aliyun_error("InvalidAction.NotFound", "Specified api is not found.", status=404)

    def _send_sms(self, params: dict[str, str]) -> Answer:
        if not re.fullmatch(r"1[3-9]\d{9}", params.get("PhoneNumbers", "")):
            return aliyun_error("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        try:
            json.loads(params["TemplateParam"])
        except (KeyError, ValueError):
            return aliyun_error("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        biz_id = f"{next(self._biz)}^0"
        today = self.now().astimezone(BEIJING).strftime("%Y%m%d")
        self.sent.append(
            AliyunSent(
                phone=params["PhoneNumbers"],
                out_id=params.get("OutId", ""),
                biz_id=biz_id,
                template_code=params.get("TemplateCode", ""),
                send_date=today,
            )
        )
        return Answer(
            body={"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": str(uuid.uuid4())}
        )

    def _query_send_details(self, params: dict[str, str]) -> Answer:
        matching = [
            s
            for s in self.sent
            if s.phone == params.get("PhoneNumber") and s.send_date == params.get("SendDate")
        ]
        size, page = int(params.get("PageSize", "10")), int(params.get("CurrentPage", "1"))
        shown = matching[(page - 1) * size : page * size]
        return Answer(
            body={
                "Code": "OK",
                "Message": "OK",
                "RequestId": str(uuid.uuid4()),
                "TotalCount": len(matching),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": [_aliyun_detail(s) for s in shown]},
            }
        )


def _aliyun_detail(sent: AliyunSent) -> dict[str, Any]:
    day = f"{sent.send_date[:4]}-{sent.send_date[4:6]}-{sent.send_date[6:]}"
    return {
        "ErrCode": "DELIVERED",
        "TemplateCode": sent.template_code,
        "OutId": sent.out_id,
        "ReceiveDate": f"{day} 12:00:03",
        "SendDate": f"{day} 12:00:01",
        "PhoneNum": sent.phone,
        "Content": "【魏村派出所】您反映的情况已受理。",
        "SendStatus": 3,
    }


# --- Tencent -----------------------------------------------------------------------------

TC3 = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/]+)"
    r"/tc3_request, SignedHeaders=(?P<signed>[^,]+), Signature=(?P<sig>[0-9a-f]{64})"
)


def tencent_error(code: str, message: str = "error") -> Answer:
    """A top-level Tencent Cloud API 3.0 error: HTTP 200 with Response.Error."""
    return Answer(
        body={"Response": {"Error": {"Code": code, "Message": message}, "RequestId": _rid()}}
    )


def tencent_status(code: str, message: str = "error", phone: str = "+8613800138000") -> Answer:
    """A SendSms answer whose one number was refused with `code`."""
    status = {
        "SerialNo": "",
        "PhoneNumber": phone,
        "Fee": 0,
        "SessionContext": "",
        "Code": code,
        "Message": message,
        "IsoCode": "CN",
    }
    return Answer(body={"Response": {"SendStatusSet": [status], "RequestId": _rid()}})


def _rid() -> str:
    return str(uuid.uuid4())


@dataclass
class TencentSent:
    phone: str
    serial: str
    session_context: str
    template_id: str
    params: list[str]
    at: datetime = field(default_factory=system_now)


class FakeTencent(FakeServer):
    """SMS 2021-01-11 behind TC3-HMAC-SHA256: SendSms and PullSmsSendStatusByPhoneNumber."""

    def __init__(
        self,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        now: Now = system_now,
        *,
        session_context_enabled: bool = True,
    ) -> None:
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        # Tencent echoes SessionContext in pulled statuses only once it has enabled that.
        self.session_context_enabled = session_context_enabled
        self.sent: list[TencentSent] = []
        self._serial = itertools.count(1)
        super().__init__(now)

    def refuse(self, request: Recorded) -> Answer | None:
        match = TC3.fullmatch(request.headers.get("authorization", ""))
        if match is None:
            return tencent_error(
                "AuthFailure.InvalidAuthorization", "Authorization header format error."
            )
        if match["id"] != self.secret_id:
            return tencent_error(
                "AuthFailure.SecretIdNotFound",
                "The SecretId is not found, please ensure that your SecretId is correct.",
            )
        stamp = int(request.headers.get("x-tc-timestamp", "0"))
        if abs(self.now().timestamp() - stamp) > 300:
            return tencent_error("AuthFailure.SignatureExpire", "Signature expired.")
        if self._signature(request, match) != match["sig"]:
            return tencent_error(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated. "
                "Please check your signature is correct.",
            )
        return None

    def _signature(self, request: Recorded, match: re.Match[str]) -> str:
        """The signature as the documentation defines it, from the request received."""
        signed = match["signed"].split(";")
        stamp = request.headers["x-tc-timestamp"]
        day = datetime.fromtimestamp(int(stamp), UTC).strftime("%Y-%m-%d")
        if signed != sorted(signed) or not {"content-type", "host"} <= set(signed):
            return ""
        if match["date"] != day or match["service"] != "sms":
            return ""
        headers = "".join(f"{h}:{request.headers.get(h, '').strip().lower()}\n" for h in signed)
        canonical = "\n".join(
            ["POST", "/", "", headers, ";".join(signed), _hex_sha256(request.body)]
        )
        scope = f"{day}/sms/tc3_request"
        to_sign = f"TC3-HMAC-SHA256\n{stamp}\n{scope}\n{_hex_sha256(canonical.encode())}"
        key = ("TC3" + self.secret_key).encode()
        for part in (day, "sms", "tc3_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()

    def default(self, request: Recorded) -> Answer:
        if request.headers.get("x-tc-version") != "2021-01-11":
            return tencent_error("NoSuchVersion", "The requested version does not exist.")
        params = request.json()
        if params.get("SmsSdkAppId") != self.sdk_app_id:
            return tencent_error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId不存在。")
        if request.action == "SendSms":
            return self._send_sms(params)
        if request.action == "PullSmsSendStatusByPhoneNumber":
            return self._pull_status(params)
        return tencent_error("InvalidAction", "The requested action does not exist.")

    def _send_sms(self, params: dict[str, Any]) -> Answer:
        statuses = []
        for phone in params["PhoneNumberSet"]:
            serial = f"2640:{next(self._serial):020d}"
            context = params.get("SessionContext", "")
            self.sent.append(
                TencentSent(
                    phone=phone,
                    serial=serial,
                    session_context=context,
                    template_id=params["TemplateId"],
                    params=params.get("TemplateParamSet", []),
                    at=self.now(),
                )
            )
            statuses.append(
                {
                    "SerialNo": serial,
                    "PhoneNumber": phone,
                    "Fee": 1,
                    "SessionContext": context,
                    "Code": "Ok",
                    "Message": "send success",
                    "IsoCode": "CN",
                }
            )
        return Answer(body={"Response": {"SendStatusSet": statuses, "RequestId": _rid()}})

    def _pull_status(self, params: dict[str, Any]) -> Answer:
        since = datetime.fromtimestamp(params["BeginTime"], UTC)
        reported = [s for s in self.sent if s.phone == params["PhoneNumber"] and s.at >= since]
        statuses = [
            {
                "UserReceiveTime": int(s.at.timestamp()) + 3,
                "CountryCode": "86",
                "SubscriberNumber": s.phone.removeprefix("+86"),
                "PhoneNumber": s.phone,
                "SerialNo": s.serial,
                "ReportStatus": "SUCCESS",
                "Description": "用户短信送达成功",
                "SessionContext": s.session_context if self.session_context_enabled else "",
            }
            for s in reported[: params["Limit"]]
        ]
        return Answer(body={"Response": {"PullSmsSendStatusSet": statuses, "RequestId": _rid()}})


# --- Shared by the tests -----------------------------------------------------------------


def an_sms(**changes: Any) -> OutgoingSms:
    """A report_received message to a valid mobile, changed as asked."""
    sms = OutgoingSms(
        id=uuid.uuid4(),
        recipient="+8613800138000",
        text="【魏村派出所】您反映的情况已受理，查询码K7Q2M9。我们将尽快处理并告知结果。",
        signature="【魏村派出所】",
        template="report_received",
        template_version=1,
        params={"tracking_code": "K7Q2M9"},
    )
    return replace(sms, **changes)


def refused_url() -> str:
    """http://127.0.0.1:<a port nothing listens on>, for a refused connection."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
