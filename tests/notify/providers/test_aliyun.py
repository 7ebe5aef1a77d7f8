"""The Aliyun adapter against a local Dysmsapi that checks every V3 signature."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.common.clock import FrozenClock
from services.notify.providers import aliyun
from services.notify.providers.aliyun import AliyunConfig, AliyunProvider
from services.notify.providers.base import (
    Accepted,
    Lookup,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
)
from services.notify.providers.errors import AmbiguousFailure
from tests.notify.providers.conftest import ALIYUN_KEY_ID, ALIYUN_SECRET
from tests.notify.providers.fakes import (
    BEIJING,
    AliyunSent,
    Answer,
    FakeAliyun,
    aliyun_error,
    an_sms,
    refused_url,
)

TEMPLATES = {"report_received": "SMS_465890001", "case_assigned": "SMS_465890003"}


def provider_for(
    url: str, client: httpx.Client, *, secret: str = ALIYUN_SECRET, **config: Any
) -> AliyunProvider:
    settings = AliyunConfig(
        access_key_id=ALIYUN_KEY_ID,
        access_key_secret=secret,
        endpoint=url,
        templates=TEMPLATES,
        **config,
    )
    return AliyunProvider(settings, client=client)


@pytest.fixture
def provider(fake_aliyun: FakeAliyun, client: httpx.Client) -> AliyunProvider:
    return provider_for(fake_aliyun.url, client)


# --- The signature -----------------------------------------------------------------------


def test_signature_reproduces_the_documented_example() -> None:
    """The worked example of Alibaba Cloud's "V3 request structure and signature" page."""
    headers = {
        "host": "ecs.cn-shanghai.aliyuncs.com",
        "x-acs-action": "RunInstances",
        "x-acs-version": "2014-05-26",
        "x-acs-date": "2023-10-26T10:22:32Z",
        "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
    }
    query = {
        "ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
        "RegionId": "cn-shanghai",
    }
    request, signed = aliyun.canonical_request("POST", "/", query, headers, b"")

    assert signed == (
        "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
    )
    assert hashlib.sha256(request.encode()).hexdigest() == (
        "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
    )
    assert aliyun.signature("YourAccessKeySecret", request) == (
        "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    )


def test_percent_encoding_follows_rfc_3986() -> None:
    assert aliyun.percent_encode("a b*c~d+e/f") == "a%20b%2Ac~d%2Be%2Ff"
    assert aliyun.percent_encode("魏村") == "%E9%AD%8F%E6%9D%91"


# --- Sending -----------------------------------------------------------------------------


def test_a_signed_send_is_accepted_with_the_right_fields(
    provider: AliyunProvider, fake_aliyun: FakeAliyun
) -> None:
    sms = an_sms(
        template="case_assigned",
        params={"village": "魏村", "tracking_code": "K7Q2M9", "due": "11月29日 18:00"},
    )

    accepted = provider.send(sms)

    [request] = fake_aliyun.requests
    assert request.signature_ok
    assert accepted == Accepted(provider_ref=fake_aliyun.sent[0].biz_id)
    assert (request.method, request.path, request.body) == ("POST", "/", b"")
    assert request.headers["x-acs-action"] == "SendSms"
    assert request.headers["x-acs-version"] == "2017-05-25"
    assert request.query["PhoneNumbers"] == "13800138000"
    assert request.query["SignName"] == "魏村派出所"
    assert request.query["TemplateCode"] == "SMS_465890003"
    assert request.query["OutId"] == str(sms.id)
    assert "魏村" in request.query["TemplateParam"]  # UTF-8, not \\u escapes
    assert json.loads(request.query["TemplateParam"]) == dict(sms.params)


def test_the_configured_sign_name_wins(fake_aliyun: FakeAliyun, client: httpx.Client) -> None:
    provider = provider_for(fake_aliyun.url, client, sign_name="魏村派出所测试")

    provider.send(an_sms())

    assert fake_aliyun.requests[0].query["SignName"] == "魏村派出所测试"


def test_every_call_has_a_fresh_nonce(provider: AliyunProvider, fake_aliyun: FakeAliyun) -> None:
    provider.send(an_sms())
    provider.send(an_sms())

    assert all(r.signature_ok for r in fake_aliyun.requests)
    assert len(fake_aliyun.nonces) == 2


def test_a_template_without_mapping_fails_for_good_unsent(
    provider: AliyunProvider, fake_aliyun: FakeAliyun
) -> None:
    with pytest.raises(PermanentFailure, match="report_duplicate"):
        provider.send(an_sms(template="report_duplicate"))

    assert fake_aliyun.requests == []


def test_a_number_outside_china_fails_for_good_unsent(
    provider: AliyunProvider, fake_aliyun: FakeAliyun
) -> None:
    with pytest.raises(PermanentFailure, match=r"\*\*\*\*"):
        provider.send(an_sms(recipient="+447700900123"))

    assert fake_aliyun.requests == []


# --- Refusals ----------------------------------------------------------------------------


def test_a_wrong_secret_is_refused_as_aliyun_does_and_is_temporary(
    fake_aliyun: FakeAliyun, client: httpx.Client
) -> None:
    provider = provider_for(fake_aliyun.url, client, secret="not-the-secret")

    with pytest.raises(TemporaryFailure, match="SignatureDoesNotMatch") as caught:
        provider.send(an_sms())

    assert not isinstance(caught.value, AmbiguousFailure)
    assert not fake_aliyun.requests[0].signature_ok
    assert fake_aliyun.sent == []


def test_an_unknown_access_key_is_temporary(fake_aliyun: FakeAliyun, client: httpx.Client) -> None:
    fake_aliyun.access_key_id = "LTAI5tSomeoneElse"
    provider = provider_for(fake_aliyun.url, client)

    with pytest.raises(TemporaryFailure, match=r"InvalidAccessKeyId\.NotFound"):
        provider.send(an_sms())


@pytest.mark.parametrize("code", sorted(aliyun.PERMANENT_CODES))
def test_refusals_of_the_message_are_permanent(
    provider: AliyunProvider, fake_aliyun: FakeAliyun, code: str
) -> None:
    fake_aliyun.then(aliyun_error(code, "refused"))

    with pytest.raises(PermanentFailure, match=code.replace(".", r"\.")):
        provider.send(an_sms())


@pytest.mark.parametrize("code", sorted(aliyun.TEMPORARY_CODES - {"ServiceUnavailable"}))
def test_limits_balance_and_configuration_are_temporary(
    provider: AliyunProvider, fake_aliyun: FakeAliyun, code: str
) -> None:
    status = 200 if code.startswith(("isv.", "isp.")) else 400  # gateway errors are 4xx
    fake_aliyun.then(aliyun_error(code, "later", status=status))

    with pytest.raises(TemporaryFailure) as caught:
        provider.send(an_sms())

    assert not isinstance(caught.value, AmbiguousFailure)


def test_an_unknown_code_is_temporary_and_logged(
    provider: AliyunProvider, fake_aliyun: FakeAliyun, caplog: pytest.LogCaptureFixture
) -> None:
    fake_aliyun.then(aliyun_error("isv.SOMETHING_NEW", "新的错误"))

    with pytest.raises(TemporaryFailure, match=r"isv\.SOMETHING_NEW"):
        provider.send(an_sms())

    assert "isv.SOMETHING_NEW" in caplog.text


# --- Failures that may hide a sent message -----------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        aliyun_error("InternalError", "The request processing has failed.", status=500),
        aliyun_error("ServiceUnavailable", "The request has failed.", status=503),
        Answer(status=502, body=b"<html>502 Bad Gateway</html>"),
        Answer(status=200, body=b"<html>not json</html>"),
        Answer(status=200, body={"Code": "OK", "Message": "OK", "RequestId": "r"}),  # no BizId
        Answer(drop=True),
    ],
    ids=["500", "503", "502-html", "200-html", "ok-without-bizid", "dropped"],
)
def test_answers_after_the_request_went_out_are_ambiguous(
    provider: AliyunProvider, fake_aliyun: FakeAliyun, answer: Answer
) -> None:
    fake_aliyun.then(answer)

    with pytest.raises(AmbiguousFailure):
        provider.send(an_sms())


