"""The Tencent adapter against a local SMS API that checks every TC3 signature."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.notify.providers import tencent
from services.notify.providers.base import (
    Accepted,
    InboundSms,
    Lookup,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
)
from services.notify.providers.errors import AmbiguousFailure
from services.notify.providers.tencent import TencentConfig, TencentProvider, TencentTemplate
from tests.notify.providers.conftest import (
    TENCENT_APP_ID,
    TENCENT_SECRET_ID,
    TENCENT_SECRET_KEY,
)
from tests.notify.providers.fakes import (
    Answer,
    FakeTencent,
    an_sms,
    refused_url,
    tencent_error,
    tencent_status,
)

TEMPLATES = {
    "report_received": TencentTemplate("1890001", ("tracking_code",)),
    "case_assigned": TencentTemplate("1890003", ("village", "tracking_code", "due")),
}


def provider_for(
    url: str, client: httpx.Client, *, secret_key: str = TENCENT_SECRET_KEY, **config: Any
) -> TencentProvider:
    settings = TencentConfig(
        secret_id=TENCENT_SECRET_ID,
        secret_key=secret_key,
        sdk_app_id=TENCENT_APP_ID,
        endpoint=url,
        templates=TEMPLATES,
        **config,
    )
    return TencentProvider(settings, client=client)


@pytest.fixture
def provider(fake_tencent: FakeTencent, client: httpx.Client) -> TencentProvider:
    return provider_for(fake_tencent.url, client)


# --- The signature -----------------------------------------------------------------------


def test_signature_reproduces_the_documented_example() -> None:
    """The worked example (CVM DescribeInstances) of Tencent Cloud's "Signature v3" page."""
    payload = (
        b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    headers = {"content-type": "application/json; charset=utf-8", "host": "cvm.tencentcloudapi.com"}
    request, signed = tencent.canonical_request("POST", "", headers, payload)

    assert signed == "content-type;host"
    assert hashlib.sha256(payload).hexdigest() == (
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )
    assert tencent.string_to_sign(1551113065, "cvm", request) == (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    assert tencent.signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", 1551113065, "cvm", request) == (
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_the_credential_date_is_the_utc_date() -> None:
    # 00:44 on the 26th in Beijing is still the 25th in UTC, as the documentation warns.
    assert tencent.credential_scope(1551113065, "sms") == "2019-02-25/sms/tc3_request"


# --- Sending -----------------------------------------------------------------------------


def test_a_signed_send_is_accepted_with_the_right_fields(
    provider: TencentProvider, fake_tencent: FakeTencent
) -> None:
    sms = an_sms(
        template="case_assigned",
        params={"due": "11月29日 18:00", "tracking_code": "K7Q2M9", "village": "魏村"},
    )

    accepted = provider.send(sms)

    [request] = fake_tencent.requests
    assert request.signature_ok
    assert accepted == Accepted(provider_ref=fake_tencent.sent[0].serial)
    assert request.headers["x-tc-action"] == "SendSms"
    assert request.headers["x-tc-version"] == "2021-01-11"
    assert request.headers["x-tc-region"] == "ap-guangzhou"
    assert "SignedHeaders=content-type;host;x-tc-action," in request.headers["authorization"]
    assert request.json() == {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": TENCENT_APP_ID,
        "SignName": "魏村派出所",
        "TemplateId": "1890003",
        "TemplateParamSet": ["魏村", "K7Q2M9", "11月29日 18:00"],  # the template's order
        "SessionContext": str(sms.id),
    }


def test_the_configured_region_and_sign_name_are_used(
    fake_tencent: FakeTencent, client: httpx.Client
) -> None:
    provider = provider_for(fake_tencent.url, client, region="ap-beijing", sign_name="魏村所")

    provider.send(an_sms())

    request = fake_tencent.requests[0]
    assert request.headers["x-tc-region"] == "ap-beijing"
    assert request.json()["SignName"] == "魏村所"


def test_a_template_without_mapping_fails_for_good_unsent(
    provider: TencentProvider, fake_tencent: FakeTencent
) -> None:
    with pytest.raises(PermanentFailure, match="report_duplicate"):
        provider.send(an_sms(template="report_duplicate"))

    assert fake_tencent.requests == []


def test_a_missing_template_parameter_fails_for_good_unsent(
    provider: TencentProvider, fake_tencent: FakeTencent
) -> None:
    with pytest.raises(PermanentFailure, match="village, due"):
        provider.send(an_sms(template="case_assigned", params={"tracking_code": "K7Q2M9"}))

    assert fake_tencent.requests == []


# --- Refusals ----------------------------------------------------------------------------


def test_a_wrong_secret_is_refused_as_tencent_does_and_is_temporary(
    fake_tencent: FakeTencent, client: httpx.Client
) -> None:
    provider = provider_for(fake_tencent.url, client, secret_key="not-the-key")

    with pytest.raises(TemporaryFailure, match=r"AuthFailure\.SignatureFailure") as caught:
        provider.send(an_sms())

    assert not isinstance(caught.value, AmbiguousFailure)
    assert not fake_tencent.requests[0].signature_ok
    assert fake_tencent.sent == []


def test_an_unknown_secret_id_is_temporary(fake_tencent: FakeTencent, client: httpx.Client) -> None:
    fake_tencent.secret_id = "AKIDSomeoneElse"
    provider = provider_for(fake_tencent.url, client)

    with pytest.raises(TemporaryFailure, match=r"AuthFailure\.SecretIdNotFound"):
        provider.send(an_sms())


def test_a_wrong_sdk_app_id_is_temporary(fake_tencent: FakeTencent, client: httpx.Client) -> None:
    fake_tencent.sdk_app_id = "1400999999"
    provider = provider_for(fake_tencent.url, client)

    with pytest.raises(TemporaryFailure, match="SdkAppIdNotExist"):
        provider.send(an_sms())


@pytest.mark.parametrize("code", sorted(tencent.PERMANENT_CODES))
def test_refusals_of_the_number_or_template_are_permanent(
    provider: TencentProvider, fake_tencent: FakeTencent, code: str
) -> None:
    fake_tencent.then(tencent_status(code, "refused"))

    with pytest.raises(PermanentFailure, match=code.replace(".", r"\.")):
        provider.send(an_sms())


@pytest.mark.parametrize(
    "code",
    [
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        "LimitExceeded.PhoneNumberOneHourLimit",
        "LimitExceeded.PhoneNumberDailyLimit",
        "LimitExceeded.DeliveryFrequencyLimit",
        "FailedOperation.InsufficientBalanceInSmsPackage",
        "InternalError.OtherError",
        "InternalError.SigVerificationFail",
        "RequestLimitExceeded",
        "UnauthorizedOperation.RequestIpNotInWhitelist",
    ],
)
def test_per_number_limits_and_balance_are_temporary(
    provider: TencentProvider, fake_tencent: FakeTencent, code: str
) -> None:
    fake_tencent.then(tencent_status(code, "later"))

    with pytest.raises(TemporaryFailure) as caught:
        provider.send(an_sms())

    assert not isinstance(caught.value, AmbiguousFailure)


@pytest.mark.parametrize(
    ("code", "failure"),
    [
        ("AuthFailure.SignatureFailure", TemporaryFailure),
        ("AuthFailure.SecretIdNotFound", TemporaryFailure),
        ("AuthFailure.SignatureExpire", TemporaryFailure),
        ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", TemporaryFailure),
        ("RequestLimitExceeded", TemporaryFailure),
        ("InternalError", TemporaryFailure),
        ("InvalidParameter", PermanentFailure),
        ("MissingParameter", PermanentFailure),
        ("FailedOperation.SignatureIncorrectOrUnapproved", PermanentFailure),
    ],
)
def test_top_level_errors_are_mapped(
    provider: TencentProvider,
    fake_tencent: FakeTencent,
    code: str,
    failure: type[Exception],
) -> None:
    fake_tencent.then(tencent_error(code, "refused"))

    with pytest.raises(failure, match=code.replace(".", r"\.")) as caught:
        provider.send(an_sms())

    assert not isinstance(caught.value, AmbiguousFailure)


def test_an_unknown_code_is_temporary_and_logged(
    provider: TencentProvider, fake_tencent: FakeTencent, caplog: pytest.LogCaptureFixture
) -> None:
    fake_tencent.then(tencent_status("FailedOperation.SomethingNew", "新的错误"))

    with pytest.raises(TemporaryFailure, match=r"FailedOperation\.SomethingNew"):
        provider.send(an_sms())

    assert "FailedOperation.SomethingNew" in caplog.text


# --- Failures that may hide a sent message -----------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        Answer(status=500, body=b"Internal Server Error"),
        Answer(status=502, body=b"<html>502 Bad Gateway</html>"),
        Answer(status=200, body=b"<html>not json</html>"),
        Answer(body={"Response": {"SendStatusSet": [], "RequestId": "r"}}),
        tencent_status("InternalError.Timeout", "请求下发短信超时"),
        Answer(drop=True),
    ],
    ids=["500", "502-html", "200-html", "empty-status-set", "tencent-timeout", "dropped"],
)
def test_answers_after_the_request_went_out_are_ambiguous(
    provider: TencentProvider, fake_tencent: FakeTencent, answer: Answer
) -> None:
    fake_tencent.then(answer)

    with pytest.raises(AmbiguousFailure):
        provider.send(an_sms())


