"""The HTTP baseline: parse the report's JSON body and answer 202, nothing else."""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from services.common.runtime import MAX_BODY_BYTES

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES  # the same body limit the services set


@app.post("/v1/reports")
def accept() -> tuple[dict[str, Any], int]:
    """Parse the body as intake does; a JSON object is accepted."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return {"message": "a JSON object is required"}, 422
    return {"status": "received", "kind": body.get("kind")}, 202


@app.get("/readyz")
def ready() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}
