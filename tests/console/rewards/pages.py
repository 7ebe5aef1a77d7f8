"""Driving the rewards pages in tests: sign in as a demo staff member, submit a page's form."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.console.pages import csrf_of, sign_in, text
from tests.console.rewards.conftest import PASSWORD


def signed_in_as(browser: FlaskClient, staff_id: str) -> None:
    assert sign_in(browser, staff_id, PASSWORD).status_code == 302


def submit(browser: FlaskClient, page: str, action: str, **fields: str) -> str:
    """Submit the `action` form of `page` (with that page's CSRF token); the page it leads to."""
    answer = browser.post(
        f"{page}/actions/{action}",
        data={"csrf_token": csrf_of(browser.get(page)), **fields},
        follow_redirects=True,
    )
    assert answer.status_code == 200, text(answer)
    assert answer.request.path == page
    return text(answer)
