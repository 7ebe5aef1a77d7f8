"""The door's own rules: every input reads text through one field, contracts bound their
text, and the JSON reader names what it refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import request
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.exceptions import BadRequest

from services.common import json_input
from services.common.contracts import ALL_CONTRACTS, OPEN_CASE, Contract
from services.common.input_fields import Text
from services.common.runtime import Runtime
from services.intake.runtime import IntakeRuntime
from services.intake.schemas import ReportIn
from tests import factories, messages
from tests.conftest import NOW
from tests.intake.client import client_for


def unbounded_texts(schema: Schema, prefix: str = "") -> list[str]:
    """Each string field of `schema`, nested ones too, that no length or choice bounds."""
    found = []
    for name, field in schema.fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            found += unbounded_texts(inner.schema, f"{prefix}{name}.")
        elif isinstance(inner, fields.String) and not any(
            isinstance(v, validate.OneOf) or (isinstance(v, validate.Length) and v.max is not None)
            for v in inner.validators
        ):
            found.append(prefix + name)
    return found


def plain_texts(schema: Schema, prefix: str = "") -> list[str]:
    """Each string field of `schema`, nested ones too, that is not the common Text."""
    found = []
    for name, field in schema.fields.items():
        inner: list[Any] = [field]
        while inner:
            current = inner.pop()
            if isinstance(current, fields.Nested):
                found += plain_texts(current.schema, f"{prefix}{name}.")
            elif isinstance(current, fields.List):
                inner.append(current.inner)
            elif isinstance(current, fields.Dict):
                inner += [f for f in (current.key_field, current.value_field) if f is not None]
            elif isinstance(current, fields.String) and not isinstance(current, Text):
                found.append(prefix + name)
    return found


def argument_schemas(runtime: Runtime) -> dict[str, Schema]:
    """Every schema a view of the service's API reads its arguments with, by endpoint."""
    module = __import__(f"services.{runtime.service}", fromlist=["create_app"])
    app = module.create_app(runtime.settings, runtime.clock)
    app.extensions["fengqiao"].db.dispose()
    found = {}
    for rule in app.url_map.iter_rules():
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        for method in sorted(rule.methods or ()):
            view = getattr(view_class, method.lower(), None)
            for argument in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
                schema = argument["schema"]
                found[f"{method} {rule} {argument['in']}"] = (
                    schema() if isinstance(schema, type) else schema
                )
    return found


@pytest.mark.parametrize("service", ["intake", "mediation", "rewards", "notify"])
def test_every_input_reads_text_through_the_common_field(make_runtime: Any, service: str) -> None:
    schemas = argument_schemas(make_runtime(service))

    plain = {name: plain_texts(schema) for name, schema in schemas.items()}
    assert {name: texts for name, texts in plain.items() if texts} == {}
    if service in ("intake", "notify"):
        assert any(name.startswith(("POST", "PUT")) for name in schemas)


def test_the_open311_form_is_read_by_the_report_schema() -> None:
    assert plain_texts(ReportIn()) == []


@pytest.mark.parametrize("contract", ALL_CONTRACTS, ids=lambda c: c.task)
def test_every_text_of_a_contract_is_bounded(contract: Contract) -> None:
    assert unbounded_texts(contract.schema()) == []


def test_a_message_too_wide_to_store_is_not_sent() -> None:
    report = messages.report(factories.dispute(location={"village": "村" * 51}))

    with pytest.raises(ValidationError) as refused:
        OPEN_CASE.dump({**report, "message_id": "0" * 32, "version": 1, "sent_at": NOW})

    assert "village" in refused.value.messages_dict["location"]


def test_get_json_reads_with_the_guard_too(intake: IntakeRuntime) -> None:
    app = client_for(intake).application
    good = json.dumps({"a": [[[1]]]})

    with app.test_request_context("/", data=good, content_type="application/json"):
        assert request.get_json() == {"a": [[[1]]]}
    nul = r'{"a": "\u0000"}'
    with (
        app.test_request_context("/", data=nul, content_type="application/json"),
        pytest.raises(BadRequest),
    ):
        request.get_json()


def test_problems_deep_down_are_named_by_an_ancestor_and_merged() -> None:
    deep = "[" * 20 + r'"\u0000"' + "]" * 20
    body = f'{{"a": {deep}, "b": {{"c": NaN, "\\ud800": 1}}}}'

    with pytest.raises(json_input.RefusedJson) as refused:
        json_input.loads(body)

    named: Any = refused.value.messages
    node = named["a"]
    for _ in range(json_input.MAX_NAMED_DEPTH - 1):
        node = node[0]
    assert node == ["may not contain NUL (U+0000)"]
    assert named["b"]["c"] == ["NaN is not a number"]
    assert "lone surrogate" in named["b"]["\ufffd"][0]
