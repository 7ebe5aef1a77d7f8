"""Signing in and out of the console: passwords, the session cookie, throttling, CSRF."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from services.common.clock import FrozenClock
from services.common.staff_auth import verify
from services.console import create_app
from services.console.setup import migrate
from services.mediation.runtime import MediationRuntime
from tests.console.conftest import PASSWORD, console_settings
from tests.console.pages import csrf_of, sign_in, text


def test_the_right_password_signs_in_and_the_cookie_is_guarded(browser: FlaskClient) -> None:
    answer = sign_in(browser, "officer-guo", PASSWORD)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # not configured behind TLS here
    page = browser.get("/cases")
    assert page.status_code == 200
    assert "郭警官" in text(page)


def test_the_session_carries_a_short_lived_staff_token(
    console_app: Flask, browser: FlaskClient, clock: FrozenClock
) -> None:
    sign_in(browser, "officer-guo", PASSWORD)
    with browser.session_transaction() as session:
        token = session["token"]
    runtime = console_app.extensions["console"]
    claims = verify(runtime.staff_secret, token, now=clock.now())
    assert claims is not None
    assert (claims.staff_id, claims.role) == ("officer-guo", "officer")
    assert claims.expires_at - clock.now() == runtime.settings.session_lifetime
    clock.advance(runtime.settings.session_lifetime + timedelta(seconds=1))
    answer = browser.get("/cases")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/sign-in")


def test_a_secure_cookie_when_configured(
    tmp_path: Path, mediation: MediationRuntime, clock: FrozenClock
) -> None:
    settings = console_settings(tmp_path, mediation, cookie_secure=True)
    migrate(settings)
    app = create_app(settings, clock)
    page = app.test_client().get("/sign-in")
    assert "Secure" in page.headers["Set-Cookie"]
    app.extensions["console"].db.dispose()


def test_a_wrong_password_is_refused(browser: FlaskClient) -> None:
    answer = sign_in(browser, "officer-guo", "not-the-password")
    assert answer.status_code == 401
    assert "工号或密码不对" in text(answer)
    assert browser.get("/cases").status_code == 302


def test_an_unknown_staff_id_is_refused_like_a_wrong_password(browser: FlaskClient) -> None:
    answer = sign_in(browser, "officer-nobody", PASSWORD)
    assert answer.status_code == 401
    assert "工号或密码不对" in text(answer)


def test_failed_sign_ins_slow_down_the_account(browser: FlaskClient, clock: FrozenClock) -> None:
    for attempt in range(5):
        answer = sign_in(browser, "officer-guo", f"guess-{attempt}", address=f"10.1.0.{attempt}")
        assert answer.status_code == 401
    # Now even the right password from a new address waits.
    answer = sign_in(browser, "officer-guo", PASSWORD, address="10.1.1.1")
    assert answer.status_code == 429
    assert "登录失败次数过多" in text(answer)
    clock.advance(timedelta(minutes=15, seconds=1))
    assert sign_in(browser, "officer-guo", PASSWORD, address="10.1.1.1").status_code == 302


def test_failed_sign_ins_slow_down_the_address(browser: FlaskClient) -> None:
    for attempt in range(20):
        answer = sign_in(browser, f"someone-{attempt}", "guess", address="10.2.0.9")
        assert answer.status_code == 401
    answer = sign_in(browser, "officer-guo", PASSWORD, address="10.2.0.9")
    assert answer.status_code == 429
    assert sign_in(browser, "officer-guo", PASSWORD, address="10.2.0.10").status_code == 302


def test_a_good_sign_in_clears_the_account_count(browser: FlaskClient) -> None:
    for attempt in range(4):
        sign_in(browser, "officer-guo", f"guess-{attempt}")
    assert sign_in(browser, "officer-guo", PASSWORD).status_code == 302
    for attempt in range(4):
        assert sign_in(browser, "officer-guo", f"again-{attempt}").status_code == 401
    assert sign_in(browser, "officer-guo", PASSWORD).status_code == 302


def test_a_post_without_the_csrf_token_is_refused(browser: FlaskClient) -> None:
    answer = browser.post("/sign-in", data={"staff_id": "officer-guo", "password": PASSWORD})
    assert answer.status_code == 400
    assert "表单已过期" in text(answer)
    assert browser.get("/cases").status_code == 302  # not signed in


def test_a_csrf_token_of_another_session_is_refused(
    console_app: Flask, browser: FlaskClient
) -> None:
    other = console_app.test_client()
    stolen = csrf_of(other.get("/sign-in"))
    sign_in(browser, "officer-guo", PASSWORD)
    answer = browser.post("/sign-out", data={"csrf_token": stolen})
    assert answer.status_code == 400
    assert browser.get("/cases").status_code == 200  # still signed in


def test_sign_out_ends_the_session(browser: FlaskClient) -> None:
    sign_in(browser, "officer-guo", PASSWORD)
    page = browser.get("/cases")
    answer = browser.post("/sign-out", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 302
    assert browser.get("/cases").status_code == 302
    assert "您已退出" in text(browser.get("/sign-in"))


def test_english_on_request(browser: FlaskClient) -> None:
    page = browser.get("/sign-in")
    assert "登录" in text(page)
    browser.post("/language", data={"csrf_token": csrf_of(page), "lang": "en", "next": "/sign-in"})
    assert "Sign in" in text(browser.get("/sign-in"))
    assert "The staff id or the password is wrong." in text(sign_in(browser, "officer-guo", "x"))


def test_next_never_leaves_the_console(browser: FlaskClient) -> None:
    token = csrf_of(browser.get("/sign-in"))
    answer = browser.post(
        "/sign-in",
        data={
            "csrf_token": token,
            "staff_id": "officer-guo",
            "password": PASSWORD,
            "next": "//evil.example/",
        },
    )
    assert answer.headers["Location"] == "/"


def test_behind_a_proxy_failures_count_against_the_client_address(
    tmp_path: Path, mediation: MediationRuntime, clock: FrozenClock
) -> None:
    settings = console_settings(tmp_path, mediation, trusted_proxies=1)
    migrate(settings)
    app = create_app(settings, clock)
    browser = app.test_client()
    for attempt in range(20):
        token = csrf_of(browser.get("/sign-in"))
        browser.post(
            "/sign-in",
            data={"csrf_token": token, "staff_id": f"x-{attempt}", "password": "guess"},
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
    token = csrf_of(browser.get("/sign-in"))
    refused = browser.post(
        "/sign-in",
        data={"csrf_token": token, "staff_id": "y", "password": "guess"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert refused.status_code == 429
    other = browser.post(  # another client behind the same proxy is not held up
        "/sign-in",
        data={"csrf_token": token, "staff_id": "y", "password": "guess"},
        headers={"X-Forwarded-For": "203.0.113.8"},
    )
    assert other.status_code == 401
    app.extensions["console"].db.dispose()
