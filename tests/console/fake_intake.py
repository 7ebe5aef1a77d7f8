"""A stand-in for intake's public lookup, `POST /v1/lookup`, served over real HTTP.

It holds to the contract the console's /track page is written against: 200 with where the
report stands; one 404 for every wrong pair; 422 naming each malformed field (the
flask-smorest shape); 429 with `Retry-After` once an address has asked too often. It keeps
what it was asked (the body and the forwarded address), so tests can see what the console
sent. When intake has the endpoint, its own app can be served here in this one's place.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.serving import make_server

CODE = re.compile(r"WC[0-9A-HJKMNP-TV-Z]{8}")
LAST4 = re.compile(r"[0-9]{4}")


@dataclass
class Asked:
    body: Any
    forwarded_for: str | None


@dataclass
class FakeIntake:
    # tracking code -> (the phone, the 200 answer)
    reports: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    asked: list[Asked] = field(default_factory=list)
    # Lookups an address may make before it is told to wait; None: no limit.
    limit_per_address: int | None = None
    retry_after: str = "600"
    # An answer given to every lookup instead of the contract's (a broken intake).
    override: tuple[int, str] | None = None
    # How long each answer takes (a hanging intake).
    delay_seconds: float = 0.0

    def add(self, answer: dict[str, Any], *, phone: str) -> None:
        self.reports[answer["tracking_code"]] = (phone, answer)

    def app(self) -> Flask:
        app = Flask("fake_intake")
        app.add_url_rule("/v1/lookup", "lookup", self._lookup, methods=["POST"])
        return app

    def _lookup(self) -> ResponseReturnValue:
        body = request.get_json(silent=True)
        address = request.headers.get("X-Forwarded-For")
        self.asked.append(Asked(body=body, forwarded_for=address))
        time.sleep(self.delay_seconds)
        if self.override is not None:
            status, text = self.override
            return text, status, {"Content-Type": "application/json"}
        if not isinstance(body, dict):
            return _error(400, "the body is not a JSON object")
        if self.limit_per_address is not None:
            count = sum(1 for a in self.asked if a.forwarded_for == address)
            if count > self.limit_per_address:
                refusal, status = _error(429, "too many lookups")
                return refusal, status, {"Retry-After": self.retry_after}
        problems = _problems(body)
        if problems:
            return _error(422, "the request has errors", errors={"json": problems})
        phone, answer = self.reports.get(body["tracking_code"], ("", {}))
        if not answer or not phone.endswith(body["phone_last4"]):
            return _error(404, "no report with this code and these digits")
        return jsonify(answer), 200


def _problems(body: dict[str, Any]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for name, pattern in (("tracking_code", CODE), ("phone_last4", LAST4)):
        value = body.get(name)
        if not isinstance(value, str) or not pattern.fullmatch(value):
            problems[name] = [f"does not match {pattern.pattern}"]
    return problems


def _error(status: int, message: str, **extra: Any) -> tuple[Any, int]:
    return jsonify({"code": status, "message": message, **extra}), status


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """`app` on a loopback port, in a thread, for as long as the block runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A loopback address nothing listens on: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
