"""A WSGI app for gunicorn in tests: `/fail` raises with a phone in the error."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["PATH_INFO"] == "/fail":
        raise RuntimeError("could not reach 13900139000")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
