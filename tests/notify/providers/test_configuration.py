"""Providers built from the environment by name."""

from __future__ import annotations

import json
import time

import pytest
from environs import Env

from services.notify.providers import provider_named
from services.notify.providers.aliyun import AliyunConfig, AliyunProvider
from services.notify.providers.fake import FakeProvider
from services.notify.providers.log import LogProvider
from services.notify.providers.tencent import TencentConfig, TencentProvider, TencentTemplate
from tests.notify.providers.fakes import an_sms

ALIYUN_ENV = {
    "ALIYUN_ACCESS_KEY_ID": "LTAI5tFromEnv",
    "ALIYUN_ACCESS_KEY_SECRET": "aliyun-secret-from-env",
    "ALIYUN_SMS_TEMPLATES": json.dumps({"report_received": "SMS_465890001"}),
}
TENCENT_ENV = {
    "TENCENT_SECRET_ID": "AKIDFromEnv",
    "TENCENT_SECRET_KEY": "tencent-key-from-env",
    "TENCENT_SMS_APP_ID": "1400000001",
    "TENCENT_SMS_TEMPLATES": json.dumps(
        {"case_assigned": {"id": 1890003, "params": ["village", "tracking_code", "due"]}}
    ),
}


def env_with(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> Env:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return Env()


def test_log_needs_no_environment() -> None:
    assert isinstance(provider_named("log"), LogProvider)


def test_an_unknown_name_is_refused() -> None:
    with pytest.raises(ValueError, match="aliyun, tencent"):
        provider_named("twilio")


def test_aliyun_is_built_from_its_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    variables = {**ALIYUN_ENV, "ALIYUN_SMS_ENDPOINT": ""}  # empty: the default
    provider = provider_named("aliyun", env_with(monkeypatch, variables))

    assert isinstance(provider, AliyunProvider)
    assert provider.config == AliyunConfig(
        access_key_id="LTAI5tFromEnv",
        access_key_secret="aliyun-secret-from-env",
        endpoint="https://dysmsapi.aliyuncs.com",
        templates={"report_received": "SMS_465890001"},
    )
    assert "aliyun-secret-from-env" not in repr(provider.config)
    provider.close()


def test_tencent_is_built_from_its_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    variables = {**TENCENT_ENV, "TENCENT_SMS_REGION": "ap-nanjing", "TENCENT_SMS_ENDPOINT": ""}
    provider = provider_named("tencent", env_with(monkeypatch, variables))

    assert isinstance(provider, TencentProvider)
    assert provider.config == TencentConfig(
        secret_id="AKIDFromEnv",
        secret_key="tencent-key-from-env",
        sdk_app_id="1400000001",
        region="ap-nanjing",
        endpoint="https://sms.tencentcloudapi.com",
        templates={
            "case_assigned": TencentTemplate("1890003", ("village", "tracking_code", "due"))
        },
    )
    assert "tencent-key-from-env" not in repr(provider.config)
    provider.close()


def test_the_process_environment_is_read_when_no_env_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env_with(monkeypatch, TENCENT_ENV)

    assert isinstance(provider_named("tencent"), TencentProvider)


@pytest.mark.parametrize("missing", sorted(ALIYUN_ENV))
def test_aliyun_without_a_variable_is_refused(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    env = env_with(monkeypatch, ALIYUN_ENV)
    monkeypatch.delenv(missing)

    with pytest.raises(ValueError, match=missing):
        AliyunConfig.from_env(env)


@pytest.mark.parametrize(
    "templates",
    ['["SMS_1"]', '{"report_received": 17}', '{"report_received": ""}'],
)
def test_aliyun_templates_must_map_names_to_codes(
    monkeypatch: pytest.MonkeyPatch, templates: str
) -> None:
    env = env_with(monkeypatch, {**ALIYUN_ENV, "ALIYUN_SMS_TEMPLATES": templates})

    with pytest.raises(ValueError, match="ALIYUN_SMS_TEMPLATES"):
        AliyunConfig.from_env(env)


@pytest.mark.parametrize(
    "templates",
    [
        '{"case_assigned": "1890003"}',
        '{"case_assigned": {"params": ["village"]}}',
        '{"case_assigned": {"id": "1890003", "params": "village"}}',
        '{"case_assigned": {"id": "1890003", "params": [1]}}',
        "[]",
    ],
)
def test_tencent_templates_need_an_id_and_ordered_names(
    monkeypatch: pytest.MonkeyPatch, templates: str
) -> None:
    env = env_with(monkeypatch, {**TENCENT_ENV, "TENCENT_SMS_TEMPLATES": templates})

    with pytest.raises(ValueError, match="TENCENT_SMS_TEMPLATES"):
        TencentConfig.from_env(env)


@pytest.mark.parametrize("name", ["TENCENT_SECRET_ID", "TENCENT_SECRET_KEY", "TENCENT_SMS_APP_ID"])
def test_an_empty_credential_is_refused_at_startup(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """docker compose hands unset variables on as empty strings."""
    env = env_with(monkeypatch, {**TENCENT_ENV, name: ""})

    with pytest.raises(ValueError, match=name):
        TencentConfig.from_env(env)


def test_an_empty_aliyun_key_is_refused_at_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    env = env_with(monkeypatch, {**ALIYUN_ENV, "ALIYUN_ACCESS_KEY_SECRET": ""})

    with pytest.raises(ValueError, match="ALIYUN_ACCESS_KEY_SECRET"):
        AliyunConfig.from_env(env)


def test_the_fake_provider_waits_as_long_as_the_environment_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = provider_named("fake", env_with(monkeypatch, {"SMS_FAKE_DELAY_MS": "20"}))
    sms = an_sms()

    started = time.monotonic()
    accepted = provider.send(sms)

    assert isinstance(provider, FakeProvider)
    assert time.monotonic() - started >= 0.02
    assert accepted.provider_ref == f"fake-{sms.id}"


def test_the_fake_provider_refuses_a_negative_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="negative"):
        provider_named("fake", env_with(monkeypatch, {"SMS_FAKE_DELAY_MS": "-1"}))