def test_a_read_timeout_is_ambiguous(
    fake_aliyun: FakeAliyun, impatient_client: httpx.Client
) -> None:
    provider = provider_for(fake_aliyun.url, impatient_client)
    fake_aliyun.then(Answer(delay=1.0, body={"Code": "OK", "BizId": "late", "Message": "OK"}))

    with pytest.raises(AmbiguousFailure, match="ReadTimeout"):
        provider.send(an_sms())


def test_a_refused_connection_is_temporary_but_not_ambiguous(client: httpx.Client) -> None:
    provider = provider_for(refused_url(), client)

    with pytest.raises(TemporaryFailure, match="ConnectError") as caught:
        provider.send(an_sms())

    assert not isinstance(caught.value, AmbiguousFailure)


def test_an_unreadable_4xx_is_temporary_but_not_ambiguous(
    provider: AliyunProvider, fake_aliyun: FakeAliyun
) -> None:
    fake_aliyun.then(Answer(status=403, body=b"Forbidden"))

    with pytest.raises(TemporaryFailure) as caught:
        provider.send(an_sms())

    assert not isinstance(caught.value, AmbiguousFailure)


def test_secrets_stay_out_of_logs_and_reprs(
    fake_aliyun: FakeAliyun, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = provider_for(fake_aliyun.url, client)
    provider.send(an_sms())
    fake_aliyun.then(aliyun_error("isv.NEW_CODE"))
    with pytest.raises(TemporaryFailure):
        provider.send(an_sms())

    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("services."))
    assert ours  # the adapter did log
    assert ALIYUN_SECRET not in caplog.text + repr(provider.config)
    assert ALIYUN_KEY_ID not in caplog.text
    # httpx logs the URL (the number is in the query, masked by the service's formatter);
    # the adapter's own lines mask it themselves.
    assert "13800138000" not in ours