def test_a_read_timeout_is_ambiguous(
    fake_tencent: FakeTencent, impatient_client: httpx.Client
) -> None:
    provider = provider_for(fake_tencent.url, impatient_client)
    fake_tencent.then(Answer(delay=1.0, body={"Response": {"RequestId": "late"}}))

    with pytest.raises(AmbiguousFailure, match="ReadTimeout"):
        provider.send(an_sms())


def test_a_refused_connection_is_temporary_but_not_ambiguous(client: httpx.Client) -> None:
    provider = provider_for(refused_url(), client)

    with pytest.raises(TemporaryFailure, match="ConnectError") as caught:
        provider.send(an_sms())

    assert not isinstance(caught.value, AmbiguousFailure)


def test_secrets_and_numbers_stay_out_of_logs_and_reprs(
    provider: TencentProvider, fake_tencent: FakeTencent, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provider.send(an_sms())
    fake_tencent.then(tencent_error("AuthFailure.SignatureFailure"))
    with pytest.raises(TemporaryFailure):
        provider.send(an_sms())

    assert TENCENT_SECRET_KEY not in caplog.text + repr(provider.config)
    assert TENCENT_SECRET_ID not in caplog.text
    assert "13800138000" not in caplog.text


# --- Lookup ------------------------------------------------------------------------------


def test_lookup_finds_a_message_by_its_session_context(
    provider: TencentProvider, fake_tencent: FakeTencent
) -> None:
    sms = an_sms()
    provider.send(sms)
    sent_after = datetime.now(UTC) - timedelta(minutes=1)

    found = provider.lookup(sms, sent_after=sent_after)

    assert found == Lookup("accepted", fake_tencent.sent[0].serial)
    pull = fake_tencent.requests[-1]
    assert pull.signature_ok
    assert pull.action == "PullSmsSendStatusByPhoneNumber"
    assert pull.json() == {
        "BeginTime": int(sent_after.timestamp()),
        "Offset": 0,
        "Limit": 100,
        "PhoneNumber": "+8613800138000",
        "SmsSdkAppId": TENCENT_APP_ID,
    }


def test_lookup_never_claims_not_found(provider: TencentProvider) -> None:
    provider.send(an_sms())

    found = provider.lookup(an_sms(), sent_after=datetime.now(UTC) - timedelta(minutes=1))

    assert found == Lookup("unknown")  # statuses list only messages a carrier reported on


def test_lookup_is_unknown_without_session_context(
    fake_tencent: FakeTencent, provider: TencentProvider
) -> None:
    fake_tencent.session_context_enabled = False
    sms = an_sms()
    provider.send(sms)

    assert provider.lookup(sms, sent_after=datetime.now(UTC) - timedelta(minutes=1)) == Lookup(
        "unknown"
    )


@pytest.mark.parametrize(
    "answer",
    [
        tencent_error("FailedOperation.FailResolvePacket", "请求包解析失败"),
        tencent_error("InvalidParameter", "参数错误"),
        Answer(status=500, body=b""),
        Answer(body=b"[]"),
    ],
    ids=["error", "invalid-parameter", "500", "malformed"],
)
def test_lookup_is_unknown_when_the_pull_fails(
    provider: TencentProvider, fake_tencent: FakeTencent, answer: Answer
) -> None:
    fake_tencent.then(answer)

    assert provider.lookup(an_sms(), sent_after=datetime.now(UTC)) == Lookup("unknown")


def test_lookup_is_unknown_when_tencent_is_unreachable(client: httpx.Client) -> None:
    provider = provider_for(refused_url(), client)

    assert provider.lookup(an_sms(), sent_after=datetime.now(UTC)) == Lookup("unknown")


# --- Webhooks ----------------------------------------------------------------------------


def test_status_callbacks_become_receipts(provider: TencentProvider) -> None:
    body = json.dumps(
        [
            {
                "user_receive_time": "2026-11-28 12:00:05",
                "nationcode": "86",
                "mobile": "13800138000",
                "report_status": "SUCCESS",
                "errmsg": "DELIVRD",
                "description": "用户短信送达成功",
                "sid": "2640:00000000000000000001",
            },
            {
                "user_receive_time": "2026-11-28 12:01:00",
                "nationcode": "86",
                "mobile": "13900139000",
                "report_status": "FAIL",
                "errmsg": "MK:0001",
                "description": "空号",
                "sid": "2640:00000000000000000002",
            },
        ],
        ensure_ascii=False,
    ).encode()

    receipts = provider.parse_receipts(body, {})

    assert receipts == [
        Receipt(
            delivered=True,
            provider_ref="2640:00000000000000000001",
            at=datetime(2026, 11, 28, 4, 0, 5, tzinfo=UTC),
        ),
        Receipt(
            delivered=False,
            provider_ref="2640:00000000000000000002",
            error="MK:0001: 空号",
            at=datetime(2026, 11, 28, 4, 1, tzinfo=UTC),
        ),
    ]


REPLY = {
    "extend": "",
    "mobile": "13800138000",
    "nationcode": "86",
    "sign": "魏村派出所",
    "text": "TD",
    "time": 1796443200,
}


def test_a_reply_callback_becomes_a_reply(provider: TencentProvider) -> None:
    replies = provider.parse_inbound(json.dumps(REPLY, ensure_ascii=False).encode(), {})

    assert replies == [
        InboundSms(
            sender="+8613800138000",
            text="TD",
            at=datetime.fromtimestamp(1796443200, UTC),
        )
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"report_status": "SUCCESS"}',
        b'[{"report_status": "DELIVERED", "sid": "1", "user_receive_time": "2026-11-28 12:00:05"}]',
        b'[{"report_status": "SUCCESS", "user_receive_time": "2026-11-28 12:00:05"}]',
        b'[{"report_status": "SUCCESS", "sid": "1", "user_receive_time": "1796443200"}]',
        json.dumps(REPLY).encode(),
    ],
    ids=["text", "object", "unknown-status", "no-sid", "unix-time", "reply"],
)
def test_malformed_status_callbacks_are_refused(provider: TencentProvider, body: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (any ValueError: the webhook answers 400)
        provider.parse_receipts(body, {})


@pytest.mark.parametrize(
    "changes",
    [{"time": "1796443200"}, {"time": 10**20}, {"mobile": "138-0013"}, {"text": None}],
    ids=["time-as-text", "time-out-of-range", "mobile-not-digits", "no-text"],
)
def test_malformed_reply_callbacks_are_refused(
    provider: TencentProvider, changes: dict[str, Any]
) -> None:
    body = json.dumps({**REPLY, **changes}).encode()

    with pytest.raises(ValueError):  # noqa: PT011
        provider.parse_inbound(body, {})


def test_webhook_answer_is_what_tencent_expects(provider: TencentProvider) -> None:
    assert provider.webhook_answer() == ({"result": 0, "errmsg": "OK"}, 200)
