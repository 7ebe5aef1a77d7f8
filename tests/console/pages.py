"""Reading the console's pages in tests: the CSRF token of a form, signing in."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: TestResponse) -> str:
    found = CSRF.search(page.get_data(as_text=True))
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(
    browser: FlaskClient, staff_id: str, password: str, *, address: str = "10.0.0.1"
) -> TestResponse:
    token = csrf_of(browser.get("/sign-in"))
    return browser.post(
        "/sign-in",
        data={"csrf_token": token, "staff_id": staff_id, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def text(page: TestResponse) -> str:
    return page.get_data(as_text=True)