# --- Lookup ------------------------------------------------------------------------------


def test_lookup_finds_a_message_aliyun_took(
    provider: AliyunProvider, fake_aliyun: FakeAliyun
) -> None:
    sms = an_sms()
    provider.send(sms)

    found = provider.lookup(sms, sent_after=datetime.now(UTC) - timedelta(minutes=1))

    assert found == Lookup("accepted")  # QuerySendDetails carries no BizId
    query = fake_aliyun.requests[-1]
    assert query.signature_ok
    assert query.action == "QuerySendDetails"
    assert query.query["PhoneNumber"] == "13800138000"
    assert query.query["SendDate"] == fake_aliyun.sent[0].send_date
    assert (query.query["PageSize"], query.query["CurrentPage"]) == ("50", "1")


def test_lookup_says_not_found_when_the_query_worked_and_nothing_matched(
    provider: AliyunProvider,
) -> None:
    provider.send(an_sms())

    found = provider.lookup(an_sms(), sent_after=datetime.now(UTC) - timedelta(minutes=1))

    assert found == Lookup("not_found")


def test_lookup_reads_every_page(provider: AliyunProvider, fake_aliyun: FakeAliyun) -> None:
    sms = an_sms()
    today = datetime.now(UTC).astimezone(BEIJING).strftime("%Y%m%d")
    others = [
        AliyunSent("13800138000", str(uuid.uuid4()), f"{n}^0", "SMS_1", today) for n in range(70)
    ]
    fake_aliyun.sent.extend([*others[:60], AliyunSent("13800138000", str(sms.id), "x", "S", today)])

    found = provider.lookup(sms, sent_after=datetime.now(UTC) - timedelta(minutes=1))

    assert found == Lookup("accepted")
    assert [r.query["CurrentPage"] for r in fake_aliyun.requests] == ["1", "2"]


def test_lookup_asks_each_day_since_sent_after(
    fake_aliyun: FakeAliyun, client: httpx.Client
) -> None:
    now = datetime(2026, 11, 28, 16, 10, tzinfo=UTC)  # 00:10 on the 29th in Beijing
    fake_aliyun.now = lambda: now
    provider = AliyunProvider(
        AliyunConfig(ALIYUN_KEY_ID, ALIYUN_SECRET, endpoint=fake_aliyun.url, templates=TEMPLATES),
        client=client,
        clock=FrozenClock(now),
    )
    sms = an_sms()
    fake_aliyun.sent.append(AliyunSent("13800138000", str(sms.id), "1^0", "S", "20261129"))

    found = provider.lookup(sms, sent_after=now - timedelta(minutes=20))

    assert found == Lookup("accepted")
    assert [r.query["SendDate"] for r in fake_aliyun.requests] == ["20261128", "20261129"]


@pytest.mark.parametrize(
    "answer",
    [
        aliyun_error("isp.SYSTEM_ERROR", "系统错误"),
        aliyun_error("Throttling.User", "Request was denied due to user flow control.", status=400),
        Answer(status=500, body=b""),
        Answer(body={"Code": "OK", "SmsSendDetailDTOs": "nonsense"}),
    ],
    ids=["error-code", "throttled", "500", "malformed"],
)
def test_lookup_is_unknown_when_the_query_fails(
    provider: AliyunProvider, fake_aliyun: FakeAliyun, answer: Answer
) -> None:
    fake_aliyun.then(answer)

    assert provider.lookup(an_sms(), sent_after=datetime.now(UTC)) == Lookup("unknown")


def test_lookup_is_unknown_when_aliyun_is_unreachable(client: httpx.Client) -> None:
    provider = provider_for(refused_url(), client)

    assert provider.lookup(an_sms(), sent_after=datetime.now(UTC)) == Lookup("unknown")


def test_lookup_is_unknown_beyond_aliyuns_history(
    provider: AliyunProvider, fake_aliyun: FakeAliyun
) -> None:
    found = provider.lookup(an_sms(), sent_after=datetime.now(UTC) - timedelta(days=31))

    assert found == Lookup("unknown")
    assert fake_aliyun.requests == []


# --- Webhooks ----------------------------------------------------------------------------


def test_sms_report_items_become_receipts(provider: AliyunProvider) -> None:
    sms_id = uuid.uuid4()
    body = json.dumps(
        [
            {
                "phone_number": "13800138000",
                "send_time": "2026-11-28 12:00:01",
                "report_time": "2026-11-28 12:00:05",
                "success": True,
                "err_code": "DELIVERED",
                "err_msg": "用户接收成功",
                "sms_size": "1",
                "biz_id": "900619746936498440^0",
                "out_id": str(sms_id),
            },
            {
                "phone_number": "13900139000",
                "send_time": "2026-11-28 12:00:01",
                "report_time": "2026-11-28 12:01:00",
                "success": False,
                "err_code": "MK:0001",
                "err_msg": "空号",
                "sms_size": "1",
                "biz_id": "900619746936498441^0",
                "out_id": "order-17",
            },
        ],
        ensure_ascii=False,
    ).encode()

    receipts = provider.parse_receipts(body, {"content-type": "application/json"})

    assert receipts == [
        Receipt(
            delivered=True,
            provider_ref="900619746936498440^0",
            message_id=sms_id,
            at=datetime(2026, 11, 28, 4, 0, 5, tzinfo=UTC),
        ),
        Receipt(
            delivered=False,
            provider_ref="900619746936498441^0",
            message_id=None,  # not one of ours
            error="MK:0001: 空号",
            at=datetime(2026, 11, 28, 4, 1, tzinfo=UTC),
        ),
    ]


SMS_UP = [
    {
        "phone_number": "13800138000",
        "send_time": "2026-11-28 20:15:00",
        "content": "TD",
        "sign_name": "魏村派出所",
        "dest_code": "1234",
        "sequence_id": 1234567890,
    }
]


def test_sms_up_items_become_replies(provider: AliyunProvider) -> None:
    [reply] = provider.parse_inbound(json.dumps(SMS_UP).encode(), {})

    assert reply.sender == "13800138000"  # national, as Aliyun gives it
    assert reply.text == "TD"
    assert reply.at == datetime(2026, 11, 28, 12, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b'{"success": true}',
        b'[{"success": "true", "biz_id": "1", "report_time": "2026-11-28 12:00:05"}]',
        b'[{"success": true, "report_time": "2026-11-28 12:00:05"}]',
        b'[{"success": true, "biz_id": "1", "report_time": "2026-11-28T12:00:05Z"}]',
        json.dumps(SMS_UP).encode(),
    ],
    ids=["text", "bytes", "object", "string-success", "no-biz-id", "iso-time", "sms-up"],
)
def test_malformed_reports_are_refused(provider: AliyunProvider, body: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (any ValueError: the webhook answers 400)
        provider.parse_receipts(body, {})


@pytest.mark.parametrize(
    "body",
    [b"[]x", b'[{"phone_number": "13800138000", "content": "TD"}]', b'[{"content": 1}]'],
)
def test_malformed_replies_are_refused(provider: AliyunProvider, body: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        provider.parse_inbound(body, {})


def test_webhook_answer_is_what_aliyun_expects(provider: AliyunProvider) -> None:
    assert provider.webhook_answer() == ({"code": 0, "msg": "成功"}, 200)
